//! Outgoing email. [`SmtpMailer`] delivers through an SMTP server; [`LogMailer`] (the default
//! when no SMTP URL is set) writes each message to the log so a developer can read codes
//! there; [`OutboxMailer`] keeps messages in memory for applications' and Torii's own tests.
//!
//! Here: the message and the [`Mailer`] trait with its two local mailers; `smtp` holds the SMTP
//! mailer, `render` the templates of every email, `notice` the security notices, and
//! `delivery` the mails sent in the background.

mod delivery;
mod notice;
mod render;
mod smtp;

pub(crate) use delivery::Deliveries;
pub use notice::{Notice, security_notice};
pub use render::{
    email_changing, email_verification_code, escape_html, magic_link, password_reset_code,
    sign_up_code, sign_up_existing_account, verify_new_email_code,
};
pub use smtp::SmtpMailer;

use async_trait::async_trait;
use std::fmt::{self, Debug};
use std::sync::{Arc, Mutex, PoisonError};

/// One message to send.
#[derive(Clone, PartialEq, Eq)]
pub struct Email {
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
}

impl Debug for Email {
    // Bodies carry codes and links: keep them out of debug output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Email")
            .field("to", &self.to)
            .field("subject_len", &self.subject.len())
            .finish_non_exhaustive()
    }
}

/// Why a message could not be sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MailError {
    /// The configured SMTP URL is not usable.
    #[error("invalid SMTP URL: {0}")]
    InvalidUrl(String),
    /// The message could not be built (bad address).
    #[error("invalid message: {0}")]
    Message(String),
    /// The SMTP server refused or could not be reached.
    #[error("delivery failed: {0}")]
    Delivery(String),
}

/// Sends email.
#[async_trait]
pub trait Mailer: Send + Sync + Debug {
    /// Sends one message.
    async fn send(&self, email: &Email) -> Result<(), MailError>;

    /// Whether messages reach their recipients' mailboxes. The log mailer answers false: a
    /// live environment refuses to run with it.
    fn delivers(&self) -> bool {
        true
    }
}

/// Writes every message to the log (the development default).
#[derive(Debug, Clone, Copy, Default)]
pub struct LogMailer;

#[async_trait]
impl Mailer for LogMailer {
    fn delivers(&self) -> bool {
        false
    }

    async fn send(&self, email: &Email) -> Result<(), MailError> {
        // The log mailer exists so that a developer without SMTP can read the code: printing
        // the body is its purpose, and it is never the mailer of a configured production server.
        // Every line of the body is indented and escaped, so none can pass for a log line.
        tracing::info!(
            to = %crate::log::escaped(&email.to),
            subject = %crate::log::escaped(&email.subject),
            "email (no SMTP configured):\n{}",
            crate::log::indented_block(&email.text)
        );
        Ok(())
    }
}

/// Keeps every message in memory, newest last.
#[derive(Debug, Clone, Default)]
pub struct OutboxMailer {
    messages: Arc<Mutex<Vec<Email>>>,
}

impl OutboxMailer {
    /// A new, empty outbox.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything sent so far.
    #[must_use]
    pub fn messages(&self) -> Vec<Email> {
        self.messages
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The newest message to `to`.
    #[must_use]
    pub fn last_to(&self, to: &str) -> Option<Email> {
        self.messages()
            .into_iter()
            .rev()
            .find(|m| m.to.eq_ignore_ascii_case(to))
    }
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, email: &Email) -> Result<(), MailError> {
        self.messages
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(email.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn outbox_keeps_messages() {
        let outbox = OutboxMailer::new();
        outbox
            .send(&sign_up_code("A", "x@y.co", "000111", 10).unwrap())
            .await
            .unwrap();
        assert_eq!(outbox.last_to("X@y.co").unwrap().to, "x@y.co");
    }
}
