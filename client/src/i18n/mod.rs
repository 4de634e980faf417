//! Every word the components show, in a typed table: [`Locale`].
//!
//! A locale is a plain value: one section per component (`sign_in`, `sign_up`, `profile`,
//! ...), each a struct of [`Text`] fields and [`Plural`] forms, plus the language's tag (for
//! dates, through the browser's `Intl`) and its plural rule. English ([`Locale::en`], the
//! default) and French ([`Locale::fr`]) are built in; an application overrides any key, by
//! field or by its dotted name, and hands the result to
//! [`ToriiProvider`](crate::ToriiProvider) as a signal, so switching language re-renders
//! every card in place:
//!
//! ```
//! use torii_client::Locale;
//!
//! let mut locale = Locale::en().with(|l| l.sign_in.title = "Log in".into());
//! locale.set("sign_in.submit", "Log in").unwrap();
//! assert_eq!(locale.sign_in.title, "Log in");
//! assert!(locale.set("sign_in.no_such_key", "…").is_err());
//! ```
//!
//! Templates name their values in braces (`"We sent a code to {email}."`); plural forms get
//! `{n}`. Errors from the server are shown by their stable code (see [`ErrorTexts`]): English
//! keeps the server's own message, which says the most; other languages use the table.

mod common;
mod controls;
mod errors;
mod gates;
mod macros;
mod plural;
mod profile;
mod sign_in;
mod sign_up;
mod texts;
mod two_step;

pub use common::CommonTexts;
pub use controls::ControlTexts;
pub use errors::ErrorTexts;
pub use gates::GateTexts;
pub use plural::{Plural, PluralCategory, PluralRule, english_plural, french_plural};
pub use profile::{
    LinkedAccountTexts, PasskeyTexts, ProfileTexts, ReauthTexts, SessionTexts, UserButtonTexts,
};
pub use sign_in::{SecondFactorTexts, SignInTexts};
pub use sign_up::SignUpTexts;
pub(crate) use texts::Message;
pub use texts::{Pick, Texts, use_locale};
pub use two_step::TwoStepTexts;

use crate::api::ApiError;
use std::borrow::Cow;
use std::fmt;
use torii_shared::ErrorCode;

/// One string of the table.
pub type Text = Cow<'static, str>;

/// A key that [`Locale::set`] does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownKey(pub String);

impl fmt::Display for UnknownKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no text is called `{}`", self.0)
    }
}

impl std::error::Error for UnknownKey {}

/// Dates where the browser's `Intl` is not there (server rendering): "22 Nov 2026".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateTexts {
    /// Short month names, January first.
    pub months: [Text; 12],
    /// `{day}`, `{month}`, `{year}`.
    pub date: Text,
    /// `{date}`, `{time}` (24-hour, UTC).
    pub date_time: Text,
}

/// The whole table; see the module documentation.
#[derive(Debug, Clone)]
pub struct Locale {
    /// The language's BCP 47 tag (`en`, `fr`), for dates and the cards' `lang`.
    pub lang: Text,
    /// Which plural form a count takes.
    pub plural_rule: PluralRule,
    /// Show the server's own error messages rather than [`ErrorTexts`] (English: the
    /// server's language, and its messages say the most).
    pub prefer_server_messages: bool,
    /// Dates without the browser's help.
    pub dates: DateTexts,
    /// Words every card uses.
    pub common: CommonTexts,
    /// Error messages by the server's stable code.
    pub errors: ErrorTexts,
    /// `<SignIn>` and password reset.
    pub sign_in: SignInTexts,
    /// `<SecondFactor>` and the code choice it shares with re-authentication.
    pub second_factor: SecondFactorTexts,
    /// `<SignUp>`.
    pub sign_up: SignUpTexts,
    /// The gate screens: `<AcceptTerms>`, `<VerifyEmail>`.
    pub gates: GateTexts,
    /// `<UserButton>` and its menu.
    pub user_button: UserButtonTexts,
    /// `<UserProfile>`'s frame, account section and password form.
    pub profile: ProfileTexts,
    /// `<Passkeys>`, also in the profile's security section.
    pub passkeys: PasskeyTexts,
    /// The profile's linked provider accounts.
    pub linked_accounts: LinkedAccountTexts,
    /// The re-authentication prompt.
    pub reauth: ReauthTexts,
    /// Two-step verification: the profile section and `<SetupMfa>`.
    pub two_step: TwoStepTexts,
    /// The sessions list.
    pub sessions: SessionTexts,
    /// The sign-in, sign-up and sign-out buttons, and the sign-in card's "Last used" mark.
    pub controls: ControlTexts,
}

