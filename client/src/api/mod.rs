//! The HTTP client: the only place in this crate that talks to the Torii server. Every call
//! answers either the route's payload or an [`ApiError`]; nothing here panics, whatever the
//! network or the server does.

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
#[cfg(all(feature = "email-code", feature = "oauth"))]
use torii_shared::ContinueSignUpRequest;
#[cfg(any(feature = "password", feature = "magic-link"))]
use torii_shared::EmailAccepted;
#[cfg(feature = "magic-link")]
use torii_shared::MagicLinkRequest;
use torii_shared::{EnvironmentInfo, Me, PUBLISHABLE_KEY_HEADER};
#[cfg(feature = "password")]
use torii_shared::{PasswordResetComplete, PasswordResetRequest, PasswordSignInRequest};
#[cfg(feature = "email-code")]
use torii_shared::{ResendAccepted, SignUpCreated, SignUpRequest, VerifyCodeRequest};
use web_sys::RequestCredentials;

#[cfg(feature = "profile")]
mod account;
mod error;
#[cfg(feature = "mfa")]
mod mfa;
#[cfg(feature = "passkeys")]
mod passkeys;

pub use error::ApiError;

/// What the user is told when the server cannot be reached or answers something unreadable.
pub const NETWORK_ERROR_MESSAGE: &str = "Could not reach the server. Try again.";

/// Where the API lives and how to address it: base URL, publishable key, credentials mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiClient {
    base: String,
    publishable_key: String,
    include_credentials: bool,
}

impl ApiClient {
    /// `api_url` of `None` or `""` means the page's own origin. Cookies travel with
    /// `credentials: include` only when the API is on another origin; `same-origin` otherwise.
    pub(crate) fn new(api_url: Option<&str>, publishable_key: &str, page_origin: &str) -> Self {
        let base = api_url.unwrap_or_default().trim().trim_end_matches('/');
        Self {
            base: base.to_owned(),
            publishable_key: publishable_key.trim().to_owned(),
            include_credentials: is_cross_origin(base, page_origin),
        }
    }

