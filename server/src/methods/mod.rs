//! Sign-in methods, one module each.

pub mod email_code;
pub mod email_verification;
pub mod magic_link;
pub mod password;
pub mod password_reset;
