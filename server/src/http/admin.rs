//! The secret-key API for application backends (`Authorization: Bearer sk_…`, never browsers):
//! users, sessions, and gates on either.

use super::{ApiJson, Client};
use super::{Path, Query};
use crate::admin::{CreateUserError, NewUser};
use crate::error::ApiError;
use crate::gates::GateError;
use crate::store::GateTarget;
use crate::{Environment, Torii, session::SessionToken, user_payload};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use torii_shared::{ErrorCode, GateKey, Me, Secret, User};

pub(super) fn routes() -> Router<Torii> {
    Router::new()
        .route("/v1/admin/users", get(find_users).post(create_user))
        .route("/v1/admin/users/{id}", get(get_user).delete(delete_user))
        .route("/v1/admin/users/{id}/gates", post(require_user_gate))
        .route("/v1/admin/users/{id}/gates/{key}", delete(clear_user_gate))
        .route("/v1/admin/sessions/verify", post(verify_session))
        .route("/v1/admin/jwt-keys/rotate", post(rotate_jwt_key))
        .route("/v1/admin/sessions/{id}", delete(revoke_session))
        .route("/v1/admin/sessions/{id}/gates", post(require_session_gate))
        .route(
            "/v1/admin/sessions/{id}/gates/{key}",
            delete(clear_session_gate),
        )
}

/// The environment named by the request's secret key.
#[derive(Debug, Clone)]
pub struct SecretKeyEnv(pub Arc<Environment>);

impl FromRequestParts<Torii> for SecretKeyEnv {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, torii: &Torii) -> Result<Self, Self::Rejection> {
        let key = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .unwrap_or_default();
        if key.starts_with("pk_") {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::SecretKeyRequired,
                "This route needs the secret key, not the publishable key.",
            ));
        }
        if let Some(env) = torii
            .environments()
            .iter()
            .find(|env| !key.is_empty() && env.secret_key_matches(key))
        {
            return Ok(Self(Arc::clone(env)));
        }
        let Ok(Client(client)) = Client::from_request_parts(parts, torii).await;
        torii
            .wrong_secret_key(crate::rate_limit::IpKey::of(&client).as_str())
            .await?;
        Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::InvalidSecretKey,
            "Send a valid secret key as `Authorization: Bearer sk_…`.",
        ))
    }
}

impl From<GateError> for ApiError {
    fn from(error: GateError) -> Self {
        match error {
            GateError::NotFound => Self::not_found("No such user or session."),
            GateError::InvalidKey => Self::validation(crate::validate::FieldErrors::from([(
                "key".to_owned(),
                "Use 1 to 64 characters: a-z, 0-9 and _.".to_owned(),
            )])),
            GateError::Store(e) => e.into(),
        }
    }
}

#[derive(Debug, Deserialize)]
struct EmailQuery {
    email: Option<String>,
}

/// `GET /v1/admin/users?email=` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct UserList {
    users: Vec<User>,
}

/// Looks a user up by email.
#[utoipa::path(
    get,
    path = "/v1/admin/users",
    operation_id = "adminFindUsers",
    tag = "admin",
    params(
        ("email" = String, Query, description = "The email to look up (compared canonically)")
    ),
    security(("secretKey" = [])),
    responses(
        (status = 200, description = "The user with that email, if any", body = UserList),
        (status = 401, description = "`invalid_secret_key`"),
        (status = 429, description = "`rate_limited` (with `Retry-After`): too many wrong secret keys from this address"),
        (status = 403, description = "`secret_key_required`: a publishable key was sent"),
        (status = 422, description = "`validation_failed`: no `email`")
    )
)]
async fn find_users(
    State(torii): State<Torii>,
    SecretKeyEnv(env): SecretKeyEnv,
    Query(query): Query<EmailQuery>,
) -> Result<Json<UserList>, ApiError> {
    let Some(email) = query.email else {
        return Err(ApiError::validation(crate::validate::FieldErrors::from([
            ("email".to_owned(), "Give the email to look up.".to_owned()),
        ])));
    };
    let found = torii.find_user_by_email(&env, &email).await?;
    let users = found.iter().map(user_payload).collect();
    Ok(Json(UserList { users }))
}

