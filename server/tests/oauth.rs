//! OAuth and OpenID Connect through the real router, against a small OpenID provider written
//! here with axum (discovery, JWKS, a token endpoint that checks PKCE and signs Ed25519 ID
//! tokens), which can be told to forge a wrong `iss`, `aud` or `nonce`, or to fail; and a stub
//! of GitHub's token endpoint and `/user`, `/user/emails` JSON for the GitHub preset.

mod common;

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{ORIGIN, Req, TestApp, app_with, legal_env, signed_up};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use time::Duration;
use torii_server::Environment;
use torii_server::methods::oauth::{OAuthProviderConfig, ProviderKind};
use torii_shared::{Secret, SignInMethod};
use url::Url;

const CLIENT_ID: &str = "torii-test-client";
const CLIENT_SECRET: &str = "torii-test-secret";
const APP_URL: &str = "http://localhost:3000/sign-in";
const SIGN_UP_URL: &str = "http://localhost:3000/sign-up";

/// Who signs in at the provider.
#[derive(Debug, Clone)]
struct Account {
    sub: String,
    email: String,
    email_verified: bool,
}

fn account(sub: &str, email: &str, email_verified: bool) -> Account {
    Account {
        sub: sub.to_owned(),
        email: email.to_owned(),
        email_verified,
    }
}

/// What the provider gets wrong on purpose.
#[derive(Debug, Clone, Default)]
struct Forgery {
    iss: Option<String>,
    aud: Option<String>,
    nonce: Option<String>,
    token_error: bool,
}

struct Grant {
    nonce: String,
    challenge: String,
    redirect_uri: String,
    account: Account,
}

struct IdpState {
    issuer: String,
    key: SigningKey,
    codes: HashMap<String, Grant>,
    forgery: Forgery,
}

#[derive(Clone)]
struct Idp {
    issuer: String,
    state: Arc<Mutex<IdpState>>,
}

impl Idp {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(IdpState {
            issuer: issuer.clone(),
            key: SigningKey::generate(&mut rand::rngs::OsRng),
            codes: HashMap::new(),
            forgery: Forgery::default(),
        }));
        let router = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/token", post(token))
            .with_state(Arc::clone(&state));
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self { issuer, state }
    }

    fn forge(&self, forgery: Forgery) {
        self.state.lock().unwrap().forgery = forgery;
    }

    /// The user signs in at the provider for the authorization request in `location`: the
    /// provider remembers the nonce and PKCE challenge and hands out a code.
    fn authorize(&self, location: &str, account: &Account) -> String {
        let url = Url::parse(location).unwrap();
        assert!(
            location.starts_with(&format!("{}/authorize?", self.issuer)),
            "{location}"
        );
        let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], CLIENT_ID);
        assert_eq!(q["code_challenge_method"], "S256");
        assert!(
            q["scope"].split(' ').any(|s| s == "openid"),
            "{}",
            q["scope"]
        );
        let code = common::unique("code");
        self.state.lock().unwrap().codes.insert(
            code.clone(),
            Grant {
                nonce: q["nonce"].clone(),
                challenge: q["code_challenge"].clone(),
                redirect_uri: q["redirect_uri"].clone(),
                account: account.clone(),
            },
        );
        code
    }
}

async fn discovery(State(state): State<Arc<Mutex<IdpState>>>) -> Json<Value> {
    let issuer = state.lock().unwrap().issuer.clone();
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["EdDSA"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true
    }))
}

async fn jwks(State(state): State<Arc<Mutex<IdpState>>>) -> Json<Value> {
    let x = URL_SAFE_NO_PAD.encode(state.lock().unwrap().key.verifying_key().as_bytes());
    Json(
        json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "k1", "alg": "EdDSA", "use": "sig"}]}),
    )
}

async fn token(
    State(state): State<Arc<Mutex<IdpState>>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let mut state = state.lock().unwrap();
    let error =
        |code: &str| (StatusCode::BAD_REQUEST, Json(json!({"error": code}))).into_response();
    if state.forgery.token_error {
        return error("server_error");
    }
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    );
    if headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        != Some(basic.as_str())
    {
        return error("invalid_client");
    }
    let Some(grant) = form.get("code").and_then(|c| state.codes.remove(c)) else {
        return error("invalid_grant");
    };
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != grant.challenge
        || form.get("redirect_uri") != Some(&grant.redirect_uri)
        || form.get("grant_type").map(String::as_str) != Some("authorization_code")
    {
        return error("invalid_grant");
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let forgery = state.forgery.clone();
    let claims = json!({
        "iss": forgery.iss.unwrap_or_else(|| state.issuer.clone()),
        "aud": forgery.aud.unwrap_or_else(|| CLIENT_ID.to_owned()),
        "sub": grant.account.sub,
        "nonce": forgery.nonce.unwrap_or(grant.nonce),
        "iat": now,
        "exp": now + 300,
        "email": grant.account.email,
        "email_verified": grant.account.email_verified,
        "name": "Ada Lovelace",
    });
    let der = state.key.to_pkcs8_der().unwrap();
    let mut jwt_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    jwt_header.kid = Some("k1".to_owned());
    let id_token = jsonwebtoken::encode(
        &jwt_header,
        &claims,
        &jsonwebtoken::EncodingKey::from_ed_der(der.as_bytes()),
    )
    .unwrap();
    Json(json!({
        "access_token": common::unique("at"),
        "token_type": "Bearer",
        "expires_in": 3600,
        "id_token": id_token,
    }))
    .into_response()
}

fn provider(id: &str, issuer: &str) -> OAuthProviderConfig {
    OAuthProviderConfig {
        id: id.to_owned(),
        kind: ProviderKind::Oidc,
        name: Some("Test IdP".to_owned()),
        client_id: CLIENT_ID.to_owned(),
        client_secret: Secret::new(CLIENT_SECRET),
        issuer: Some(issuer.to_owned()),
        scopes: None,
        authorization_url: None,
        token_url: None,
        api_url: None,
    }
}

