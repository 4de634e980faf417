//! The cards' fields: [`FieldKind`] says what a field holds (input type, autocomplete token,
//! keyboard, length, the server's name for it, its label and hint), and [`Field`] draws it with
//! its label, hint and error line, tied together for assistive technology.

#[cfg(feature = "mfa")]
use super::second_factor;
use crate::appearance::{Slot, slot};
use crate::form::{FormErrors, field_error};
use crate::i18n::{Pick, use_locale};
use leptos::prelude::*;

/// The `aria-describedby` value: the hint, then the error when there is one.
fn described_by(hint_id: Option<&str>, error_id: Option<&str>) -> Option<String> {
    match (hint_id, error_id) {
        (None, None) => None,
        (Some(id), None) | (None, Some(id)) => Some(id.to_owned()),
        (Some(hint), Some(error)) => Some(format!("{hint} {error}")),
    }
}

/// What a field holds: its input type, autocomplete token, keyboard and length, the name the
/// server gives its errors under, its usual label and its hint. One place for each, so the
/// same field reads the same on every card.
#[derive(Clone, Copy)]
pub(crate) struct FieldKind {
    name: &'static str,
    label: Pick,
    input_type: &'static str,
    autocomplete: &'static str,
    inputmode: Option<&'static str>,
    maxlength: Option<&'static str>,
    hint: Option<Pick>,
}

impl FieldKind {
    const TEXT: Self = Self {
        name: "",
        label: |l| &l.common.email,
        input_type: "text",
        autocomplete: "off",
        inputmode: None,
        maxlength: None,
        hint: None,
    };
    /// The address an account signs in with.
    pub(crate) const EMAIL: Self = Self {
        name: "email",
        input_type: "email",
        autocomplete: "username",
        ..Self::TEXT
    };
    /// A new address for the account.
    #[cfg(feature = "profile")]
    pub(crate) const NEW_EMAIL: Self = Self {
        label: |l| &l.profile.new_email,
        autocomplete: "email",
        ..Self::EMAIL
    };
    /// The display name.
    pub(crate) const NAME: Self = Self {
        name: "name",
        label: |l| &l.sign_up.name,
        autocomplete: "name",
        maxlength: Some("100"),
        ..Self::TEXT
    };
    /// The password the account has.
    pub(crate) const CURRENT_PASSWORD: Self = Self {
        name: "password",
        label: |l| &l.common.password,
        input_type: "password",
        autocomplete: "current-password",
        ..Self::TEXT
    };
    /// A password being chosen, with the rules as its hint.
    pub(crate) const NEW_PASSWORD: Self = Self {
        autocomplete: "new-password",
        hint: Some(|l| &l.common.password_hint),
        ..Self::CURRENT_PASSWORD
    };
    /// A 6-digit code (emailed, or from an authenticator app).
    pub(crate) const CODE: Self = Self {
        name: "code",
        label: |l| &l.common.code_label,
        autocomplete: "one-time-code",
        inputmode: Some("numeric"),
        maxlength: Some("6"),
        ..Self::TEXT
    };

    /// The same field under another label.
    pub(crate) const fn labelled(self, label: Pick) -> Self {
        Self { label, ..self }
    }

    /// The same field under another name (the server's for it).
    #[cfg(feature = "profile")]
    pub(crate) const fn named(self, name: &'static str) -> Self {
        Self { name, ..self }
    }

    /// A second factor's code field: an authenticator's code or a backup code.
    #[cfg(feature = "mfa")]
    pub(crate) fn second_factor(shape: second_factor::CodeShape) -> Self {
        Self {
            label: shape.label,
            inputmode: Some(shape.inputmode),
            maxlength: Some(shape.maxlength),
            hint: Some(shape.hint),
            ..Self::CODE
        }
    }
}

/// A labelled input of `kind` bound to `value`, required unless `optional`. The error of its
/// name in `errors`, when set, appears under it and is tied to it with `aria-invalid` and
/// `aria-describedby`. With `autofocus`, it takes the focus when it appears (it replaced
/// what had it).
#[component]
pub(crate) fn Field(
    id: String,
    kind: FieldKind,
    value: RwSignal<String>,
    errors: RwSignal<FormErrors>,
    #[prop(optional)] optional: bool,
    #[prop(optional)] autofocus: bool,
    #[prop(optional)] node_ref: Option<NodeRef<leptos::html::Input>>,
) -> impl IntoView {
    let t = use_locale();
    let node_ref = node_ref.unwrap_or_default();
    if autofocus {
        Effect::new(move |_| {
            if let Some(input) = node_ref.get() {
                let _ = input.focus();
            }
        });
    }
    let error = field_error(errors, kind.name);
    let hint_id = kind.hint.map(|_| format!("{id}-hint"));
    let error_id = format!("{id}-error");
    let describedby = {
        let hint_id = hint_id.clone();
        let error_id = error_id.clone();
        move || {
            let has_error = error.with(Option::is_some);
            described_by(hint_id.as_deref(), has_error.then_some(error_id.as_str()))
        }
    };
    view! {
        <div class="torii-field">
            <label class=slot(Slot::Label) for=id.clone()>
                {t.text(kind.label)}
            </label>
            <input
                class=slot(Slot::Input)
                id=id
                name=kind.name
                type=kind.input_type
                autocomplete=kind.autocomplete
                inputmode=kind.inputmode
                maxlength=kind.maxlength
                required=!optional
                aria-invalid=move || error.with(Option::is_some).then_some("true")
                aria-describedby=describedby
                node_ref=node_ref
                bind:value=value
            />
            {kind.hint.map(|hint| view! { <p class=slot(Slot::Hint) id=hint_id>{t.text(hint)}</p> })}
            <FieldErrorLine id=error_id error=error />
        </div>
    }
}

/// A field's error line, under it, with the id its `aria-describedby` names.
#[component]
pub(super) fn FieldErrorLine(id: String, error: Signal<Option<String>>) -> impl IntoView {
    move || {
        error
            .get()
            .map(|message| view! { <p class=slot(Slot::FieldError) id=id.clone()>{message}</p> })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn described_by_lists_hint_then_error() {
        assert_eq!(described_by(None, None), None);
        assert_eq!(described_by(Some("h"), None).as_deref(), Some("h"));
        assert_eq!(described_by(None, Some("e")).as_deref(), Some("e"));
        assert_eq!(described_by(Some("h"), Some("e")).as_deref(), Some("h e"));
    }
}
