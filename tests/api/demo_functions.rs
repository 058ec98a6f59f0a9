//! The real function binaries in demo mode (no provider variables at all), driven over HTTP:
//! the seed guide's contract, request validation, methods, sizes and misconfiguration.

use crate::support::Function;
use serde_json::json;

#[tokio::test]
async fn health_reports_both_channels_in_demo_mode_with_the_version() {
    let health = Function::start("health", &[]).await;
    let (status, body) = health.get().await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["channels"]["email"]["provider"], "aws-ses");
    assert_eq!(body["channels"]["email"]["mode"], "demo");
    assert_eq!(body["channels"]["sms"]["provider"], "twilio");
    assert_eq!(body["channels"]["sms"]["mode"], "demo");
}

#[tokio::test]
async fn the_seed_email_example_answers_the_seed_demo_response_exactly() {
    let function = Function::start("send-email", &[]).await;
    let (status, body) = function
        .post_json(&json!({
            "to": "test@example.com",
            "subject": "Test Email",
            "body": "This is a test email from ClinicalCanvas EHR"
        }))
        .await;
    assert_eq!(status, 200);
    let mut body = body;
    crate::support::take_id(&mut body);
    assert_eq!(
        body,
        json!({
            "success": true,
            "message": "Email logged (demo mode - AWS SES not configured)",
            "demo": true
        })
    );
}

#[tokio::test]
async fn the_seed_sms_example_answers_the_demo_response_exactly() {
    let function = Function::start("send-sms", &[]).await;
    let (status, body) = function
        .post_json(&json!({"to": "+15551234567", "message": "Test SMS from ClinicalCanvas"}))
        .await;
    assert_eq!(status, 200);
    let mut body = body;
    crate::support::take_id(&mut body);
    assert_eq!(
        body,
        json!({
            "success": true,
            "message": "SMS logged (demo mode - Twilio not configured)",
            "demo": true
        })
    );
}

#[tokio::test]
async fn demo_logs_mask_the_recipient_and_never_show_the_message() {
    let function = Function::start("send-sms", &[]).await;
    let (status, _) = function
        .post_json(&json!({"to": "+15551234567", "message": "Your invoice INV-123 is ready"}))
        .await;
    assert_eq!(status, 200);
    let output = function.output();
    assert!(output.contains("+1******4567"), "{output}");
    assert!(!output.contains("+15551234567"), "{output}");
    assert!(!output.contains("INV-123"), "{output}");
}

