//! The re-authentication prompt: what a profile form shows when the server answers
//! `reauthentication_required` (the sign-in is older than the environment's window, 10
//! minutes by default), and what it does once the user has proved who they are again.
//!
//! A form keeps a [`Reauth`]. On `reauthentication_required` it calls [`Reauth::ask`] with
//! what to do afterwards (usually: the refused request again) and renders [`Reauth::view`],
//! which is empty until then. The prompt reads `GET /v1/me/sign-in-methods` and offers what
//! this user has:
//! - a password field ("Password", "Confirm") when the account has a password;
//! - "Use a passkey" when it has passkeys, the environment offers them and the browser
//!   supports them (`POST /v1/session/reauthenticate/passkey/options`, the browser's dialog,
//!   then `POST /v1/session/reauthenticate`);
//! - "Continue with …" per linked provider: a round trip to the provider that comes back to
//!   this page, where the form is simply used again (the page says the sign-in is recent
//!   again).
//!
//! *Closed* → `ask` → *Open* (loading the methods, then the choices) → a right answer →
//! *Closed*, and the `then` action runs; "Cancel" → *Closed*, nothing runs. Focus goes into
//! the prompt when it opens, and back to the control that was focused when it closes.

use super::item_list::{load_failed, still_loading};
use super::kit::{BusyButton, LinkButton};
use super::oauth::{self, ProfileTrip};
use super::passkey_ceremony::reauthenticate_with_passkey;
use super::second_factor::{CodeChoice, CodeShape};
use super::{Field, FieldKind, FormAlert, unique_prefix};
use crate::api::ApiError;
use crate::appearance::{Slot, slot, slot_with};
use crate::form::FormState;
use crate::i18n::use_locale;
use crate::provider::use_auth;
use crate::webauthn;
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use std::sync::Arc;
use torii_shared::{
    ErrorCode, OAuthLinkRequest, OAuthProviderInfo, ReauthenticateRequest, SecondFactorRequest,
    Secret, SignInMethod,
};
use wasm_bindgen::JsCast;

type Then = Arc<dyn Fn() + Send + Sync>;

/// A form's re-authentication prompt: closed until [`Reauth::ask`]. Cheap to copy.
#[derive(Clone, Copy)]
pub(crate) struct Reauth {
    open: RwSignal<bool>,
    /// The server asked for a second factor, not only a recent sign-in.
    second_factor: RwSignal<bool>,
    then: StoredValue<Option<Then>>,
    return_focus: StoredValue<Option<SendWrapper<web_sys::HtmlElement>>>,
}

impl std::fmt::Debug for Reauth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reauth").finish_non_exhaustive()
    }
}

/// The focused control; `None` when nothing is (the focus is on the page's body).
fn focused_element() -> Option<web_sys::HtmlElement> {
    let document = crate::browser::window()?.document()?;
    let focused = document.active_element()?;
    if document
        .body()
        .is_some_and(|body| body.is_same_node(Some(focused.as_ref())))
    {
        return None;
    }
    focused.dyn_into::<web_sys::HtmlElement>().ok()
}

impl Reauth {
    pub(crate) fn new() -> Self {
        Self {
            open: RwSignal::new(false),
            second_factor: RwSignal::new(false),
            then: StoredValue::new(None),
            return_focus: StoredValue::new(None),
        }
    }

    /// Remembers the focused control (the one just pressed), for the focus to come back to
    /// when the prompt closes. Call it when an action that may need the prompt starts: by the
    /// time the server answers, the control may be disabled and have lost the focus.
    pub(crate) fn note_focus(self) {
        if !self.open.get_untracked() {
            self.return_focus
                .set_value(focused_element().map(SendWrapper::new));
        }
    }

    /// Sets what the next prompt asks for from the server's refusal: a second factor for
    /// `second_factor_required`, else a recent sign-in. Chain it before [`Reauth::ask`].
    pub(crate) fn after(self, refusal: &ApiError) -> Self {
        self.second_factor
            .set(refusal.code() == Some(ErrorCode::SecondFactorRequired));
        self
    }

