//! The ceremonies (registration, sign-in, re-authentication; see [`super`]) and the
//! management of a user's passkeys.

use super::{
    CEREMONY_TTL, CREDENTIAL_ID_MAX_BYTES, PasskeyError, REAUTHENTICATION, REGISTRATION,
    ReauthenticationCeremony, RegistrationCeremony, SIGN_IN, invalid, passkey_info,
    public_key_json, stored_counter, user_handle, validate_name, webauthn_state,
};
use crate::guard::Guarded;
use crate::rate_limit::{IpKey, RateBucket};
use crate::session::new_id;
use crate::store::{MethodRemoval, PasskeyRecord, SignInMethodRef, StoreError, UserRecord};
use crate::{AuthenticatedSessionWithToken, ClientInfo, Environment, Torii};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use torii_shared::{PasskeyInfo, PasskeyOptions};
use webauthn_rs::prelude::{
    AuthenticationResult, DiscoverableAuthentication, Passkey, PublicKeyCredential,
    RegisterPublicKeyCredential,
};

impl Torii {
    /// The options to register a passkey for a signed-in user; see
    /// [`Torii::start_passkey_registration`] for the checks before it.
    ///
    /// # Errors
    /// Passkeys not enabled; a store failure.
    pub(crate) async fn passkey_registration_options(
        &self,
        env: &Environment,
        user: &UserRecord,
    ) -> Result<PasskeyOptions, PasskeyError> {
        let rp = self.relying_party(env)?;
        let exclude = self
            .store()
            .list_passkeys(&user.id)
            .await?
            .iter()
            .filter_map(|p| URL_SAFE_NO_PAD.decode(&p.credential_id).ok())
            .collect::<Vec<_>>();
        let display_name = user.name.as_deref().unwrap_or(&user.email);
        let (challenge, state) = rp
            .webauthn
            .start_passkey_registration(
                user_handle(&user.id),
                &user.email,
                display_name,
                Some(exclude),
            )
            .map_err(|e| invalid(&e))?;
        let mut public_key = public_key_json(&challenge)?;
        // Sign-in without an email needs the credential kept on the authenticator
        // (discoverable); webauthn-rs's passkey flow only prefers it.
        if let Some(selection) = public_key
            .get_mut("authenticatorSelection")
            .and_then(serde_json::Value::as_object_mut)
        {
            selection.insert("residentKey".to_owned(), "required".into());
            selection.insert("requireResidentKey".to_owned(), true.into());
        }
        let ceremony = RegistrationCeremony {
            user_id: user.id.clone(),
            state,
        };
        let ceremony_id = self
            .start_ceremony(REGISTRATION, &env.id, &ceremony, CEREMONY_TTL)
            .await?;
        Ok(PasskeyOptions {
            ceremony_id,
            public_key,
        })
    }

    /// Finishes a registration: verifies the browser's answer and stores the passkey.
    ///
    /// # Errors
    /// Unknown, used, expired or another user's ceremony; an answer that does not verify; a
    /// credential already registered; a store failure.
    pub async fn finish_passkey_registration(
        &self,
        env: &Environment,
        user: &UserRecord,
        ceremony_id: &str,
        credential: &serde_json::Value,
        name: Option<&str>,
    ) -> Result<PasskeyInfo, PasskeyError> {
        let rp = self.relying_party(env)?;
        let name = validate_name(name)?;
        let ceremony: RegistrationCeremony = self
            .take_ceremony(REGISTRATION, &env.id, ceremony_id)
            .await?;
        if ceremony.user_id != user.id {
            return Err(PasskeyError::CeremonyGone);
        }
        let credential: RegisterPublicKeyCredential = serde_json::from_value(credential.clone())
            .map_err(|e| PasskeyError::Malformed(e.to_string()))?;
        // webauthn-rs refuses the user's own (excluded) credentials with an unspecific
        // error; known ones are answered as what they are. Whoever else's credential it is,
        // the unique index refuses it below.
        let claimed_id = URL_SAFE_NO_PAD.encode(&credential.raw_id);
        if self
            .store()
            .find_passkey_by_credential_id(&env.id, &claimed_id)
            .await?
            .is_some()
        {
            return Err(PasskeyError::Taken);
        }
        let passkey = rp
            .webauthn
            .finish_passkey_registration(&credential, &ceremony.state)
            .map_err(|e| invalid(&e))?;
        let raw_id: &[u8] = passkey.cred_id().as_ref();
        if raw_id.len() > CREDENTIAL_ID_MAX_BYTES {
            return Err(PasskeyError::Invalid("credential id too long".to_owned()));
        }
        let serialised =
            serde_json::to_value(&passkey).map_err(|e| webauthn_state("passkey credential", &e))?;
        let record = PasskeyRecord {
            id: new_id("pky"),
            user_id: user.id.clone(),
            environment_id: env.id.clone(),
            credential_id: URL_SAFE_NO_PAD.encode(raw_id),
            sign_count: stored_counter(&serialised),
            credential: serialised.to_string(),
            name,
            created_at: self.now(),
            last_used_at: None,
        };
        match self.store().insert_passkey(&record).await {
            Ok(()) => {
                self.notify(
                    &env.id,
                    &user.email,
                    &crate::mail::Notice::passkey_added(&env.name, &record.name),
                );
                Ok(passkey_info(&record))
            }
            Err(StoreError::Conflict(_)) => Err(PasskeyError::Taken),
            Err(other) => Err(other.into()),
        }
    }

