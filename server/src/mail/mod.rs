//! Outgoing email. [`SmtpMailer`] delivers through an SMTP server; [`LogMailer`] (the default
//! when no SMTP URL is set) writes each message to the log so a developer can read codes
//! there; [`OutboxMailer`] keeps messages in memory for applications' and Torii's own tests.

use async_trait::async_trait;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
use std::fmt::{self, Debug};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use url::Url;

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
}

/// Writes every message to the log (the development default).
#[derive(Debug, Clone, Copy, Default)]
pub struct LogMailer;

#[async_trait]
impl Mailer for LogMailer {
    async fn send(&self, email: &Email) -> Result<(), MailError> {
        // The log mailer exists so that a developer without SMTP can read the code: printing
        // the body is its purpose, and it is never the mailer of a configured production server.
        tracing::info!(
            to = %email.to,
            subject = %email.subject,
            "email (no SMTP configured):\n{}",
            email.text
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

/// Delivers through SMTP (`smtp://[user:pass@]host[:port]`, plain, as for a local relay).
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// Builds a mailer from an SMTP URL and a sender address.
    ///
    /// # Errors
    /// An unparseable URL, an unsupported scheme, or an invalid sender.
    pub fn from_url(smtp_url: &str, from: &str) -> Result<Self, MailError> {
        let url = Url::parse(smtp_url).map_err(|e| MailError::InvalidUrl(e.to_string()))?;
        if url.scheme() != "smtp" {
            return Err(MailError::InvalidUrl(format!(
                "unsupported scheme `{}` (expected smtp://)",
                url.scheme()
            )));
        }
        let host = url
            .host_str()
            .ok_or_else(|| MailError::InvalidUrl("missing host".to_owned()))?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(url.port().unwrap_or(25))
            .timeout(Some(Duration::from_secs(10)));
        if !url.username().is_empty() {
            builder = builder.credentials(Credentials::new(
                url.username().to_owned(),
                url.password().unwrap_or_default().to_owned(),
            ));
        }
        let from = from
            .parse::<Mailbox>()
            .map_err(|e| MailError::Message(e.to_string()))?;
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, email: &Email) -> Result<(), MailError> {
        let to = email
            .to
            .parse::<Mailbox>()
            .map_err(|e| MailError::Message(e.to_string()))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&email.subject)
            .multipart(MultiPart::alternative_plain_html(
                email.text.clone(),
                email.html.clone(),
            ))
            .map_err(|e| MailError::Message(e.to_string()))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| MailError::Delivery(e.to_string()))
    }
}

/// Escapes text for an HTML body.
#[must_use]
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The sign-up verification email.
#[must_use]
pub fn sign_up_code(app: &str, to: &str, code: &str, minutes: i64) -> Email {
    let app_html = escape_html(app);
    Email {
        to: to.to_owned(),
        subject: format!("{code} is your {app} verification code"),
        text: format!(
            "Welcome to {app}.\n\nYour verification code is {code}\n\n\
             Enter it on the sign-up form within {minutes} minutes. \
             If you did not try to create an account, ignore this email."
        ),
        html: format!(
            "<p>Welcome to {app_html}.</p><p>Your verification code is</p>\
             <p style=\"font-size:28px;font-weight:bold;letter-spacing:4px\">{code}</p>\
             <p>Enter it on the sign-up form within {minutes} minutes. \
             If you did not try to create an account, ignore this email.</p>"
        ),
    }
}

/// The code that verifies a signed-in user's address.
#[must_use]
pub fn email_verification_code(app: &str, to: &str, code: &str, minutes: i64) -> Email {
    let app_html = escape_html(app);
    Email {
        to: to.to_owned(),
        subject: format!("{code} is your {app} email verification code"),
        text: format!(
            "Confirm your email address for {app}.\n\nYour verification code is {code}\n\n\
             Enter it within {minutes} minutes. If you did not ask for this, ignore this email."
        ),
        html: format!(
            "<p>Confirm your email address for {app_html}.</p><p>Your verification code is</p>\
             <p style=\"font-size:28px;font-weight:bold;letter-spacing:4px\">{code}</p>\
             <p>Enter it within {minutes} minutes. If you did not ask for this, ignore this email.</p>"
        ),
    }
}

/// Sent instead of a code when someone starts a sign-up with an address that has an account:
/// the answer to the requester is identical, and only the owner learns of the attempt.
#[must_use]
pub fn sign_up_existing_account(app: &str, to: &str, sign_in_url: &str) -> Email {
    let app_html = escape_html(app);
    let url_html = escape_html(sign_in_url);
    Email {
        to: to.to_owned(),
        subject: format!("Someone tried to create a {app} account with your email"),
        text: format!(
            "Someone tried to create a new {app} account with this address, which already has one.\n\n\
             If it was you, sign in instead: {sign_in_url}\n\n\
             If it was not you, you can ignore this email; your account is unchanged."
        ),
        html: format!(
            "<p>Someone tried to create a new {app_html} account with this address, which already has one.</p>\
             <p>If it was you, <a href=\"{url_html}\">sign in</a> instead.</p>\
             <p>If it was not you, you can ignore this email; your account is unchanged.</p>"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_email_carries_the_code_in_both_parts() {
        let email = sign_up_code("Acme <App>", "a@b.co", "123456", 10);
        assert!(email.text.contains("123456"));
        assert!(email.html.contains("123456"));
        assert!(email.html.contains("Acme &lt;App&gt;"));
        assert!(!format!("{email:?}").contains("123456"));
    }

    #[test]
    fn smtp_url_must_be_smtp() {
        assert!(SmtpMailer::from_url("http://x", "a@b.co").is_err());
        assert!(SmtpMailer::from_url("not a url", "a@b.co").is_err());
        assert!(
            SmtpMailer::from_url("smtp://127.0.0.1:2525", "Torii <no-reply@localhost>").is_ok()
        );
    }

    #[tokio::test]
    async fn outbox_keeps_messages() {
        let outbox = OutboxMailer::new();
        outbox
            .send(&sign_up_code("A", "x@y.co", "000111", 10))
            .await
            .unwrap();
        assert_eq!(outbox.last_to("X@y.co").unwrap().to, "x@y.co");
    }
}
