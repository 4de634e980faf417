//! A sign-in or sign-up under way, and what happens when it completes.
//!
//! A card marks the start of a sign-in ([`begin`]) when the server has answered it (password,
//! passkey) or just before the browser leaves for it (a provider, an emailed link). The mark
//! is kept in memory, with the card's `after_sign_in_url`/`after_sign_up_url` and
//! `on_signed_in`, and in `localStorage` (`torii:sign-in:<publishable key>`, without the
//! callback) for the flows that come back on a new page load: a provider's redirect, a link
//! opened in another tab. It is the only thing that tells "this browser just signed in" from
//! "this page loaded with a session it already had".
//!
//! The sign-in *completes* when the state the provider applies turns from not active (none,
//! signed out, or pending on a gate) to active while a mark is there: so a sign-in that stops
//! at a gate completes only once the last gate is cleared. Then, in order: the method is
//! remembered for the "Last used" badge, the card's `on_signed_in` runs with the user, and
//! the browser goes to the card's destination, else the provider's (`after_sign_up_url`, then
//! `after_sign_in_url` for a sign-up), when it passes
//! [`safe_destination`](crate::destinations::safe_destination). A state that turns signed out
//! (signed out, or a pending user who gives up) drops the mark; a stored mark older than
//! [`MARK_TTL_MS`] is ignored.

use crate::destinations::{Destinations, pick};
use crate::last_method::{self, Method};
use crate::provider::Auth;
use leptos::prelude::*;
use torii_shared::{Me, User};

/// How long a stored mark counts: an emailed link lives 10 minutes.
const MARK_TTL_MS: f64 = 15.0 * 60.0 * 1000.0;

/// Which card started the flow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Kind {
    #[default]
    SignIn,
    SignUp,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::SignIn => "sign_in",
            Self::SignUp => "sign_up",
        }
    }
}

/// What a mounted card wants done when its flow completes.
#[derive(Debug, Clone, Copy, Default)]
struct CardHooks {
    after: MaybeProp<String>,
    on_signed_in: Option<Callback<User>>,
}

/// A flow under way.
#[derive(Debug, Clone)]
struct Mark {
    kind: Kind,
    method: Option<Method>,
    after: Option<String>,
    on_signed_in: Option<Callback<User>>,
}

/// The provider's part: its destinations, the cards' hooks, the flow under way.
#[derive(Debug, Default)]
pub(crate) struct Flow {
    destinations: Destinations,
    sign_in_card: CardHooks,
    sign_up_card: CardHooks,
    mark: Option<Mark>,
}

impl Flow {
    pub(crate) fn new(destinations: Destinations) -> Self {
        Self {
            destinations,
            ..Self::default()
        }
    }
}

/// A completed sign-in, to [`finish`] once its state is applied.
#[derive(Debug)]
pub(crate) struct Completed {
    user: User,
    mark: Mark,
}

/// The provider's routes and destinations.
pub(crate) fn destinations(auth: Auth) -> Destinations {
    auth.flow
        .try_with_value(|flow| flow.destinations)
        .unwrap_or_default()
}

/// A card of `kind` is mounted with these hooks (the latest mounted card of a kind wins).
pub(crate) fn register_card(
    auth: Auth,
    kind: Kind,
    after: MaybeProp<String>,
    on_signed_in: Option<Callback<User>>,
) {
    let hooks = CardHooks {
        after,
        on_signed_in,
    };
    auth.flow.try_update_value(|flow| match kind {
        Kind::SignIn => flow.sign_in_card = hooks,
        Kind::SignUp => flow.sign_up_card = hooks,
    });
}

/// A card of `kind` starts (or has just had answered) a sign-in with `method`.
pub(crate) fn begin(auth: Auth, kind: Kind, method: Option<Method>) {
    let Some(hooks) = auth.flow.try_with_value(|flow| match kind {
        Kind::SignIn => flow.sign_in_card,
        Kind::SignUp => flow.sign_up_card,
    }) else {
        return;
    };
    let mark = Mark {
        kind,
        method,
        after: hooks.after.try_get_untracked().flatten(),
        on_signed_in: hooks.on_signed_in,
    };
    store(auth, &mark);
    auth.flow.try_update_value(|flow| flow.mark = Some(mark));
}

fn is_active(me: &Me) -> bool {
    me.user.is_some() && me.session.as_ref().is_some_and(|s| s.info.is_active())
}

/// Called with each state before it is applied: a completed sign-in, if `new` is one.
pub(crate) fn observe(auth: Auth, old: Option<&Me>, new: &Me) -> Option<Completed> {
    if new.user.is_none() {
        if old.is_some_and(|old| old.user.is_some()) {
            forget(auth);
        }
        return None;
    }
    if old.is_some_and(is_active) || !is_active(new) {
        return None;
    }
    let in_memory = auth
        .flow
        .try_update_value(|flow| flow.mark.take())
        .flatten();
    let stored = take_stored(auth);
    let mark = in_memory.or(stored)?;
    Some(Completed {
        user: new.user.clone()?,
        mark,
    })
}

/// Acts on a completed sign-in (see the module documentation), once its state is applied.
pub(crate) fn finish(auth: Auth, done: Completed) {
    let Completed { user, mark } = done;
    if let Some(method) = &mark.method {
        last_method::remember(auth, method);
    }
    if let Some(on_signed_in) = mark.on_signed_in {
        let _ = on_signed_in.try_run(user);
    }
    let d = destinations(auth);
    let read = |url: MaybeProp<String>| url.try_get_untracked().flatten();
    let after_sign_up = match mark.kind {
        Kind::SignUp => read(d.after_sign_up_url),
        Kind::SignIn => None,
    };
    let Some(url) = pick(&[mark.after, after_sign_up, read(d.after_sign_in_url)]) else {
        return;
    };
    if crate::components::is_current_location(&url) {
        return;
    }
    // Not while the state is being applied (which may be during hydration): on the next
    // frame, with the new state on the page.
    if crate::browser::window().is_some() {
        request_animation_frame(move || auth.navigate_to(&url));
    }
}

