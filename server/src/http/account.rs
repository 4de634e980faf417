//! The signed-in user's account: `GET /v1/sessions`, `DELETE /v1/sessions/{id}`,
//! `DELETE /v1/sessions` (all others), `POST /v1/session/reauthenticate` (a password or a
//! passkey assertion), `POST /v1/session/reauthenticate/passkey/options`,
//! `GET /v1/me/sign-in-methods`, `PATCH /v1/me` (name), `POST /v1/me/password`,
//! `POST /v1/me/email` and `POST /v1/me/email/verify`. Every route needs an active session;
//! the rules live in [`crate::account`].

use super::Path;
use super::{ActiveSession, ApiJson, BearerOrCookie, Client, Env};
use crate::Torii;
use crate::error::ApiError;
use crate::session;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use axum::{Json, Router};
use torii_shared::{
    AccountMethods, ChangeEmailRequest, ChangePasswordRequest, PasskeyOptions, PasswordChanged,
    ReauthenticateRequest, ResendAccepted, SessionList, SessionsRevoked, UpdateProfileRequest,
    VerifyCodeRequest,
};

pub(super) fn routes() -> Router<Torii> {
    Router::new()
        .route("/v1/sessions", get(list).delete(revoke_others))
        .route("/v1/sessions/{id}", delete(revoke_one))
        .route("/v1/session/reauthenticate", post(reauthenticate))
        .route(
            "/v1/session/reauthenticate/passkey/options",
            post(reauthenticate_passkey_options),
        )
        .route("/v1/me/sign-in-methods", get(sign_in_methods))
        .route("/v1/me", patch(update_profile))
        .route("/v1/me/password", post(change_password))
        .route("/v1/me/email", post(start_email_change))
        .route("/v1/me/email/verify", post(verify_email_change))
}

/// An active session that may manage its account: [`ActiveSession`], and for a JWT session
/// one that was not revoked (its token alone would still verify).
struct AccountSession(crate::AuthenticatedSession);

impl axum::extract::FromRequestParts<Torii> for AccountSession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        torii: &Torii,
    ) -> Result<Self, Self::Rejection> {
        let ActiveSession(found) = ActiveSession::from_request_parts(parts, torii).await?;
        torii.require_live_session(&found).await?;
        Ok(Self(found))
    }
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The signed-in user's sessions.
#[utoipa::path(
    get,
    path = "/v1/sessions",
    operation_id = "listSessions",
    tag = "account",
    security(("publishableKey" = [], "sessionCookie" = []), ("publishableKey" = [], "sessionBearer" = [])),
    responses(
        (status = 200, description = "The user's sessions, most recently active first", body = torii_shared::SessionList),
        (status = 401, description = "`unauthenticated`: no valid session"),
        (status = 403, description = "`session_pending` (a gate is outstanding; `currentGate` names it)")
    )
)]
async fn list(
    State(torii): State<Torii>,
    Env(env): Env,
    AccountSession(found): AccountSession,
) -> Result<Response, ApiError> {
    let sessions = torii.list_sessions(&env, &found).await?;
    Ok(no_store(Json(SessionList { sessions }).into_response()))
}

/// Revokes one of the caller's sessions; another user's id is 404, exactly like an unknown
/// one. Revoking the current session signs out, so its cookie is cleared too.
#[utoipa::path(
    delete,
    path = "/v1/sessions/{id}",
    operation_id = "revokeSession",
    tag = "account",
    params(
        ("id" = String, Path, description = "The session, `ses_…`")
    ),
    security(("publishableKey" = [], "sessionCookie" = []), ("publishableKey" = [], "sessionBearer" = [])),
    responses(
        (status = 204, description = "Ended (the cookie is cleared when it was the current session)"),
        (status = 401, description = "`unauthenticated`: no valid session"),
        (status = 403, description = "`session_pending` (a gate is outstanding; `currentGate` names it)"),
        (status = 404, description = "`not_found`")
    )
)]
async fn revoke_one(
    State(torii): State<Torii>,
    Env(env): Env,
    AccountSession(found): AccountSession,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    torii.revoke_session(&found, &id).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    if id == found.session.id
        && let Ok(value) = HeaderValue::from_str(&session::clear_cookie(env.mode))
    {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// Ends every session of the user but the current one.
#[utoipa::path(
    delete,
    path = "/v1/sessions",
    operation_id = "revokeOtherSessions",
    tag = "account",
    security(("publishableKey" = [], "sessionCookie" = []), ("publishableKey" = [], "sessionBearer" = [])),
    responses(
        (status = 200, description = "How many other sessions were ended", body = torii_shared::SessionsRevoked),
        (status = 401, description = "`unauthenticated`: no valid session"),
        (status = 403, description = "`session_pending` (a gate is outstanding; `currentGate` names it)")
    )
)]
async fn revoke_others(
    State(torii): State<Torii>,
    AccountSession(found): AccountSession,
) -> Result<Json<SessionsRevoked>, ApiError> {
    let revoked = torii.revoke_other_sessions(&found).await?;
    Ok(Json(SessionsRevoked { revoked }))
}

