//! The cards' shared controls over a [`FormState`]: the button that runs a request (disabled
//! while any request of its form runs, marked busy and relabelled while its own runs) and the
//! email field.

use super::{Field, FieldKind};
use crate::appearance::{Slot, slot, slot_with};
use crate::form::FormState;
use crate::i18n::{Pick, use_locale};
use leptos::prelude::*;

/// How a [`BusyButton`] looks and acts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum ButtonRole {
    /// The step's main button, submitting its form.
    #[default]
    Submit,
    /// The step's main action, not submitting (`type="button"`).
    Primary,
    /// Another way in, full width (`type="button"`).
    #[cfg_attr(
        not(any(feature = "magic-link", feature = "passkeys")),
        allow(dead_code)
    )]
    Secondary,
    /// A smaller secondary action in a row (`type="button"`).
    Inline,
}

/// A button that runs request `what` of `form`: `label`, or `busy_label` while it runs.
#[component]
pub(crate) fn BusyButton<B>(
    form: FormState<B>,
    what: B,
    label: Pick,
    busy_label: Pick,
    #[prop(optional)] role: ButtonRole,
    /// The click (none for a submit button: the form's submit handler runs).
    #[prop(optional)]
    on_click: Option<Callback<()>>,
    /// A further condition for the button to be enabled (a ticked checkbox, a closed
    /// prompt).
    #[prop(optional, into)]
    ready: Option<Signal<bool>>,
    /// The accessible name, where the label alone does not say which item it acts on.
    #[prop(optional, into)]
    aria_label: Option<Signal<String>>,
) -> impl IntoView
where
    B: Clone + PartialEq + Send + Sync + 'static,
{
    let t = use_locale();
    let (primary, secondary, inline) = (
        slot(Slot::ButtonPrimary),
        slot_with(Slot::ButtonSecondary, "torii-button-block"),
        slot(Slot::ButtonSecondary),
    );
    let class = move || match role {
        ButtonRole::Submit | ButtonRole::Primary => primary(),
        ButtonRole::Secondary => secondary(),
        ButtonRole::Inline => inline(),
    };
    let running = move || form.is_busy(what.clone());
    let marked = running.clone();
    let button_type = if role == ButtonRole::Submit {
        "submit"
    } else {
        "button"
    };
    view! {
        <button
            class=class
            type=button_type
            disabled=move || form.is_any_busy() || ready.is_some_and(|ready| !ready.get())
            aria-label=aria_label
            aria-busy=move || marked().then_some("true")
            on:click=move |_| {
                if let Some(on_click) = on_click {
                    on_click.run(());
                }
            }
        >
            {t.either(running, busy_label, label)}
        </button>
    }
}

/// The Email field of a sign-in or sign-up step, bound to `value`, showing the server's
/// `email` field error.
#[component]
pub(crate) fn EmailField<B>(
    id: String,
    form: FormState<B>,
    value: RwSignal<String>,
    node_ref: NodeRef<leptos::html::Input>,
) -> impl IntoView
where
    B: Copy + PartialEq + Send + Sync + 'static,
{
    view! {
        <Field id=id kind=FieldKind::EMAIL value=value errors=form.errors node_ref=node_ref />
    }
}

/// A link-styled button (`type="button"`): "Back", "Forgot password?", "Cancel".
#[component]
pub(crate) fn LinkButton(label: Pick, #[prop(into)] on_click: Callback<()>) -> impl IntoView {
    let t = use_locale();
    view! {
        <button class=slot(Slot::Link) type="button" on:click=move |_| on_click.run(())>
            {t.text(label)}
        </button>
    }
}