    /// Opens the prompt; `then` runs once the user has proved who they are.
    pub(crate) fn ask(self, then: impl Fn() + Send + Sync + 'static) {
        self.then.set_value(Some(Arc::new(then)));
        if self.return_focus.with_value(Option::is_none) {
            self.note_focus();
        }
        self.open.set(true);
    }

    /// Whether the prompt is showing (a tracked read, for views).
    pub(crate) fn is_open(self) -> bool {
        self.open.get()
    }

    /// Whether the prompt is showing, for event handlers.
    pub(crate) fn is_open_untracked(self) -> bool {
        self.open.get_untracked()
    }

    fn close(self) -> Option<Then> {
        self.open.set(false);
        let element = self.return_focus.try_update_value(Option::take).flatten();
        if let Some(element) = element {
            // After the prompt is gone, so the element is in its final place.
            request_animation_frame(move || {
                if element.is_connected() {
                    let _ = element.focus();
                }
            });
        }
        self.then.try_update_value(Option::take).flatten()
    }

    fn succeed(self) {
        if let Some(then) = self.close() {
            then();
        }
    }

    fn cancel(self) {
        self.close();
    }

    /// The prompt while it is open; nothing otherwise.
    pub(crate) fn view(self) -> impl IntoView {
        move || {
            self.open
                .get()
                .then(|| view! { <ReauthPrompt reauth=self /> })
        }
    }
}

/// Which request is under way.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Busy {
    Password,
    Code,
    Passkey,
    Provider(String),
}

