//! Counted phrases: a language's plural rule picks one of the CLDR categories for a count, and
//! a [`Plural`] holds a phrase's form for each.

use super::Text;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Locale;

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
}