fn with_oauth(mut env: Environment, providers: Vec<OAuthProviderConfig>) -> Environment {
    env.methods = vec![SignInMethod::Password, SignInMethod::Oauth];
    env.oauth_providers = providers;
    env
}

/// An environment without Terms: new users are created at once.
fn open_env(issuer: &str) -> Environment {
    let env = Environment::new_test("env_open", "Open", "pk_test_open", "sk_test_open");
    with_oauth(env, vec![provider("idp", issuer)])
}

async fn open_app(idp: &Idp) -> TestApp {
    app_with(vec![open_env(&idp.issuer)]).await
}

/// A started redirect: the provider's URL and the browser's state cookie.
struct Redirect {
    location: String,
    state: String,
}

impl Redirect {
    fn cookie(&self) -> String {
        format!("torii_oauth={}", self.state)
    }
}

async fn start(app: &TestApp, provider: &str) -> Redirect {
    let path = format!(
        "/v1/oauth/{provider}/start?redirectUrl={}&signUpUrl={}",
        urlencode(APP_URL),
        urlencode(SIGN_UP_URL)
    );
    let started = Req::get(&path).send(app).await;
    assert_eq!(started.status, StatusCode::FOUND, "{}", started.text);
    let location = header_value(&started, "location");
    let cookie = header_value(&started, "set-cookie");
    let state = cookie
        .strip_prefix("torii_oauth=")
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_owned();
    let url = Url::parse(&location).unwrap();
    let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["state"], state, "the state is the one the cookie binds");
    assert_eq!(
        q["redirect_uri"],
        format!("{ORIGIN}/v1/oauth/{provider}/callback")
    );
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    Redirect { location, state }
}

fn urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

fn header_value(response: &common::TestResponse, name: &str) -> String {
    response
        .headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header: {}", response.text))
        .to_str()
        .unwrap()
        .to_owned()
}

/// The `Set-Cookie` header that sets `name`, if any.
fn set_cookie(response: &common::TestResponse, name: &str) -> Option<String> {
    response
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// The provider's redirect back with `query`, from a browser holding `cookie`.
async fn callback(
    app: &TestApp,
    provider: &str,
    query: &str,
    cookie: Option<&str>,
) -> common::TestResponse {
    let mut request = Req::get(&format!("/v1/oauth/{provider}/callback?{query}"));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send(app).await
}

fn success_query(idp: &Idp, redirect: &Redirect, account: &Account) -> String {
    let code = idp.authorize(&redirect.location, account);
    format!(
        "code={code}&state={}&iss={}",
        redirect.state,
        urlencode(&idp.issuer)
    )
}

/// Runs a whole sign-in through the provider.
async fn sign_in_through(app: &TestApp, idp: &Idp, account: &Account) -> common::TestResponse {
    let redirect = start(app, "idp").await;
    let query = success_query(idp, &redirect, account);
    callback(app, "idp", &query, Some(&redirect.cookie())).await
}

/// The `oauthError` the browser is sent back to the app with (and no session).
fn oauth_error(response: &common::TestResponse) -> String {
    assert_eq!(response.status, StatusCode::FOUND, "{}", response.text);
    assert!(response.session_cookie().is_none(), "no session on failure");
    let location = header_value(response, "location");
    assert!(location.starts_with(APP_URL), "{location}");
    Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "oauthError")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no oauthError in {location}"))
}

async fn me(app: &TestApp, token: &str) -> Value {
    Req::get("/me").cookie(token).send(app).await.body
}

#[tokio::test]
async fn a_new_user_signs_in_and_comes_back_as_the_same_user() {
    let idp = Idp::start().await;
    let app = open_app(&idp).await;
    let env = Req::get("/v1/environment").send(&app).await;
    assert_eq!(
        env.body["oauthProviders"],
        json!([{"id": "idp", "name": "Test IdP"}])
    );
    assert!(
        env.body["methods"]
            .as_array()
            .unwrap()
            .contains(&json!("oauth"))
    );

    let ada = account("sub-ada", "Ada@Example.com", true);
    let first = sign_in_through(&app, &idp, &ada).await;
    assert_eq!(first.status, StatusCode::FOUND, "{}", first.text);
    assert_eq!(header_value(&first, "location"), APP_URL);
    let set_cookies: Vec<_> = first.headers.get_all("set-cookie").iter().collect();
    assert!(
        set_cookies
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("torii_oauth=;")),
        "the state cookie is cleared"
    );
    let token = first.session_cookie().expect("a session");
    let who = me(&app, &token).await;
    assert_eq!(who["user"]["email"], "Ada@example.com");
    assert_eq!(who["user"]["emailVerified"], true);
    assert_eq!(who["user"]["name"], "Ada Lovelace");
    assert_eq!(who["session"]["status"], "active");

    let again = sign_in_through(&app, &idp, &ada).await;
    let token2 = again.session_cookie().expect("a session");
    assert_eq!(me(&app, &token2).await["user"]["id"], who["user"]["id"]);

    // Keyed by subject, not email: the same account with a new address is the same user.
    let moved = account("sub-ada", "ada.new@example.com", false);
    let third = sign_in_through(&app, &idp, &moved).await;
    let token3 = third.session_cookie().expect("a session");
    assert_eq!(me(&app, &token3).await["user"]["id"], who["user"]["id"]);
}