    /// Starts a sign-in with a discoverable passkey: no email needed. Limited per client
    /// address (ceremonies started).
    ///
    /// # Errors
    /// A rate limit; passkeys not enabled; a store failure.
    pub async fn start_passkey_sign_in(
        &self,
        env: &Environment,
        client: &ClientInfo,
    ) -> Result<PasskeyOptions, Guarded<PasskeyError>> {
        let buckets = [RateBucket::CeremonyIp(IpKey::of(client))];
        let work = self.passkey_sign_in_options(env);
        self.guarded(env, None, &buckets, work).await
    }

    async fn passkey_sign_in_options(
        &self,
        env: &Environment,
    ) -> Result<PasskeyOptions, PasskeyError> {
        let rp = self.relying_party(env)?;
        let (challenge, state) = rp
            .webauthn
            .start_discoverable_authentication()
            .map_err(|e| invalid(&e))?;
        let public_key = public_key_json(&challenge)?;
        let ceremony_id = self
            .start_ceremony(SIGN_IN, &env.id, &state, CEREMONY_TTL)
            .await?;
        Ok(PasskeyOptions {
            ceremony_id,
            public_key,
        })
    }

    /// Finishes a sign-in: verifies the assertion, records the passkey's use, and creates a
    /// session for its owner. Limited per client address (sign-in attempts).
    ///
    /// # Errors
    /// A rate limit; unknown, used or expired ceremony; an unknown passkey; an assertion that
    /// does not verify, or whose counter went backwards; a store failure.
    pub async fn finish_passkey_sign_in(
        &self,
        env: &Environment,
        ceremony_id: &str,
        credential: &serde_json::Value,
        client: &ClientInfo,
    ) -> Result<AuthenticatedSessionWithToken, Guarded<PasskeyError>> {
        let buckets = [RateBucket::SignInIp(IpKey::of(client))];
        let work = self.verify_passkey_sign_in(env, ceremony_id, credential, client);
        self.guarded(env, None, &buckets, work).await
    }

    async fn verify_passkey_sign_in(
        &self,
        env: &Environment,
        ceremony_id: &str,
        credential: &serde_json::Value,
        client: &ClientInfo,
    ) -> Result<AuthenticatedSessionWithToken, PasskeyError> {
        let rp = self.relying_party(env)?;
        let state: DiscoverableAuthentication =
            self.take_ceremony(SIGN_IN, &env.id, ceremony_id).await?;
        let credential: PublicKeyCredential = serde_json::from_value(credential.clone())
            .map_err(|e| PasskeyError::Malformed(e.to_string()))?;
        let (handle, raw_id) = rp
            .webauthn
            .identify_discoverable_authentication(&credential)
            .map_err(|_| PasskeyError::Unknown)?;
        let record = self
            .store()
            .find_passkey_by_credential_id(&env.id, &URL_SAFE_NO_PAD.encode(raw_id))
            .await?
            .ok_or(PasskeyError::Unknown)?;
        if handle != user_handle(&record.user_id) {
            return Err(PasskeyError::Unknown);
        }
        let passkey: Passkey = serde_json::from_str(&record.credential)
            .map_err(|e| webauthn_state("passkey credential", &e))?;
        let result = rp
            .webauthn
            .finish_discoverable_authentication_v2(&credential, state, &passkey)
            .map_err(|e| invalid(&e))?;
        self.record_verified_use(&record, &result).await?;
        let user = self
            .store()
            .get_user(&record.user_id)
            .await?
            .ok_or(PasskeyError::Unknown)?;
        Ok(self
            .sign_in_user(env, user, client, crate::FirstFactor::Passkey)
            .await?)
    }

    /// Starts a re-authentication of a signed-in user with one of their own passkeys (the
    /// challenge names every one of them and no other). Limited per client address
    /// (ceremonies started).
    ///
    /// # Errors
    /// A rate limit; passkeys not enabled; the user has none; a store failure.
    pub async fn start_passkey_reauthentication(
        &self,
        env: &Environment,
        user_id: &str,
        session_id: &str,
        client: &ClientInfo,
    ) -> Result<PasskeyOptions, Guarded<PasskeyError>> {
        let buckets = [RateBucket::CeremonyIp(IpKey::of(client))];
        let work = self.passkey_reauthentication_options(env, user_id, session_id);
        self.guarded(env, None, &buckets, work).await
    }