impl PartialEq for Locale {
    fn eq(&self, other: &Self) -> bool {
        // The plural rule is a function: two locales with the same words are the same table.
        self.lang == other.lang
            && self.prefer_server_messages == other.prefer_server_messages
            && self.dates == other.dates
            && self.entries() == other.entries()
    }
}

impl Default for Locale {
    fn default() -> Self {
        Self::en()
    }
}

macro_rules! sections {
    ($($section:ident),* $(,)?) => {
        impl Locale {
            /// English, the default.
            #[must_use]
            pub fn en() -> Self {
                Self {
                    lang: Cow::Borrowed("en"),
                    plural_rule: english_plural,
                    prefer_server_messages: true,
                    dates: DateTexts {
                        months: [
                            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
                            "Oct", "Nov", "Dec",
                        ]
                        .map(Cow::Borrowed),
                        date: Cow::Borrowed("{day} {month} {year}"),
                        date_time: Cow::Borrowed("{date}, {time} UTC"),
                    },
                    $($section: macros::Section::en(),)*
                }
            }

            /// French.
            #[must_use]
            pub fn fr() -> Self {
                Self {
                    lang: Cow::Borrowed("fr"),
                    plural_rule: french_plural,
                    prefer_server_messages: false,
                    dates: DateTexts {
                        months: [
                            "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août",
                            "sept.", "oct.", "nov.", "déc.",
                        ]
                        .map(Cow::Borrowed),
                        date: Cow::Borrowed("{day} {month} {year}"),
                        date_time: Cow::Borrowed("{date} à {time} UTC"),
                    },
                    $($section: macros::Section::fr(),)*
                }
            }

            /// Every text and plural form by its dotted name (`sign_in.title`,
            /// `passkeys.count.other`), in table order.
            #[must_use]
            pub fn entries(&self) -> Vec<(String, &str)> {
                let mut entries = Vec::new();
                $(
                    for (key, value) in macros::Section::entries(&self.$section) {
                        entries.push((format!("{}.{key}", stringify!($section)), value));
                    }
                )*
                entries
            }

            /// Replaces one text by its dotted name (`sign_in.title`, `passkeys.count.one`),
            /// e.g. from an application's own translation file.
            ///
            /// # Errors
            ///
            /// [`UnknownKey`] when no text has that name.
            pub fn set(&mut self, key: &str, value: impl Into<Text>) -> Result<(), UnknownKey> {
                let slot = key.split_once('.').and_then(|(section, rest)| match section {
                    $(stringify!($section) => macros::Section::slot(&mut self.$section, rest),)*
                    _ => None,
                });
                match slot {
                    Some(slot) => {
                        *slot = value.into();
                        Ok(())
                    }
                    None => Err(UnknownKey(key.to_owned())),
                }
            }
        }
    };
}

sections!(
    common,
    errors,
    sign_in,
    second_factor,
    sign_up,
    gates,
    user_button,
    profile,
    passkeys,
    linked_accounts,
    two_step,
    sessions,
    reauth,
    controls,
);

impl Locale {
    /// The locale after `change`: overrides by field.
    #[must_use]
    pub fn with(mut self, change: impl FnOnce(&mut Self)) -> Self {
        change(&mut self);
        self
    }

    /// The built-in locale for a language tag (`fr`, `fr-CA`, `en-GB`), if there is one.
    #[must_use]
    pub fn builtin(tag: &str) -> Option<Self> {
        let language = tag.split(['-', '_']).next().unwrap_or_default();
        match language.to_ascii_lowercase().as_str() {
            "en" => Some(Self::en()),
            "fr" => Some(Self::fr()),
            _ => None,
        }
    }

    /// The form of `plural` for `n`, with `{n}` filled in.
    #[must_use]
    pub fn count(&self, plural: &Plural, n: u64) -> String {
        fill(plural.form((self.plural_rule)(n)), &[("n", &n.to_string())])
    }