#[tokio::test]
async fn the_consent_step_finishes_a_new_users_sign_up_once() {
    let idp = Idp::start().await;
    let env = with_oauth(legal_env(), vec![provider("idp", &idp.issuer)]);
    let app = app_with(vec![env]).await;
    let grace = account("sub-grace", "grace@example.com", true);
    let back = sign_in_through(&app, &idp, &grace).await;
    assert_eq!(back.status, StatusCode::FOUND, "{}", back.text);
    assert!(back.session_cookie().is_none(), "no session before consent");
    let location = Url::parse(&header_value(&back, "location")).unwrap();
    assert!(location.as_str().starts_with(SIGN_UP_URL), "{location}");
    let id = location
        .query_pairs()
        .find(|(k, _)| k == "oauthSignUp")
        .map(|(_, v)| v.into_owned())
        .expect("the continue step's id");

    let binding = set_cookie(&back, "torii_oauth_sign_up").expect("the browser's binding");
    assert!(binding.contains("HttpOnly") && binding.contains("SameSite=Lax"));
    let cookie = binding.split(';').next().unwrap().to_owned();

    let path = format!("/v1/sign-ups/{id}/continue");
    let refused = Req::post(&path, &json!({"legalAccepted": false}))
        .header("cookie", &cookie)
        .send(&app)
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.code(), "consent_required");

    // Another browser, which only saw the id (in a URL, a log, a Referer), gets nothing and
    // takes nothing away from the one that started it.
    for other in [None, Some("torii_oauth_sign_up=someone-elses-binding")] {
        let mut request = Req::post(&path, &json!({"legalAccepted": true}));
        if let Some(other) = other {
            request = request.header("cookie", other);
        }
        let stolen = request.send(&app).await;
        assert_eq!(stolen.status, StatusCode::NOT_FOUND, "{}", stolen.text);
        assert_eq!(stolen.code(), "not_found");
        assert!(stolen.session_cookie().is_none());
    }

    let done = Req::post(&path, &json!({"legalAccepted": true}))
        .header("cookie", &cookie)
        .send(&app)
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert_eq!(done.body["user"]["email"], "grace@example.com");
    assert!(done.session_cookie().is_some());
    let cleared = set_cookie(&done, "torii_oauth_sign_up").expect("the binding is cleared");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");

    let twice = Req::post(&path, &json!({"legalAccepted": true}))
        .header("cookie", &cookie)
        .send(&app)
        .await;
    assert_eq!(twice.status, StatusCode::NOT_FOUND, "single use");

    // Next time, straight through.
    let again = sign_in_through(&app, &idp, &grace).await;
    assert_eq!(header_value(&again, "location"), APP_URL);
    assert!(again.session_cookie().is_some());
}

#[tokio::test]
async fn a_live_environment_accepts_only_its_host_prefixed_state_cookie() {
    let idp = Idp::start().await;
    let mut env = open_env(&idp.issuer);
    env.mode = torii_shared::EnvironmentMode::Live;
    let app = app_with(vec![env]).await;
    let ada = account("sub-ada", "ada@example.com", true);
    let path = format!(
        "/v1/oauth/idp/start?redirectUrl={}",
        urlencode(&format!("{ORIGIN}/"))
    );
    let begin = || async {
        let started = Req::get(&path).send(&app).await;
        assert_eq!(started.status, StatusCode::FOUND, "{}", started.text);
        let cookie = set_cookie(&started, "__Host-torii_oauth").expect("a __Host- state cookie");
        for part in ["Path=/;", "HttpOnly", "SameSite=Lax", "Secure"] {
            assert!(cookie.contains(part), "{part} in {cookie}");
        }
        assert!(set_cookie(&started, "torii_oauth").is_none());
        let state = cookie
            .strip_prefix("__Host-torii_oauth=")
            .and_then(|c| c.split(';').next())
            .unwrap()
            .to_owned();
        Redirect {
            location: header_value(&started, "location"),
            state,
        }
    };

    // A cookie without the prefix (one a sibling domain could have planted) proves nothing.
    let planted = begin().await;
    let query = success_query(&idp, &planted, &ada);
    let back = callback(&app, "idp", &query, Some(&planted.cookie())).await;
    assert_eq!(back.status, StatusCode::FOUND, "{}", back.text);
    let location = header_value(&back, "location");
    assert!(
        location.contains("oauthError=oauth_state_mismatch"),
        "{location}"
    );
    assert!(set_cookie(&back, "__Host-torii_session").is_none());

    let own = begin().await;
    let query = success_query(&idp, &own, &ada);
    let cookie = format!("__Host-torii_oauth={}", own.state);
    let back = callback(&app, "idp", &query, Some(&cookie)).await;
    assert_eq!(back.status, StatusCode::FOUND, "{}", back.text);
    assert!(
        set_cookie(&back, "__Host-torii_session").is_some(),
        "signed in: {:?}",
        back.headers
    );
}

#[tokio::test]
async fn a_missing_foreign_or_reused_state_shows_the_error_page() {
    let idp = Idp::start().await;
    let app = open_app(&idp).await;
    let ada = account("sub-ada", "ada@example.com", true);

    let page = |r: &common::TestResponse| {
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert!(
            r.text.contains("Sign-in could not be completed"),
            "{}",
            r.text
        );
        assert!(r.session_cookie().is_none());
    };
    // No state and no cookie.
    page(&callback(&app, "idp", "code=x", None).await);
    // A state this browser never started (no cookie, or a cookie for it but no ceremony).
    let redirect = start(&app, "idp").await;
    let query = success_query(&idp, &redirect, &ada);
    page(&callback(&app, "idp", &query, None).await);
    page(
        &callback(
            &app,
            "idp",
            "code=x&state=forged",
            Some("torii_oauth=forged"),
        )
        .await,
    );
    // Used once, then reused.
    let first = callback(&app, "idp", &query, Some(&redirect.cookie())).await;
    assert!(first.session_cookie().is_some(), "{}", first.text);
    page(&callback(&app, "idp", &query, Some(&redirect.cookie())).await);
}

