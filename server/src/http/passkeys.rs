//! Passkeys: `POST /v1/passkeys/sign-in/options`, `POST /v1/passkeys/sign-in`, and for the
//! signed-in user `POST /v1/passkeys/registration/options`, `POST /v1/passkeys`,
//! `GET /v1/passkeys`, `PATCH /v1/passkeys/{id}`, `DELETE /v1/passkeys/{id}`.

use super::Path;
use super::{ActiveSession, ApiJson, Client, Env, signed_in};
use crate::Torii;
use crate::error::ApiError;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{patch, post};
use axum::{Json, Router};
use torii_shared::{
    PasskeyInfo, PasskeyOptions, PasskeyRegistrationRequest, PasskeySignInRequest,
    RenamePasskeyRequest,
};

pub(super) fn routes() -> Router<Torii> {
    Router::new()
        .route("/v1/passkeys/sign-in/options", post(sign_in_options))
        .route("/v1/passkeys/sign-in", post(sign_in))
        .route(
            "/v1/passkeys/registration/options",
            post(registration_options),
        )
        .route("/v1/passkeys", post(register).get(list))
        .route("/v1/passkeys/{id}", patch(rename).delete(remove))
}

/// Ceremony options carry a fresh challenge: never cached.
fn no_store(value: impl IntoResponse) -> Response {
    let mut response = value.into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Starts a passkey sign-in (discoverable credentials: no email needed).
#[utoipa::path(
    post,
    path = "/v1/passkeys/sign-in/options",
    operation_id = "passkeySignInOptions",
    tag = "passkeys",
    security(("publishableKey" = [])),
    responses(
        (status = 200, description = "A ceremony for `navigator.credentials.get()`", body = torii_shared::PasskeyOptions),
        (status = 403, description = "`method_disabled`: passkeys are not enabled"),
        (status = 429, description = "`rate_limited`")
    )
)]
async fn sign_in_options(
    State(torii): State<Torii>,
    Env(env): Env,
    Client(client): Client,
) -> Result<Response, ApiError> {
    let options: PasskeyOptions = torii.start_passkey_sign_in(&env, &client).await?;
    Ok(no_store(Json(options)))
}

/// Finishes a passkey sign-in.
#[utoipa::path(
    post,
    path = "/v1/passkeys/sign-in",
    operation_id = "signInWithPasskey",
    tag = "passkeys",
    request_body = torii_shared::PasskeySignInRequest,
    security(("publishableKey" = [])),
    responses(
        (status = 200, description = "Signed in", body = torii_shared::Me, headers(("Set-Cookie" = String, description = "The session cookie"))),
        (status = 401, description = "`unknown_passkey`"),
        (status = 403, description = "`method_disabled`: passkeys are not enabled"),
        (status = 422, description = "`ceremony_expired`, `passkey_invalid` or `validation_failed`"),
        (status = 429, description = "`rate_limited`")
    )
)]
async fn sign_in(
    State(torii): State<Torii>,
    Env(env): Env,
    Client(client): Client,
    ApiJson(body): ApiJson<PasskeySignInRequest>,
) -> Result<Response, ApiError> {
    let done = torii
        .finish_passkey_sign_in(&env, &body.ceremony_id, &body.credential, &client)
        .await?;
    Ok(signed_in(&torii, &env, StatusCode::OK, &done))
}

/// Starts adding a passkey to the signed-in user (needs a recent sign-in).
#[utoipa::path(
    post,
    path = "/v1/passkeys/registration/options",
    operation_id = "passkeyRegistrationOptions",
    tag = "passkeys",
    security(("publishableKey" = [], "sessionCookie" = []), ("publishableKey" = [], "sessionBearer" = [])),
    responses(
        (status = 200, description = "A ceremony for `navigator.credentials.create()`", body = torii_shared::PasskeyOptions),
        (status = 401, description = "`unauthenticated`: no valid session"),
        (status = 403, description = "`session_pending`, `reauthentication_required`, `second_factor_required` or `method_disabled`"),
        (status = 429, description = "`rate_limited`")
    )
)]
async fn registration_options(
    State(torii): State<Torii>,
    Env(env): Env,
    Client(client): Client,
    ActiveSession(auth): ActiveSession,
) -> Result<Response, ApiError> {
    // Needs a recent sign-in, as every sensitive change does (checked first).
    let options = torii
        .start_passkey_registration(&env, &auth, &client)
        .await?;
    Ok(no_store(Json(options)))
}

