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
mod errors;
mod gates;
mod macros;
mod profile;
mod sign_in;
mod sign_up;
mod two_step;

pub use common::CommonTexts;
pub use errors::ErrorTexts;
pub use gates::GateTexts;
pub use profile::{
    LinkedAccountTexts, PasskeyTexts, ProfileTexts, ReauthTexts, SessionTexts, UserButtonTexts,
};
pub use sign_in::{SecondFactorTexts, SignInTexts};
pub use sign_up::SignUpTexts;
pub use two_step::TwoStepTexts;

use crate::api::ApiError;
use leptos::prelude::*;
use std::borrow::Cow;
use std::fmt;
use torii_shared::ErrorCode;

/// One string of the table.
pub type Text = Cow<'static, str>;

/// The plural categories of the Unicode CLDR; a language's [`PluralRule`] picks one per count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluralCategory {
    /// e.g. English "1 code", French "0 code" and "1 code".
    One,
    /// e.g. Polish 2–4.
    Few,
    /// e.g. Polish 5–21.
    Many,
    /// Everything else.
    Other,
}

/// A language's plural rule: which form a count takes.
pub type PluralRule = fn(u64) -> PluralCategory;

/// English: one for exactly 1.
#[must_use]
pub fn english_plural(n: u64) -> PluralCategory {
    if n == 1 {
        PluralCategory::One
    } else {
        PluralCategory::Other
    }
}

/// French: one for 0 and 1.
#[must_use]
pub fn french_plural(n: u64) -> PluralCategory {
    if n <= 1 {
        PluralCategory::One
    } else {
        PluralCategory::Other
    }
}

/// The forms of a counted phrase; `{n}` is the count. `few` and `many` are for languages
/// that have them (they fall back to `other`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plural {
    /// The singular form (CLDR `one`).
    pub one: Text,
    /// CLDR `few`, where the language has it.
    pub few: Option<Text>,
    /// CLDR `many`, where the language has it.
    pub many: Option<Text>,
    /// Every other count.
    pub other: Text,
}

impl Plural {
    /// A phrase with a singular and a plural form.
    #[must_use]
    pub fn new(one: impl Into<Text>, other: impl Into<Text>) -> Self {
        Self {
            one: one.into(),
            few: None,
            many: None,
            other: other.into(),
        }
    }

    /// The form for `category`.
    #[must_use]
    pub fn form(&self, category: PluralCategory) -> &str {
        match category {
            PluralCategory::One => &self.one,
            PluralCategory::Few => self.few.as_deref().unwrap_or(&self.other),
            PluralCategory::Many => self.many.as_deref().unwrap_or(&self.other),
            PluralCategory::Other => &self.other,
        }
    }
}

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

/// The locale of the nearest provider, as the components read it; see [`use_locale`].
#[derive(Clone, Copy)]
pub struct Texts(Signal<Locale>);

impl fmt::Debug for Texts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Texts")
    }
}

/// Picks one text out of the table.
pub type Pick = fn(&Locale) -> &Text;

impl Texts {
    pub(crate) fn new(locale: Signal<Locale>) -> Self {
        Self(locale)
    }

    /// The current locale, tracked: `texts.with(|l| ...)`.
    pub fn with<R>(self, read: impl FnOnce(&Locale) -> R) -> R {
        self.0.with(read)
    }

    /// The current locale, untracked (inside event handlers and tasks).
    pub fn with_untracked<R>(self, read: impl FnOnce(&Locale) -> R) -> R {
        self.0.with_untracked(read)
    }

    /// A text as a view child or attribute, re-rendered when the locale changes.
    pub fn text(self, pick: Pick) -> impl Fn() -> String + Copy + Send + Sync + 'static {
        move || self.0.with(|l| pick(l).to_string())
    }

    /// A template with its values filled in, re-rendered when the locale changes.
    pub fn fill(
        self,
        pick: Pick,
        values: Vec<(&'static str, String)>,
    ) -> impl Fn() -> String + Clone + Send + Sync + 'static {
        move || {
            self.0.with(|l| {
                let values: Vec<(&str, &str)> =
                    values.iter().map(|(k, v)| (*k, v.as_str())).collect();
                fill(pick(l), &values)
            })
        }
    }

    /// The part of a template before `{name}`, for markup around the value.
    pub fn before(
        self,
        pick: Pick,
        name: &'static str,
    ) -> impl Fn() -> String + Copy + Send + Sync + 'static {
        move || self.0.with(|l| split(pick(l), name).0)
    }

    /// The part of a template after `{name}`.
    pub fn after(
        self,
        pick: Pick,
        name: &'static str,
    ) -> impl Fn() -> String + Copy + Send + Sync + 'static {
        move || self.0.with(|l| split(pick(l), name).1)
    }

    /// One of two texts, as `condition` says: a button's busy and idle labels.
    pub fn either(
        self,
        condition: impl Fn() -> bool + Send + Sync + 'static,
        yes: Pick,
        no: Pick,
    ) -> impl Fn() -> String + Send + Sync + 'static {
        move || {
            let pick = if condition() { yes } else { no };
            self.0.with(|l| pick(l).to_string())
        }
    }

    /// A text now, untracked: for messages set from an event handler or a task.
    pub fn now(self, pick: Pick) -> String {
        self.0.with_untracked(|l| pick(l).to_string())
    }

    /// The language tag, for the cards' `lang` attribute.
    pub fn lang(self) -> impl Fn() -> String + Copy + Send + Sync + 'static {
        move || self.0.with(|l| l.lang.to_string())
    }
}