/// The password, or an assertion of one of the user's passkeys; either makes the session's
/// sign-in recent again. For an account with second factors, an authenticator or backup code
/// makes its second factor recent (a passkey does both).
#[utoipa::path(
    post,
    path = "/v1/session/reauthenticate",
    operation_id = "reauthenticate",
    tag = "account",
    request_body = torii_shared::ReauthenticateRequest,
    security(("publishableKey" = [], "sessionCookie" = []), ("publishableKey" = [], "sessionBearer" = [])),
    responses(
        (status = 200, description = "Confirmed: sensitive changes are allowed for the environment's recent-sign-in window (10 minutes by default)", body = torii_shared::Me, headers(("Set-Cookie" = String, description = "The session cookie"))),
        (status = 401, description = "`unauthenticated`: no valid session; `unknown_passkey`: no such passkey is registered"),
        (status = 403, description = "`session_pending`; `method_disabled` (a passkey where the environment has none)"),
        (status = 404, description = "`mfa_not_enrolled`: a second-factor code from an account without an authenticator"),
        (status = 422, description = "`validation_failed`: a wrong password (on `password`), or the account has none, or a code of the wrong shape (on `code`); `ceremony_expired`: the passkey ceremony is unknown, used, expired or another session's; `passkey_invalid`: the assertion did not verify, or the passkey is another user's; `invalid_code`, `code_expired`, `code_reused`: a second-factor code that is not right"),
        (status = 429, description = "`rate_limited`")
    )
)]
async fn reauthenticate(
    State(torii): State<Torii>,
    Env(env): Env,
    Client(client): Client,
    auth: BearerOrCookie,
    AccountSession(found): AccountSession,
    ApiJson(body): ApiJson<ReauthenticateRequest>,
) -> Result<Response, ApiError> {
    let renewed = match &body {
        ReauthenticateRequest::Password { password } => {
            torii
                .reauthenticate(&env, &found, password, &client)
                .await?
        }
        ReauthenticateRequest::Passkey {
            ceremony_id,
            credential,
        } => {
            torii
                .reauthenticate_with_passkey(&env, &found, ceremony_id, credential, &client)
                .await?
        }
        ReauthenticateRequest::SecondFactor { method, code } => {
            // The second factor alone renews nothing: the session's token and its first
            // factor stay as they are.
            torii
                .reauthenticate_with_second_factor(&env, &found, *method, code.expose(), &client)
                .await?;
            return super::me::refreshed(&torii, &env, &auth).await;
        }
    };
    super::me::renewed(&torii, &env, &auth, found.kind, &renewed).await
}

/// A challenge only the user's own passkeys can answer, for `POST /v1/session/reauthenticate`.
#[utoipa::path(
    post,
    path = "/v1/session/reauthenticate/passkey/options",
    operation_id = "reauthenticatePasskeyOptions",
    tag = "account",
    security(("publishableKey" = [], "sessionCookie" = []), ("publishableKey" = [], "sessionBearer" = [])),
    responses(
        (status = 200, description = "The ceremony and the `publicKey` options for `navigator.credentials.get()`, naming only the user's own passkeys", body = torii_shared::PasskeyOptions),
        (status = 401, description = "`unauthenticated`: no valid session"),
        (status = 403, description = "`session_pending`; `method_disabled`: the environment offers no passkeys"),
        (status = 404, description = "`not_found`: the user has no passkey"),
        (status = 429, description = "`rate_limited`")
    )
)]
async fn reauthenticate_passkey_options(
    State(torii): State<Torii>,
    Env(env): Env,
    Client(client): Client,
    AccountSession(found): AccountSession,
) -> Result<Response, ApiError> {
    let options: PasskeyOptions = torii
        .start_passkey_reauthentication(&env, &found.user.id, &found.session.id, &client)
        .await?;
    Ok(no_store(Json(options).into_response()))
}

/// How the user can sign in (and so re-authenticate), and until when the sign-in is recent.
#[utoipa::path(
    get,
    path = "/v1/me/sign-in-methods",
    operation_id = "signInMethods",
    tag = "account",
    security(("publishableKey" = [], "sessionCookie" = []), ("publishableKey" = [], "sessionBearer" = [])),
    responses(
        (status = 200, description = "Whether the account has a password, how many passkeys, which providers are linked, and until when the sign-in counts as recent", body = torii_shared::AccountMethods),
        (status = 401, description = "`unauthenticated`: no valid session"),
        (status = 403, description = "`session_pending` (a gate is outstanding; `currentGate` names it)")
    )
)]
async fn sign_in_methods(
    State(torii): State<Torii>,
    AccountSession(found): AccountSession,
) -> Result<Response, ApiError> {
    let methods: AccountMethods = torii.account_methods(&found).await?;
    Ok(no_store(Json(methods).into_response()))
}