#[tokio::test]
async fn a_state_that_is_not_the_browsers_own_is_refused() {
    let idp = Idp::start().await;
    let app = open_app(&idp).await;
    let ada = account("sub-ada", "ada@example.com", true);
    let victim = start(&app, "idp").await;
    // The attacker's own redirect, delivered to the victim's browser.
    let attacker = start(&app, "idp").await;
    let query = success_query(&idp, &attacker, &ada);
    let back = callback(&app, "idp", &query, Some(&victim.cookie())).await;
    assert_eq!(oauth_error(&back), "oauth_state_mismatch");
    // The victim's ceremony is gone with it, and so is nobody signed in.
    let again = callback(&app, "idp", &query, Some(&victim.cookie())).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_ceremony_expires_after_ten_minutes() {
    let idp = Idp::start().await;
    let app = open_app(&idp).await;
    let redirect = start(&app, "idp").await;
    let query = success_query(&idp, &redirect, &account("s", "late@example.com", true));
    app.clock
        .advance(Duration::minutes(10) + Duration::seconds(1));
    let back = callback(&app, "idp", &query, Some(&redirect.cookie())).await;
    assert_eq!(back.status, StatusCode::BAD_REQUEST, "{}", back.text);
    assert!(back.session_cookie().is_none());
}

#[tokio::test]
async fn forged_id_tokens_and_a_wrong_issuer_are_refused() {
    let idp = Idp::start().await;
    let app = open_app(&idp).await;
    let ada = account("sub-ada", "ada@example.com", true);

    // The `iss` parameter names another issuer (mix-up).
    let redirect = start(&app, "idp").await;
    let code = idp.authorize(&redirect.location, &ada);
    let query = format!(
        "code={code}&state={}&iss={}",
        redirect.state,
        urlencode("https://evil.example")
    );
    let back = callback(&app, "idp", &query, Some(&redirect.cookie())).await;
    assert_eq!(oauth_error(&back), "oauth_failed");

    for (what, forgery) in [
        (
            "iss claim",
            Forgery {
                iss: Some("https://evil.example".into()),
                ..Forgery::default()
            },
        ),
        (
            "nonce",
            Forgery {
                nonce: Some("replayed-nonce".into()),
                ..Forgery::default()
            },
        ),
        (
            "aud",
            Forgery {
                aud: Some("someone-else".into()),
                ..Forgery::default()
            },
        ),
        (
            "token endpoint error",
            Forgery {
                token_error: true,
                ..Forgery::default()
            },
        ),
    ] {
        idp.forge(forgery);
        let back = sign_in_through(&app, &idp, &ada).await;
        assert_eq!(oauth_error(&back), "oauth_failed", "{what}");
    }
    idp.forge(Forgery::default());
    let fine = sign_in_through(&app, &idp, &ada).await;
    assert!(fine.session_cookie().is_some(), "{}", fine.text);
}

#[tokio::test]
async fn a_user_who_cancels_at_the_provider_comes_back_with_a_code() {
    let idp = Idp::start().await;
    let app = open_app(&idp).await;
    let redirect = start(&app, "idp").await;
    let query = format!("error=access_denied&state={}", redirect.state);
    let back = callback(&app, "idp", &query, Some(&redirect.cookie())).await;
    assert_eq!(oauth_error(&back), "oauth_cancelled");
}

#[tokio::test]
async fn a_providers_error_cannot_forge_a_log_line() {
    let idp = Idp::start().await;
    let app = open_app(&idp).await;
    let capture = common::LogCapture::install();
    let redirect = start(&app, "idp").await;
    // The provider (or whoever sends the browser back) chooses the `error` text.
    let forged =
        "server_error\n2026-12-03T00:00:00.000000Z  INFO torii: admin signed in\r\u{1b}[2K";
    let query = format!("error={}&state={}", urlencode(forged), redirect.state);
    let back = callback(&app, "idp", &query, Some(&redirect.cookie())).await;
    assert_eq!(oauth_error(&back), "oauth_failed");
    let log = capture.text();
    let refused = log
        .lines()
        .find(|line| line.contains("OAuth sign-in refused"))
        .unwrap_or_else(|| panic!("no refusal in the log:\n{log}"));
    assert!(
        refused.contains("server_error\\n2026-12-03T00:00:00.000000Z  INFO torii: admin signed in"),
        "{refused}"
    );
    assert!(
        !log.lines()
            .any(|line| line.starts_with("2026-12-03T00:00:00")),
        "a forged line:\n{log}"
    );
    assert!(!log.contains('\u{1b}'), "a terminal escape reached the log");
}

#[tokio::test]
async fn an_existing_account_is_linked_only_when_both_ends_verified_the_email() {
    let idp = Idp::start().await;
    let app = open_app(&idp).await;
    // A verified local account (signed up with an emailed code).
    let password_token = signed_up(&app, "linus@example.com").await;
    let local = me(&app, &password_token).await;

    let unverified = account("sub-linus", "linus@example.com", false);
    let refused = sign_in_through(&app, &idp, &unverified).await;
    assert_eq!(oauth_error(&refused), "oauth_account_exists");

    let verified = account("sub-linus", "linus@example.com", true);
    let linked = sign_in_through(&app, &idp, &verified).await;
    let token = linked.session_cookie().expect("linked and signed in");
    assert_eq!(me(&app, &token).await["user"]["id"], local["user"]["id"]);

    // A local account whose email was never verified is not linked, even to a verified one.
    let now = app.torii.now();
    app.torii
        .store()
        .insert_user(
            &torii_server::store::UserRecord {
                id: common::unique("usr"),
                environment_id: "env_open".into(),
                email: "mallory@example.com".into(),
                email_canonical: "mallory@example.com".into(),
                name: None,
                email_verified: false,
                legal_version: None,
                created_at: now,
                updated_at: now,
            },
            None,
        )
        .await
        .unwrap();
    let back = sign_in_through(&app, &idp, &account("sub-m", "mallory@example.com", true)).await;
    assert_eq!(oauth_error(&back), "oauth_account_exists");
}

#[tokio::test]
async fn an_unverified_provider_email_cannot_sign_up_by_default() {
    let idp = Idp::start().await;
    let app = open_app(&idp).await;
    let back = sign_in_through(
        &app,
        &idp,
        &account("sub-u", "unverified@example.com", false),
    )
    .await;
    assert_eq!(oauth_error(&back), "oauth_email_unverified");
    let user = app
        .torii
        .store()
        .find_user_by_email("env_open", "unverified@example.com")
        .await
        .unwrap();
    assert_eq!(user, None, "no account waits for the address's owner");
    // A verified address at the same provider still signs up.
    let verified = sign_in_through(&app, &idp, &account("sub-v", "v@example.com", true)).await;
    assert!(verified.session_cookie().is_some(), "{}", verified.text);
}

/// The environment of the pre-account takeover tests: unverified provider emails allowed,
/// and every way for the address's owner to prove it.
fn unverified_allowed_env(issuer: &str) -> Environment {
    let mut env = open_env(issuer);
    env.oauth_allow_unverified_emails = true;
    env.methods.push(SignInMethod::MagicLink);
    env
}

/// A squatter signs up through a provider that has not verified `victim`'s address, and
/// holds the pending session that gives them.
async fn squat(app: &TestApp, idp: &Idp, victim: &str) -> String {
    let back = sign_in_through(app, idp, &account("sub-squatter", victim, false)).await;
    let token = back
        .session_cookie()
        .expect("the squatter holds a pending session");
    let who = me(app, &token).await;
    assert_eq!(who["session"]["status"], "pending");
    assert_eq!(who["session"]["currentGate"]["key"], "email_verification");
    token
}

/// After the owner proved the address: the squatter's session is gone, their provider
/// account no longer signs in to the owner's account, and the owner was told.
async fn assert_squatter_is_out(app: &TestApp, idp: &Idp, victim: &str, squatter: &str) {
    assert_eq!(me(app, squatter).await["user"], json!(null));
    let again = sign_in_through(app, idp, &account("sub-squatter", victim, false)).await;
    assert_eq!(oauth_error(&again), "oauth_account_exists");
    let user = app
        .torii
        .store()
        .find_user_by_email("env_open", victim)
        .await
        .unwrap()
        .unwrap();
    assert!(user.email_verified);
    assert!(
        app.torii
            .store()
            .list_oauth_identities(&user.id)
            .await
            .unwrap()
            .is_empty()
    );
    let notice = app
        .outbox
        .messages()
        .into_iter()
        .find(|m| m.to == victim && m.subject.contains("sign-in methods were removed"))
        .expect("a notice to the owner");
    assert!(
        notice
            .text
            .contains("Sign-in with Test IdP (victim@example.com)")
    );
}

#[tokio::test]
async fn a_password_reset_by_the_owner_removes_a_squatters_provider_and_sessions() {
    let idp = Idp::start().await;
    let app = app_with(vec![unverified_allowed_env(&idp.issuer)]).await;
    let victim = "victim@example.com";
    let squatter = squat(&app, &idp, victim).await;

    // The owner of the mailbox resets the password of the account made with their address.
    let asked = Req::post("/v1/password-resets", &json!({"email": victim}))
        .send(&app)
        .await;
    assert_eq!(asked.status, StatusCode::ACCEPTED, "{}", asked.text);
    let code = common::code_from(&app, victim);
    let done = Req::post(
        "/v1/password-resets/complete",
        &json!({"email": victim, "code": code, "password": "the owner's own passphrase"}),
    )
    .send(&app)
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    let owner = done.session_cookie().unwrap();
    let who = me(&app, &owner).await;
    assert_eq!(who["session"]["status"], "active", "the owner is not gated");
    assert_eq!(who["user"]["emailVerified"], true);

    assert_squatter_is_out(&app, &idp, victim, &squatter).await;
    assert!(
        me(&app, &owner).await["user"].is_object(),
        "the owner stays signed in"
    );
}

#[tokio::test]
async fn a_sign_in_link_opened_by_the_owner_removes_a_squatters_provider_and_sessions() {
    let idp = Idp::start().await;
    let app = app_with(vec![unverified_allowed_env(&idp.issuer)]).await;
    let victim = "victim@example.com";
    let squatter = squat(&app, &idp, victim).await;

    let asked = Req::post("/v1/magic-links", &json!({"email": victim}))
        .send(&app)
        .await;
    assert_eq!(asked.status, StatusCode::ACCEPTED, "{}", asked.text);
    let link = app.outbox.last_to(victim).unwrap().text;
    let token = link
        .split("token=")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| c == '&' || c.is_whitespace()).next())
        .unwrap()
        .to_owned();
    let opened = Req::post("/v1/magic-links/verify", &json!({"token": token}))
        .send(&app)
        .await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.text);
    let owner = opened.session_cookie().unwrap();
    assert_eq!(me(&app, &owner).await["session"]["status"], "active");

    assert_squatter_is_out(&app, &idp, victim, &squatter).await;
}