/// The texts of the nearest [`ToriiProvider`](crate::ToriiProvider) (English without one).
#[must_use]
pub fn use_locale() -> Texts {
    use_context::<Texts>().unwrap_or_else(|| Texts(Signal::stored(Locale::en())))
}

/// A message kept for display: rendered in the current locale whenever it shows, so a
/// language switch changes it too.
#[derive(Clone)]
pub(crate) enum Message {
    /// A fixed text of the table.
    Text(Pick),
    /// A template of the table and its values.
    Fill(Pick, Vec<(&'static str, String)>),
    /// A plural form of the table and its count.
    Count(fn(&Locale) -> &Plural, u64),
    /// A failed request, told by its code.
    Api(ApiError),
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(_) => f.write_str("Message::Text"),
            Self::Fill(_, values) => f.debug_tuple("Message::Fill").field(values).finish(),
            Self::Count(_, n) => f.debug_tuple("Message::Count").field(n).finish(),
            Self::Api(err) => f.debug_tuple("Message::Api").field(err).finish(),
        }
    }
}

impl PartialEq for Message {
    fn eq(&self, other: &Self) -> bool {
        // The table decides what a message says: compare them in English.
        let english = Locale::en();
        self.render(&english) == other.render(&english)
    }
}

impl Message {
    /// The message in `locale`.
    pub(crate) fn render(&self, locale: &Locale) -> String {
        match self {
            Self::Text(pick) => pick(locale).to_string(),
            Self::Fill(pick, values) => {
                let values: Vec<(&str, &str)> =
                    values.iter().map(|(k, v)| (*k, v.as_str())).collect();
                fill(pick(locale), &values)
            }
            Self::Count(pick, n) => locale.count(pick(locale), *n),
            Self::Api(err) => locale.api_error(err),
        }
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
    fn plural_rules_differ_between_english_and_french() {
        let plural = Plural::new("{n} code left", "{n} codes left");
        let en = Locale::en();
        assert_eq!(en.count(&plural, 0), "0 codes left");
        assert_eq!(en.count(&plural, 1), "1 code left");
        assert_eq!(en.count(&plural, 2), "2 codes left");
        let fr = Locale::fr();
        let plural = Plural::new("{n} code restant", "{n} codes restants");
        assert_eq!(fr.count(&plural, 0), "0 code restant");
        assert_eq!(fr.count(&plural, 1), "1 code restant");
        assert_eq!(fr.count(&plural, 7), "7 codes restants");
    }

    #[test]
    fn the_profiles_counts_take_the_languages_plural_forms() {
        let en = Locale::en();
        let fr = Locale::fr();
        assert_eq!(
            en.count(&en.sessions.signed_out_others, 1),
            "Signed out of 1 other session."
        );
        assert_eq!(
            en.count(&en.sessions.signed_out_others, 3),
            "Signed out of 3 other sessions."
        );
        assert_eq!(
            fr.count(&fr.sessions.signed_out_others, 1),
            "1 autre session a été fermée."
        );
        assert_eq!(
            fr.count(&fr.sessions.signed_out_others, 2),
            "2 autres sessions ont été fermées."
        );
        assert_eq!(
            en.count(&en.two_step.backup_codes_left, 10),
            "Backup codes: 10 left"
        );
        assert_eq!(
            fr.count(&fr.two_step.backup_codes_left, 0),
            "Codes de secours : 0 restant"
        );
        assert_eq!(
            fr.count(&fr.two_step.backup_codes_left, 9),
            "Codes de secours : 9 restants"
        );
    }

    #[test]
    fn a_language_with_few_and_many_forms_can_be_added() {
        fn polish(n: u64) -> PluralCategory {
            match (n % 10, n % 100) {
                _ if n == 1 => PluralCategory::One,
                (2..=4, m) if !(12..=14).contains(&m) => PluralCategory::Few,
                _ => PluralCategory::Many,
            }
        }
        let mut plural = Plural::new("{n} kod", "{n} kodu");
        plural.few = Some("{n} kody".into());
        plural.many = Some("{n} kodów".into());
        let locale = Locale::en().with(|l| l.plural_rule = polish);
        assert_eq!(locale.count(&plural, 1), "1 kod");
        assert_eq!(locale.count(&plural, 3), "3 kody");
        assert_eq!(locale.count(&plural, 12), "12 kodów");
        assert_eq!(locale.count(&plural, 25), "25 kodów");
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
