//! `GET /openapi.json`: the OpenAPI 3.1 document of every route, generated from the handlers'
//! `#[utoipa::path]` annotations and the wire types of `torii-shared` (their `openapi` feature).
//!
//! The annotations name what is particular to a route; [`CommonAnswers`] adds what every route
//! behind the same layer can answer, so that no route forgets one: the error body on every
//! 4xx/5xx, 403 for the environment layer (unknown publishable key, foreign Origin), 400 for
//! path and query parameters, 400, 413, 415 and 422 for a JSON body, 503 when the store is
//! down, `Retry-After` on every 429 and on the 503 of every route that uses the store.

use super::{account, admin, gates, health, jwks, magic_link, me, mfa, oauth, passkeys};
use super::{password_reset, sign_in, sign_up};
use crate::Torii;
use crate::error::{ApiError, InternalError, InternalSource};
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::OnceLock;
use torii_shared::PUBLISHABLE_KEY_HEADER;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, Response as OaResponse};
use utoipa::{Modify, OpenApi};

pub(super) fn routes() -> Router<Torii> {
    Router::new().route("/openapi.json", get(openapi_json))
}

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Torii",
        description = "Torii's HTTP API: users, sessions and every sign-in method. JSON in and \
            out, camelCase fields. Every error answers `{\"error\": {\"code\", \"message\", \
            \"fields\"?}}` with a stable snake_case `code`."
    ),
    paths(
        me::me,
        me::environment,
        me::sign_out,
        me::refresh,
        sign_up::start,
        sign_up::verify,
        sign_up::resend,
        sign_up::continue_sign_up,
        sign_in::password,
        gates::accept_terms,
        gates::send_code,
        gates::verify_code,
        magic_link::request,
        magic_link::landing,
        magic_link::verify,
        password_reset::request,
        password_reset::complete,
        oauth::start,
        oauth::link,
        oauth::reauthenticate,
        oauth::identities,
        oauth::unlink,
        oauth::callback,
        passkeys::sign_in_options,
        passkeys::sign_in,
        passkeys::registration_options,
        passkeys::register,
        passkeys::list,
        passkeys::rename,
        passkeys::remove,
        account::list,
        account::revoke_one,
        account::revoke_others,
        account::reauthenticate,
        account::reauthenticate_passkey_options,
        account::sign_in_methods,
        account::update_profile,
        account::change_password,
        account::start_email_change,
        account::verify_email_change,
        mfa::factors,
        mfa::enroll,
        mfa::confirm,
        mfa::remove,
        mfa::regenerate,
        mfa::verify,
        mfa::passkey_options,
        mfa::passkey,
        mfa::admin_factors,
        mfa::admin_reset,
        admin::find_users,
        admin::create_user,
        admin::get_user,
        admin::delete_user,
        admin::require_user_gate,
        admin::clear_user_gate,
        admin::require_session_gate,
        admin::clear_session_gate,
        admin::verify_session,
        admin::rotate_jwt_key,
        admin::revoke_session,
        health::healthz,
        health::readyz,
        jwks::jwks,
        openapi_json,
    ),
    components(schemas(torii_shared::ErrorBody)),
    modifiers(&SecuritySchemes, &CommonAnswers),
    tags(
        (name = "session", description = "The current session: `/me`, the environment, sign-out"),
        (name = "sign-up", description = "Sign-up with an emailed 6-digit code"),
        (name = "sign-in", description = "Sign-in with a password"),
        (name = "magic-links", description = "Sign-in with an emailed link"),
        (name = "password-resets", description = "Password reset with an emailed code"),
        (name = "oauth", description = "OAuth and OpenID Connect providers"),
        (name = "passkeys", description = "WebAuthn passkeys"),
        (name = "gates", description = "Clearing the built-in session gates"),
        (name = "account", description = "The signed-in user's sessions and profile"),
        (name = "mfa", description = "Second factors: authenticator apps, backup codes, the second step of a sign-in"),
        (name = "admin", description = "The secret-key API, for application backends only"),
        (name = "health", description = "Liveness, readiness, JWT keys and this document"),
    )
)]
pub struct ApiDoc;

