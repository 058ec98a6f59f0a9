//! Who may do what: every route asked by API keys limited to each permission, by browser tokens
//! with and without `scope`, and without credentials, through the local server on PostgreSQL.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{AUDIT_KEY, Function, POSTGRES, answer, fresh_database};

const JWT_SECRET: &str = "practice-app-jwt-secret-0123456789";
const FULL: &str = "full-access-key-0123456789";
const SEND: &str = "sending-only-key-0123456789";
const READ: &str = "reading-only-key-0123456789";
const MANAGE: &str = "managing-only-key-0123456789";

/// Each route and method, what it needs, and a body it takes.
fn requests() -> Vec<(Method, &'static str, &'static str, Option<Value>)> {
    let email = json!({"to": "ann@example.com", "subject": "Hi", "body": "Hello"});
    vec![
        (Method::POST, "/api/send-email", "send", Some(email.clone())),
        (
            Method::POST,
            "/api/send-sms",
            "send",
            Some(json!({"to": "+15005550006", "message": "Hello"})),
        ),
        (
            Method::POST,
            "/api/send-notification",
            "send",
            Some(
                json!({"type": "payment_success", "email": "ann@example.com",
                "data": {"patientName": "Ann", "amount": "$5.00"}}),
            ),
        ),
        (
            Method::POST,
            "/api/batch",
            "send",
            Some(
                json!({"items": [{"type": "email", "to": "ann@example.com", "subject": "Hi", "body": "Hello"}]}),
            ),
        ),
        (Method::GET, "/api/batches/bat_none", "read", None),
        (Method::DELETE, "/api/batches/bat_none", "send", None),
        (Method::GET, "/api/messages", "read", None),
        (Method::GET, "/api/messages?format=csv", "read", None),
        (Method::GET, "/api/messages/msg_none", "read", None),
        (Method::DELETE, "/api/messages/msg_none", "send", None),
        (
            Method::PATCH,
            "/api/messages/msg_none",
            "send",
            Some(json!({"sendAt": "2030-01-01T09:00:00Z"})),
        ),
        (Method::GET, "/api/messages/stats", "read", None),
        (Method::GET, "/api/events", "read", None),
        (Method::GET, "/api/suppressions", "read", None),
        (
            Method::POST,
            "/api/suppressions",
            "manage",
            Some(json!({"email": "bob@example.com", "reason": "manual"})),
        ),
        (Method::DELETE, "/api/suppressions/sup_none", "manage", None),
        (
            Method::GET,
            "/api/preferences?email=ann@example.com",
            "read",
            None,
        ),
        (
            Method::PATCH,
            "/api/preferences",
            "manage",
            Some(json!({"email": "ann@example.com", "choices": {"appointments": {"sms": false}}})),
        ),
        (Method::GET, "/api/audit", "manage", None),
    ]
}

fn jwt(claims: Value) -> String {
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 300;
    let mut claims = claims;
    claims["exp"] = exp.into();
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap()
}

async fn ask(
    server: &Function,
    (method, path, _, body): &(Method, &str, &str, Option<Value>),
    bearer: Option<&str>,
) -> (u16, Value) {
    let mut request =
        reqwest::Client::new().request(method.clone(), format!("{}{path}", server.base_url));
    if let Some(bearer) = bearer {
        request = request.bearer_auth(bearer);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap();
    if response
        .headers()
        .get("content-type")
        .is_some_and(|t| !t.to_str().unwrap().starts_with("application/json"))
    {
        return (response.status().as_u16(), Value::Null);
    }
    answer(response).await
}

async fn server() -> Function {
    let database = fresh_database().await;
    let keys = format!("{FULL},{SEND}:send,{READ}:read,{MANAGE}:manage");
    Function::start_dev_server(&[
        ("DATABASE_URL", &database),
        ("NOTIFY_API_KEYS", &keys),
        ("NOTIFY_JWT_SECRET", JWT_SECRET),
        ("NOTIFY_AUDIT_KEY", AUDIT_KEY),
        ("NOTIFY_RATE_LIMIT_PER_MINUTE", "100000"),
    ])
    .await
}

#[tokio::test]
async fn every_route_answers_each_permission_as_it_needs_and_names_the_one_missing() {
    let _db = POSTGRES.read().await;
    let server = server().await;
    let staff = jwt(json!({"sub": "staff-1", "scope": "read manage"}));
    let unscoped = jwt(json!({"sub": "frontend-1"}));
    let credentials: [(&str, &str, &[&str]); 6] = [
        ("full key", FULL, &["send", "read", "manage"]),
        ("send key", SEND, &["send"]),
        ("read key", READ, &["read"]),
        ("manage key", MANAGE, &["manage"]),
        ("staff token", &staff, &["read", "manage"]),
        ("token without scope", &unscoped, &["send"]),
    ];
    for request in requests() {
        let (method, path, needed, _) = &request;
        for (name, bearer, allowed) in credentials {
            let (status, body) = ask(&server, &request, Some(bearer)).await;
            let is_token = name.contains("token");
            if *path == "/api/audit" && is_token {
                assert_eq!(
                    (status, body["code"].as_str()),
                    (401, Some("invalid_authorization")),
                    "{name} {method} {path}: the audit export takes keys only"
                );
            } else if allowed.contains(needed) {
                assert!(
                    ![401, 403].contains(&status),
                    "{name} {method} {path}: {status} {body}"
                );
            } else {
                assert_eq!(
                    (status, body["code"].as_str()),
                    (403, Some(format!("{needed}_permission_required").as_str())),
                    "{name} {method} {path}: {body}"
                );
                assert!(
                    body["error"]
                        .as_str()
                        .unwrap()
                        .contains(&format!("the {needed} permission")),
                    "{body}"
                );
            }
        }
    }
}

#[tokio::test]
async fn without_credentials_a_read_is_told_that_reading_needs_them_and_a_token_without_read_lists_nothing()
 {
    let _db = POSTGRES.read().await;
    let server = server().await;
    let (status, body) = ask(&server, &(Method::GET, "/api/messages", "read", None), None).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], "authentication_required");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("Reading the message log needs credentials"),
        "{body}"
    );
    // A browser token that may send sends, and then cannot list what it sent.
    let unscoped = jwt(json!({"sub": "frontend-1"}));
    let send = &requests()[0];
    let (status, body) = ask(&server, send, Some(&unscoped)).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = ask(
        &server,
        &(Method::GET, "/api/messages", "read", None),
        Some(&unscoped),
    )
    .await;
    assert_eq!(status, 403);
    assert!(body.get("messages").is_none(), "{body}");
    let (status, body) = ask(
        &server,
        &(Method::GET, "/api/messages", "read", None),
        Some(READ),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["messages"].as_array().unwrap().len(), 1, "{body}");
}