    /// The API's base URL (empty: the page's origin).
    #[cfg(feature = "oauth")]
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    /// The environment's publishable key (may be empty).
    pub(crate) fn publishable_key(&self) -> &str {
        &self.publishable_key
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn prepare(&self, builder: RequestBuilder) -> RequestBuilder {
        let credentials = if self.include_credentials {
            RequestCredentials::Include
        } else {
            RequestCredentials::SameOrigin
        };
        let builder = builder
            .credentials(credentials)
            .header("Accept", "application/json");
        if self.publishable_key.is_empty() {
            builder
        } else {
            builder.header(PUBLISHABLE_KEY_HEADER, &self.publishable_key)
        }
    }

    fn get(&self, path: &str) -> Result<Request, ApiError> {
        self.prepare(Request::get(&self.url(path)))
            .build()
            .map_err(|_| ApiError::Network)
    }

    fn post_empty(&self, path: &str) -> Result<Request, ApiError> {
        self.prepare(Request::post(&self.url(path)))
            .build()
            .map_err(|_| ApiError::Network)
    }

    fn post_json<B: serde::Serialize>(&self, path: &str, body: &B) -> Result<Request, ApiError> {
        self.prepare(Request::post(&self.url(path)))
            .json(body)
            .map_err(|_| ApiError::Network)
    }

    #[cfg(feature = "profile")]
    fn delete(&self, path: &str) -> Result<Request, ApiError> {
        self.prepare(Request::delete(&self.url(path)))
            .build()
            .map_err(|_| ApiError::Network)
    }

    #[cfg(feature = "profile")]
    fn patch_json<B: serde::Serialize>(&self, path: &str, body: &B) -> Result<Request, ApiError> {
        self.prepare(Request::patch(&self.url(path)))
            .json(body)
            .map_err(|_| ApiError::Network)
    }

    /// `GET /v1/environment`.
    pub(crate) async fn environment(&self) -> Result<EnvironmentInfo, ApiError> {
        expect_json(send(self.get("/v1/environment")?).await?).await
    }

    /// `GET /me`: both fields `None` when signed out.
    pub(crate) async fn me(&self) -> Result<Me, ApiError> {
        expect_json(send(self.get("/me")?).await?).await
    }

    /// `POST /v1/session/refresh`: the session's current state (gates, user fields). A JWT
    /// session gets a re-issued cookie carrying it; 401 when there is no valid session.
    pub(crate) async fn refresh_session(&self) -> Result<Me, ApiError> {
        expect_json(send(self.post_empty("/v1/session/refresh")?).await?).await
    }

    #[cfg(feature = "password")]
    /// `POST /v1/sign-in/password`.
    pub(crate) async fn sign_in_with_password(
        &self,
        request: &PasswordSignInRequest,
    ) -> Result<Me, ApiError> {
        expect_json(send(self.post_json("/v1/sign-in/password", request)?).await?).await
    }

    #[cfg(feature = "magic-link")]
    /// `POST /v1/magic-links`: emails a sign-in link when the address has an account. The
    /// answer is the same 202 either way.
    pub(crate) async fn request_magic_link(
        &self,
        request: &MagicLinkRequest,
    ) -> Result<EmailAccepted, ApiError> {
        expect_json(send(self.post_json("/v1/magic-links", request)?).await?).await
    }

    #[cfg(feature = "password")]
    /// `POST /v1/password-resets`: emails a 6-digit reset code when the address has an
    /// account. The answer is the same 202 either way.
    pub(crate) async fn request_password_reset(
        &self,
        request: &PasswordResetRequest,
    ) -> Result<EmailAccepted, ApiError> {
        expect_json(send(self.post_json("/v1/password-resets", request)?).await?).await
    }

    #[cfg(feature = "password")]
    /// `POST /v1/password-resets/complete`: sets the new password with the emailed code; the
    /// server revokes every other session of the user and answers a new one.
    pub(crate) async fn complete_password_reset(
        &self,
        request: &PasswordResetComplete,
    ) -> Result<Me, ApiError> {
        expect_json(send(self.post_json("/v1/password-resets/complete", request)?).await?).await
    }

    #[cfg(feature = "email-code")]
    /// `POST /v1/sign-ups`: starts a sign-up and has the server email a code.
    pub(crate) async fn start_sign_up(
        &self,
        request: &SignUpRequest,
    ) -> Result<SignUpCreated, ApiError> {
        expect_json(send(self.post_json("/v1/sign-ups", request)?).await?).await
    }

    #[cfg(feature = "email-code")]
    /// `POST /v1/sign-ups/{id}/verify`: finishes a sign-up with the emailed code.
    pub(crate) async fn verify_sign_up(
        &self,
        sign_up_id: &str,
        request: &VerifyCodeRequest,
    ) -> Result<Me, ApiError> {
        let path = format!("/v1/sign-ups/{}/verify", encode_path_segment(sign_up_id));
        expect_json(send(self.post_json(&path, request)?).await?).await
    }

    #[cfg(feature = "email-code")]
    /// `POST /v1/sign-ups/{id}/resend`: emails a new code (429 while cooling down).
    pub(crate) async fn resend_sign_up_code(
        &self,
        sign_up_id: &str,
    ) -> Result<ResendAccepted, ApiError> {
        let path = format!("/v1/sign-ups/{}/resend", encode_path_segment(sign_up_id));
        expect_json(send(self.post_empty(&path)?).await?).await
    }

    #[cfg(all(feature = "email-code", feature = "oauth"))]
    /// `POST /v1/sign-ups/{id}/continue`: the consent step of a new user who came through an
    /// OAuth provider; signs them in.
    pub(crate) async fn continue_sign_up(
        &self,
        sign_up_id: &str,
        request: &ContinueSignUpRequest,
    ) -> Result<Me, ApiError> {
        let path = format!("/v1/sign-ups/{}/continue", encode_path_segment(sign_up_id));
        expect_json(send(self.post_json(&path, request)?).await?).await
    }

    /// `POST /v1/sign-out`.
    pub(crate) async fn sign_out(&self) -> Result<(), ApiError> {
        expect_success(send(self.post_empty("/v1/sign-out")?).await?).await
    }

    /// `POST /v1/legal/accept`: the signed-in user accepts the environment's current Terms,
    /// which clears their `legal_acceptance` gate. Answers the new state.
    pub(crate) async fn accept_terms(&self) -> Result<Me, ApiError> {
        let empty = serde_json::Map::new();
        expect_json(send(self.post_json("/v1/legal/accept", &empty)?).await?).await
    }

    #[cfg(feature = "email-code")]
    /// `POST /v1/email-verification/send`: emails the signed-in user a 6-digit code
    /// (429 during the cooldown after the previous one).
    pub(crate) async fn send_email_verification(&self) -> Result<ResendAccepted, ApiError> {
        expect_json(send(self.post_empty("/v1/email-verification/send")?).await?).await
    }

    #[cfg(feature = "email-code")]
    /// `POST /v1/email-verification/verify`: the right code marks the email verified, which
    /// clears the `email_verification` gate. Answers the new state.
    pub(crate) async fn verify_email(&self, request: &VerifyCodeRequest) -> Result<Me, ApiError> {
        expect_json(send(self.post_json("/v1/email-verification/verify", request)?).await?).await
    }
}

async fn send(request: Request) -> Result<Response, ApiError> {
    request.send().await.map_err(|_| ApiError::Network)
}

async fn expect_json<T: DeserializeOwned>(response: Response) -> Result<T, ApiError> {
    let status = response.status();
    let body = response.text().await.map_err(|_| ApiError::Network)?;
    decode(status, &body)
}

async fn expect_success(response: Response) -> Result<(), ApiError> {
    let status = response.status();
    if is_success(status) {
        return Ok(());
    }
    let body = response.text().await.map_err(|_| ApiError::Network)?;
    Err(ApiError::from_status_and_body(status, &body))
}

fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

fn decode<T: DeserializeOwned>(status: u16, body: &str) -> Result<T, ApiError> {
    if is_success(status) {
        serde_json::from_str(body).map_err(|_| ApiError::Network)
    } else {
        Err(ApiError::from_status_and_body(status, body))
    }
}

/// Whether `api_base` names another origin than `page_origin` (`scheme://host[:port]`).
/// Relative bases (`""`, `/api`) are the page's own origin.
fn is_cross_origin(api_base: &str, page_origin: &str) -> bool {
    if api_base.is_empty() || (api_base.starts_with('/') && !api_base.starts_with("//")) {
        return false;
    }
    let absolute = match api_base.strip_prefix("//") {
        Some(rest) => match page_origin.split_once("://") {
            Some((scheme, _)) => format!("{scheme}://{rest}"),
            None => return true,
        },
        None => api_base.to_owned(),
    };
    match (origin_of(&absolute), origin_of(page_origin)) {
        (Some(api), Some(page)) => api != page,
        // Not an absolute URL we understand: a relative path such as `api/v1`.
        (None, Some(_)) => absolute.contains("://"),
        (_, None) => true,
    }
}

/// `scheme://host[:port]` of an absolute URL, lower-cased, without a default port.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default()
        .rsplit('@')
        .next()
        .unwrap_or_default();
    if scheme.is_empty() || authority.is_empty() {
        return None;
    }
    let scheme = scheme.to_ascii_lowercase();
    let mut authority = authority.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => Some(":80"),
        "https" => Some(":443"),
        _ => None,
    };
    if let Some(port) = default_port
        && authority.ends_with(port)
    {
        authority.truncate(authority.len() - port.len());
    }
    Some(format!("{scheme}://{authority}"))
}

