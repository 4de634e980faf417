//! `GET /openapi.json`: a valid document that covers every route the router serves, and no
//! route it does not. The router's routes are read from the router itself: its paths from its
//! `Debug` form (axum lists them there), the methods of each path from the `Allow` header of
//! the 405 it answers to a method no route uses. A route added without its `#[utoipa::path]`
//! (and its entry in `ApiDoc`) fails here.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Catch-all routes: they answer every method (404 `not_found`), and are no API of their own.
const CATCH_ALLS: [&str; 1] = ["/v1/{*rest}"];

/// Routes the extraction must find, so that a change in axum's `Debug` output fails loudly
/// instead of comparing two empty lists.
const SURELY_SERVED: [(&str, &str); 4] = [
    ("GET", "/me"),
    ("POST", "/v1/sign-ups"),
    ("DELETE", "/v1/admin/users/{id}"),
    ("GET", "/openapi.json"),
];

const OPERATION_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

async fn document(app: &TestApp) -> Value {
    let answer = Req::get("/openapi.json").send(app).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.headers["content-type"], "application/json");
    serde_json::from_str(&answer.text).expect("the document is JSON")
}

/// The paths of the router's routes, as it registered them (`/v1/sign-ups/{id}/verify`).
fn router_paths(app: &TestApp) -> BTreeSet<String> {
    let debug = format!("{:?}", app.router);
    // `Router { path_router: PathRouter { …, node: Node { paths: {RouteId(3): "/me", …} } },
    // fallback_router: …`: the routes before axum's own fallback routes.
    let (routes, _) = debug
        .split_once("fallback_router:")
        .expect("axum's Router Debug names its fallback_router");
    let mut paths = BTreeSet::new();
    for (at, _) in routes.match_indices("RouteId(") {
        let rest = &routes[at..];
        let Some(close) = rest.find(')') else {
            continue;
        };
        let Some(quoted) = rest[close..].strip_prefix("): \"") else {
            continue;
        };
        if let Some(end) = quoted.find('"') {
            paths.insert(quoted[..end].to_owned());
        }
    }
    paths
}

/// A concrete path for a route path: every `{param}` becomes `x`.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "x"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The methods the router serves at `path`: the `Allow` header of its 405 to TRACE, which no
/// route uses (HEAD is left out: axum answers it for every GET).
async fn router_methods(app: &TestApp, path: &str) -> BTreeSet<String> {
    let answer = Req::get(&concrete(path))
        .method("TRACE", &concrete(path))
        .header("torii-publishable-key", "pk_test_acme")
        .send(app)
        .await;
    assert_eq!(
        answer.status,
        StatusCode::METHOD_NOT_ALLOWED,
        "TRACE {path}: {}",
        answer.text
    );
    assert_eq!(answer.code(), "method_not_allowed", "TRACE {path}");
    let allow = answer
        .headers
        .get("allow")
        .unwrap_or_else(|| panic!("TRACE {path}: no Allow header"))
        .to_str()
        .unwrap();
    allow
        .split(',')
        .map(|method| method.trim().to_owned())
        .filter(|method| !method.is_empty() && method != "HEAD")
        .collect()
}

async fn served_routes(app: &TestApp) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for path in router_paths(app) {
        if CATCH_ALLS.contains(&path.as_str()) {
            continue;
        }
        for method in router_methods(app, &path).await {
            routes.insert((method, path.clone()));
        }
    }
    routes
}

fn documented_routes(doc: &Value) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in OPERATION_METHODS {
            if item.get(method).is_some() {
                routes.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    routes
}

fn operations(doc: &Value) -> Vec<(String, &Value)> {
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in OPERATION_METHODS {
            if let Some(operation) = item.get(method) {
                found.push((format!("{} {path}", method.to_uppercase()), operation));
            }
        }
    }
    found
}

#[tokio::test]
async fn every_route_of_the_router_is_documented_and_nothing_else() {
    let app = app().await;
    let doc = document(&app).await;
    let served = served_routes(&app).await;
    for (method, path) in SURELY_SERVED {
        assert!(
            served.contains(&(method.to_owned(), path.to_owned())),
            "{method} {path} not found among the router's routes (did axum's Debug output \
             change?): {served:?}"
        );
    }
    let documented = documented_routes(&doc);
    let undocumented: Vec<_> = served.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "served but missing from /openapi.json (add #[utoipa::path] and list the handler in \
         ApiDoc): {undocumented:?}"
    );
    let phantom: Vec<_> = documented.difference(&served).collect();
    assert!(phantom.is_empty(), "documented but not served: {phantom:?}");
}

