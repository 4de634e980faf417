//! The server half's tests: sessions resolved from requests, the extractor and the states.

use super::verifiers::interpret_verify_answer;
use super::*;
use crate::{AuthLoading, GateKey, RedirectToGates, SignIn, SignedIn, SignedOut};
use torii_shared::{Gate, SessionInfo, SessionKind, SessionStatus};

fn user() -> User {
    User {
        id: "usr_1".into(),
        email: "ada@example.com".into(),
        name: None,
        email_verified: true,
        created_at: time::macros::datetime!(2026-01-01 0:00 UTC),
        updated_at: time::macros::datetime!(2026-01-01 0:00 UTC),
    }
}

fn session(gates: &[GateKey]) -> Session {
    let gates: Vec<Gate> = gates.iter().map(|key| Gate { key: key.clone() }).collect();
    Session {
        id: "ses_1".into(),
        info: SessionInfo {
            status: if gates.is_empty() {
                SessionStatus::Active
            } else {
                SessionStatus::Pending
            },
            current_gate: gates.first().cloned(),
            gates,
        },
        kind: SessionKind::Database,
        expires_at: time::macros::datetime!(2026-02-01 0:00 UTC),
    }
}

/// Renders a page as the server does, for a request whose session the integration
/// resolved to `state` (or did not resolve, `None`).
fn render(state: Option<SessionState>) -> String {
    Owner::new().with(|| {
        let (mut parts, ()) = axum::http::Request::new(()).into_parts();
        if let Some(state) = state {
            parts.extensions.insert(state);
        }
        provide_context(parts);
        view! {
            <crate::ToriiProvider
                publishable_key="pk_test_1"
                gate_urls=[(GateKey::LegalAcceptance, "/legal")]
            >
                <AuthLoading>
                    <p>"Loading the session"</p>
                </AuthLoading>
                <SignedIn>
                    <p>"Welcome " {move || crate::use_auth().user.get().map(|u| u.email)}</p>
                </SignedIn>
                <SignedOut>
                    <RedirectToGates />
                    <SignIn />
                </SignedOut>
            </crate::ToriiProvider>
        }
        .to_html()
    })
}

#[test]
fn a_signed_in_request_renders_the_signed_in_content_on_the_server() {
    let html = render(Some(SessionState::Active {
        user: user(),
        session: session(&[]),
    }));
    assert!(html.contains("<p>Welcome <!>ada@example.com</p>"), "{html}");
    assert!(!html.contains("Loading the session"), "{html}");
    assert!(!html.contains("torii-sign-in-1"), "{html}");
}