/// `POST /v1/admin/users`: a user made by the application's backend.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CreateUser {
    email: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    password: Option<Secret>,
    #[serde(default)]
    email_verified: bool,
}

impl std::fmt::Debug for CreateUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateUser")
            .field("email", &self.email)
            .field("email_verified", &self.email_verified)
            .finish_non_exhaustive()
    }
}

/// Creates a user from a backend (an import, an invitation); their email is unverified unless
/// the caller says otherwise.
#[utoipa::path(
    post,
    path = "/v1/admin/users",
    operation_id = "adminCreateUser",
    tag = "admin",
    request_body = CreateUser,
    security(("secretKey" = [])),
    responses(
        (status = 201, description = "The new user", body = torii_shared::User),
        (status = 401, description = "`invalid_secret_key`"),
        (status = 429, description = "`rate_limited` (with `Retry-After`): too many wrong secret keys from this address"),
        (status = 403, description = "`secret_key_required`: a publishable key was sent"),
        (status = 409, description = "`email_taken`"),
        (status = 422, description = "`validation_failed` (see `fields`)")
    )
)]
async fn create_user(
    State(torii): State<Torii>,
    SecretKeyEnv(env): SecretKeyEnv,
    ApiJson(body): ApiJson<CreateUser>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let new = NewUser {
        email: body.email,
        name: body.name,
        password: body.password,
        email_verified: body.email_verified,
    };
    let user = torii.create_user(&env, &new).await?;
    Ok((StatusCode::CREATED, Json(user_payload(&user))))
}

impl From<CreateUserError> for ApiError {
    fn from(error: CreateUserError) -> Self {
        match error {
            CreateUserError::Validation(fields) => Self::validation(fields),
            CreateUserError::EmailTaken => Self::new(
                StatusCode::CONFLICT,
                ErrorCode::EmailTaken,
                "A user with this email already exists.",
            ),
            CreateUserError::Breached(e) => Self::breached_password("password", &e),
            CreateUserError::Hash(e) => e.into(),
            CreateUserError::Store(e) => e.into(),
        }
    }
}

fn no_such_user() -> ApiError {
    ApiError::not_found("No such user.")
}

/// One user.
#[utoipa::path(
    get,
    path = "/v1/admin/users/{id}",
    operation_id = "adminGetUser",
    tag = "admin",
    params(
        ("id" = String, Path, description = "The user, `usr_…`")
    ),
    security(("secretKey" = [])),
    responses(
        (status = 200, description = "The user", body = torii_shared::User),
        (status = 401, description = "`invalid_secret_key`"),
        (status = 429, description = "`rate_limited` (with `Retry-After`): too many wrong secret keys from this address"),
        (status = 403, description = "`secret_key_required`: a publishable key was sent"),
        (status = 404, description = "`not_found`")
    )
)]
async fn get_user(
    State(torii): State<Torii>,
    SecretKeyEnv(env): SecretKeyEnv,
    Path(id): Path<String>,
) -> Result<Json<User>, ApiError> {
    let user = torii.user_in_environment(&env, &id).await?;
    user.map(|u| Json(user_payload(&u)))
        .ok_or_else(no_such_user)
}

/// Deletes a user.
#[utoipa::path(
    delete,
    path = "/v1/admin/users/{id}",
    operation_id = "adminDeleteUser",
    tag = "admin",
    params(
        ("id" = String, Path, description = "The user, `usr_…`")
    ),
    security(("secretKey" = [])),
    responses(
        (status = 204, description = "Deleted, with every session, passkey and linked account"),
        (status = 401, description = "`invalid_secret_key`"),
        (status = 429, description = "`rate_limited` (with `Retry-After`): too many wrong secret keys from this address"),
        (status = 403, description = "`secret_key_required`: a publishable key was sent"),
        (status = 404, description = "`not_found`")
    )
)]
async fn delete_user(
    State(torii): State<Torii>,
    SecretKeyEnv(env): SecretKeyEnv,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if torii.delete_user(&env, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(no_such_user())
    }
}