#[tokio::test]
async fn catch_alls_answer_not_found() {
    let app = app().await;
    assert!(router_paths(&app).contains(CATCH_ALLS[0]));
    let answer = Req::get("/v1/no-such-route")
        .header("torii-publishable-key", "pk_test_acme")
        .send(&app)
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.text);
    assert_eq!(answer.code(), "not_found");
}

#[tokio::test]
async fn the_document_is_openapi_3_1_with_the_expected_info_and_security() {
    let app = app().await;
    let doc = document(&app).await;
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["title"], "Torii");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(
        schemes["publishableKey"],
        json!({"type": "apiKey", "in": "header", "name": "Torii-Publishable-Key",
               "description": schemes["publishableKey"]["description"]})
    );
    assert_eq!(schemes["sessionCookie"]["in"], "cookie");
    assert_eq!(schemes["sessionCookie"]["name"], "torii_session");
    assert_eq!(schemes["sessionBearer"]["scheme"], "bearer");
    assert_eq!(schemes["secretKey"]["scheme"], "bearer");
    // The secret-key API asks for the secret key, and only for it.
    for (name, operation) in operations(&doc) {
        let security = operation["security"].to_string();
        if name.contains(" /v1/admin/") {
            assert_eq!(operation["security"], json!([{"secretKey": []}]), "{name}");
        } else {
            assert!(!security.contains("secretKey"), "{name}: {security}");
        }
    }
    // The contract's payloads are there by name.
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for name in [
        "Me",
        "User",
        "Session",
        "SessionInfo",
        "ErrorBody",
        "ErrorDetail",
        "ErrorCode",
        "SignUpRequest",
        "EnvironmentInfo",
    ] {
        assert!(schemas.contains_key(name), "no schema {name}");
    }
    assert_eq!(
        schemas["ErrorBody"]["required"],
        json!(["error"]),
        "{}",
        schemas["ErrorBody"]
    );
}

