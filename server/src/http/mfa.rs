//! Second factors: the signed-in user's own (`GET /v1/me/mfa`, `POST /v1/me/mfa/totp`,
//! `POST /v1/me/mfa/totp/confirm`, `DELETE /v1/me/mfa/totp`, `POST /v1/me/mfa/backup-codes`),
//! the second step of a sign-in (`POST /v1/session/second-factor`, and with a passkey
//! `POST /v1/session/second-factor/passkey/options` then `POST /v1/session/second-factor/passkey`),
//! and the secret-key API's view (`GET` and `DELETE /v1/admin/users/{id}/mfa`). The rules live
//! in [`crate::methods::mfa`].
//!
//! Which sessions may call what: reading the factors, any session active or pending on
//! `second_factor` or `setup_mfa` (the second step shows the choices); enrolling and
//! confirming an authenticator, an active session or one pending on `setup_mfa`; the second
//! step, an active session or one pending on `second_factor`; removing a factor and new
//! backup codes, an active session only.

use super::admin::SecretKeyEnv;
use super::{AnySession, ApiJson, BearerOrCookie, Client, Env, Path};
use crate::error::ApiError;
use crate::{AuthenticatedSession, Torii};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use torii_shared::{
    BackupCodes, GateKey, PasskeyOptions, PasskeySignInRequest, SecondFactorRequest, SecondFactors,
    TotpConfirmRequest, TotpConfirmed, TotpEnrollment,
};

pub(super) fn routes() -> Router<Torii> {
    Router::new()
        .route("/v1/me/mfa", get(factors))
        .route("/v1/me/mfa/totp", post(enroll).delete(remove))
        .route("/v1/me/mfa/totp/confirm", post(confirm))
        .route("/v1/me/mfa/backup-codes", post(regenerate))
        .route("/v1/session/second-factor", post(verify))
        .route(
            "/v1/session/second-factor/passkey/options",
            post(passkey_options),
        )
        .route("/v1/session/second-factor/passkey", post(passkey))
}

pub(super) fn admin_routes() -> Router<Torii> {
    Router::new().route(
        "/v1/admin/users/{id}/mfa",
        get(admin_factors).delete(admin_reset),
    )
}

/// A session, active or pending only on one of `allowed`; a JWT session must not have been
/// revoked.
async fn session_allowing(
    parts: &mut Parts,
    torii: &Torii,
    allowed: &[GateKey],
) -> Result<AuthenticatedSession, ApiError> {
    let AnySession(found) = AnySession::from_request_parts(parts, torii).await?;
    if let Some(gate) = &found.info.current_gate
        && !allowed.contains(&gate.key)
    {
        return Err(ApiError::session_pending(gate.clone()));
    }
    torii.require_live_session(&found).await?;
    Ok(found)
}

/// Active only: removing a factor, new backup codes.
struct LiveSession(AuthenticatedSession);

impl FromRequestParts<Torii> for LiveSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, torii: &Torii) -> Result<Self, ApiError> {
        session_allowing(parts, torii, &[]).await.map(Self)
    }
}

/// Active, or pending on `setup_mfa`: enrolling.
struct SetupSession(AuthenticatedSession);

impl FromRequestParts<Torii> for SetupSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, torii: &Torii) -> Result<Self, ApiError> {
        session_allowing(parts, torii, &[GateKey::SetupMfa])
            .await
            .map(Self)
    }
}

/// Active, or pending on `second_factor`: the second step.
struct SecondStepSession(AuthenticatedSession);

impl FromRequestParts<Torii> for SecondStepSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, torii: &Torii) -> Result<Self, ApiError> {
        session_allowing(parts, torii, &[GateKey::SecondFactor])
            .await
            .map(Self)
    }
}

/// Active, or pending on either second-factor gate: reading the factors.
struct FactorsSession(AuthenticatedSession);

