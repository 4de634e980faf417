//! `POST /v1/sign-ups`, `/v1/sign-ups/{id}/verify` and `/v1/sign-ups/{id}/resend`, and
//! `/v1/sign-ups/{id}/continue`, the consent step of a new user who came through OAuth.

use super::{ApiJson, Client, Env, account_key, ip_key, limit, signed_in};
use crate::Torii;
use crate::error::ApiError;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use axum::{Json, Router};
use torii_shared::{
    ContinueSignUpRequest, ResendAccepted, SignUpCreated, SignUpRequest, VerifyCodeRequest,
};

pub(super) fn routes() -> Router<Torii> {
    Router::new()
        .route("/v1/sign-ups", post(start))
        .route("/v1/sign-ups/{id}/verify", post(verify))
        .route("/v1/sign-ups/{id}/resend", post(resend))
        .route("/v1/sign-ups/{id}/continue", post(continue_sign_up))
}

async fn continue_sign_up(
    State(torii): State<Torii>,
    Env(env): Env,
    Client(client): Client,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ContinueSignUpRequest>,
) -> Result<Response, ApiError> {
    super::require_method(&env, torii_shared::SignInMethod::Oauth)?;
    let rule = env.rate_limits.verifications_per_ip;
    limit(&torii, &env, &[("verify_ip", ip_key(&client), rule)]).await?;
    let done = torii
        .continue_oauth_sign_up(&env, &id, body.legal_accepted, &client)
        .await?;
    Ok(signed_in(&torii, &env, StatusCode::OK, &done))
}

async fn start(
    State(torii): State<Torii>,
    Env(env): Env,
    Client(client): Client,
    ApiJson(body): ApiJson<SignUpRequest>,
) -> Result<(StatusCode, Json<SignUpCreated>), ApiError> {
    let rules = env.rate_limits;
    let address = account_key(&body.email);
    limit(
        &torii,
        &env,
        &[
            ("sign_up_ip", ip_key(&client), rules.sign_ups_per_ip),
            ("email_ip", ip_key(&client), rules.emails_per_ip),
            ("email_address", &address, rules.emails_per_address),
        ],
    )
    .await?;
    let created = torii.start_sign_up(&env, &body).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn verify(
    State(torii): State<Torii>,
    Env(env): Env,
    Client(client): Client,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<VerifyCodeRequest>,
) -> Result<Response, ApiError> {
    let rule = env.rate_limits.verifications_per_ip;
    limit(&torii, &env, &[("verify_ip", ip_key(&client), rule)]).await?;
    let done = torii.verify_sign_up(&env, &id, &body.code, &client).await?;
    Ok(signed_in(&torii, &env, StatusCode::OK, &done))
}

async fn resend(
    State(torii): State<Torii>,
    Env(env): Env,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<ResendAccepted>), ApiError> {
    let rule = env.rate_limits.emails_per_ip;
    limit(&torii, &env, &[("email_ip", ip_key(&client), rule)]).await?;
    let accepted = torii.resend_sign_up_code(&env, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}
