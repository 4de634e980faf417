//! The browser's WebAuthn API (`navigator.credentials`), for passkeys. The server's options
//! are the JSON that `PublicKeyCredential.parseCreationOptionsFromJSON()` and
//! `parseRequestOptionsFromJSON()` read, and `credential.toJSON()` is what the server
//! verifies, so nothing here touches the binary fields.

use crate::i18n::Message;
use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Why the browser gave no credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PasskeyFailure {
    /// The user cancelled, no passkey for this site was there, or the browser said no.
    NotAllowed,
    /// The authenticator already holds a passkey of this account (registration).
    AlreadyRegistered,
    /// The request was aborted by the page (another one replaced it).
    Aborted,
    /// This browser has no passkey support.
    Unsupported,
    /// The server's options or the browser's answer could not be read.
    Malformed,
    /// Anything else; the browser's message.
    Other(String),
}

impl PasskeyFailure {
    /// What the user is told.
    pub(crate) fn message(&self) -> Message {
        match self {
            Self::NotAllowed => Message::Text(|l| &l.errors.passkey_not_allowed),
            Self::AlreadyRegistered => Message::Text(|l| &l.errors.passkey_already_registered),
            Self::Aborted => Message::Text(|l| &l.errors.passkey_aborted),
            Self::Unsupported => Message::Text(|l| &l.errors.passkey_unsupported),
            Self::Malformed => Message::Text(|l| &l.errors.passkey_malformed),
            Self::Other(reason) => Message::Fill(
                |l| &l.errors.passkey_failed,
                vec![("reason", reason.clone())],
            ),
        }
    }

    fn from_js(error: &JsValue) -> Self {
        let name = Reflect::get(error, &"name".into())
            .ok()
            .and_then(|n| n.as_string())
            .unwrap_or_default();
        match name.as_str() {
            "NotAllowedError" => Self::NotAllowed,
            "InvalidStateError" => Self::AlreadyRegistered,
            "AbortError" => Self::Aborted,
            "NotSupportedError" => Self::Unsupported,
            _ => Self::Other(
                Reflect::get(error, &"message".into())
                    .ok()
                    .and_then(|m| m.as_string())
                    .unwrap_or(name),
            ),
        }
    }
}

fn get(target: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(target, &key.into())
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

fn public_key_credential() -> Option<JsValue> {
    get(&js_sys::global(), "PublicKeyCredential")
}

/// Whether the browser can run passkey ceremonies from JSON options. Never while rendering
/// on the server, where there is no browser to ask.
pub(crate) fn supported() -> bool {
    cfg!(target_arch = "wasm32")
        && public_key_credential()
            .is_some_and(|pkc| get(&pkc, "parseRequestOptionsFromJSON").is_some())
}

/// Whether the browser offers passkeys in the autofill of a field marked
/// `autocomplete="username webauthn"` (conditional mediation).
pub(crate) async fn conditional_mediation_available() -> bool {
    if !supported() {
        return false;
    }
    let Some(pkc) = public_key_credential() else {
        return false;
    };
    let Some(check) =
        get(&pkc, "isConditionalMediationAvailable").and_then(|f| f.dyn_into::<Function>().ok())
    else {
        return false;
    };
    let Ok(promise) = check.call0(&pkc) else {
        return false;
    };
    match promise.dyn_into::<Promise>() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false),
        Err(_) => false,
    }
}

fn call_method(target: &JsValue, name: &str, arg: &JsValue) -> Result<JsValue, PasskeyFailure> {
    let function = get(target, name)
        .and_then(|f| f.dyn_into::<Function>().ok())
        .ok_or(PasskeyFailure::Unsupported)?;
    function
        .call1(target, arg)
        .map_err(|e| PasskeyFailure::from_js(&e))
}

/// A page-side handle to cancel a pending request (`AbortController`).
#[derive(Debug, Clone)]
pub(crate) struct Abort(web_sys::AbortController);

impl Abort {
    /// A new controller, or `None` when the browser has none.
    pub(crate) fn new() -> Option<Self> {
        web_sys::AbortController::new().ok().map(Self)
    }

    /// Cancels the request started with it.
    pub(crate) fn abort(&self) {
        self.0.abort();
    }
}

async fn run(
    method: &str,
    parse: &str,
    public_key: &serde_json::Value,
    conditional: bool,
    abort: Option<&Abort>,
) -> Result<serde_json::Value, PasskeyFailure> {
    let pkc = public_key_credential().ok_or(PasskeyFailure::Unsupported)?;
    let json =
        js_sys::JSON::parse(&public_key.to_string()).map_err(|_| PasskeyFailure::Malformed)?;
    let parsed = call_method(&pkc, parse, &json)?;
    let options = Object::new();
    let set = |key: &str, value: &JsValue| {
        Reflect::set(&options, &key.into(), value).map_err(|_| PasskeyFailure::Malformed)
    };
    set("publicKey", &parsed)?;
    if conditional {
        set("mediation", &"conditional".into())?;
    }
    if let Some(abort) = abort {
        set("signal", abort.0.signal().as_ref())?;
    }
    let navigator = get(&js_sys::global(), "navigator").ok_or(PasskeyFailure::Unsupported)?;
    let credentials = get(&navigator, "credentials").ok_or(PasskeyFailure::Unsupported)?;
    let promise = call_method(&credentials, method, &options)?
        .dyn_into::<Promise>()
        .map_err(|_| PasskeyFailure::Unsupported)?;
    let credential = JsFuture::from(promise)
        .await
        .map_err(|e| PasskeyFailure::from_js(&e))?;
    if credential.is_null() || credential.is_undefined() {
        return Err(PasskeyFailure::NotAllowed);
    }
    let to_json = get(&credential, "toJSON")
        .and_then(|f| f.dyn_into::<Function>().ok())
        .ok_or(PasskeyFailure::Unsupported)?;
    let value = to_json
        .call0(&credential)
        .map_err(|e| PasskeyFailure::from_js(&e))?;
    let text: String = js_sys::JSON::stringify(&value)
        .map_err(|e| PasskeyFailure::from_js(&e))?
        .into();
    serde_json::from_str(&text).map_err(|_| PasskeyFailure::Malformed)
}

/// `navigator.credentials.create()`: a new passkey for the registration options.
pub(crate) async fn create(
    public_key: &serde_json::Value,
) -> Result<serde_json::Value, PasskeyFailure> {
    run(
        "create",
        "parseCreationOptionsFromJSON",
        public_key,
        false,
        None,
    )
    .await
}

/// `navigator.credentials.get()`: an assertion for the sign-in options, in a dialog, or in
/// the email field's autofill when `conditional`.
pub(crate) async fn get_assertion(
    public_key: &serde_json::Value,
    conditional: bool,
    abort: Option<&Abort>,
) -> Result<serde_json::Value, PasskeyFailure> {
    run(
        "get",
        "parseRequestOptionsFromJSON",
        public_key,
        conditional,
        abort,
    )
    .await
}