#[tokio::test]
async fn the_holder_of_the_pending_session_who_proves_the_address_keeps_the_provider() {
    let idp = Idp::start().await;
    let app = app_with(vec![unverified_allowed_env(&idp.issuer)]).await;
    let email = "new@example.com";
    let token = squat(&app, &idp, email).await;
    let sent = Req::post("/v1/email-verification/send", &json!({}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(sent.status, StatusCode::ACCEPTED, "{}", sent.text);
    let code = common::code_from(&app, email);
    let verified = Req::post("/v1/email-verification/verify", &json!({"code": code}))
        .cookie(&token)
        .send(&app)
        .await;
    assert!(verified.status.is_success(), "{}", verified.text);
    assert_eq!(me(&app, &token).await["session"]["status"], "active");
    // The provider account proved the address through its own session: it is the owner's.
    let again = sign_in_through(&app, &idp, &account("sub-squatter", email, false)).await;
    assert!(again.session_cookie().is_some(), "{}", again.text);
}

#[tokio::test]
async fn an_unverified_provider_email_makes_an_unverified_user_pending_on_verification() {
    let idp = Idp::start().await;
    let mut env = open_env(&idp.issuer);
    env.oauth_allow_unverified_emails = true;
    let app = app_with(vec![env]).await;
    let back = sign_in_through(
        &app,
        &idp,
        &account("sub-u", "unverified@example.com", false),
    )
    .await;
    let token = back.session_cookie().expect("signed in, pending");
    let who = me(&app, &token).await;
    assert_eq!(who["user"]["emailVerified"], false);
    assert_eq!(who["session"]["status"], "pending");
    assert_eq!(who["session"]["currentGate"]["key"], "email_verification");
}

#[tokio::test]
async fn a_signed_in_user_links_and_unlinks_but_keeps_one_way_to_sign_in() {
    let idp = Idp::start().await;
    let mut env = open_env(&idp.issuer);
    env.oauth_providers.push(provider("second", &idp.issuer));
    let app = app_with(vec![env]).await;

    // A password user links the provider.
    let token = signed_up(&app, "pat@example.com").await;
    let started = Req::post("/v1/oauth/idp/link", &json!({"redirectUrl": APP_URL}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.text);
    let location = started.body["url"].as_str().unwrap().to_owned();
    let state = Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    // An unverified provider email does not matter: the user proved who they are by signing in.
    let code = idp.authorize(
        &location,
        &account("sub-pat", "pat@elsewhere.example", false),
    );
    let back = callback(
        &app,
        "idp",
        &format!("code={code}&state={state}"),
        Some(&format!("torii_oauth={state}")),
    )
    .await;
    assert_eq!(back.status, StatusCode::FOUND, "{}", back.text);
    assert_eq!(header_value(&back, "location"), APP_URL);
    // The owner hears of it, with what to do if it was not them.
    let notice = app.outbox.last_to("pat@example.com").unwrap();
    assert!(
        notice.subject.contains("a sign-in provider was linked"),
        "{}",
        notice.subject
    );
    assert!(notice.text.contains("Test IdP (pat@elsewhere.example)"));
    assert!(notice.text.contains("If it was not you"));
    let list = Req::get("/v1/oauth/identities")
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(list.body.as_array().unwrap().len(), 1, "{}", list.text);
    assert_eq!(list.body[0]["provider"], "idp");
    let identity = list.body[0]["id"].as_str().unwrap().to_owned();

    // The provider account now signs in as the password user.
    let via_idp = sign_in_through(&app, &idp, &account("sub-pat", "x@example.com", false)).await;
    let idp_token = via_idp.session_cookie().unwrap();
    assert_eq!(
        me(&app, &idp_token).await["user"]["email"],
        "pat@example.com"
    );

    // With a password left, unlinking is fine.
    let unlinked = Req::get("/")
        .method("DELETE", &format!("/v1/oauth/identities/{identity}"))
        .header("origin", ORIGIN)
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(unlinked.status, StatusCode::NO_CONTENT, "{}", unlinked.text);

    // An OAuth-only user cannot remove their only identity.
    let only = sign_in_through(&app, &idp, &account("sub-solo", "solo@example.com", true)).await;
    let solo = only.session_cookie().unwrap();
    let list = Req::get("/v1/oauth/identities")
        .cookie(&solo)
        .send(&app)
        .await;
    let id = list.body[0]["id"].as_str().unwrap().to_owned();
    let refused = Req::get("/")
        .method("DELETE", &format!("/v1/oauth/identities/{id}"))
        .header("origin", ORIGIN)
        .cookie(&solo)
        .send(&app)
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.code(), "last_sign_in_method");

    // A provider account linked to someone else cannot be linked again.
    let started = Req::post("/v1/oauth/second/link", &json!({"redirectUrl": APP_URL}))
        .cookie(&token)
        .send(&app)
        .await;
    let location = started.body["url"].as_str().unwrap().to_owned();
    let state = Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let code = idp.authorize(&location, &account("sub-solo", "solo@example.com", true));
    // "second" is another provider id: sub-solo there is a new account, linked to pat.
    let back = callback(
        &app,
        "second",
        &format!("code={code}&state={state}"),
        Some(&format!("torii_oauth={state}")),
    )
    .await;
    assert_eq!(header_value(&back, "location"), APP_URL);
    let started = Req::post("/v1/oauth/idp/link", &json!({"redirectUrl": APP_URL}))
        .cookie(&token)
        .send(&app)
        .await;
    let location = started.body["url"].as_str().unwrap().to_owned();
    let state = Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let code = idp.authorize(&location, &account("sub-solo", "solo@example.com", true));
    let back = callback(
        &app,
        "idp",
        &format!("code={code}&state={state}"),
        Some(&format!("torii_oauth={state}")),
    )
    .await;
    assert_eq!(oauth_error(&back), "oauth_already_linked");
}

#[tokio::test]
async fn redirect_urls_off_the_allow_list_and_unknown_providers_are_refused() {
    let idp = Idp::start().await;
    let app = open_app(&idp).await;
    for bad in [
        "//evil.example/",
        "/\\evil.example/",
        "http://localhost:3000.evil.com/",
        "javascript:alert(1)",
        "https://evil.example/",
    ] {
        let path = format!("/v1/oauth/idp/start?redirectUrl={}", urlencode(bad));
        let refused = Req::get(&path).send(&app).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(refused.headers.get("location").is_none(), "{bad}");
        let path = format!(
            "/v1/oauth/idp/start?redirectUrl={}&signUpUrl={}",
            urlencode(APP_URL),
            urlencode(bad)
        );
        let refused = Req::get(&path).send(&app).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "sign-up URL {bad}");
    }
    let unknown = Req::get("/v1/oauth/nope/start").send(&app).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let unknown = callback(&app, "nope", "code=x&state=y", Some("torii_oauth=y")).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
}

/// GitHub's endpoints, as far as the preset uses them.
async fn github_stub(primary_verified: bool) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = Router::new()
        .route(
            "/login/oauth/access_token",
            post(|Form(form): Form<HashMap<String, String>>| async move {
                // The client authenticates in the body, and PKCE's verifier comes along.
                if form.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET)
                    || form.get("code_verifier").is_none_or(String::is_empty)
                {
                    return (StatusCode::BAD_REQUEST, Json(json!({"error": "bad_verification_code"})));
                }
                (
                    StatusCode::OK,
                    Json(json!({"access_token": "gho_test", "token_type": "bearer", "scope": "read:user,user:email"})),
                )
            }),
        )
        .route(
            "/api/user",
            get(|headers: HeaderMap| async move {
                assert_eq!(headers["authorization"], "Bearer gho_test");
                Json(json!({"id": 583231, "login": "octocat", "name": "The Octocat", "email": null}))
            }),
        )
        .route(
            "/api/user/emails",
            get(move || async move {
                Json(json!([
                    {"email": "octo@old.example", "primary": false, "verified": true, "visibility": null},
                    {"email": "Octo@GitHub.example", "primary": true, "verified": primary_verified, "visibility": "public"}
                ]))
            }),
        );
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    base
}

