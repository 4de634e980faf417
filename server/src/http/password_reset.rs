//! `POST /v1/password-resets` and `POST /v1/password-resets/complete`.

use super::{ApiJson, Client, Env, account_key, ip_key, limit, require_method, signed_in};
use crate::Torii;
use crate::error::ApiError;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use axum::{Json, Router};
use torii_shared::{EmailAccepted, PasswordResetComplete, PasswordResetRequest, SignInMethod};

pub(super) fn routes() -> Router<Torii> {
    Router::new()
        .route("/v1/password-resets", post(request))
        .route("/v1/password-resets/complete", post(complete))
}

async fn request(
    State(torii): State<Torii>,
    Env(env): Env,
    Client(client): Client,
    ApiJson(body): ApiJson<PasswordResetRequest>,
) -> Result<(StatusCode, Json<EmailAccepted>), ApiError> {
    require_method(&env, SignInMethod::Password)?;
    let rules = env.rate_limits;
    let address = account_key(&body.email);
    limit(
        &torii,
        &env,
        &[
            ("email_ip", ip_key(&client), rules.emails_per_ip),
            ("email_address", &address, rules.emails_per_address),
        ],
    )
    .await?;
    torii.request_password_reset(&env, &body.email).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(EmailAccepted {
            status: "accepted".to_owned(),
        }),
    ))
}

/// Sets the new password, revokes every session of the user, and signs them in afresh.
async fn complete(
    State(torii): State<Torii>,
    Env(env): Env,
    Client(client): Client,
    ApiJson(body): ApiJson<PasswordResetComplete>,
) -> Result<Response, ApiError> {
    require_method(&env, SignInMethod::Password)?;
    let rules = env.rate_limits;
    let account = account_key(&body.email);
    limit(
        &torii,
        &env,
        &[
            ("verify_ip", ip_key(&client), rules.verifications_per_ip),
            ("reset_account", &account, rules.resets_per_account),
        ],
    )
    .await?;
    let done = torii
        .complete_password_reset(&env, &body.email, &body.code, &body.password, &client)
        .await?;
    Ok(signed_in(&torii, &env, StatusCode::OK, &done))
}