#[tokio::test]
async fn every_invalid_email_field_gets_a_400_naming_it() {
    let function = Function::start("send-email", &[]).await;
    let cases = [
        (json!({"subject": "s", "body": "b"}), "to"),
        (
            json!({"to": "not-an-address", "subject": "s", "body": "b"}),
            "to",
        ),
        (
            json!({"to": ["a@example.com", "b@"], "subject": "s", "body": "b"}),
            "to[1]",
        ),
        (
            json!({"to": (0..51).map(|i| format!("p{i}@example.com")).collect::<Vec<_>>(), "subject": "s", "body": "b"}),
            "to",
        ),
        (json!({"to": 42, "subject": "s", "body": "b"}), "to"),
        (json!({"to": "a@example.com", "body": "b"}), "subject"),
        (
            json!({"to": "a@example.com", "subject": "x".repeat(201), "body": "b"}),
            "subject",
        ),
        (
            json!({"to": "a@example.com", "subject": "Hi\r\nBcc: x@example.com", "body": "b"}),
            "subject",
        ),
        (json!({"to": "a@example.com", "subject": "s"}), "body"),
        (
            json!({"to": "a@example.com", "subject": "s", "body": ""}),
            "body",
        ),
        (
            json!({"to": "a@example.com", "subject": "s", "body": "b", "html": 7}),
            "html",
        ),
        (
            json!({"to": "a@example.com", "subject": "s", "body": "b", "replyTo": "nope"}),
            "replyTo",
        ),
        (
            json!({"to": "a@example.com", "subject": "s", "body": "b", "cc": "x@example.com"}),
            "cc",
        ),
    ];
    for (request, field) in cases {
        let (status, body) = function.post_json(&request).await;
        assert_eq!(status, 400, "{request}: {body}");
        assert_eq!(body["success"], false);
        assert_eq!(body["code"], "invalid_request", "{body}");
        let fields: Vec<&str> = body["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["field"].as_str().unwrap())
            .collect();
        assert!(
            fields.contains(&field),
            "{request}: expected {field} in {body}"
        );
    }
}

#[tokio::test]
async fn every_invalid_sms_field_gets_a_400_naming_it() {
    let function = Function::start("send-sms", &[]).await;
    let cases = [
        (json!({"message": "Hi"}), "to"),
        (json!({"to": "5551234567", "message": "Hi"}), "to"),
        (json!({"to": "+1555", "message": "Hi"}), "to"),
        (json!({"to": 15551234567u64, "message": "Hi"}), "to"),
        (json!({"to": "+15551234567"}), "message"),
        (json!({"to": "+15551234567", "message": "  "}), "message"),
        (
            json!({"to": "+15551234567", "message": "a".repeat(1601)}),
            "message",
        ),
        (
            json!({"to": "+15551234567", "message": "Hi", "mediaUrl": "x"}),
            "mediaUrl",
        ),
    ];
    for (request, field) in cases {
        let (status, body) = function.post_json(&request).await;
        assert_eq!(status, 400, "{request}: {body}");
        assert_eq!(body["details"][0]["field"], field, "{request}: {body}");
        assert!(body["error"].as_str().unwrap().contains(field), "{body}");
    }
}

#[tokio::test]
async fn malformed_json_is_a_400_with_a_stable_code() {
    let function = Function::start("send-sms", &[]).await;
    for text in ["{\"to\": ", "not json", "", "{} {}"] {
        let response = reqwest::Client::new()
            .post(&function.base_url)
            .header("content-type", "application/json")
            .body(text)
            .send()
            .await
            .unwrap();
        let (status, body) = crate::support::answer(response).await;
        assert_eq!(status, 400, "{text:?}");
        assert_eq!(body["code"], "invalid_json", "{text:?}: {body}");
    }
}

#[tokio::test]
async fn wrong_methods_get_405_with_allow() {
    let sms = Function::start("send-sms", &[]).await;
    let response = reqwest::get(&sms.base_url).await.unwrap();
    assert_eq!(response.headers()["allow"], "POST, OPTIONS");
    let (status, body) = crate::support::answer(response).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (405, Some("method_not_allowed"))
    );

    let health = Function::start("health", &[]).await;
    let response = reqwest::Client::new()
        .delete(&health.base_url)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET, OPTIONS");
}

#[tokio::test]
async fn a_body_declared_over_four_and_a_half_megabytes_gets_413_before_it_is_sent() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let function = Function::start("send-email", &[]).await;
    let address = function.base_url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    // Only the head is sent: the function must answer from the declared length alone.
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: 4718593\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0; 4096];
    let read = stream.read(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains("\"code\":\"payload_too_large\""),
        "{answer}"
    );
}

#[tokio::test]
async fn a_client_that_writes_a_six_megabyte_body_before_reading_still_reads_the_413() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = Function::start_dev_server(&[]).await;
    let address = server.base_url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let body = vec![b'x'; 6 * 1024 * 1024];
    let head = format!(
        "POST /api/send-sms HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
        .write_all(&body)
        .await
        .expect("the whole body is taken, not cut off with a broken pipe");
    let mut answer = vec![0; 4096];
    let read = stream.read(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}

#[tokio::test]
async fn a_partly_configured_channel_is_misconfigured_in_health_and_refuses_to_send() {
    let vars = [("TWILIO_ACCOUNT_SID", crate::support::ACCOUNT_SID)];
    let health = Function::start("health", &vars).await;
    let (_, body) = health.get().await;
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["channels"]["sms"]["mode"], "misconfigured");
    assert_eq!(
        body["channels"]["sms"]["missing"],
        json!([
            "TWILIO_AUTH_TOKEN",
            "TWILIO_PHONE_NUMBER or TWILIO_MESSAGING_SERVICE_SID"
        ])
    );
    assert_eq!(body["channels"]["email"]["mode"], "demo");

    let sms = Function::start("send-sms", &vars).await;
    let (status, body) = sms
        .post_json(&json!({"to": "+15551234567", "message": "Hi"}))
        .await;
    assert_eq!(status, 503, "never a silent demo: {body}");
    assert_eq!(body["code"], "channel_misconfigured");
    assert_eq!(body["missing"][0], "TWILIO_AUTH_TOKEN");
    assert!(body["hint"].as_str().is_some());
}