/// Percent-encodes everything but RFC 3986 unreserved characters, so an id can never
/// change the path it is put into.
fn encode_path_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use torii_shared::ErrorCode;

    #[test]
    fn error_bodies_decode_with_code_message_and_fields() {
        let err = ApiError::from_status_and_body(
            422,
            r#"{"error":{"code":"validation_failed","message":"Check the highlighted fields.",
                "fields":{"email":"Enter a valid email address."}}}"#,
        );
        assert_eq!(err.code(), Some(ErrorCode::ValidationFailed));
        assert_eq!(err.message(), "Check the highlighted fields.");
        assert_eq!(err.field("email"), Some("Enter a valid email address."));
        assert_eq!(err.field("password"), None);
    }

    #[test]
    fn invalid_code_keeps_tries_left_and_the_message() {
        let err = ApiError::from_status_and_body(
            422,
            r#"{"error":{"code":"invalid_code","message":"That code is not right. 4 tries left.","triesLeft":4}}"#,
        );
        match &err {
            ApiError::Server { status, detail } => {
                assert_eq!(*status, 422);
                assert_eq!(detail.tries_left, Some(4));
            }
            ApiError::Network => panic!("expected a server error"),
        }
        assert_eq!(err.message(), "That code is not right. 4 tries left.");
    }

    #[test]
    fn unreadable_error_bodies_become_the_generic_message() {
        for body in ["", "<html>Bad gateway</html>", r#"{"error":"nope"}"#] {
            let err = ApiError::from_status_and_body(502, body);
            assert_eq!(err, ApiError::Network);
            assert_eq!(err.message(), NETWORK_ERROR_MESSAGE);
            assert_eq!(err.to_string(), NETWORK_ERROR_MESSAGE);
        }
    }

    #[test]
    fn success_bodies_decode_and_garbage_is_a_network_error() {
        let me: Me = decode(200, r#"{"user":null,"session":null}"#).unwrap();
        assert_eq!(me, Me::signed_out());
        assert_eq!(decode::<Me>(200, "not json"), Err(ApiError::Network));
        assert!(matches!(
            decode::<Me>(
                401,
                r#"{"error":{"code":"unauthenticated","message":"Sign in."}}"#
            ),
            Err(ApiError::Server { status: 401, .. })
        ));
    }

    #[test]
    fn relative_bases_are_same_origin() {
        let page = "http://localhost:3000";
        assert!(!is_cross_origin("", page));
        assert!(!is_cross_origin("/auth", page));
        assert!(!is_cross_origin("http://localhost:3000", page));
        assert!(!is_cross_origin("HTTP://LOCALHOST:3000/api", page));
        assert!(!is_cross_origin("//localhost:3000/api", page));
    }

    #[test]
    fn other_hosts_ports_and_schemes_are_cross_origin() {
        let page = "http://localhost:3000";
        assert!(is_cross_origin("http://localhost:3001", page));
        assert!(is_cross_origin("https://localhost:3000", page));
        assert!(is_cross_origin("https://auth.example.com", page));
        assert!(is_cross_origin("//auth.example.com", page));
    }

    #[test]
    fn default_ports_do_not_make_an_origin_different() {
        assert!(!is_cross_origin(
            "https://example.com:443/auth",
            "https://example.com"
        ));
        assert!(!is_cross_origin(
            "http://example.com:80",
            "http://example.com"
        ));
    }

    #[test]
    fn client_trims_the_base_and_key() {
        let client = ApiClient::new(
            Some("https://auth.example.com/"),
            " pk_test_1 ",
            "http://localhost:3000",
        );
        assert_eq!(client.url("/me"), "https://auth.example.com/me");
        assert_eq!(client.publishable_key, "pk_test_1");
        assert!(client.include_credentials);
        let same = ApiClient::new(None, "", "http://localhost:3000");
        assert_eq!(same.url("/me"), "/me");
        assert!(!same.include_credentials);
    }

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(encode_path_segment("su_01HXYZ-a.b~c"), "su_01HXYZ-a.b~c");
        assert_eq!(encode_path_segment("../admin?x=1"), "..%2Fadmin%3Fx%3D1");
        assert_eq!(encode_path_segment("é"), "%C3%A9");
    }
}
