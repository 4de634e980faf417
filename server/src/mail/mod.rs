//! Outgoing email. [`SmtpMailer`] delivers through an SMTP server; [`LogMailer`] (the default
//! when no SMTP URL is set) writes each message to the log so a developer can read codes
//! there; [`OutboxMailer`] keeps messages in memory for applications' and Torii's own tests.

use async_trait::async_trait;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
use std::fmt::{self, Debug};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
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

/// Delivers through SMTP. URL forms: `smtp://host[:port]` (plain, for a local relay),
/// `smtp://host[:port]?tls=required` (STARTTLS, refusing to continue without it),
/// `smtps://host[:port]` (implicit TLS, port 465 by default). Credentials come from the URL's
/// user info or are given separately.
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

fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl SmtpMailer {
    /// Builds a mailer from an SMTP URL, a sender address, and optional credentials that
    /// override the URL's.
    ///
    /// # Errors
    /// An unparseable URL, an unsupported scheme or `tls` value, or an invalid sender.
    pub fn from_url(
        smtp_url: &str,
        from: &str,
        credentials: Option<(String, String)>,
    ) -> Result<Self, MailError> {
        let url = Url::parse(smtp_url).map_err(|e| MailError::InvalidUrl(e.to_string()))?;
        let host = url
            .host_str()
            .ok_or_else(|| MailError::InvalidUrl("missing host".to_owned()))?
            .to_owned();
        let tls = url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        let tls_error = |e: lettre::transport::smtp::Error| MailError::InvalidUrl(e.to_string());
        let mut builder = match (url.scheme(), tls.as_deref()) {
            ("smtp", None | Some("none")) => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host).port(url.port().unwrap_or(25))
            }
            ("smtp", Some("required" | "starttls")) => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&host)
                    .map_err(tls_error)?
                    .port(url.port().unwrap_or(587))
            }
            ("smtps", None) => AsyncSmtpTransport::<Tokio1Executor>::relay(&host)
                .map_err(tls_error)?
                .port(url.port().unwrap_or(465)),
            (scheme, tls) => {
                return Err(MailError::InvalidUrl(format!(
                    "unsupported scheme `{scheme}` or tls={} (use smtp://, smtp://…?tls=required or smtps://)",
                    tls.unwrap_or("")
                )));
            }
        }
        .timeout(Some(Duration::from_secs(10)));
        let credentials = credentials.or_else(|| {
            (!url.username().is_empty()).then(|| {
                (
                    percent_decode(url.username()),
                    percent_decode(url.password().unwrap_or_default()),
                )
            })
        });
        if let Some((user, password)) = credentials {
            builder = builder.credentials(Credentials::new(user, password));
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

/// Escapes text for HTML (the pages the server renders itself; email templates are escaped
/// by the template engine).
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

static TEMPLATES: OnceLock<minijinja::Environment<'static>> = OnceLock::new();

fn templates() -> &'static minijinja::Environment<'static> {
    TEMPLATES.get_or_init(|| {
        let mut env = minijinja::Environment::new();
        // `.html` templates are auto-escaped; the sources are compiled in, so adding them only
        // fails on a syntax error, which the tests below would catch first.
        for (name, source) in [
            ("layout.html", include_str!("templates/layout.html")),
            (
                "sign_up_code.html",
                include_str!("templates/sign_up_code.html"),
            ),
            (
                "sign_up_code.txt",
                include_str!("templates/sign_up_code.txt"),
            ),
            (
                "existing_account.html",
                include_str!("templates/existing_account.html"),
            ),
            (
                "existing_account.txt",
                include_str!("templates/existing_account.txt"),
            ),
            (
                "email_verification.html",
                include_str!("templates/email_verification.html"),
            ),
            (
                "email_verification.txt",
                include_str!("templates/email_verification.txt"),
            ),
            ("magic_link.html", include_str!("templates/magic_link.html")),
            ("magic_link.txt", include_str!("templates/magic_link.txt")),
            (
                "password_reset.html",
                include_str!("templates/password_reset.html"),
            ),
            (
                "password_reset.txt",
                include_str!("templates/password_reset.txt"),
            ),
            (
                "verify_new_email.html",
                include_str!("templates/verify_new_email.html"),
            ),
            (
                "verify_new_email.txt",
                include_str!("templates/verify_new_email.txt"),
            ),
            (
                "email_changing.html",
                include_str!("templates/email_changing.html"),
            ),
            (
                "email_changing.txt",
                include_str!("templates/email_changing.txt"),
            ),
            (
                "security_notice.html",
                include_str!("templates/security_notice.html"),
            ),
            (
                "security_notice.txt",
                include_str!("templates/security_notice.txt"),
            ),
        ] {
            if let Err(error) = env.add_template(name, source) {
                tracing::error!(%error, template = name, "invalid email template");
            }
        }
        env
    })
}

fn render(
    template: &str,
    to: &str,
    subject: String,
    ctx: &minijinja::Value,
) -> Result<Email, MailError> {
    let ctx = minijinja::context! { subject => &subject, ..ctx.clone() };
    let render = |name: String| {
        templates()
            .get_template(&name)
            .and_then(|t| t.render(&ctx))
            .map_err(|e| MailError::Message(format!("template {name}: {e}")))
    };
    Ok(Email {
        to: to.to_owned(),
        html: render(format!("{template}.html"))?,
        text: render(format!("{template}.txt"))?,
        subject,
    })
}

/// The sign-up verification email.
///
/// # Errors
/// A template failure.
pub fn sign_up_code(app: &str, to: &str, code: &str, minutes: i64) -> Result<Email, MailError> {
    render(
        "sign_up_code",
        to,
        format!("{code} is your {app} verification code"),
        &minijinja::context! { app, code, minutes },
    )
}

/// Sent instead of a code when someone starts a sign-up with an address that has an account:
/// the answer to the requester is identical, and only the owner learns of the attempt.
///
/// # Errors
/// A template failure.
pub fn sign_up_existing_account(
    app: &str,
    to: &str,
    sign_in_url: &str,
) -> Result<Email, MailError> {
    render(
        "existing_account",
        to,
        format!("Someone tried to create a {app} account with your email"),
        &minijinja::context! { app, sign_in_url },
    )
}

/// The code that verifies a signed-in user's address.
///
/// # Errors
/// A template failure.
pub fn email_verification_code(
    app: &str,
    to: &str,
    code: &str,
    minutes: i64,
) -> Result<Email, MailError> {
    render(
        "email_verification",
        to,
        format!("{code} is your {app} email verification code"),
        &minijinja::context! { app, code, minutes },
    )
}

/// The sign-in link.
///
/// # Errors
/// A template failure.
pub fn magic_link(app: &str, to: &str, link: &str, minutes: i64) -> Result<Email, MailError> {
    render(
        "magic_link",
        to,
        format!("Your {app} sign-in link"),
        &minijinja::context! { app, link, minutes },
    )
}

/// The password-reset code.
///
/// # Errors
/// A template failure.
pub fn password_reset_code(
    app: &str,
    to: &str,
    code: &str,
    minutes: i64,
) -> Result<Email, MailError> {
    render(
        "password_reset",
        to,
        format!("{code} is your {app} password reset code"),
        &minijinja::context! { app, code, minutes },
    )
}

/// The code that confirms a new address before it replaces the old one.
///
/// # Errors
/// A template failure.
pub fn verify_new_email_code(
    app: &str,
    to: &str,
    code: &str,
    minutes: i64,
) -> Result<Email, MailError> {
    render(
        "verify_new_email",
        to,
        format!("{code} is your {app} code to confirm your new email"),
        &minijinja::context! { app, code, minutes },
    )
}

/// Tells the old address that the account's email moved to `new_email`.
///
/// # Errors
/// A template failure.
pub fn email_changing(app: &str, to: &str, new_email: &str) -> Result<Email, MailError> {
    render(
        "email_changing",
        to,
        format!("Your {app} email is changing"),
        &minijinja::context! { app, new_email },
    )
}

/// A change to an account that its owner should hear about: what happened, the details
/// (one line each), and what to do whether or not it was them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The subject line, without the app's name.
    pub subject: &'static str,
    /// The first line of the body.
    pub heading: &'static str,
    /// One sentence saying what happened.
    pub summary: String,
    /// Details, one line each (what was removed, which device).
    pub items: Vec<String>,
    /// What to do if it was the owner.
    pub if_you: &'static str,
    /// What to do if it was not.
    pub if_not_you: &'static str,
}