    /// What the user is told about a failed request: the server's message in a locale that
    /// prefers it, else the table's text for the error's code.
    #[must_use]
    pub fn api_error(&self, err: &ApiError) -> String {
        match err {
            ApiError::Network => self.errors.network.to_string(),
            ApiError::Server { detail, .. } => {
                if self.prefer_server_messages {
                    return detail.message.clone();
                }
                let base = self.errors.for_code(detail.code);
                let mut message = base.to_string();
                if detail.code == ErrorCode::InvalidCode
                    && let Some(tries) = detail.tries_left
                {
                    message.push(' ');
                    message.push_str(&self.count(&self.errors.tries_left, u64::from(tries)));
                }
                if detail.code == ErrorCode::RateLimited
                    && let Some(secs) = detail.retry_after_secs
                {
                    message.push(' ');
                    message.push_str(&self.count(&self.errors.retry_in_seconds, secs));
                }
                message
            }
        }
    }

    /// The message for one field of a failed request: the server's in a locale that prefers
    /// it, else the table's text for that field.
    #[must_use]
    pub fn field_error(&self, field: &str, server_message: &str) -> String {
        if self.prefer_server_messages {
            return server_message.to_owned();
        }
        self.errors.for_field(field).to_string()
    }

    /// A date without the browser: "22 Nov 2026".
    #[must_use]
    pub fn utc_date(&self, at: time::OffsetDateTime) -> String {
        let at = at.to_offset(time::UtcOffset::UTC);
        let month = self
            .dates
            .months
            .get(usize::from(u8::from(at.month())) - 1)
            .map(|m| m.as_ref())
            .unwrap_or("");
        fill(
            &self.dates.date,
            &[
                ("day", &at.day().to_string()),
                ("month", month),
                ("year", &at.year().to_string()),
            ],
        )
    }

    /// A date and time without the browser: "22 Nov 2026, 21:07 UTC".
    #[must_use]
    pub fn utc_date_time(&self, at: time::OffsetDateTime) -> String {
        let at = at.to_offset(time::UtcOffset::UTC);
        let time = format!("{:02}:{:02}", at.hour(), at.minute());
        fill(
            &self.dates.date_time,
            &[("date", &self.utc_date(at)), ("time", &time)],
        )
    }
}

