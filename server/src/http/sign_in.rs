//! `POST /v1/sign-in/password`.

use super::{ApiJson, Client, Env, ip_key, limit, password_check, require_method, signed_in};
use crate::Torii;
use crate::error::ApiError;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use torii_shared::{PasswordSignInRequest, SignInMethod};

pub(super) fn routes() -> Router<Torii> {
    Router::new().route("/v1/sign-in/password", post(password))
}

async fn password(
    State(torii): State<Torii>,
    Env(env): Env,
    Client(client): Client,
    ApiJson(body): ApiJson<PasswordSignInRequest>,
) -> Result<Response, ApiError> {
    require_method(&env, SignInMethod::Password)?;
    let rule = env.rate_limits.sign_in_per_ip;
    limit(&torii, &env, &[("sign_in_ip", ip_key(&client), rule)]).await?;
    let done = password_check(
        &torii,
        &env,
        &body.email,
        torii.sign_in_with_password(&env, &body.email, &body.password, &client),
    )
    .await?;
    Ok(signed_in(&torii, &env, StatusCode::OK, &done))
}