impl Notice {
    /// The notice when someone proved they own an account's address after sign-in methods
    /// were added to it while it was unverified: those methods were removed.
    #[must_use]
    pub fn unverified_methods_removed(app: &str, items: Vec<String>) -> Self {
        Self {
            subject: "sign-in methods were removed from your account",
            heading: "Your email address is now verified",
            summary: format!(
                "You proved that this address is yours. Before that, while the address was \
                 unverified, other ways to sign in had been added to the {app} account that uses \
                 it. Because anyone could have added them, they were removed and every session \
                 was signed out:"
            ),
            items,
            if_you: "If you added them yourself, sign in and add them again from your profile.",
            if_not_you: "If you did not add them, someone tried to claim your address before \
                 you: they no longer have access.",
        }
    }
}

const IF_NOT_YOU: &str = "If it was not you, someone else can sign in to your account: reset \
     your password now, and sign out every other session from your profile.";

impl Notice {
    /// The account's password was changed from a signed-in session.
    #[must_use]
    pub fn password_changed(app: &str) -> Self {
        Self {
            subject: "your password was changed",
            heading: "Your password was changed",
            summary: format!("The password of your {app} account was just changed."),
            items: Vec::new(),
            if_you: "If you changed it, there is nothing more to do.",
            if_not_you: IF_NOT_YOU,
        }
    }

