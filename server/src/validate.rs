//! Input rules shared by every flow: email syntax and canonical form, password length in code
//! points (never truncated), display names.
//!
//! Emails are compared in one canonical form: Unicode NFKC (so that look-alike compatibility
//! characters such as full-width letters collapse into the ordinary ones), trimmed, lower-cased.

use std::collections::BTreeMap;
use torii_shared::{EMAIL_MAX_LEN, NAME_MAX_CHARS, PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS};
use unicode_normalization::UnicodeNormalization as _;

/// Field name → human message.
pub type FieldErrors = BTreeMap<String, String>;

/// A syntactically valid email: `display` as typed (NFKC, trimmed, domain lower-cased) and
/// `canonical`, the form compared for uniqueness (the same, all lower-case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress {
    /// For display and delivery.
    pub display: String,
    /// For lookups and uniqueness.
    pub canonical: String,
}

/// Checks an email address; the error is the message to show.
///
/// # Errors
/// A human message when the address is not acceptable.
pub fn email(raw: &str) -> Result<EmailAddress, &'static str> {
    const INVALID: &str = "Enter a valid email address.";
    let normalized: String = raw.nfkc().collect();
    let trimmed = normalized.trim();
    if trimmed.is_empty() {
        return Err("Enter your email address.");
    }
    if trimmed.len() > EMAIL_MAX_LEN {
        return Err("That email address is too long.");
    }
    if trimmed.chars().any(|c| {
        c.is_control()
            || c.is_whitespace()
            || is_invisible(c)
            || matches!(
                c,
                '"' | ',' | '<' | '>' | '(' | ')' | '[' | ']' | ';' | ':' | '\\'
            )
    }) {
        return Err(INVALID);
    }
    let mut parts = trimmed.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(INVALID);
    };
    if local.is_empty()
        || local.len() > 64
        || local.starts_with('.')
        || local.ends_with('.')
        || local.contains("..")
    {
        return Err(INVALID);
    }
    // Lower-cased first, then normalised again: some capitals lower-case to a letter and a
    // combining mark (`İ` to `i̇`), which the label check must see as the stored form has it.
    let domain: String = domain.to_lowercase().nfkc().collect();
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |label: &&str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    if labels.len() < 2 || !labels.iter().all(label_ok) {
        return Err(INVALID);
    }
    Ok(EmailAddress {
        display: format!("{local}@{domain}"),
        canonical: format!("{}@{domain}", local.to_lowercase()),
    })
}

/// Zero-width and text-direction characters: invisible, so two addresses that look the same
/// could differ by them.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}' | '\u{feff}' | '\u{00ad}')
}

/// Why a new password was refused; its message is the one shown next to the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordRejected {
    /// Fewer than [`PASSWORD_MIN_CHARS`] code points.
    #[error("Use at least {min} characters for your password.", min = PASSWORD_MIN_CHARS)]
    TooShort,
    /// More than [`PASSWORD_MAX_CHARS`] code points.
    #[error("Use at most {max} characters for your password.", max = PASSWORD_MAX_CHARS)]
    TooLong,
    /// One of the commonly used passwords.
    #[error("This password is one of the most commonly used ones; choose another.")]
    Common,
}

/// Checks a new password: its length in Unicode code points, and that it is not one of the
/// commonly used passwords (a bundled list of 30,000, also matched reversed or with the usual
/// letter-for-digit swaps such as `p@ssw0rd`).
///
/// # Errors
/// [`PasswordRejected`] when the password is too short, too long or too common; its message
/// is for the user.
pub fn new_password(password: &str) -> Result<(), PasswordRejected> {
    let chars = password.chars().count();
    if chars < PASSWORD_MIN_CHARS {
        return Err(PasswordRejected::TooShort);
    }
    if chars > PASSWORD_MAX_CHARS {
        return Err(PasswordRejected::TooLong);
    }
    if is_common_password(password) {
        return Err(PasswordRejected::Common);
    }
    Ok(())
}

/// Whether the whole password is one entry of the common-password list (case aside, reversed,
/// or with letter-for-digit swaps). A longer password than any entry is never one.
fn is_common_password(password: &str) -> bool {
    use zxcvbn::matching::patterns::MatchPattern;
    const LONGEST_ENTRY_CHARS: usize = 64;
    let chars = password.chars().count();
    if chars > LONGEST_ENTRY_CHARS {
        return false;
    }
    zxcvbn::zxcvbn(password, &[]).sequence().iter().any(|m| {
        m.i == 0
            && m.j + 1 == chars
            // The dictionary's type is not exported by name; its Debug form is stable.
            && matches!(&m.pattern, MatchPattern::Dictionary(d)
                if format!("{:?}", d.dictionary_name) == "Passwords")
    })
}

