//! `<Show>`: renders its children when a [`Condition`] on the auth state holds, else its
//! `fallback`. The decision is [`decide`], a plain function over a snapshot of the state.

use crate::provider::use_auth;
use leptos::prelude::*;
use std::fmt;
use std::sync::Arc;
use torii_shared::{GateKey, Session, User};

type Check = Arc<dyn Fn(&User, &Session) -> bool + Send + Sync>;

/// What [`Show`] waits for.
///
/// A session pending on a gate is **not** signed in: [`Condition::signed_in`] and
/// [`Condition::check`] hold only for a session with no gate outstanding, so protected UI never
/// renders for a user between password and second factor, or before accepting the Terms.
#[derive(Clone)]
pub enum Condition {
    /// A user on an active session (no gate outstanding).
    SignedIn,
    /// No active session: signed out, or pending on a gate (as `<SignedOut>` counts it).
    SignedOut,
    /// A session pending on at least one gate.
    Pending,
    /// A pending session with this gate among its outstanding gates.
    Gate(GateKey),
    /// A user on an active session for whom the closure says yes.
    Check(Check),
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SignedIn => f.write_str("SignedIn"),
            Self::SignedOut => f.write_str("SignedOut"),
            Self::Pending => f.write_str("Pending"),
            Self::Gate(key) => f.debug_tuple("Gate").field(key).finish(),
            Self::Check(_) => f.write_str("Check(..)"),
        }
    }
}

impl Condition {
    /// A user on an active session.
    #[must_use]
    pub fn signed_in() -> Self {
        Self::SignedIn
    }

    /// No active session (signed out, or pending on a gate).
    #[must_use]
    pub fn signed_out() -> Self {
        Self::SignedOut
    }

    /// A session pending on a gate.
    #[must_use]
    pub fn pending() -> Self {
        Self::Pending
    }

    /// A session pending on `key` (current or later in the order).
    #[must_use]
    pub fn gate(key: GateKey) -> Self {
        Self::Gate(key)
    }

    /// A user on an active session for whom `check(user, session)` is true, e.g. a verified
    /// email. Never called for a pending session.
    #[must_use]
    pub fn check(check: impl Fn(&User, &Session) -> bool + Send + Sync + 'static) -> Self {
        Self::Check(Arc::new(check))
    }
}

impl From<GateKey> for Condition {
    fn from(key: GateKey) -> Self {
        Self::Gate(key)
    }
}

/// The auth state as [`decide`] reads it.
#[derive(Debug, Clone, Copy)]
pub struct AuthSnapshot<'a> {
    /// Whether the first `/me` answer is in.
    pub loaded: bool,
    /// The user, if any.
    pub user: Option<&'a User>,
    /// The session, if any.
    pub session: Option<&'a Session>,
}

/// What [`Show`] renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The state is not known yet: nothing.
    Wait,
    /// The children.
    Show,
    /// The fallback.
    Fallback,
}

/// Whether `condition` holds for `state`. Before the first answer, [`Decision::Wait`]:
/// neither the children nor the fallback, so neither flashes for a user it is not meant for.
#[must_use]
pub fn decide(condition: &Condition, state: AuthSnapshot<'_>) -> Decision {
    if !state.loaded {
        return Decision::Wait;
    }
    let signed_in = match (state.user, state.session) {
        (Some(user), Some(session)) => Some((user, session)),
        _ => None,
    };
    // Active means both: the status says so and no gate is listed.
    let active = signed_in.filter(|(_, s)| s.info.is_active() && s.info.gates.is_empty());
    let pending = signed_in.filter(|_| active.is_none());
    let holds = match condition {
        Condition::SignedIn => active.is_some(),
        Condition::SignedOut => active.is_none(),
        Condition::Pending => pending.is_some(),
        Condition::Gate(key) => pending.is_some_and(|(_, session)| {
            session.info.gates.iter().any(|gate| gate.key == *key)
                || session
                    .info
                    .current_gate
                    .as_ref()
                    .is_some_and(|g| g.key == *key)
        }),
        Condition::Check(check) => active.is_some_and(|(user, session)| check(user, session)),
    };
    if holds {
        Decision::Show
    } else {
        Decision::Fallback
    }
}