impl FromRequestParts<Torii> for FactorsSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, torii: &Torii) -> Result<Self, ApiError> {
        session_allowing(parts, torii, &[GateKey::SecondFactor, GateKey::SetupMfa])
            .await
            .map(Self)
    }
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The signed-in user's second factors.
#[utoipa::path(
    get,
    path = "/v1/me/mfa",
    operation_id = "getSecondFactors",
    tag = "mfa",
    security(("publishableKey" = [], "sessionCookie" = []), ("publishableKey" = [], "sessionBearer" = [])),
    responses(
        (status = 200, description = "Whether an authenticator is confirmed, backup codes left, passkeys", body = torii_shared::SecondFactors),
        (status = 401, description = "`unauthenticated`: no valid session"),
        (status = 403, description = "`session_pending` (pending on a gate other than `second_factor` or `setup_mfa`)")
    )
)]
async fn factors(
    State(torii): State<Torii>,
    FactorsSession(found): FactorsSession,
) -> Result<Response, ApiError> {
    let factors: SecondFactors = torii.second_factors(&found.user.id).await?;
    Ok(no_store(Json(factors).into_response()))
}

/// Starts adding an authenticator app: a secret, its `otpauth://` URI and QR code.
#[utoipa::path(
    post,
    path = "/v1/me/mfa/totp",
    operation_id = "enrollTotp",
    tag = "mfa",
    security(("publishableKey" = [], "sessionCookie" = []), ("publishableKey" = [], "sessionBearer" = [])),
    responses(
        (status = 201, description = "Unconfirmed until `POST /v1/me/mfa/totp/confirm`; replaces an older unconfirmed one", body = torii_shared::TotpEnrollment),
        (status = 401, description = "`unauthenticated`: no valid session"),
        (status = 403, description = "`session_pending`, `reauthentication_required`, `second_factor_required`, or `method_disabled` (second factors are off)"),
        (status = 409, description = "`mfa_already_enrolled`: remove the confirmed authenticator first")
    )
)]
async fn enroll(
    State(torii): State<Torii>,
    Env(env): Env,
    SetupSession(found): SetupSession,
) -> Result<Response, ApiError> {
    let enrollment: TotpEnrollment = torii.enroll_totp(&env, &found).await?;
    Ok(no_store(
        (StatusCode::CREATED, Json(enrollment)).into_response(),
    ))
}

/// Confirms the authenticator with its first code; the first second factor brings backup
/// codes, shown this once.
#[utoipa::path(
    post,
    path = "/v1/me/mfa/totp/confirm",
    operation_id = "confirmTotp",
    tag = "mfa",
    request_body = torii_shared::TotpConfirmRequest,
    security(("publishableKey" = [], "sessionCookie" = []), ("publishableKey" = [], "sessionBearer" = [])),
    responses(
        (status = 200, description = "Confirmed; `setup_mfa` is cleared", body = torii_shared::TotpConfirmed),
        (status = 401, description = "`unauthenticated`: no valid session"),
        (status = 403, description = "`session_pending` or `method_disabled`"),
        (status = 404, description = "`mfa_not_enrolled`: no enrolment waits for a code"),
        (status = 409, description = "`mfa_already_enrolled`"),
        (status = 422, description = "`invalid_code`, `code_expired`, or `validation_failed` (not 6 digits, on `code`)"),
        (status = 429, description = "`rate_limited`")
    )
)]
async fn confirm(
    State(torii): State<Torii>,
    Env(env): Env,
    Client(client): Client,
    SetupSession(found): SetupSession,
    ApiJson(body): ApiJson<TotpConfirmRequest>,
) -> Result<Response, ApiError> {
    let confirmed: TotpConfirmed = torii
        .confirm_totp(&env, &found, body.code.expose(), &client)
        .await?;
    Ok(no_store(Json(confirmed).into_response()))
}

