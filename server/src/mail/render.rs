//! The emails' templates (`templates/`, compiled in) and the functions that render each one.

use super::{Email, MailError};
use std::sync::OnceLock;

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

pub(super) fn render(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::{Notice, security_notice};

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
    fn code_email_carries_the_code_in_both_parts() {
        let email = sign_up_code("Acme <App>", "a@b.co", "123456", 10).unwrap();
        assert!(email.text.contains("123456"));
        assert!(email.html.contains("123456"));
        assert!(email.html.contains("Acme &lt;App&gt;"));
        assert!(!format!("{email:?}").contains("123456"));
    }
}