#[tokio::test]
async fn the_github_preset_maps_user_and_verified_primary_email() {
    for verified in [true, false] {
        let base = github_stub(verified).await;
        let mut env = Environment::new_test("env_gh", "GH", "pk_test_gh", "sk_test_gh");
        env = with_oauth(
            env,
            vec![OAuthProviderConfig {
                id: "github".into(),
                kind: ProviderKind::Github,
                name: None,
                client_id: CLIENT_ID.into(),
                client_secret: Secret::new(CLIENT_SECRET),
                issuer: None,
                scopes: None,
                authorization_url: Some(format!("{base}/login/oauth/authorize")),
                token_url: Some(format!("{base}/login/oauth/access_token")),
                api_url: Some(format!("{base}/api")),
            }],
        );
        // The unverified case maps the address as given; refusing it by default is
        // `an_unverified_provider_email_cannot_sign_up_by_default`.
        env.oauth_allow_unverified_emails = true;
        let app = app_with(vec![env]).await;
        let info = Req::get("/v1/environment").send(&app).await;
        assert_eq!(
            info.body["oauthProviders"],
            json!([{"id": "github", "name": "GitHub"}])
        );
        let redirect = start(&app, "github").await;
        let q: HashMap<String, String> = Url::parse(&redirect.location)
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect();
        assert!(
            redirect
                .location
                .starts_with(&format!("{base}/login/oauth/authorize?"))
        );
        assert_eq!(q["scope"], "read:user user:email");
        assert_eq!(q["code_challenge_method"], "S256");
        assert!(!q.contains_key("nonce"));
        let back = callback(
            &app,
            "github",
            &format!("code=abc&state={}", redirect.state),
            Some(&redirect.cookie()),
        )
        .await;
        let token = back
            .session_cookie()
            .unwrap_or_else(|| panic!("{:?}", back.headers));
        let who = me(&app, &token).await;
        assert_eq!(who["user"]["email"], "Octo@github.example");
        assert_eq!(who["user"]["emailVerified"], verified);
        assert_eq!(who["user"]["name"], "The Octocat");
    }
}