#[component]
fn ReauthPrompt(reauth: Reauth) -> impl IntoView {
    let auth = use_auth();
    let t = use_locale();
    let prefix = unique_prefix("reauth");
    let title_id = format!("{prefix}-title");
    let methods = LocalResource::new(move || {
        let api = auth.api();
        async move { api.ok_or(ApiError::Network)?.account_methods().await }
    });
    let password = RwSignal::new(String::new());
    let choice = CodeChoice::new();
    let second_factor = reauth.second_factor.get_untracked();
    let form = FormState::<Busy>::new();
    let errors = form.errors;
    let confirm = move |what: Busy, request: ReauthenticateRequest| {
        let Some(api) = auth.api() else { return };
        let request = async move { api.reauthenticate(&request).await };
        form.run(what, request, move |_| {
            password.set(String::new());
            choice.code.set(String::new());
            reauth.succeed();
        });
    };
    let confirm_password = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let password = Secret::new(password.get_untracked());
        confirm(Busy::Password, ReauthenticateRequest::Password { password });
    };
    let confirm_code = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let SecondFactorRequest { method, code } = choice.request();
        confirm(
            Busy::Code,
            ReauthenticateRequest::SecondFactor { method, code },
        );
    };
    let switch_method = move |_| {
        choice.switch();
        form.clear();
    };
    let use_passkey = Callback::new(move |()| {
        let Some(api) = auth.api() else { return };
        let request = async move { reauthenticate_with_passkey(&api).await };
        form.run(Busy::Passkey, request, move |()| reauth.succeed());
    });
    let use_provider = move |provider: String| {
        let (Some(api), Some(redirect_url)) =
            (auth.api(), oauth::return_url(ProfileTrip::Reauthenticate))
        else {
            return;
        };
        let request = OAuthLinkRequest { redirect_url };
        let id = provider.clone();
        let request = async move { api.reauthenticate_with_provider(&id, &request).await };
        // The page is left; what was asked for is done again on the way back.
        form.run(Busy::Provider(provider), request, |started| {
            oauth::go_to(&started.url);
        });
    };
    // "Use a passkey", taking the focus when it is the only way offered.
    let passkey_button = move |autofocus: bool| {
        let button = NodeRef::<leptos::html::Button>::new();
        Effect::new(move |_| {
            if autofocus && let Some(button) = button.get() {
                let _ = button.focus();
            }
        });
        view! {
            <button
                class=slot_with(Slot::ButtonSecondary, "torii-button-block")
                type="button"
                node_ref=button
                disabled=move || form.is_any_busy()
                aria-busy=move || form.is_busy(Busy::Passkey).then_some("true")
                on:click=move |_| use_passkey.run(())
            >
                {t.either(
                    move || form.is_busy(Busy::Passkey),
                    |l| &l.common.passkey_waiting,
                    |l| &l.second_factor.use_passkey,
                )}
            </button>
        }
    };

    let passkeys_offered = move || {
        auth.environment.with(|env| {
            env.as_ref()
                .is_some_and(|env| env.methods.contains(&SignInMethod::Passkey))
        }) && webauthn::supported()
    };
    let choices = move || {
        let found = match methods.get() {
            None => return still_loading(|l| &l.common.loading).into_any(),
            Some(Err(err)) => return load_failed(err).into_any(),
            Some(Ok(found)) => found,
        };
        let has_passkey = found.passkeys > 0 && passkeys_offered();
        if second_factor {
            let code_id = format!("{prefix}-code");
            let code_form = view! {
                <form class="torii-form torii-reauth-code" novalidate=true on:submit=confirm_code>
                    {move || {
                        let shape = CodeShape::of(choice.method.get());
                        view! {
                            <Field
                                id=code_id.clone()
                                kind=FieldKind::second_factor(shape)
                                value=choice.code
                                errors=errors
                                autofocus=true
                            />
                        }
                    }}
                    <BusyButton
                        form=form
                        what=Busy::Code
                        label=|l| &l.common.confirm
                        busy_label=|l| &l.common.confirming
                    />
                    <button class=slot(Slot::Link) type="button" on:click=switch_method>
                        {move || choice.switch_label(t)}
                    </button>
                </form>
            };
            let passkey_button = has_passkey.then(|| passkey_button(false));
            return view! {
                {code_form}
                {passkey_button}
            }
            .into_any();
        }
        let providers: Vec<OAuthProviderInfo> = oauth::providers(auth)
            .into_iter()
            .filter(|p| found.oauth_providers.contains(&p.id))
            .collect();
        let password_form = found.password.then(|| {
            view! {
                <form class="torii-form torii-reauth-password" novalidate=true on:submit=confirm_password>
                    <Field
                        id=format!("{prefix}-password")
                        kind=FieldKind::CURRENT_PASSWORD
                        value=password
                        errors=errors
                        autofocus=true
                    />
                    <BusyButton
                        form=form
                        what=Busy::Password
                        label=|l| &l.common.confirm
                        busy_label=|l| &l.common.confirming
                    />
                </form>
            }
        });
        let passkey_button = has_passkey.then(|| passkey_button(!found.password));
        let provider_buttons = (!providers.is_empty()).then(|| {
            providers
                .into_iter()
                .map(|provider| {
                    let id = provider.id.clone();
                    let mine = provider.id.clone();
                    view! {
                        <button
                            class=slot(Slot::ProviderButton)
                            type="button"
                            data-provider=provider.id.clone()
                            disabled=move || form.is_any_busy()
                            aria-busy=move || {
                                form.is_busy(Busy::Provider(mine.clone())).then_some("true")
                            }
                            on:click=move |_| use_provider(id.clone())
                        >
                            {t.fill(|l| &l.common.continue_with, vec![("provider", provider.name)])}
                        </button>
                    }
                })
                .collect_view()
        });
        let nothing = (!found.password && !has_passkey && provider_buttons.is_none()).then(|| {
            view! {
                <p class="torii-text">{t.text(|l| &l.reauth.impossible)}</p>
            }
        });
        view! {
            {password_form}
            {passkey_button}
            {provider_buttons}
            {nothing}
        }
        .into_any()
    };

    let labelled_by = title_id.clone();
    view! {
        <div class="torii-reauth" role="group" aria-labelledby=labelled_by lang=t.lang()>
            <p class="torii-subtitle" id=title_id>
                {t.text(|l| &l.reauth.title)}
            </p>
            <p class="torii-text torii-muted">
                {t.either(
                    move || second_factor,
                    |l| &l.reauth.intro_second_factor,
                    |l| &l.reauth.intro,
                )}
            </p>
            <FormAlert errors=errors />
            {choices}
            <LinkButton label=|l| &l.common.cancel on_click=move |()| reauth.cancel() />
        </div>
    }
}