#[test]
fn a_signed_out_or_pending_request_renders_the_sign_in_path_with_stable_ids() {
    let signed_out = render(Some(SessionState::SignedOut));
    assert!(signed_out.contains("torii-sign-in-1-title"), "{signed_out}");
    assert!(!signed_out.contains("Welcome"), "{signed_out}");
    assert!(!signed_out.contains("Loading the session"), "{signed_out}");
    // A second request renders the same ids: nothing counts across requests.
    assert_eq!(render(Some(SessionState::SignedOut)), signed_out);

    // Pending on a gate with its own route: the card steps aside for the gate's screen.
    let pending = render(Some(SessionState::Pending {
        user: user(),
        session: session(&[GateKey::LegalAcceptance]),
    }));
    assert!(!pending.contains("Welcome"), "{pending}");
    assert!(!pending.contains("torii-sign-in-1-title"), "{pending}");

    // Pending on the second factor: the card's place holds the second step.
    let second = render(Some(SessionState::Pending {
        user: user(),
        session: session(&[GateKey::SecondFactor]),
    }));
    assert!(!second.contains("Welcome"), "{second}");
    assert!(!second.contains("torii-sign-in-1-title"), "{second}");
    assert!(second.contains("Two-step verification"), "{second}");
    assert!(
        second.contains(r#"autocomplete="one-time-code""#),
        "{second}"
    );
}

#[test]
fn without_the_integration_the_server_renders_the_loading_state() {
    let html = render(None);
    assert!(html.contains("Loading the session"), "{html}");
    assert!(!html.contains("Welcome"), "{html}");
}

#[test]
fn states_round_trip_through_the_me_payload() {
    for state in [
        SessionState::SignedOut,
        SessionState::Pending {
            user: user(),
            session: session(&[GateKey::EmailVerification]),
        },
        SessionState::Active {
            user: user(),
            session: session(&[]),
        },
    ] {
        assert_eq!(SessionState::from_me(state.to_me()), state);
    }
    let active = SessionState::Active {
        user: user(),
        session: session(&[]),
    };
    assert_eq!(active.active_user().map(|u| u.id.as_str()), Some("usr_1"));
    assert_eq!(
        SessionState::Pending {
            user: user(),
            session: session(&[GateKey::LegalAcceptance])
        }
        .active_user(),
        None
    );
}

/// Knows one token, `good` (active) and `gated` (pending); `broken` fails.
struct FakeVerifier;

impl SessionVerifier for FakeVerifier {
    fn verify<'a>(&'a self, token: &'a str) -> VerifyFuture<'a> {
        Box::pin(async move {
            match token {
                "good" => Ok(SessionState::Active {
                    user: user(),
                    session: session(&[]),
                }),
                "gated" => Ok(SessionState::Pending {
                    user: user(),
                    session: session(&[GateKey::LegalAcceptance]),
                }),
                "broken" => Err(VerifyError::Unreachable),
                _ => Ok(SessionState::SignedOut),
            }
        })
    }
}

async fn who(CurrentSession(state): CurrentSession) -> String {
    match state {
        SessionState::Active { user, .. } => format!("active {}", user.email),
        SessionState::Pending { session, .. } => {
            format!("pending {:?}", session.info.current_gate.map(|g| g.key))
        }
        SessionState::SignedOut => "signed out".to_owned(),
    }
}

async fn call(app: axum::Router, headers: &[(&str, &str)]) -> (u16, String) {
    use tower::ServiceExt as _;
    let mut request = axum::http::Request::builder().uri("/who");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app
        .oneshot(request.body(axum::body::Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

fn app() -> axum::Router {
    axum::Router::new()
        .route("/who", axum::routing::get(who))
        .layer(axum::middleware::from_fn_with_state(
            Sessions::new(FakeVerifier),
            resolve_session,
        ))
}

#[tokio::test]
async fn handlers_get_the_session_from_the_cookie_or_the_bearer_header() {
    assert_eq!(
        call(app(), &[("cookie", "theme=dark; torii_session=good")]).await,
        (200, "active ada@example.com".to_owned())
    );
    assert_eq!(
        call(app(), &[("cookie", "__Host-torii_session=gated")]).await,
        (200, "pending Some(LegalAcceptance)".to_owned())
    );
    assert_eq!(
        call(app(), &[("authorization", "Bearer good")]).await,
        (200, "active ada@example.com".to_owned())
    );
    assert_eq!(
        call(app(), &[("cookie", "torii_session=revoked")]).await,
        (200, "signed out".to_owned())
    );
    assert_eq!(call(app(), &[]).await, (200, "signed out".to_owned()));
    // Another cookie of the same value is not a session.
    assert_eq!(
        call(app(), &[("cookie", "other_session=good")]).await,
        (200, "signed out".to_owned())
    );
}

#[tokio::test]
async fn a_failed_verification_is_a_503_not_a_signed_out_user_and_a_missing_layer_a_500() {
    let (status, body) = call(app(), &[("cookie", "torii_session=broken")]).await;
    assert_eq!(status, 503);
    assert!(body.contains("store_unavailable"), "{body}");
    let bare = axum::Router::new().route("/who", axum::routing::get(who));
    let (status, body) = call(bare, &[("cookie", "torii_session=good")]).await;
    assert_eq!(status, 500);
    assert!(!body.contains("resolve_session"), "{body}");
}

#[test]
fn server_functions_read_the_session_from_the_request_parts() {
    let owner = Owner::new();
    owner.with(|| {
        let (mut parts, ()) = axum::http::Request::new(()).into_parts();
        parts
            .extensions
            .insert(Unresolved(VerifyError::Unreachable));
        provide_context(parts);
    });
    let answer = owner.with(|| futures_lite_block_on(current_session()));
    assert_eq!(
        answer,
        Err(SessionError::Unavailable(VerifyError::Unreachable))
    );
    assert_eq!(
        Owner::new().with(|| futures_lite_block_on(current_session())),
        Err(SessionError::NotResolved)
    );
}

/// `current_session` never waits on anything; poll it once.
fn futures_lite_block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(output) => output,
        std::task::Poll::Pending => panic!("current_session waited"),
    }
}

#[test]
fn the_admin_verify_answer_reads_as_a_state_or_an_error() {
    let me = serde_json::to_vec(
        &SessionState::Active {
            user: user(),
            session: session(&[]),
        }
        .to_me(),
    )
    .unwrap();
    assert!(matches!(
        interpret_verify_answer(200, &me),
        Ok(SessionState::Active { .. })
    ));
    let unauthenticated = br#"{"error":{"code":"unauthenticated","message":"Sign in first."}}"#;
    assert_eq!(
        interpret_verify_answer(401, unauthenticated),
        Ok(SessionState::SignedOut)
    );
    let bad_key = br#"{"error":{"code":"invalid_secret_key","message":"No."}}"#;
    assert_eq!(
        interpret_verify_answer(401, bad_key),
        Err(VerifyError::SecretKeyRefused)
    );
    assert_eq!(
        interpret_verify_answer(502, b"<html>"),
        Err(VerifyError::UnexpectedAnswer(502))
    );
    assert_eq!(
        interpret_verify_answer(200, b"{"),
        Err(VerifyError::UnexpectedAnswer(200))
    );
}

#[test]
fn the_remote_verifier_never_shows_its_secret_key() {
    let verifier = RemoteVerifier::new("https://auth.example.com/", "sk_test_secret").unwrap();
    let shown = format!("{verifier:?}");
    assert!(!shown.contains("sk_test_secret"), "{shown}");
    assert!(shown.contains("https://auth.example.com/v1/admin/sessions/verify"));
}