/// Changes the user's profile (the display name).
#[utoipa::path(
    patch,
    path = "/v1/me",
    operation_id = "updateProfile",
    tag = "account",
    request_body = torii_shared::UpdateProfileRequest,
    security(("publishableKey" = [], "sessionCookie" = []), ("publishableKey" = [], "sessionBearer" = [])),
    responses(
        (status = 200, description = "The updated user and session", body = torii_shared::Me, headers(("Set-Cookie" = String, description = "The session cookie"))),
        (status = 401, description = "`unauthenticated`: no valid session"),
        (status = 403, description = "`session_pending` (a gate is outstanding; `currentGate` names it)"),
        (status = 422, description = "`validation_failed` (see `fields`)")
    )
)]
async fn update_profile(
    State(torii): State<Torii>,
    Env(env): Env,
    auth: BearerOrCookie,
    AccountSession(found): AccountSession,
    ApiJson(body): ApiJson<UpdateProfileRequest>,
) -> Result<Response, ApiError> {
    if let Some(name) = &body.name {
        torii.update_name(&found, Some(name)).await?;
    }
    super::me::refreshed(&torii, &env, &auth).await
}

/// Changes (or sets) the password, optionally ending every other session.
#[utoipa::path(
    post,
    path = "/v1/me/password",
    operation_id = "changePassword",
    tag = "account",
    request_body = torii_shared::ChangePasswordRequest,
    security(("publishableKey" = [], "sessionCookie" = []), ("publishableKey" = [], "sessionBearer" = [])),
    responses(
        (status = 200, description = "Changed", body = torii_shared::PasswordChanged),
        (status = 401, description = "`unauthenticated`: no valid session"),
        (status = 403, description = "`session_pending`, `reauthentication_required` or `second_factor_required`"),
        (status = 422, description = "`validation_failed` (see `fields`; a wrong current password is on `currentPassword`), or `password_breached` (on `newPassword`)"),
        (status = 429, description = "`rate_limited`"),
        (status = 503, description = "`server_busy` (with `Retry-After`): the password-hashing queue is full; `password_check_unavailable`: the breached-password service cannot be asked and the server refuses meanwhile")
    )
)]
async fn change_password(
    State(torii): State<Torii>,
    Env(env): Env,
    Client(client): Client,
    AccountSession(found): AccountSession,
    ApiJson(body): ApiJson<ChangePasswordRequest>,
) -> Result<Response, ApiError> {
    let revoked_sessions = torii.change_password(&env, &found, &body, &client).await?;
    Ok(no_store(
        Json(PasswordChanged { revoked_sessions }).into_response(),
    ))
}

/// Starts moving the account to another address: a code goes to it.
#[utoipa::path(
    post,
    path = "/v1/me/email",
    operation_id = "startEmailChange",
    tag = "account",
    request_body = torii_shared::ChangeEmailRequest,
    security(("publishableKey" = [], "sessionCookie" = []), ("publishableKey" = [], "sessionBearer" = [])),
    responses(
        (status = 202, description = "A code was emailed to the new address", body = torii_shared::ResendAccepted),
        (status = 401, description = "`unauthenticated`: no valid session"),
        (status = 403, description = "`session_pending`, `reauthentication_required` or `second_factor_required`"),
        (status = 409, description = "`email_taken`"),
        (status = 410, description = "`code_attempts_exhausted`: too many wrong codes in this ceremony"),
        (status = 422, description = "`validation_failed` (see `fields`)"),
        (status = 429, description = "`rate_limited`, also during the resend cooldown"),
        (status = 503, description = "`mail_unavailable` or `store_unavailable`")
    )
)]
async fn start_email_change(
    State(torii): State<Torii>,
    Env(env): Env,
    Client(client): Client,
    AccountSession(found): AccountSession,
    ApiJson(body): ApiJson<ChangeEmailRequest>,
) -> Result<(StatusCode, Json<ResendAccepted>), ApiError> {
    let accepted = torii
        .start_email_change(&env, &found, &body.email, &client)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}

/// Finishes an email change with the code sent to the new address.
#[utoipa::path(
    post,
    path = "/v1/me/email/verify",
    operation_id = "verifyEmailChange",
    tag = "account",
    request_body = torii_shared::VerifyCodeRequest,
    security(("publishableKey" = [], "sessionCookie" = []), ("publishableKey" = [], "sessionBearer" = [])),
    responses(
        (status = 200, description = "The address is changed", body = torii_shared::Me, headers(("Set-Cookie" = String, description = "The session cookie"))),
        (status = 401, description = "`unauthenticated`: no valid session"),
        (status = 403, description = "`session_pending`, `reauthentication_required` or `second_factor_required`"),
        (status = 404, description = "`not_found`: no change is waiting"),
        (status = 409, description = "`email_taken`"),
        (status = 410, description = "`code_attempts_exhausted`: too many wrong codes in this ceremony"),
        (status = 422, description = "`invalid_code` (with `triesLeft`), `code_expired` or `validation_failed`"),
        (status = 429, description = "`rate_limited`")
    )
)]
async fn verify_email_change(
    State(torii): State<Torii>,
    Env(env): Env,
    Client(client): Client,
    auth: BearerOrCookie,
    AccountSession(found): AccountSession,
    ApiJson(body): ApiJson<VerifyCodeRequest>,
) -> Result<Response, ApiError> {
    torii
        .verify_email_change(&env, &found, &body.code, &client)
        .await?;
    super::me::refreshed(&torii, &env, &auth).await
}