/// The gate to require.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct GateBody {
    key: String,
}

/// Requires a gate on every session of a user (and on the sessions it signs in to later).
#[utoipa::path(
    post,
    path = "/v1/admin/users/{id}/gates",
    operation_id = "adminRequireUserGate",
    tag = "admin",
    params(
        ("id" = String, Path, description = "The user, `usr_…`")
    ),
    request_body = GateBody,
    security(("secretKey" = [])),
    responses(
        (status = 204, description = "Done"),
        (status = 401, description = "`invalid_secret_key`"),
        (status = 429, description = "`rate_limited` (with `Retry-After`): too many wrong secret keys from this address"),
        (status = 403, description = "`secret_key_required`: a publishable key was sent"),
        (status = 404, description = "`not_found`: no such user or session"),
        (status = 422, description = "`validation_failed`: not a gate key")
    )
)]
async fn require_user_gate(
    State(torii): State<Torii>,
    SecretKeyEnv(env): SecretKeyEnv,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<GateBody>,
) -> Result<StatusCode, ApiError> {
    let key = GateKey::parse(&body.key);
    torii
        .require_gate(&env, GateTarget::User(&id), &key)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Clears a gate on a user.
#[utoipa::path(
    delete,
    path = "/v1/admin/users/{id}/gates/{key}",
    operation_id = "adminClearUserGate",
    tag = "admin",
    params(
        ("id" = String, Path, description = "The user, `usr_…`"),
        ("key" = String, Path, description = "The gate key")
    ),
    security(("secretKey" = [])),
    responses(
        (status = 204, description = "Done"),
        (status = 401, description = "`invalid_secret_key`"),
        (status = 429, description = "`rate_limited` (with `Retry-After`): too many wrong secret keys from this address"),
        (status = 403, description = "`secret_key_required`: a publishable key was sent"),
        (status = 404, description = "`not_found`: no such user or session"),
        (status = 422, description = "`validation_failed`: not a gate key")
    )
)]
async fn clear_user_gate(
    State(torii): State<Torii>,
    SecretKeyEnv(env): SecretKeyEnv,
    Path((id, key)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let key = GateKey::parse(&key);
    torii.clear_gate(&env, GateTarget::User(&id), &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Requires a gate on one session.
#[utoipa::path(
    post,
    path = "/v1/admin/sessions/{id}/gates",
    operation_id = "adminRequireSessionGate",
    tag = "admin",
    params(
        ("id" = String, Path, description = "The session, `ses_…`")
    ),
    request_body = GateBody,
    security(("secretKey" = [])),
    responses(
        (status = 204, description = "Done"),
        (status = 401, description = "`invalid_secret_key`"),
        (status = 429, description = "`rate_limited` (with `Retry-After`): too many wrong secret keys from this address"),
        (status = 403, description = "`secret_key_required`: a publishable key was sent"),
        (status = 404, description = "`not_found`: no such user or session"),
        (status = 422, description = "`validation_failed`: not a gate key")
    )
)]
async fn require_session_gate(
    State(torii): State<Torii>,
    SecretKeyEnv(env): SecretKeyEnv,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<GateBody>,
) -> Result<StatusCode, ApiError> {
    let key = GateKey::parse(&body.key);
    torii
        .require_gate(&env, GateTarget::Session(&id), &key)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Clears a gate on one session.
#[utoipa::path(
    delete,
    path = "/v1/admin/sessions/{id}/gates/{key}",
    operation_id = "adminClearSessionGate",
    tag = "admin",
    params(
        ("id" = String, Path, description = "The session, `ses_…`"),
        ("key" = String, Path, description = "The gate key")
    ),
    security(("secretKey" = [])),
    responses(
        (status = 204, description = "Done"),
        (status = 401, description = "`invalid_secret_key`"),
        (status = 429, description = "`rate_limited` (with `Retry-After`): too many wrong secret keys from this address"),
        (status = 403, description = "`secret_key_required`: a publishable key was sent"),
        (status = 404, description = "`not_found`: no such user or session"),
        (status = 422, description = "`validation_failed`: not a gate key")
    )
)]
async fn clear_session_gate(
    State(torii): State<Torii>,
    SecretKeyEnv(env): SecretKeyEnv,
    Path((id, key)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let key = GateKey::parse(&key);
    torii
        .clear_gate(&env, GateTarget::Session(&id), &key)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A session token a browser gave the application's backend.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct VerifyBody {
    token: Secret,
}

impl std::fmt::Debug for VerifyBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VerifyBody { token: [redacted] }")
    }
}