    async fn passkey_reauthentication_options(
        &self,
        env: &Environment,
        user_id: &str,
        session_id: &str,
    ) -> Result<PasskeyOptions, PasskeyError> {
        let rp = self.relying_party(env)?;
        let owned = self
            .store()
            .list_passkeys(user_id)
            .await?
            .iter()
            .filter(|record| record.environment_id == env.id)
            .map(|record| {
                serde_json::from_str::<Passkey>(&record.credential)
                    .map_err(|e| webauthn_state("passkey credential", &e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if owned.is_empty() {
            return Err(PasskeyError::NoPasskeys);
        }
        let (challenge, state) = rp
            .webauthn
            .start_passkey_authentication(&owned)
            .map_err(|e| invalid(&e))?;
        let public_key = public_key_json(&challenge)?;
        let ceremony = ReauthenticationCeremony {
            user_id: user_id.to_owned(),
            session_id: session_id.to_owned(),
            state,
        };
        let ceremony_id = self
            .start_ceremony(REAUTHENTICATION, &env.id, &ceremony, CEREMONY_TTL)
            .await?;
        Ok(PasskeyOptions {
            ceremony_id,
            public_key,
        })
    }

    /// Verifies a re-authentication's assertion: the ceremony must be this session's, the
    /// credential one of this user's passkeys, and the signature, challenge, origin, user
    /// verification and counter right. The passkey's use is recorded as a sign-in's is.
    ///
    /// # Errors
    /// Unknown, used, expired or another session's ceremony; a credential that is unknown or
    /// another user's; an assertion that does not verify; a store failure.
    pub async fn verify_passkey_reauthentication(
        &self,
        env: &Environment,
        user_id: &str,
        session_id: &str,
        ceremony_id: &str,
        credential: &serde_json::Value,
    ) -> Result<(), PasskeyError> {
        let rp = self.relying_party(env)?;
        let ceremony: ReauthenticationCeremony = self
            .take_ceremony(REAUTHENTICATION, &env.id, ceremony_id)
            .await?;
        if ceremony.user_id != user_id || ceremony.session_id != session_id {
            return Err(PasskeyError::CeremonyGone);
        }
        let credential: PublicKeyCredential = serde_json::from_value(credential.clone())
            .map_err(|e| PasskeyError::Malformed(e.to_string()))?;
        let record = self
            .store()
            .find_passkey_by_credential_id(&env.id, &URL_SAFE_NO_PAD.encode(&credential.raw_id))
            .await?
            .ok_or(PasskeyError::Unknown)?;
        if record.user_id != user_id {
            return Err(PasskeyError::NotYours);
        }
        // Only the credentials named in the challenge (this user's) verify.
        let result = rp
            .webauthn
            .finish_passkey_authentication(&credential, &ceremony.state)
            .map_err(|e| invalid(&e))?;
        self.record_verified_use(&record, &result).await
    }

    /// After a verified assertion: the user was verified, and the stored credential moves on
    /// (counter, backup state) in one statement that refuses a counter going backwards.
    async fn record_verified_use(
        &self,
        record: &PasskeyRecord,
        result: &AuthenticationResult,
    ) -> Result<(), PasskeyError> {
        if !result.user_verified() {
            return Err(PasskeyError::Invalid("user not verified".to_owned()));
        }
        let mut passkey: Passkey = serde_json::from_str(&record.credential)
            .map_err(|e| webauthn_state("passkey credential", &e))?;
        passkey.update_credential(result);
        let serialised =
            serde_json::to_value(&passkey).map_err(|e| webauthn_state("passkey credential", &e))?;
        let recorded = self
            .store()
            .record_passkey_use(
                &record.id,
                &serialised.to_string(),
                result.counter(),
                self.now(),
            )
            .await?;
        if recorded {
            Ok(())
        } else {
            Err(PasskeyError::CounterRegressed)
        }
    }

    /// The user's passkeys, oldest first.
    ///
    /// # Errors
    /// A store failure.
    pub async fn list_passkeys(&self, user_id: &str) -> Result<Vec<PasskeyInfo>, PasskeyError> {
        Ok(self
            .store()
            .list_passkeys(user_id)
            .await?
            .iter()
            .map(passkey_info)
            .collect())
    }

    /// Renames one of the user's passkeys.
    ///
    /// # Errors
    /// An invalid name; no such passkey; a store failure.
    pub async fn rename_passkey(
        &self,
        user_id: &str,
        id: &str,
        name: &str,
    ) -> Result<PasskeyInfo, PasskeyError> {
        let name = validate_name(Some(name))?;
        if !self.store().rename_passkey(user_id, id, &name).await? {
            return Err(PasskeyError::NotFound);
        }
        self.store()
            .list_passkeys(user_id)
            .await?
            .iter()
            .find(|p| p.id == id)
            .map(passkey_info)
            .ok_or(PasskeyError::NotFound)
    }

    /// Deletes one of the user's passkeys, unless it is their last way to sign in.
    ///
    /// # Errors
    /// No such passkey; the last way to sign in; a store failure.
    pub async fn delete_passkey(&self, user_id: &str, id: &str) -> Result<(), PasskeyError> {
        match self
            .store()
            .remove_sign_in_method(user_id, SignInMethodRef::Passkey(id))
            .await?
        {
            MethodRemoval::Removed => Ok(()),
            MethodRemoval::NotFound => Err(PasskeyError::NotFound),
            MethodRemoval::LastMethod => Err(PasskeyError::LastMethod),
        }
    }
}
