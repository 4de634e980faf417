//! Security notices: a change to an account that its owner should hear about.

use super::render::render;
use super::{Email, MailError};

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

    /// Two-step verification was turned on: an authenticator app was confirmed.
    #[must_use]
    pub fn second_factor_added(app: &str) -> Self {
        Self {
            subject: "two-step verification was turned on",
            heading: "An authenticator app was added",
            summary: format!(
                "Signing in to your {app} account now also asks for a code from an \
                 authenticator app (or a backup code, or a passkey)."
            ),
            items: Vec::new(),
            if_you: "If you added it, keep your backup codes somewhere safe.",
            if_not_you: "If it was not you, someone else can sign in to your account: reset \
                 your password now, then remove the authenticator from your profile.",
        }
    }

    /// The authenticator app and backup codes were removed, by the user or (`by_app`) by the
    /// application's administrators.
    #[must_use]
    pub fn second_factor_removed(app: &str, by_app: bool) -> Self {
        Self {
            subject: "two-step verification was turned off",
            heading: "Your authenticator app was removed",
            summary: if by_app {
                format!(
                    "The administrators of {app} removed the authenticator app and the backup \
                     codes of your account."
                )
            } else {
                format!(
                    "The authenticator app and the backup codes of your {app} account were removed."
                )
            },
            items: Vec::new(),
            if_you: "If you asked for this, there is nothing more to do.",
            if_not_you: IF_NOT_YOU,
        }
    }

    /// New backup codes were made; the old ones no longer work.
    #[must_use]
    pub fn backup_codes_regenerated(app: &str) -> Self {
        Self {
            subject: "new backup codes were made",
            heading: "New backup codes were made",
            summary: format!(
                "New backup codes were made for your {app} account; the old ones no longer work."
            ),
            items: Vec::new(),
            if_you: "If you made them, keep them somewhere safe.",
            if_not_you: IF_NOT_YOU,
        }
    }

    /// A backup code was used to sign in.
    #[must_use]
    pub fn backup_code_used(app: &str, left: u32) -> Self {
        Self {
            subject: "a backup code was used",
            heading: "A backup code was used",
            summary: format!(
                "One of the backup codes of your {app} account was just used. Codes left: {left}."
            ),
            items: Vec::new(),
            if_you: "If it was you, make new codes from your profile when few are left.",
            if_not_you: IF_NOT_YOU,
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
}