/// Removes the authenticator and the backup codes.
#[utoipa::path(
    delete,
    path = "/v1/me/mfa/totp",
    operation_id = "removeTotp",
    tag = "mfa",
    security(("publishableKey" = [], "sessionCookie" = []), ("publishableKey" = [], "sessionBearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "`unauthenticated`: no valid session"),
        (status = 403, description = "`session_pending`, `reauthentication_required` or `second_factor_required`"),
        (status = 404, description = "`mfa_not_enrolled`"),
        (status = 409, description = "`mfa_required`: the environment requires a second factor and this is the last")
    )
)]
async fn remove(
    State(torii): State<Torii>,
    Env(env): Env,
    LiveSession(found): LiveSession,
) -> Result<StatusCode, ApiError> {
    torii.remove_totp(&env, &found).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replaces the backup codes with ten new ones (the old ones stop working).
#[utoipa::path(
    post,
    path = "/v1/me/mfa/backup-codes",
    operation_id = "regenerateBackupCodes",
    tag = "mfa",
    security(("publishableKey" = [], "sessionCookie" = []), ("publishableKey" = [], "sessionBearer" = [])),
    responses(
        (status = 201, description = "The new codes, shown this once", body = torii_shared::BackupCodes),
        (status = 401, description = "`unauthenticated`: no valid session"),
        (status = 403, description = "`session_pending`, `reauthentication_required`, `second_factor_required` or `method_disabled`"),
        (status = 404, description = "`mfa_not_enrolled`: no second factor to back up")
    )
)]
async fn regenerate(
    State(torii): State<Torii>,
    Env(env): Env,
    LiveSession(found): LiveSession,
) -> Result<Response, ApiError> {
    let codes: BackupCodes = torii.regenerate_backup_codes(&env, &found).await?;
    Ok(no_store((StatusCode::CREATED, Json(codes)).into_response()))
}

/// The second step of a sign-in: an authenticator or backup code clears `second_factor`.
#[utoipa::path(
    post,
    path = "/v1/session/second-factor",
    operation_id = "verifySecondFactor",
    tag = "mfa",
    request_body = torii_shared::SecondFactorRequest,
    security(("publishableKey" = [], "sessionCookie" = []), ("publishableKey" = [], "sessionBearer" = [])),
    responses(
        (status = 200, description = "The session's new state, with a new token: the old one stops working (the cookie gets it; a bearer client gets it as `token`; a JWT session gets a new JWT)", body = torii_shared::Me, headers(("Set-Cookie" = String, description = "The session's new cookie"))),
        (status = 401, description = "`unauthenticated`: no valid session"),
        (status = 403, description = "`session_pending` (on another gate)"),
        (status = 404, description = "`mfa_not_enrolled`: no authenticator"),
        (status = 422, description = "`invalid_code`, `code_expired`, `code_reused`, or `validation_failed` (the code is not the method's shape, on `code`)"),
        (status = 429, description = "`rate_limited`")
    )
)]
async fn verify(
    State(torii): State<Torii>,
    Env(env): Env,
    Client(client): Client,
    auth: BearerOrCookie,
    SecondStepSession(found): SecondStepSession,
    ApiJson(body): ApiJson<SecondFactorRequest>,
) -> Result<Response, ApiError> {
    let renewed = torii
        .verify_second_factor(&env, &found, body.method, body.code.expose(), &client)
        .await?;
    super::me::renewed(&torii, &env, &auth, found.kind, &renewed).await
}

/// Starts a passkey as the second step: a challenge only the user's passkeys answer.
#[utoipa::path(
    post,
    path = "/v1/session/second-factor/passkey/options",
    operation_id = "secondFactorPasskeyOptions",
    tag = "mfa",
    security(("publishableKey" = [], "sessionCookie" = []), ("publishableKey" = [], "sessionBearer" = [])),
    responses(
        (status = 200, description = "The ceremony and the `publicKey` options for `navigator.credentials.get()`", body = torii_shared::PasskeyOptions),
        (status = 401, description = "`unauthenticated`: no valid session"),
        (status = 403, description = "`session_pending` (on another gate); `method_disabled`: no passkeys here"),
        (status = 404, description = "`not_found`: the user has no passkey"),
        (status = 429, description = "`rate_limited`")
    )
)]
async fn passkey_options(
    State(torii): State<Torii>,
    Env(env): Env,
    Client(client): Client,
    SecondStepSession(found): SecondStepSession,
) -> Result<Response, ApiError> {
    let options: PasskeyOptions = torii
        .start_second_factor_passkey(&env, &found, &client)
        .await?;
    Ok(no_store(Json(options).into_response()))
}