/// `template` with every `{name}` of `values` replaced; unknown names stay as they are.
#[must_use]
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) => {
                let name = &after[..end];
                match values.iter().find(|(key, _)| *key == name) {
                    Some((_, value)) => out.push_str(value),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// `template` cut around `{name}`: the text before it and after it, for markup that puts
/// the value in an element of its own ("We sent a code to <strong>{email}</strong>.").
#[must_use]
pub fn split(template: &str, name: &str) -> (String, String) {
    let marker = format!("{{{name}}}");
    match template.split_once(&marker) {
        Some((before, after)) => (before.to_owned(), after.to_owned()),
        None => (template.to_owned(), String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_key_is_in_every_shipped_language_and_none_is_empty() {
        let en = Locale::en();
        let fr = Locale::fr();
        let en_keys: Vec<String> = en.entries().into_iter().map(|(k, _)| k).collect();
        let fr_keys: Vec<String> = fr.entries().into_iter().map(|(k, _)| k).collect();
        assert_eq!(en_keys, fr_keys);
        let unique: BTreeSet<&String> = en_keys.iter().collect();
        assert_eq!(unique.len(), en_keys.len(), "a key is listed twice");
        for locale in [&en, &fr] {
            for (key, value) in locale.entries() {
                assert!(!value.trim().is_empty(), "{} `{key}` is empty", locale.lang);
            }
        }
    }

    #[test]
    fn french_leaves_no_english_behind() {
        // Words that are the same in both languages.
        const SAME: &[&str] = &["Passkeys", "Email", "OK", "Code", "Authenticator"];
        let en = Locale::en();
        let fr = Locale::fr();
        for ((key, english), (_, french)) in en.entries().into_iter().zip(fr.entries()) {
            if SAME.contains(&english) {
                continue;
            }
            assert_ne!(english, french, "`{key}` is not translated");
        }
    }

    #[test]
    fn templates_use_the_same_values_in_every_language() {
        let names = |text: &str| -> BTreeSet<String> {
            text.split('{')
                .skip(1)
                .filter_map(|part| part.split_once('}').map(|(name, _)| name.to_owned()))
                .collect()
        };
        let en = Locale::en();
        let fr = Locale::fr();
        for ((key, english), (_, french)) in en.entries().into_iter().zip(fr.entries()) {
            assert_eq!(names(english), names(french), "`{key}` names other values");
        }
    }

    #[test]
    fn keys_are_overridden_by_field_or_by_name() {
        let mut locale = Locale::en().with(|l| l.sign_in.title = "Log in".into());
        assert_eq!(locale.sign_in.title, "Log in");
        locale.set("sign_up.title", "Join").unwrap();
        assert_eq!(locale.sign_up.title, "Join");
        locale.set("errors.tries_left.one", "{n} go left").unwrap();
        assert_eq!(locale.errors.tries_left.one, "{n} go left");
        assert_eq!(
            locale.set("sign_in.nope", "x"),
            Err(UnknownKey("sign_in.nope".into()))
        );
        assert!(locale.set("nope.title", "x").is_err());
        assert!(locale.set("title", "x").is_err());
    }

    #[test]
    fn templates_fill_and_split() {
        assert_eq!(
            fill(
                "Sent to {email}, {n} left",
                &[("email", "a@b.c"), ("n", "2")]
            ),
            "Sent to a@b.c, 2 left"
        );
        assert_eq!(fill("{unknown} stays", &[]), "{unknown} stays");
        assert_eq!(fill("open { brace", &[]), "open { brace");
        assert_eq!(
            split("We sent a code to {email}.", "email"),
            ("We sent a code to ".to_owned(), ".".to_owned())
        );
        assert_eq!(
            split("No value", "email"),
            ("No value".to_owned(), String::new())
        );
    }

    #[test]
    fn errors_are_told_by_code_except_where_the_server_is_preferred() {
        let err = ApiError::from_status_and_body(
            422,
            r#"{"error":{"code":"invalid_code","message":"That code is not right. 2 tries left.","triesLeft":2}}"#,
        );
        assert_eq!(
            Locale::en().api_error(&err),
            "That code is not right. 2 tries left."
        );
        let fr = Locale::fr();
        let told = fr.api_error(&err);
        assert!(told.starts_with(fr.errors.invalid_code.as_ref()), "{told}");
        assert!(told.ends_with("2 essais restants."), "{told}");
        assert_eq!(fr.api_error(&ApiError::Network), fr.errors.network);
        let unknown = ApiError::from_status_and_body(
            418,
            r#"{"error":{"code":"brand_new_code","message":"Something new."}}"#,
        );
        assert_eq!(fr.api_error(&unknown), fr.errors.unknown);
        assert_eq!(
            fr.field_error("password", "Use at least 8 characters for your password."),
            fr.errors.field_password
        );
        assert_eq!(
            Locale::en().field_error("password", "Use at least 8 characters."),
            "Use at least 8 characters."
        );
    }

    #[test]
    fn every_error_code_has_its_own_french_text() {
        let fr = Locale::fr();
        let en = Locale::en();
        for code in errors::ALL_CODES {
            assert_ne!(
                fr.errors.for_code(code),
                en.errors.for_code(code),
                "{code} is not translated"
            );
        }
    }

    #[test]
    fn dates_without_a_browser_follow_the_locale() {
        use time::macros::datetime;
        let at = datetime!(2026-12-03 21:07 UTC);
        assert_eq!(Locale::en().utc_date_time(at), "3 Dec 2026, 21:07 UTC");
        assert_eq!(Locale::fr().utc_date_time(at), "3 déc. 2026 à 21:07 UTC");
    }

    #[test]
    fn builtin_locales_are_found_by_language_tag() {
        assert_eq!(Locale::builtin("fr-CA").map(|l| l.lang), Some("fr".into()));
        assert_eq!(Locale::builtin("EN_gb").map(|l| l.lang), Some("en".into()));
        assert!(Locale::builtin("de").is_none());
    }

    #[test]
    fn messages_render_in_the_locale_shown() {
        let message = Message::Fill(|l| &l.sign_in.code_sent, vec![("email", "a@b.c".into())]);
        assert!(message.render(&Locale::en()).contains("a@b.c"));
        assert_ne!(message.render(&Locale::en()), message.render(&Locale::fr()));
    }
}