/// Checks an optional display name; blank means none.
///
/// # Errors
/// A human message when the name is too long or has control characters.
pub fn name(raw: Option<&str>) -> Result<Option<String>, String> {
    let Some(trimmed) = raw.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    if trimmed.chars().count() > NAME_MAX_CHARS {
        return Err(format!(
            "Use at most {NAME_MAX_CHARS} characters for your name."
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err("Your name cannot contain control characters.".to_owned());
    }
    Ok(Some(trimmed.to_owned()))
}

/// The deepest nesting of arrays and objects in a JSON text, brackets inside strings ignored.
/// Malformed text gets some number; the parser rejects it afterwards anyway.
#[must_use]
pub fn json_nesting_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0_usize, 0_usize);
    let (mut in_string, mut escaped) = (false, false);
    for &b in bytes {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_canonicalised() {
        let e = email("  Ada.Lovelace@Example.COM ").unwrap();
        assert_eq!(e.display, "Ada.Lovelace@example.com");
        assert_eq!(e.canonical, "ada.lovelace@example.com");
    }

    #[test]
    fn look_alike_compatibility_characters_collapse() {
        // Full-width letters and the "ﬁ" ligature are the ordinary letters after NFKC.
        let wide = email("\u{ff21}da@ex\u{fb01}le.com").unwrap();
        assert_eq!(wide.display, "Ada@exfile.com");
        assert_eq!(wide.canonical, email("ada@EXFILE.com").unwrap().canonical);
        // A full-width "@" becomes a second "@": rejected, not smuggled through.
        assert!(email("a\u{ff20}b@example.com").is_err());
        // Compatibility spaces become spaces: rejected inside, trimmed outside.
        assert!(email("a\u{2002}b@example.com").is_err());
        assert_eq!(
            email("\u{3000}ada@example.com").unwrap().display,
            "ada@example.com"
        );
    }

    #[test]
    fn an_accepted_address_is_accepted_again_as_stored() {
        // `İ` lower-cases to `i` and a combining dot, which no label may hold: the domain is
        // judged as it would be stored, so what is accepted once is accepted again.
        for raw in [
            "4=@XHHHI\u{307}.H\u{307}HH\u{307}.H\u{307}",
            "a@\u{130}stanbul.com",
        ] {
            if let Ok(address) = email(raw) {
                let again = email(&address.display).expect("a stored address stays valid");
                assert_eq!(again, address, "{raw:?}");
            }
        }
        assert_eq!(
            email("a@\u{1e22}ost.com").unwrap().display,
            "a@\u{1e23}ost.com",
            "a precomposed capital lower-cases to its precomposed letter"
        );
    }

    #[test]
    fn bad_emails_are_rejected() {
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a@b@example.com",
            "a b@example.com",
            "\"a\"@example.com",
            "a,b@example.com",
            "a@exa mple.com",
            "a\u{0}@example.com",
            "a@-x.com",
            "a..b@example.com",
            ".a@example.com",
            "a\u{7f}@example.com",
            "a\u{200b}@example.com",
            "a\u{202e}moc.elpmaxe@example.com",
            "a\u{feff}@example.com",
        ] {
            assert!(email(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(email(&format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn common_passwords_are_refused_in_their_usual_disguises() {
        for common in [
            "password",
            "Password1",
            "qwertyuiop",
            "p@ssw0rd",
            "drowssap",
            "iloveyou1",
        ] {
            let refused = new_password(common);
            assert!(refused.is_err(), "{common:?} should be refused");
            assert!(refused.unwrap_err().to_string().contains("commonly used"));
        }
        for fine in [
            "correct horse battery",
            "tq9-Vmx2-Lp",
            "mein Pferd isst keinen Gurkensalat",
        ] {
            assert!(new_password(fine).is_ok(), "{fine:?} should be accepted");
        }
    }

    #[test]
    fn passwords_count_code_points_without_truncation() {
        assert!(new_password("1234567").is_err());
        assert!(new_password("1029xkcd").is_ok());
        assert!(new_password(&"é".repeat(8)).is_ok());
        assert!(new_password(&"x".repeat(256)).is_ok());
        assert!(new_password(&"x".repeat(257)).is_err());
    }

    #[test]
    fn names_are_optional_and_bounded() {
        assert_eq!(name(None).unwrap(), None);
        assert_eq!(name(Some("  ")).unwrap(), None);
        assert_eq!(name(Some(" Ada ")).unwrap(), Some("Ada".into()));
        assert!(name(Some(&"a".repeat(101))).is_err());
        assert!(name(Some("a\u{7}b")).is_err());
    }

    #[test]
    fn nesting_counts_brackets_outside_strings() {
        assert_eq!(json_nesting_depth(br#"{"a": 1}"#), 1);
        assert_eq!(json_nesting_depth(br#"{"a": [[{"b": []}]]}"#), 5);
        assert_eq!(json_nesting_depth(br#"{"a": "[[[[{{{{\"[["}"#), 1);
        assert_eq!(json_nesting_depth(&[b'['; 1000]), 1000);
        assert_eq!(json_nesting_depth(b"]]]"), 0);
    }
}
