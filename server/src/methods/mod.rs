//! Sign-in methods, one module each.

pub mod email_code;
pub mod email_verification;
pub mod magic_link;
pub mod oauth;
pub mod password;
pub mod password_reset;

use crate::Torii;
use crate::store::StoreError;

impl Torii {
    /// How many ways a user has to sign in: a password, and each linked provider account.
    /// Removing one of them is refused when this is 1.
    ///
    /// # Errors
    /// A store failure.
    pub async fn sign_in_method_count(&self, user_id: &str) -> Result<usize, StoreError> {
        let password = usize::from(self.store().password_hash(user_id).await?.is_some());
        let identities = self.store().list_oauth_identities(user_id).await?.len();
        Ok(password + identities)
    }
}