/// Finishes a passkey as the second step, clearing `second_factor`.
#[utoipa::path(
    post,
    path = "/v1/session/second-factor/passkey",
    operation_id = "verifySecondFactorPasskey",
    tag = "mfa",
    request_body = torii_shared::PasskeySignInRequest,
    security(("publishableKey" = [], "sessionCookie" = []), ("publishableKey" = [], "sessionBearer" = [])),
    responses(
        (status = 200, description = "The session's new state, with a new token: the old one stops working (the cookie gets it; a bearer client gets it as `token`; a JWT session gets a new JWT)", body = torii_shared::Me, headers(("Set-Cookie" = String, description = "The session's new cookie"))),
        (status = 401, description = "`unauthenticated`; `unknown_passkey`"),
        (status = 403, description = "`session_pending` (on another gate); `method_disabled`"),
        (status = 422, description = "`ceremony_expired` (unknown, used, expired or another session's), `passkey_invalid` (another user's, or it did not verify)"),
        (status = 429, description = "`rate_limited`")
    )
)]
async fn passkey(
    State(torii): State<Torii>,
    Env(env): Env,
    Client(client): Client,
    auth: BearerOrCookie,
    SecondStepSession(found): SecondStepSession,
    ApiJson(body): ApiJson<PasskeySignInRequest>,
) -> Result<Response, ApiError> {
    let renewed = torii
        .finish_second_factor_passkey(&env, &found, &body.ceremony_id, &body.credential, &client)
        .await?;
    super::me::renewed(&torii, &env, &auth, found.kind, &renewed).await
}

/// A user's second factors.
#[utoipa::path(
    get,
    path = "/v1/admin/users/{id}/mfa",
    operation_id = "adminGetSecondFactors",
    tag = "admin",
    params(
        ("id" = String, Path, description = "The user, `usr_…`")
    ),
    security(("secretKey" = [])),
    responses(
        (status = 200, description = "The user's second factors", body = torii_shared::SecondFactors),
        (status = 401, description = "`invalid_secret_key`"),
        (status = 403, description = "`secret_key_required`: a publishable key was sent"),
        (status = 404, description = "`not_found`"),
        (status = 429, description = "`rate_limited` (with `Retry-After`): too many wrong secret keys from this address")
    )
)]
async fn admin_factors(
    State(torii): State<Torii>,
    SecretKeyEnv(env): SecretKeyEnv,
    Path(id): Path<String>,
) -> Result<Json<SecondFactors>, ApiError> {
    Ok(Json(torii.admin_second_factors(&env, &id).await?))
}

/// Removes a user's authenticator and backup codes (passkeys stay; remove those one by one).
#[utoipa::path(
    delete,
    path = "/v1/admin/users/{id}/mfa",
    operation_id = "adminResetSecondFactors",
    tag = "admin",
    params(
        ("id" = String, Path, description = "The user, `usr_…`")
    ),
    security(("secretKey" = [])),
    responses(
        (status = 204, description = "Reset; where second factors are required, the user is sent through `setup_mfa`"),
        (status = 401, description = "`invalid_secret_key`"),
        (status = 403, description = "`secret_key_required`: a publishable key was sent"),
        (status = 404, description = "`not_found`"),
        (status = 429, description = "`rate_limited` (with `Retry-After`): too many wrong secret keys from this address")
    )
)]
async fn admin_reset(
    State(torii): State<Torii>,
    SecretKeyEnv(env): SecretKeyEnv,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    torii.admin_reset_second_factors(&env, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
