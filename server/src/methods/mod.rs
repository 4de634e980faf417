//! Sign-in methods, one module each.

pub mod email_code;
pub mod email_verification;
pub mod password;
