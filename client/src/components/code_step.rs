//! `<CodeStep>`: every emailed 6-digit code entry of the cards (a sign-up's code, the email
//! verification gate, a password reset) is this one step: where the code went, the alert and
//! notice lines, the code field (focused as the step appears), the submit button, "Resend
//! code" when the flow can, and the step's own extra fields and links.

use super::kit::{BusyButton, ButtonRole};
use super::{Field, FieldKind, FormAlert, FormNotice};
use crate::form::FormState;
use crate::i18n::{Pick, use_locale};
use leptos::prelude::*;

/// One code entry over a flow's form state `form`, whose requests are of kind `B`.
#[component]
pub(crate) fn CodeStep<B>(
    /// The field's element id.
    id: String,
    /// The form state the step shows and runs under.
    form: FormState<B>,
    /// The code field's value.
    code: RwSignal<String>,
    /// The line above the field, a template with `{email}`.
    sent_to: Pick,
    /// The address the code went to.
    #[prop(into)]
    email: Signal<String>,
    /// The request the submit button starts (its busy label shows while it runs).
    verifying: B,
    /// Submits the code.
    on_submit: Callback<()>,
    /// The request "Resend code" starts, and the action; none: no such button.
    #[prop(optional)]
    resend: Option<(B, Callback<()>)>,
    /// The field's label; default "Verification code".
    #[prop(optional)]
    label: Option<Pick>,
    /// The submit button's label and its label while busy; default "Verify"/"Verifying…".
    #[prop(optional)]
    submit: Option<(Pick, Pick)>,
    /// Text under the address line.
    #[prop(optional)]
    intro: Option<Pick>,
    /// Fields after the code (a new password).
    #[prop(optional)]
    fields: Option<Children>,
    /// Links after the buttons ("Use a different email").
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView
where
    B: Copy + PartialEq + Send + Sync + 'static,
{
    let t = use_locale();
    let code_ref = NodeRef::<leptos::html::Input>::new();
    // The step replaced what had the focus (a field or a button): the code field takes it.
    Effect::new(move |_| {
        if let Some(input) = code_ref.get() {
            let _ = input.focus();
        }
    });
    let (submit_label, busy_label) =
        submit.unwrap_or((|l| &l.common.verify, |l| &l.common.verifying));
    let resend_button = resend.map(|(resending, on_resend)| {
        view! {
            <BusyButton
                form=form
                what=resending
                label=|l| &l.common.resend_code
                busy_label=|l| &l.common.sending
                role=ButtonRole::Inline
                on_click=on_resend
            />
        }
    });
    let on_submit_form = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        on_submit.run(());
    };
    view! {
        <form class="torii-form" novalidate=true on:submit=on_submit_form>
            <p class="torii-text">
                {t.before(sent_to, "email")} <strong>{email}</strong> {t.after(sent_to, "email")}
            </p>
            {intro.map(|intro| view! { <p class="torii-text torii-muted">{t.text(intro)}</p> })}
            <FormAlert errors=form.errors />
            <FormNotice notice=form.notice />
            <Field
                id=id
                kind=label.map_or(FieldKind::CODE, |label| FieldKind::CODE.labelled(label))
                value=code
                errors=form.errors
                node_ref=code_ref
            />
            {fields.map(|fields| fields())}
            <BusyButton form=form what=verifying label=submit_label busy_label=busy_label />
            <div class="torii-row">{resend_button} {children.map(|children| children())}</div>
        </form>
    }
}
