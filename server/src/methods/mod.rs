//! Sign-in methods, one module each. Removing a user's last way to sign in is refused by the
//! store itself (`UserStore::remove_sign_in_method`).

pub mod email_code;
pub mod email_verification;
pub mod magic_link;
pub mod mfa;
pub mod oauth;
pub mod passkey;
pub mod password;
pub mod password_reset;