/// A session token from a browser, checked by a backend: the `Me` payload or 401.
#[utoipa::path(
    post,
    path = "/v1/admin/sessions/verify",
    operation_id = "adminVerifySession",
    tag = "admin",
    request_body = VerifyBody,
    security(("secretKey" = [])),
    responses(
        (status = 200, description = "The session's user and state", body = torii_shared::Me),
        (status = 401, description = "`invalid_secret_key`, or `unauthenticated`: the token is not a live session"),
        (status = 429, description = "`rate_limited` (with `Retry-After`): too many wrong secret keys from this address"),
        (status = 403, description = "`secret_key_required`: a publishable key was sent")
    )
)]
async fn verify_session(
    State(torii): State<Torii>,
    SecretKeyEnv(env): SecretKeyEnv,
    ApiJson(body): ApiJson<VerifyBody>,
) -> Result<Json<Me>, ApiError> {
    let token = SessionToken::from_client(body.token.expose());
    torii
        .authenticate(&env, &token)
        .await?
        .map(|found| Json(found.me()))
        .ok_or_else(ApiError::unauthenticated)
}

/// The id (`kid`) of the new JWT signing key.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct Rotated {
    kid: String,
}

/// Adds a new JWT signing key for the environment; its older keys keep verifying until their
/// tokens expire.
#[utoipa::path(
    post,
    path = "/v1/admin/jwt-keys/rotate",
    operation_id = "adminRotateJwtKey",
    tag = "admin",
    security(("secretKey" = [])),
    responses(
        (status = 200, description = "The new key's id", body = Rotated),
        (status = 401, description = "`invalid_secret_key`"),
        (status = 429, description = "`rate_limited` (with `Retry-After`): too many wrong secret keys from this address"),
        (status = 403, description = "`secret_key_required`: a publishable key was sent"),
        (status = 404, description = "`not_found`: the environment does not use JWT sessions")
    )
)]
async fn rotate_jwt_key(
    State(torii): State<Torii>,
    SecretKeyEnv(env): SecretKeyEnv,
) -> Result<Json<Rotated>, ApiError> {
    let kid = torii
        .rotate_jwt_key(&env)
        .await
        .map_err(|e| ApiError::internal(&e))?
        .ok_or_else(|| ApiError::not_found("This environment does not use JWT sessions."))?;
    Ok(Json(Rotated { kid }))
}

/// Ends a session at once.
#[utoipa::path(
    delete,
    path = "/v1/admin/sessions/{id}",
    operation_id = "adminRevokeSession",
    tag = "admin",
    params(
        ("id" = String, Path, description = "The session, `ses_…`")
    ),
    security(("secretKey" = [])),
    responses(
        (status = 204, description = "Ended"),
        (status = 401, description = "`invalid_secret_key`"),
        (status = 429, description = "`rate_limited` (with `Retry-After`): too many wrong secret keys from this address"),
        (status = 403, description = "`secret_key_required`: a publishable key was sent"),
        (status = 404, description = "`not_found`")
    )
)]
async fn revoke_session(
    State(torii): State<Torii>,
    SecretKeyEnv(env): SecretKeyEnv,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    if torii.end_session(&env, &id).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found("No such session."))
    }
}