fn storage_key(auth: Auth) -> Option<String> {
    let key = auth.api()?.publishable_key().to_owned();
    Some(format!("torii:sign-in:{key}"))
}

fn now_ms() -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0.0
    }
}

fn store(auth: Auth, mark: &Mark) {
    let (Some(storage), Some(key)) = (crate::browser::local_storage(), storage_key(auth)) else {
        return;
    };
    let value = serde_json::json!({
        "kind": mark.kind.as_str(),
        "method": mark.method.as_ref().map(Method::as_stored),
        "after": mark.after,
        "at": now_ms(),
    });
    let _ = storage.set_item(&key, &value.to_string());
}

/// The stored mark, removed; `None` when there is none or it is too old.
fn take_stored(auth: Auth) -> Option<Mark> {
    let storage = crate::browser::local_storage()?;
    let key = storage_key(auth)?;
    let value = storage.get_item(&key).ok()??;
    let _ = storage.remove_item(&key);
    parse_mark(&value, now_ms())
}

fn parse_mark(value: &str, now: f64) -> Option<Mark> {
    let value: serde_json::Value = serde_json::from_str(value).ok()?;
    let at = value.get("at")?.as_f64()?;
    if !(0.0..=MARK_TTL_MS).contains(&(now - at)) {
        return None;
    }
    let text = |name: &str| value.get(name).and_then(|v| v.as_str()).map(str::to_owned);
    let kind = match text("kind").as_deref() {
        Some("sign_up") => Kind::SignUp,
        _ => Kind::SignIn,
    };
    Some(Mark {
        kind,
        method: text("method").as_deref().and_then(Method::from_stored),
        after: text("after"),
        on_signed_in: None,
    })
}

/// Drops the flow under way, here and in storage.
fn forget(auth: Auth) {
    auth.flow.try_update_value(|flow| flow.mark = None);
    if let (Some(storage), Some(key)) = (crate::browser::local_storage(), storage_key(auth)) {
        let _ = storage.remove_item(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use torii_shared::{Gate, GateKey, Session, SessionInfo, SessionKind};

    fn me(gates: Vec<GateKey>) -> Me {
        let at = datetime!(2026-01-02 03:04:05 UTC);
        Me {
            user: Some(User {
                id: "usr_1".into(),
                email: "ada@example.com".into(),
                name: None,
                email_verified: true,
                created_at: at,
                updated_at: at,
            }),
            session: Some(Session {
                id: "ses_1".into(),
                info: SessionInfo::from_gates(gates.into_iter().map(|key| Gate { key }).collect()),
                kind: SessionKind::Database,
                expires_at: at,
            }),
            token: None,
        }
    }

    fn with_auth<R>(test: impl FnOnce(Auth) -> R) -> R {
        Owner::new().with(|| test(Auth::detached()))
    }

    #[test]
    fn a_sign_in_completes_only_when_the_session_turns_active() {
        with_auth(|auth| {
            let signed_out = Me::signed_out();
            let pending = me(vec![GateKey::LegalAcceptance]);
            let active = me(vec![]);
            // A session the page already had is no sign-in.
            assert!(observe(auth, None, &active).is_none());
            begin(auth, Kind::SignIn, Some(Method::Password));
            // Stopped at a gate: not yet.
            assert!(observe(auth, Some(&signed_out), &pending).is_none());
            let done = observe(auth, Some(&pending), &active).expect("completed");
            assert_eq!(done.mark.method, Some(Method::Password));
            assert_eq!(done.user.id, "usr_1");
            // Once only.
            assert!(observe(auth, Some(&pending), &active).is_none());
        });
    }

    #[test]
    fn a_pending_user_who_signs_out_drops_the_flow() {
        with_auth(|auth| {
            let pending = me(vec![GateKey::EmailVerification]);
            begin(auth, Kind::SignUp, None);
            assert!(observe(auth, Some(&pending), &Me::signed_out()).is_none());
            assert!(observe(auth, Some(&Me::signed_out()), &me(vec![])).is_none());
        });
    }

    #[test]
    fn the_cards_destination_is_taken_when_the_flow_begins() {
        with_auth(|auth| {
            let after = RwSignal::new(Some("/welcome".to_owned()));
            register_card(auth, Kind::SignUp, after.into(), None);
            begin(auth, Kind::SignUp, None);
            after.set(Some("/later".to_owned()));
            let done = observe(auth, None, &me(vec![])).expect("completed");
            assert_eq!(done.mark.kind, Kind::SignUp);
            assert_eq!(done.mark.after.as_deref(), Some("/welcome"));
        });
    }

    #[test]
    fn a_stored_mark_counts_only_while_fresh() {
        let stored = r#"{"kind":"sign_up","method":"oauth:google","after":"/x","at":1000}"#;
        let mark = parse_mark(stored, 2000.0).expect("fresh");
        assert_eq!(mark.kind, Kind::SignUp);
        assert_eq!(mark.method, Some(Method::OAuth("google".into())));
        assert_eq!(mark.after.as_deref(), Some("/x"));
        assert!(parse_mark(stored, 1000.0 + MARK_TTL_MS + 1.0).is_none());
        assert!(parse_mark("not json", 0.0).is_none());
    }
}
