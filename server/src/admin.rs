//! What an application's backend does with its secret key, as library calls: look users up,
//! create and delete them, revoke sessions, and rotate the JWT signing key. The secret-key
//! API (`/v1/admin/…`) is these calls over HTTP; gates are in [`crate::gates`].

use crate::breached::BreachError;
use crate::methods::password::HashError;
use crate::session::jwt::JwtError;
use crate::session::new_id;
use crate::store::{StoreError, UserRecord};
use crate::validate::{self, FieldErrors};
use crate::{Environment, Torii};
use torii_shared::{Secret, SessionKind};

/// A user made by the application's backend (an import, an invitation).
#[derive(Clone, Default)]
pub struct NewUser {
    /// The email address.
    pub email: String,
    /// The display name.
    pub name: Option<String>,
    /// A password to set; without one the user signs in another way (a code, a link, a
    /// provider) or resets it.
    pub password: Option<Secret>,
    /// Whether the address counts as verified already.
    pub email_verified: bool,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("email", &self.email)
            .field("email_verified", &self.email_verified)
            .finish_non_exhaustive()
    }
}

/// Why a user could not be created.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CreateUserError {
    /// Some fields are invalid (`email`, `name`, `password`).
    #[error("invalid fields")]
    Validation(FieldErrors),
    /// A user with this email exists in the environment.
    #[error("email taken")]
    EmailTaken,
    /// The password appears in known breaches, or the check could not be made.
    #[error(transparent)]
    Breached(#[from] BreachError),
    /// Hashing failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Torii {
    /// Whether the store answers.
    ///
    /// # Errors
    /// The store's failure.
    pub async fn ping_store(&self) -> Result<(), StoreError> {
        self.store().ping().await
    }

    /// The user of an environment with this email (compared canonically); none for a string
    /// that is not an email address.
    ///
    /// # Errors
    /// A store failure.
    pub async fn find_user_by_email(
        &self,
        env: &Environment,
        email: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        match validate::email(email) {
            Ok(address) => {
                self.store()
                    .find_user_by_email(&env.id, &address.canonical)
                    .await
            }
            Err(_) => Ok(None),
        }
    }

    /// A user of an environment by id.
    ///
    /// # Errors
    /// A store failure.
    pub async fn user_in_environment(
        &self,
        env: &Environment,
        user_id: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        Ok(self
            .store()
            .get_user(user_id)
            .await?
            .filter(|user| user.environment_id == env.id))
    }

    /// Creates a user; their email is unverified unless `new.email_verified` says otherwise.
    ///
    /// # Errors
    /// Invalid fields, a taken email, a breached password, a hashing or store failure.
    pub async fn create_user(
        &self,
        env: &Environment,
        new: &NewUser,
    ) -> Result<UserRecord, CreateUserError> {
        let mut fields = FieldErrors::new();
        let email = validate::email(&new.email)
            .map_err(|m| fields.insert("email".to_owned(), m.to_owned()))
            .ok();
        let name = validate::name(new.name.as_deref())
            .map_err(|m| fields.insert("name".to_owned(), m))
            .ok()
            .flatten();
        if let Some(password) = &new.password
            && let Err(m) = validate::new_password(password.expose())
        {
            fields.insert("password".to_owned(), m.to_string());
        }
        let Some(email) = email.filter(|_| fields.is_empty()) else {
            return Err(CreateUserError::Validation(fields));
        };
        if let Some(password) = &new.password {
            self.check_password_not_breached(password).await?;
        }
        let hash = match &new.password {
            Some(password) => Some(self.hasher().hash(password).await?),
            None => None,
        };
        let now = self.now();
        let user = UserRecord {
            id: new_id("usr"),
            environment_id: env.id.clone(),
            email: email.display,
            email_canonical: email.canonical,
            name,
            email_verified: new.email_verified,
            legal_version: None,
            created_at: now,
            updated_at: now,
        };
        match self.store().insert_user(&user, hash.as_deref()).await {
            Ok(()) => Ok(user),
            Err(StoreError::Conflict(_)) => Err(CreateUserError::EmailTaken),
            Err(other) => Err(other.into()),
        }
    }

    /// Deletes a user of an environment with every session, passkey and linked account;
    /// false when the environment has no such user.
    ///
    /// # Errors
    /// A store failure.
    pub async fn delete_user(&self, env: &Environment, user_id: &str) -> Result<bool, StoreError> {
        if self.user_in_environment(env, user_id).await?.is_none() {
            return Ok(false);
        }
        self.store().delete_user(user_id).await?;
        Ok(true)
    }

    /// Ends a session of an environment at once, whoever's it is; false when the environment
    /// has no such session.
    ///
    /// # Errors
    /// A store failure.
    pub async fn end_session(
        &self,
        env: &Environment,
        session_id: &str,
    ) -> Result<bool, StoreError> {
        let Some(found) = self
            .store()
            .get_session(session_id)
            .await?
            .filter(|s| s.environment_id == env.id)
        else {
            return Ok(false);
        };
        self.store().delete_session(&found.id).await?;
        Ok(true)
    }

    /// Adds a new JWT signing key for a JWT environment and retires its others (their tokens
    /// verify until they expire); answers the new key's id, or `None` for an environment
    /// without JWT sessions.
    ///
    /// # Errors
    /// The key could not be made or stored.
    pub async fn rotate_jwt_key(&self, env: &Environment) -> Result<Option<String>, JwtError> {
        let Some(keys) = self
            .jwt_keys()
            .filter(|_| env.session.kind == SessionKind::Jwt)
        else {
            return Ok(None);
        };
        keys.rotate(self.store(), &env.id, self.now())
            .await
            .map(Some)
    }
}
