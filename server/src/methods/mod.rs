//! Sign-in methods, one module each, and what they have in common: how many ways a user has
//! to sign in.

pub mod email_code;
pub mod email_verification;
pub mod magic_link;
pub mod oauth;
pub mod passkey;
pub mod password;
pub mod password_reset;

use crate::Torii;
use crate::store::StoreError;

impl Torii {
    /// How many ways a user has to sign in: a password, each linked provider account, and
    /// each passkey. Removing one of them is refused when this is 1.
    ///
    /// # Errors
    /// A store failure.
    pub async fn sign_in_method_count(&self, user_id: &str) -> Result<usize, StoreError> {
        let password = usize::from(self.store().password_hash(user_id).await?.is_some());
        let identities = self.store().list_oauth_identities(user_id).await?.len();
        let passkeys =
            usize::try_from(self.store().count_passkeys(user_id).await?).unwrap_or(usize::MAX);
        Ok(password + identities + passkeys)
    }
}