#[tokio::test]
async fn sign_in_starts_are_limited_per_ip_with_a_page() {
    let idp = Idp::start().await;
    let mut env = open_env(&idp.issuer);
    env.rate_limits.ceremonies_per_ip = torii_server::rate_limit::Rule {
        max: 2,
        window: time::Duration::minutes(5),
    };
    let app = app_with(vec![env]).await;
    start(&app, "idp").await;
    start(&app, "idp").await;
    let path = format!("/v1/oauth/idp/start?redirectUrl={}", urlencode(APP_URL));
    let limited = Req::get(&path).send(&app).await;
    assert_eq!(
        limited.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        limited.text
    );
    assert!(limited.headers.contains_key("retry-after"));
    assert!(
        limited.text.contains("Too many sign-in attempts"),
        "{}",
        limited.text
    );
    let csp = header_value(&limited, "content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
}

#[tokio::test]
async fn linking_and_unlinking_need_a_recent_sign_in() {
    let idp = Idp::start().await;
    let app = open_app(&idp).await;
    let token = signed_up(&app, "late@example.com").await;
    app.clock.advance(time::Duration::minutes(11));
    let link = Req::post("/v1/oauth/idp/link", &json!({"redirectUrl": APP_URL}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(link.status, StatusCode::FORBIDDEN, "{}", link.text);
    assert_eq!(link.code(), "reauthentication_required");
    let unlink = Req::get("/")
        .method("DELETE", "/v1/oauth/identities/oid_any")
        .header("origin", ORIGIN)
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(unlink.status, StatusCode::FORBIDDEN, "{}", unlink.text);
    assert_eq!(unlink.code(), "reauthentication_required");
}

/// The provider round trip of a started link or re-authentication (`{url}` answer): the
/// user signs in at the provider as `account`, and the browser comes back with its cookie.
async fn round_trip(
    app: &TestApp,
    idp: &Idp,
    provider: &str,
    started: &common::TestResponse,
    account: &Account,
) -> common::TestResponse {
    assert_eq!(started.status, StatusCode::OK, "{}", started.text);
    let location = started.body["url"].as_str().unwrap().to_owned();
    let state = Url::parse(&location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let cookie = header_value(started, "set-cookie");
    assert!(
        cookie.starts_with(&format!("torii_oauth={state};")),
        "{cookie}"
    );
    let code = idp.authorize(&location, account);
    callback(
        app,
        provider,
        &format!("code={code}&state={state}"),
        Some(&format!("torii_oauth={state}")),
    )
    .await
}

async fn reauthenticate(app: &TestApp, provider: &str, token: &str) -> common::TestResponse {
    Req::post(
        &format!("/v1/oauth/{provider}/reauthenticate"),
        &json!({"redirectUrl": APP_URL}),
    )
    .cookie(token)
    .send(app)
    .await
}

async fn link(app: &TestApp, provider: &str, token: &str) -> common::TestResponse {
    Req::post(
        &format!("/v1/oauth/{provider}/link"),
        &json!({"redirectUrl": APP_URL}),
    )
    .cookie(token)
    .send(app)
    .await
}

#[tokio::test]
async fn a_linked_provider_reauthenticates_the_session_and_only_with_the_linked_account() {
    let idp = Idp::start().await;
    let mut env = open_env(&idp.issuer);
    env.oauth_providers.push(provider("second", &idp.issuer));
    let app = app_with(vec![env]).await;
    let pat = account("sub-pat-re", "pat.re@example.com", true);

    // An OAuth-only user: no password, one linked provider.
    let token = sign_in_through(&app, &idp, &pat)
        .await
        .session_cookie()
        .unwrap();
    let methods = Req::get("/v1/me/sign-in-methods")
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(methods.body["password"], false, "{}", methods.text);
    assert_eq!(methods.body["oauthProviders"], json!(["idp"]));
    app.clock.advance(Duration::minutes(11));
    assert_eq!(
        link(&app, "second", &token).await.code(),
        "reauthentication_required"
    );

    // Another account at the provider does not prove anything about this user.
    let someone_else = account("sub-mallory", "mallory@example.com", true);
    let started = reauthenticate(&app, "idp", &token).await;
    let back = round_trip(&app, &idp, "idp", &started, &someone_else).await;
    assert_eq!(oauth_error(&back), "oauth_wrong_account");
    assert_eq!(
        link(&app, "second", &token).await.code(),
        "reauthentication_required"
    );
    // Nor was anybody signed up or linked on the way.
    let users = Req::get("/v1/admin/users?email=mallory@example.com")
        .bearer("sk_test_open")
        .send(&app)
        .await;
    assert_eq!(users.status, StatusCode::OK, "{}", users.text);
    assert_eq!(users.body["users"], json!([]));
    assert_eq!(
        Req::get("/v1/oauth/identities")
            .cookie(&token)
            .send(&app)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // The linked account renews this session: the same session, under a new token.
    let session_id = me(&app, &token).await["session"]["id"].clone();
    let started = reauthenticate(&app, "idp", &token).await;
    let back = round_trip(&app, &idp, "idp", &started, &pat).await;
    assert_eq!(back.status, StatusCode::FOUND, "{}", back.text);
    assert_eq!(header_value(&back, "location"), APP_URL);
    let renewed = back.session_cookie().expect("the session's new token");
    assert_eq!(
        me(&app, &token).await["user"],
        json!(null),
        "the old token ended"
    );
    assert_eq!(me(&app, &renewed).await["session"]["id"], session_id);
    let token = renewed;
    let linked = link(&app, "second", &token).await;
    assert_eq!(linked.status, StatusCode::OK, "{}", linked.text);

    // A state is used once.
    let started = reauthenticate(&app, "idp", &token).await;
    round_trip(&app, &idp, "idp", &started, &pat).await;
    let location = started.body["url"].as_str().unwrap();
    let state = Url::parse(location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let code = idp.authorize(location, &pat);
    let replayed = callback(
        &app,
        "idp",
        &format!("code={code}&state={state}"),
        Some(&format!("torii_oauth={state}")),
    )
    .await;
    assert_eq!(
        replayed.status,
        StatusCode::BAD_REQUEST,
        "{}",
        replayed.text
    );
}

#[tokio::test]
async fn reauthentication_needs_a_provider_linked_to_the_user_and_a_live_session() {
    let idp = Idp::start().await;
    let app = open_app(&idp).await;
    let token = signed_up(&app, "plain.re@example.com").await;
    let unlinked = reauthenticate(&app, "idp", &token).await;
    assert_eq!(unlinked.status, StatusCode::NOT_FOUND, "{}", unlinked.text);
    let unknown = reauthenticate(&app, "nope", &token).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text);
    let anonymous = Req::post(
        "/v1/oauth/idp/reauthenticate",
        &json!({"redirectUrl": APP_URL}),
    )
    .send(&app)
    .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);

    let pat = account("sub-gone", "gone@example.com", true);
    let started = link(&app, "idp", &token).await;
    round_trip(&app, &idp, "idp", &started, &pat).await;
    let off_list = Req::post(
        "/v1/oauth/idp/reauthenticate",
        &json!({"redirectUrl": "https://evil.example/"}),
    )
    .cookie(&token)
    .send(&app)
    .await;
    assert_eq!(
        off_list.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        off_list.text
    );

    // Signed out before the provider answers: nothing is renewed.
    let started = reauthenticate(&app, "idp", &token).await;
    let signed_out = Req::post("/v1/sign-out", &json!({}))
        .cookie(&token)
        .send(&app)
        .await;
    assert_eq!(signed_out.status, StatusCode::NO_CONTENT);
    let back = round_trip(&app, &idp, "idp", &started, &pat).await;
    assert_eq!(oauth_error(&back), "oauth_failed");
}