/// Finishes adding a passkey.
#[utoipa::path(
    post,
    path = "/v1/passkeys",
    operation_id = "registerPasskey",
    tag = "passkeys",
    request_body = torii_shared::PasskeyRegistrationRequest,
    security(("publishableKey" = [], "sessionCookie" = []), ("publishableKey" = [], "sessionBearer" = [])),
    responses(
        (status = 201, description = "The new passkey", body = torii_shared::PasskeyInfo),
        (status = 401, description = "`unauthenticated`: no valid session"),
        (status = 403, description = "`session_pending` or `method_disabled`"),
        (status = 409, description = "`passkey_taken`"),
        (status = 422, description = "`ceremony_expired`, `passkey_invalid` or `validation_failed`")
    )
)]
async fn register(
    State(torii): State<Torii>,
    Env(env): Env,
    ActiveSession(auth): ActiveSession,
    ApiJson(body): ApiJson<PasskeyRegistrationRequest>,
) -> Result<(StatusCode, Json<PasskeyInfo>), ApiError> {
    let passkey = torii
        .finish_passkey_registration(
            &env,
            &auth.user,
            &body.ceremony_id,
            &body.credential,
            body.name.as_deref(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(passkey)))
}

/// The signed-in user's passkeys.
#[utoipa::path(
    get,
    path = "/v1/passkeys",
    operation_id = "listPasskeys",
    tag = "passkeys",
    security(("publishableKey" = [], "sessionCookie" = []), ("publishableKey" = [], "sessionBearer" = [])),
    responses(
        (status = 200, description = "The user's passkeys, oldest first", body = Vec<torii_shared::PasskeyInfo>),
        (status = 401, description = "`unauthenticated`: no valid session"),
        (status = 403, description = "`session_pending` (a gate is outstanding; `currentGate` names it)")
    )
)]
async fn list(
    State(torii): State<Torii>,
    ActiveSession(auth): ActiveSession,
) -> Result<Response, ApiError> {
    let passkeys = torii.list_passkeys(&auth.user.id).await?;
    Ok(no_store(Json(passkeys)))
}

/// Renames a passkey.
#[utoipa::path(
    patch,
    path = "/v1/passkeys/{id}",
    operation_id = "renamePasskey",
    tag = "passkeys",
    params(
        ("id" = String, Path, description = "The passkey, `pky_…`")
    ),
    request_body = torii_shared::RenamePasskeyRequest,
    security(("publishableKey" = [], "sessionCookie" = []), ("publishableKey" = [], "sessionBearer" = [])),
    responses(
        (status = 200, description = "The renamed passkey", body = torii_shared::PasskeyInfo),
        (status = 401, description = "`unauthenticated`: no valid session"),
        (status = 403, description = "`session_pending` (a gate is outstanding; `currentGate` names it)"),
        (status = 404, description = "`not_found`"),
        (status = 422, description = "`validation_failed`")
    )
)]
async fn rename(
    State(torii): State<Torii>,
    ActiveSession(auth): ActiveSession,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RenamePasskeyRequest>,
) -> Result<Json<PasskeyInfo>, ApiError> {
    Ok(Json(
        torii.rename_passkey(&auth.user.id, &id, &body.name).await?,
    ))
}

/// Deletes a passkey (needs a recent sign-in; never the last way to sign in).
#[utoipa::path(
    delete,
    path = "/v1/passkeys/{id}",
    operation_id = "deletePasskey",
    tag = "passkeys",
    params(
        ("id" = String, Path, description = "The passkey, `pky_…`")
    ),
    security(("publishableKey" = [], "sessionCookie" = []), ("publishableKey" = [], "sessionBearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "`unauthenticated`: no valid session"),
        (status = 403, description = "`session_pending`, `reauthentication_required` or `second_factor_required`"),
        (status = 404, description = "`not_found`"),
        (status = 409, description = "`last_sign_in_method`; `mfa_required`: the last second factor where second factors are required")
    )
)]
async fn remove(
    State(torii): State<Torii>,
    Env(env): Env,
    ActiveSession(auth): ActiveSession,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    torii.remove_passkey(&env, &auth, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
