//! How the components read the table: [`Texts`] (the provider's locale as a signal, with
//! helpers that re-render a text when the language changes) and [`Message`] (a message kept
//! for display, rendered in whatever language is shown).

use super::{Locale, Plural, Text, fill, split};
use crate::api::ApiError;
use leptos::prelude::*;
use std::fmt;

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