#[tokio::test]
async fn health_never_shows_a_secret_value() {
    let vars = [
        ("TWILIO_ACCOUNT_SID", crate::support::ACCOUNT_SID),
        ("TWILIO_AUTH_TOKEN", crate::support::AUTH_TOKEN),
        ("AWS_SES_SECRET_ACCESS_KEY", crate::support::AWS_SECRET),
    ];
    let health = Function::start("health", &vars).await;
    let (_, body) = health.get().await;
    let text = body.to_string();
    assert!(
        !text.contains(crate::support::AUTH_TOKEN) && !text.contains(crate::support::AWS_SECRET),
        "{text}"
    );
    assert_eq!(body["channels"]["email"]["mode"], "misconfigured");
}

#[tokio::test]
async fn the_local_server_serves_every_route_on_one_port() {
    let server = Function::start_dev_server(&[]).await;
    let client = reqwest::Client::new();
    let (status, body) = crate::support::answer(
        client
            .get(format!("{}/api/health", server.base_url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    for (path, request) in [
        (
            "/api/send-email",
            json!({"to": "a@example.com", "subject": "s", "body": "b"}),
        ),
        (
            "/api/send-sms",
            json!({"to": "+15551234567", "message": "Hi"}),
        ),
    ] {
        let response = client
            .post(format!("{}{path}", server.base_url))
            .json(&request)
            .send()
            .await
            .unwrap();
        let (status, body) = crate::support::answer(response).await;
        assert_eq!(
            (status, body["demo"].as_bool()),
            (200, Some(true)),
            "{path}"
        );
    }
    let (status, body) = crate::support::answer(
        client
            .get(format!("{}/api/nope", server.base_url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
}

#[tokio::test]
async fn the_openapi_description_is_served_and_covers_every_route() {
    let function = Function::start("openapi", &[]).await;
    let response = reqwest::get(&function.base_url).await.unwrap();
    assert_eq!(response.status(), 200);
    let doc: serde_json::Value = response.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for route in notify::http::Route::ALL {
        // On its path, or below it (`/api/batches/{id}`).
        let below = format!("{}/{{", route.path());
        assert!(
            paths
                .keys()
                .any(|path| path == route.path() || path.starts_with(&below)),
            "{} is not described",
            route.path()
        );
    }
}

#[tokio::test]
async fn a_malformed_idempotency_key_and_an_unknown_filter_are_400s_naming_what_is_wrong() {
    let function = Function::start("send-sms", &[]).await;
    for key in [String::new(), "k".repeat(256), "caf\u{e9}".to_owned()] {
        let response = reqwest::Client::new()
            .post(&function.base_url)
            .header("idempotency-key", key.as_bytes())
            .json(&json!({"to": "+15551234567", "message": "Hi"}))
            .send()
            .await
            .unwrap();
        let (status, body) = crate::support::answer(response).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (400, Some("invalid_idempotency_key")),
            "{key:?}"
        );
    }
    let messages = Function::start("messages", &[]).await;
    let response = reqwest::get(format!("{}?limit=0&colour=red", messages.base_url))
        .await
        .unwrap();
    let (status, body) = crate::support::answer(response).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_request"))
    );
    assert_eq!(body["details"][0]["field"], "colour", "{body}");
}