/// Renders `children` when `when` holds for the auth state, else `fallback` (default:
/// nothing); before the first `/me` answer, neither (put a spinner in
/// [`AuthLoading`](crate::AuthLoading)). It re-decides whenever the state changes.
///
/// Leptos's prelude has a `Show` of its own: import this one by name,
/// `use torii_client::Show;`, which takes precedence over `use leptos::prelude::*;`.
///
/// ```no_run
/// use leptos::prelude::*;
/// use torii_client::{Condition, GateKey, Show};
///
/// #[component]
/// fn Billing() -> impl IntoView {
///     view! {
///         <Show when=Condition::signed_in() fallback=|| view! { <p>"Please sign in."</p> }>
///             <p>"Your invoices"</p>
///         </Show>
///         <Show when=Condition::gate(GateKey::LegalAcceptance)>
///             <p>"Accept the new Terms to continue."</p>
///         </Show>
///         <Show when=Condition::check(|user, _session| user.email_verified)>
///             <p>"Verified"</p>
///         </Show>
///     }
/// }
/// ```
#[component]
pub fn Show(
    /// The condition on the auth state.
    #[prop(into)]
    when: Condition,
    /// Rendered when the condition does not hold (once the state is known).
    #[prop(optional, into)]
    fallback: ViewFn,
    /// Rendered when the condition holds.
    children: ChildrenFn,
) -> impl IntoView {
    let auth = use_auth();
    let decision = Memo::new(move |_| {
        let loaded = auth.is_loaded.get();
        auth.user.with(|user| {
            auth.session.with(|session| {
                decide(
                    &when,
                    AuthSnapshot {
                        loaded,
                        user: user.as_ref(),
                        session: session.as_ref(),
                    },
                )
            })
        })
    });
    move || match decision.get() {
        Decision::Wait => ().into_any(),
        Decision::Show => children().into_any(),
        Decision::Fallback => fallback.run().into_any(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use torii_shared::{Gate, SessionInfo, SessionKind, SessionStatus};

    fn user(verified: bool) -> User {
        let at = datetime!(2026-01-02 03:04:05 UTC);
        User {
            id: "usr_1".into(),
            email: "ada@example.com".into(),
            name: None,
            email_verified: verified,
            created_at: at,
            updated_at: at,
        }
    }

    fn session(gates: &[GateKey]) -> Session {
        let gates = gates.iter().map(|key| Gate { key: key.clone() }).collect();
        Session {
            id: "ses_1".into(),
            info: SessionInfo::from_gates(gates),
            kind: SessionKind::Database,
            expires_at: datetime!(2026-01-03 03:04:05 UTC),
        }
    }

    fn on(condition: &Condition, user: Option<&User>, session: Option<&Session>) -> Decision {
        decide(
            condition,
            AuthSnapshot {
                loaded: true,
                user,
                session,
            },
        )
    }

    fn every_condition() -> Vec<Condition> {
        vec![
            Condition::signed_in(),
            Condition::signed_out(),
            Condition::pending(),
            Condition::gate(GateKey::LegalAcceptance),
            Condition::check(|_, _| true),
        ]
    }

    #[test]
    fn nothing_is_decided_before_the_first_answer() {
        let (u, s) = (user(true), session(&[]));
        for condition in every_condition() {
            let state = AuthSnapshot {
                loaded: false,
                user: Some(&u),
                session: Some(&s),
            };
            assert_eq!(decide(&condition, state), Decision::Wait, "{condition:?}");
        }
    }

    #[test]
    fn an_active_session_is_signed_in_and_nothing_else() {
        let (u, s) = (user(true), session(&[]));
        let expected = [
            Decision::Show,
            Decision::Fallback,
            Decision::Fallback,
            Decision::Fallback,
            Decision::Show,
        ];
        for (condition, expected) in every_condition().iter().zip(expected) {
            assert_eq!(on(condition, Some(&u), Some(&s)), expected, "{condition:?}");
        }
    }

    #[test]
    fn signed_out_is_signed_out_and_nothing_else() {
        let expected = [
            Decision::Fallback,
            Decision::Show,
            Decision::Fallback,
            Decision::Fallback,
            Decision::Fallback,
        ];
        for (condition, expected) in every_condition().iter().zip(expected) {
            assert_eq!(on(condition, None, None), expected, "{condition:?}");
        }
        // A user without a session (a half state) is not signed in either.
        let u = user(true);
        assert_eq!(
            on(&Condition::signed_in(), Some(&u), None),
            Decision::Fallback
        );
    }

    #[test]
    fn a_pending_session_is_never_signed_in() {
        let u = user(true);
        let s = session(&[GateKey::LegalAcceptance, GateKey::EmailVerification]);
        assert_eq!(
            on(&Condition::signed_in(), Some(&u), Some(&s)),
            Decision::Fallback
        );
        assert_eq!(
            on(&Condition::signed_out(), Some(&u), Some(&s)),
            Decision::Show
        );
        assert_eq!(
            on(&Condition::pending(), Some(&u), Some(&s)),
            Decision::Show
        );
        // The closure is not even asked.
        let asked = Condition::check(|_, _| panic!("asked about a pending session"));
        assert_eq!(on(&asked, Some(&u), Some(&s)), Decision::Fallback);
    }

    #[test]
    fn a_status_that_says_active_while_gates_are_listed_counts_as_pending() {
        let u = user(true);
        let mut s = session(&[GateKey::SecondFactor]);
        s.info.status = SessionStatus::Active;
        assert_eq!(
            on(&Condition::signed_in(), Some(&u), Some(&s)),
            Decision::Fallback
        );
        assert_eq!(
            on(&Condition::pending(), Some(&u), Some(&s)),
            Decision::Show
        );
    }

    #[test]
    fn a_gate_condition_holds_for_any_outstanding_gate_of_that_key() {
        let u = user(true);
        let s = session(&[GateKey::LegalAcceptance, GateKey::Custom("billing".into())]);
        let on_gate = |key: GateKey| on(&key.into(), Some(&u), Some(&s));
        assert_eq!(on_gate(GateKey::LegalAcceptance), Decision::Show);
        assert_eq!(on_gate(GateKey::parse("billing")), Decision::Show);
        assert_eq!(on_gate(GateKey::EmailVerification), Decision::Fallback);
        let active = session(&[]);
        assert_eq!(
            on(
                &Condition::gate(GateKey::LegalAcceptance),
                Some(&u),
                Some(&active)
            ),
            Decision::Fallback
        );
    }

    #[test]
    fn a_check_sees_the_user_and_session() {
        let s = session(&[]);
        let verified =
            Condition::check(|user, session| user.email_verified && session.id == "ses_1");
        assert_eq!(on(&verified, Some(&user(true)), Some(&s)), Decision::Show);
        assert_eq!(
            on(&verified, Some(&user(false)), Some(&s)),
            Decision::Fallback
        );
    }
}