    /// The account's password was reset with an emailed code.
    #[must_use]
    pub fn password_reset(app: &str) -> Self {
        Self {
            subject: "your password was reset",
            heading: "Your password was reset",
            summary: format!(
                "The password of your {app} account was just reset with a code sent to this \
                 address, and every session was signed out."
            ),
            items: Vec::new(),
            if_you: "If you reset it, there is nothing more to do.",
            if_not_you: "If it was not you, someone can read this mailbox: secure your email \
                 account first, then reset your password again.",
        }
    }

    /// A passkey was added to the account.
    #[must_use]
    pub fn passkey_added(app: &str, name: &str) -> Self {
        Self {
            subject: "a passkey was added to your account",
            heading: "A passkey was added",
            summary: format!("A new passkey can now sign in to your {app} account:"),
            items: vec![name.to_owned()],
            if_you: "If you added it, there is nothing more to do.",
            if_not_you: "If it was not you, remove the passkey from your profile, reset your \
                 password, and sign out every other session.",
        }
    }

    /// A provider account was linked to the account.
    #[must_use]
    pub fn provider_linked(app: &str, provider: &str, email: Option<&str>) -> Self {
        let item = match email {
            Some(email) => format!("{provider} ({email})"),
            None => provider.to_owned(),
        };
        Self {
            subject: "a sign-in provider was linked to your account",
            heading: "A sign-in provider was linked",
            summary: format!(
                "This account at a sign-in provider can now sign in to your {app} account:"
            ),
            items: vec![item],
            if_you: "If you linked it, there is nothing more to do.",
            if_not_you: "If it was not you, unlink it from your profile, reset your password, \
                 and sign out every other session.",
        }
    }

    /// Told to the new address when an account's email moved to it.
    #[must_use]
    pub fn email_changed_to_here(app: &str, old: &str) -> Self {
        Self {
            subject: "this is now your account's email",
            heading: "Your email address was changed",
            summary: format!(
                "Your {app} account now uses this address instead of {old}. Sign-in links, \
                 codes and notices come here from now on."
            ),
            items: Vec::new(),
            if_you: "If you made this change, there is nothing more to do.",
            if_not_you: IF_NOT_YOU,
        }
    }
}

