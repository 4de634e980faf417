//! `section!`: one struct of the table, its English and French columns side by side, and
//! what [`Locale`](super::Locale) needs to list and override its keys by name.

use super::Text;

/// A section of the table.
pub(crate) trait Section: Sized {
    /// The English column.
    fn en() -> Self;
    /// The French column.
    fn fr() -> Self;
    /// Every text by its name in the section (`title`, `codes_left.one`), in order.
    fn entries(&self) -> Vec<(String, &str)>;
    /// The text called `key`, to replace it.
    fn slot(&mut self, key: &str) -> Option<&mut Text>;
}

/// Declares a section: `key: "English" => "French",` for texts, then
/// `key: ["one", "other"] => ["un", "autres"],` for plural forms (`{n}` is the count).
macro_rules! section {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $key:ident : $en:literal => $fr:literal, )*
        }
        plurals {
            $( $pkey:ident : [$en_one:literal, $en_other:literal] => [$fr_one:literal, $fr_other:literal], )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            $(
                #[doc = concat!("English: “", $en, "”")]
                pub $key: $crate::i18n::Text,
            )*
            $(
                #[doc = concat!("English: “", $en_one, "” / “", $en_other, "”")]
                pub $pkey: $crate::i18n::Plural,
            )*
        }

        impl $crate::i18n::macros::Section for $name {
            fn en() -> Self {
                Self {
                    $( $key: ::std::borrow::Cow::Borrowed($en), )*
                    $( $pkey: $crate::i18n::Plural::new($en_one, $en_other), )*
                }
            }

            fn fr() -> Self {
                Self {
                    $( $key: ::std::borrow::Cow::Borrowed($fr), )*
                    $( $pkey: $crate::i18n::Plural::new($fr_one, $fr_other), )*
                }
            }

            fn entries(&self) -> Vec<(String, &str)> {
                #[allow(unused_mut)]
                let mut entries: Vec<(String, &str)> = vec![
                    $( (stringify!($key).to_owned(), self.$key.as_ref()), )*
                ];
                $(
                    entries.push((concat!(stringify!($pkey), ".one").to_owned(), self.$pkey.one.as_ref()));
                    if let Some(few) = &self.$pkey.few {
                        entries.push((concat!(stringify!($pkey), ".few").to_owned(), few.as_ref()));
                    }
                    if let Some(many) = &self.$pkey.many {
                        entries.push((concat!(stringify!($pkey), ".many").to_owned(), many.as_ref()));
                    }
                    entries.push((concat!(stringify!($pkey), ".other").to_owned(), self.$pkey.other.as_ref()));
                )*
                entries
            }

            fn slot(&mut self, key: &str) -> Option<&mut $crate::i18n::Text> {
                match key {
                    $( stringify!($key) => Some(&mut self.$key), )*
                    $(
                        concat!(stringify!($pkey), ".one") => Some(&mut self.$pkey.one),
                        concat!(stringify!($pkey), ".few") => {
                            Some(self.$pkey.few.get_or_insert_with(Default::default))
                        }
                        concat!(stringify!($pkey), ".many") => {
                            Some(self.$pkey.many.get_or_insert_with(Default::default))
                        }
                        concat!(stringify!($pkey), ".other") => Some(&mut self.$pkey.other),
                    )*
                    _ => None,
                }
            }
        }
    };
}

pub(crate) use section;