/// The OpenAPI document of [`crate::router`], for an application that publishes its own.
#[must_use]
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "openapi",
    tag = "health",
    responses((status = 200, description = "The OpenAPI 3.1 document of every route", content_type = "application/json", body = Object))
)]
async fn openapi_json() -> Response {
    static JSON: OnceLock<Result<String, InternalError>> = OnceLock::new();
    let json = JSON.get_or_init(|| {
        document()
            .to_json()
            .map_err(|e| InternalError::new(InternalSource::Serialization, e))
    });
    match json {
        Ok(json) => {
            let mut response = json.clone().into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        Err(error) => ApiError::from(error.clone()).into_response(),
    }
}

/// The four ways a request authenticates.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "publishableKey",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                PUBLISHABLE_KEY_HEADER,
                "Names the environment (`pk_test_…`/`pk_live_…`, safe in a browser); `?pk=` on \
                 browser navigations. Optional on a server with a single environment.",
            ))),
        );
        components.add_security_scheme(
            "sessionCookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::session::COOKIE_NAME,
                "The browser's HttpOnly session cookie (`__Host-torii_session` in live mode). \
                 State-changing requests with it must come from an allowed Origin.",
            ))),
        );
        components.add_security_scheme(
            "sessionBearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The session token, for clients other than browsers (a JWT for JWT \
                         sessions).",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "secretKey",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("sk_…")
                    .description(Some(
                        "The environment's secret key, for application backends only (never a \
                         browser).",
                    ))
                    .build(),
            ),
        );
    }
}

/// The answers that come from the layers and extractors a route goes through rather than from
/// its handler (see the module's doc).
struct CommonAnswers;

/// Routes that never touch the store.
const STORELESS: [&str; 3] = ["/healthz", "/openapi.json", "/.well-known/jwks.json"];

impl Modify for CommonAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in &mut openapi.paths.paths {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ];
            for operation in operations.into_iter().flatten() {
                add_common_answers(path, operation);
            }
        }
    }
}

fn add_common_answers(path: &str, operation: &mut Operation) {
    let behind_environment_layer = serde_json::to_value(&operation.security)
        .is_ok_and(|security| security.to_string().contains("\"publishableKey\""));
    let responses = &mut operation.responses.responses;
    let mut add = |status: &str, description: &str| {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(OaResponse::new(description)));
    };
    if behind_environment_layer {
        add(
            "403",
            "`invalid_publishable_key` (no environment of that key) or `forbidden_origin`",
        );
    }
    let has_parameters = operation
        .parameters
        .as_ref()
        .is_some_and(|parameters| !parameters.is_empty());
    match (operation.request_body.is_some(), has_parameters) {
        (true, true) => add(
            "400",
            "`malformed_request`: the body is not JSON (or is nested too deeply), or a path or \
             query parameter cannot be read",
        ),
        (true, false) => add(
            "400",
            "`malformed_request`: the body is not JSON, or is nested too deeply",
        ),
        (false, true) => add(
            "400",
            "`malformed_request`: a path or query parameter cannot be read",
        ),
        (false, false) => {}
    }
    if operation.request_body.is_some() {
        add("413", "`payload_too_large`");
        add("415", "`unsupported_media_type`: send `application/json`");
        add(
            "422",
            "`validation_failed`: the body does not have the expected fields",
        );
    }
    if !STORELESS.contains(&path) {
        add("503", "`store_unavailable`");
        // A route that names its own 503s may fail for want of the store too.
        if let Some(RefOr::T(response)) = responses.get_mut("503")
            && !response.description.contains("store")
        {
            response
                .description
                .push_str("; `store_unavailable`: the store cannot be reached");
        }
    }
    for (status, response) in responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        let is_error = status.starts_with('4') || status.starts_with('5');
        if is_error && response.content.is_empty() {
            response.content.insert(
                "application/json".to_owned(),
                Content::new(Some(Ref::from_schema_name("ErrorBody"))),
            );
        }
        let retried = status == "429" || (status == "503" && !STORELESS.contains(&path));
        if retried && !response.headers.contains_key("Retry-After") {
            response.headers.insert(
                "Retry-After".to_owned(),
                HeaderBuilder::new()
                    .schema(
                        ObjectBuilder::new()
                            .schema_type(Type::Integer)
                            .minimum(Some(0)),
                    )
                    .description(Some(if status == "429" {
                        "Seconds until a retry may succeed"
                    } else {
                        "On `store_unavailable` and `server_busy`: seconds until a retry may \
                         succeed"
                    }))
                    .build(),
            );
        }
    }
}