/// Renders a [`Notice`] to `to`.
///
/// # Errors
/// A template failure.
pub fn security_notice(app: &str, to: &str, notice: &Notice) -> Result<Email, MailError> {
    render(
        "security_notice",
        to,
        format!("{app}: {}", notice.subject),
        &minijinja::context! {
            app,
            heading => notice.heading,
            summary => &notice.summary,
            items => &notice.items,
            if_you => notice.if_you,
            if_not_you => notice.if_not_you,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_renders() {
        for email in [
            sign_up_code("A", "a@b.co", "123456", 10).unwrap(),
            sign_up_existing_account("A", "a@b.co", "http://x/").unwrap(),
            email_verification_code("A", "a@b.co", "123456", 10).unwrap(),
            magic_link("A", "a@b.co", "http://x/v?token=t", 10).unwrap(),
            password_reset_code("A", "a@b.co", "123456", 10).unwrap(),
            verify_new_email_code("A", "a@b.co", "123456", 10).unwrap(),
            email_changing("A", "a@b.co", "new@b.co").unwrap(),
            security_notice(
                "A",
                "a@b.co",
                &Notice::unverified_methods_removed("A", vec!["<b>x</b>".to_owned()]),
            )
            .unwrap(),
            security_notice("A", "a@b.co", &Notice::password_changed("A")).unwrap(),
            security_notice("A", "a@b.co", &Notice::password_reset("A")).unwrap(),
            security_notice("A", "a@b.co", &Notice::passkey_added("A", "Laptop")).unwrap(),
            security_notice(
                "A",
                "a@b.co",
                &Notice::provider_linked("A", "GitHub", Some("a@b.co")),
            )
            .unwrap(),
            security_notice("A", "a@b.co", &Notice::email_changed_to_here("A", "o@b.co")).unwrap(),
        ] {
            assert!(email.html.contains("<html"), "{}", email.subject);
            assert!(!email.text.contains("{{"), "{}", email.text);
            assert!(email.text.contains('A'));
        }
    }

    #[test]
    fn notices_escape_their_items_in_html() {
        let notice = Notice::unverified_methods_removed("A", vec!["<b>x</b>".to_owned()]);
        let email = security_notice("A", "a@b.co", &notice).unwrap();
        assert!(email.html.contains("&lt;b&gt;x") && !email.html.contains("<b>"));
        assert!(email.text.contains("- <b>x</b>"));
        assert_eq!(
            email.subject,
            "A: sign-in methods were removed from your account"
        );
    }

    #[test]
    fn code_email_carries_the_code_in_both_parts() {
        let email = sign_up_code("Acme <App>", "a@b.co", "123456", 10).unwrap();
        assert!(email.text.contains("123456"));
        assert!(email.html.contains("123456"));
        assert!(email.html.contains("Acme &lt;App&gt;"));
        assert!(!format!("{email:?}").contains("123456"));
    }

    #[test]
    fn smtp_urls_choose_the_transport() {
        let from = "Torii <no-reply@localhost>";
        assert!(SmtpMailer::from_url("http://x", from, None).is_err());
        assert!(SmtpMailer::from_url("not a url", from, None).is_err());
        assert!(SmtpMailer::from_url("smtp://x?tls=maybe", from, None).is_err());
        for ok in [
            "smtp://127.0.0.1:2525",
            "smtp://user:p%40ss@mail.example.com?tls=required",
            "smtps://mail.example.com",
        ] {
            assert!(SmtpMailer::from_url(ok, from, None).is_ok(), "{ok}");
        }
        assert!(SmtpMailer::from_url("smtp://x", "not an address", None).is_err());
    }

    #[test]
    fn user_info_is_percent_decoded() {
        assert_eq!(percent_decode("p%40ss%2Fword"), "p@ss/word");
        assert_eq!(percent_decode("100%"), "100%");
    }

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

/// Mails sent in the background, counted so that a shutdown (or a test) can wait for them.
#[derive(Debug, Default)]
pub(crate) struct Deliveries {
    pending: std::sync::atomic::AtomicUsize,
    settled: tokio::sync::Notify,
}

impl crate::Torii {
    /// Tells `to` about a change to their account in environment `environment_id`, in the
    /// background: the change is made whatever the mail server does, and a failure is logged.
    pub(crate) fn notify(&self, environment_id: &str, to: &str, notice: &Notice) {
        match security_notice(&self.app_name(environment_id), to, notice) {
            Ok(email) => self.deliver_in_background(email, notice.subject),
            Err(error) => tracing::warn!(%error, notice = notice.subject, "notice not rendered"),
        }
    }

    /// The name an environment's emails go out under.
    pub(crate) fn app_name(&self, environment_id: &str) -> String {
        self.environments()
            .iter()
            .find(|env| env.id == environment_id)
            .map_or_else(|| "Torii".to_owned(), |env| env.name.clone())
    }

    /// Sends a mail without making the request wait for it. Used where the answer must not
    /// depend on whether an account exists (sign-in links, password reset): the SMTP round
    /// trip would otherwise tell, by its time or by its failure. A failure is logged.
    pub(crate) fn deliver_in_background(&self, email: Email, what: &'static str) {
        let deliveries = Arc::clone(self.deliveries());
        let mailer = self.mailer_arc();
        deliveries
            .pending
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        tokio::spawn(async move {
            if let Err(error) = mailer.send(&email).await {
                tracing::warn!(error = %crate::log::escaped(&error), what, "mail not sent");
            }
            if deliveries
                .pending
                .fetch_sub(1, std::sync::atomic::Ordering::SeqCst)
                == 1
            {
                deliveries.settled.notify_waiters();
            }
        });
    }

    /// Waits until every mail handed to the background has been sent (or has failed).
    pub async fn mail_settled(&self) {
        let deliveries = self.deliveries();
        loop {
            let settled = deliveries.settled.notified();
            if deliveries.pending.load(std::sync::atomic::Ordering::SeqCst) == 0 {
                return;
            }
            settled.await;
        }
    }
}