/// Every `$ref` names a schema of the document.
fn assert_refs_resolve(value: &Value, schemas: &serde_json::Map<String, Value>, at: &str) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                let name = target
                    .strip_prefix("#/components/schemas/")
                    .unwrap_or_else(|| panic!("{at}: unexpected $ref {target}"));
                assert!(schemas.contains_key(name), "{at}: dangling $ref {target}");
            }
            for (key, inner) in map {
                assert_refs_resolve(inner, schemas, &format!("{at}/{key}"));
            }
        }
        Value::Array(items) => {
            for (i, inner) in items.iter().enumerate() {
                assert_refs_resolve(inner, schemas, &format!("{at}/{i}"));
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn every_operation_is_named_and_every_error_has_the_error_shape() {
    let app = app().await;
    let doc = document(&app).await;
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    assert_refs_resolve(&doc, schemas, "#");
    let mut operation_ids = BTreeSet::new();
    for (name, operation) in operations(&doc) {
        let id = operation["operationId"].as_str().unwrap_or_default();
        assert!(
            !id.is_empty() && operation_ids.insert(id.to_owned()),
            "{name}: missing or repeated operationId {id:?}"
        );
        let responses = operation["responses"].as_object().expect("responses");
        assert!(
            responses
                .keys()
                .any(|status| status.starts_with('2') || status.starts_with('3')),
            "{name}: no success answer"
        );
        for (status, response) in responses {
            if !(status.starts_with('4') || status.starts_with('5')) {
                continue;
            }
            let content = response["content"].as_object().unwrap_or_else(|| {
                panic!("{name} {status}: no content");
            });
            for (media, body) in content {
                match media.as_str() {
                    "application/json" => assert_eq!(
                        body["schema"]["$ref"], "#/components/schemas/ErrorBody",
                        "{name} {status}"
                    ),
                    // The pages of browser navigations (OAuth start and callback, the sign-in
                    // link's landing).
                    "text/html" => {}
                    other => panic!("{name} {status}: unexpected {other}"),
                }
            }
            if status == "429" {
                assert!(
                    response["headers"].get("Retry-After").is_some(),
                    "{name}: 429 without Retry-After"
                );
            }
            let storeless = [
                "GET /healthz",
                "GET /openapi.json",
                "GET /.well-known/jwks.json",
            ];
            if status == "503" && !storeless.contains(&name.as_str()) {
                assert!(
                    response["headers"].get("Retry-After").is_some(),
                    "{name}: 503 without Retry-After"
                );
                assert!(
                    response["description"]
                        .as_str()
                        .is_some_and(|d| d.contains("store")),
                    "{name}: 503 does not name store_unavailable"
                );
            }
        }
        if operation.get("requestBody").is_some() {
            for status in ["400", "413", "415", "422"] {
                assert!(responses.contains_key(status), "{name}: no {status}");
            }
        }
    }
}

/// A few real error answers, each of a status the document lists for its route.
#[tokio::test]
async fn real_error_answers_are_documented() {
    let app = app().await;
    let doc = document(&app).await;
    let documented = |method: &str, path: &str, status: StatusCode| {
        doc["paths"][path][method]["responses"]
            .get(status.as_str())
            .is_some()
    };
    let cases = [
        (
            Req::post_raw("/v1/sign-in/password", "application/json", "{not json"),
            "post",
            "/v1/sign-in/password",
        ),
        (
            Req::post_raw("/v1/sign-in/password", "text/plain", "hello"),
            "post",
            "/v1/sign-in/password",
        ),
        (
            Req::post("/v1/sign-ups", &json!({"email": 3})),
            "post",
            "/v1/sign-ups",
        ),
        (
            Req::post(
                "/v1/sign-ups",
                &json!({"email": "a@example.com", "name": "x".repeat(20_000)}),
            ),
            "post",
            "/v1/sign-ups",
        ),
        (Req::get("/v1/sessions"), "get", "/v1/sessions"),
        (
            Req::get("/v1/environment").header("torii-publishable-key", "pk_test_nope"),
            "get",
            "/v1/environment",
        ),
        (
            Req::get("/v1/admin/users?email=a@example.com"),
            "get",
            "/v1/admin/users",
        ),
        (
            Req::get("/v1/admin/users/usr_nope").bearer("sk_test_acme"),
            "get",
            "/v1/admin/users/{id}",
        ),
    ];
    let mut statuses = BTreeSet::new();
    for (request, method, path) in cases {
        let answer = request.send(&app).await;
        assert!(
            answer.status.is_client_error(),
            "{method} {path}: {} {}",
            answer.status,
            answer.text
        );
        assert!(
            documented(method, path, answer.status),
            "{method} {path} answered {}, which the document does not list",
            answer.status
        );
        statuses.insert(answer.status.as_u16());
    }
    // The cases above reach each of these statuses.
    assert_eq!(
        statuses,
        BTreeSet::from([400, 401, 403, 404, 413, 415, 422])
    );
}

/// Path parameters and query strings that cannot be read answer 400 `malformed_request` in the
/// error shape, as the document says, not axum's plain text.
#[tokio::test]
async fn unreadable_paths_and_queries_answer_in_the_error_shape() {
    let app = app().await;
    let doc = document(&app).await;
    let session = signed_up(&app, "ada@example.com").await;
    let cases = [
        (
            Req::get("/v1/admin/users?email=a@example.com&email=b@example.com")
                .bearer("sk_test_acme"),
            "get",
            "/v1/admin/users",
        ),
        (
            Req::get("/v1/admin/users/%FF").bearer("sk_test_acme"),
            "get",
            "/v1/admin/users/{id}",
        ),
        (
            Req::get("/v1/magic-links/verify?token=a&token=b"),
            "get",
            "/v1/magic-links/verify",
        ),
        (
            Req::get("/v1/oauth/x/callback?state=a&state=b"),
            "get",
            "/v1/oauth/{provider}/callback",
        ),
        (
            Req::get("/v1/sessions/%FF")
                .method("DELETE", "/v1/sessions/%FF")
                .bearer(&session),
            "delete",
            "/v1/sessions/{id}",
        ),
    ];
    for (request, method, path) in cases {
        let answer = request.send(&app).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{method} {path}: {}",
            answer.text
        );
        assert_eq!(answer.code(), "malformed_request", "{method} {path}");
        assert_eq!(
            answer.headers["content-type"], "application/json",
            "{method} {path}"
        );
        let documented = &doc["paths"][path][method]["responses"]["400"]["content"];
        assert!(
            documented.get("application/json").is_some(),
            "{method} {path}: 400 not documented as JSON: {documented}"
        );
    }
}
