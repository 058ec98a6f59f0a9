//! Who may send, from where, how often, and what the audit trail says about it: the real
//! function binaries against the emulators.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::support::{API_KEY, Function};
use serde_json::{Value, json};

const SMS: &str = r#"{"to": "+15551234567", "message": "Your invoice is ready"}"#;
const JWT_SECRET: &str = "practice-app-jwt-secret-0123456789";

/// A live SMS function (Prism) with `extra` variables on top of the usual ones.
async fn live_sms(extra: &[(&'static str, &str)]) -> Function {
    let mut vars = crate::support::twilio_vars(&crate::support::prism_url());
    for (name, value) in extra {
        vars.insert(name, value.to_string());
    }
    Function::start("send-sms", &crate::support::as_pairs(&vars)).await
}

async fn post(function: &Function, headers: &[(&str, &str)], body: &str) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(&function.base_url)
        .header("content-type", "application/json")
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

fn jwt(claims: Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn a_live_channel_refuses_sends_without_a_key_with_a_hint() {
    let function = live_sms(&[]).await;
    let (status, body) = crate::support::answer(post(&function, &[], SMS).await).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], "authentication_required");
    assert!(body["hint"].as_str().unwrap().contains("NOTIFY_API_KEYS"));
}

#[tokio::test]
async fn a_wrong_key_is_refused_and_both_keys_of_a_rotation_work() {
    let keys = format!("{API_KEY},next-api-key-0123456789abcdef");
    let function = live_sms(&[("NOTIFY_API_KEYS", &keys)]).await;
    let (status, body) = crate::support::answer(
        post(
            &function,
            &[("authorization", "Bearer not-the-key-0123456789")],
            SMS,
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("invalid_api_key"))
    );
    for key in [API_KEY, "next-api-key-0123456789abcdef"] {
        let response = post(
            &function,
            &[("authorization", &format!("Bearer {key}"))],
            SMS,
        )
        .await;
        assert_eq!(response.status(), 200, "{key}");
    }
}

#[tokio::test]
async fn allowing_unauthenticated_sends_must_be_asked_for() {
    let function = live_sms(&[
        ("NOTIFY_API_KEYS", ""),
        ("NOTIFY_ALLOW_UNAUTHENTICATED", "1"),
    ])
    .await;
    let (status, body) = crate::support::answer(post(&function, &[], SMS).await).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn demo_mode_needs_no_key() {
    let function = Function::start("send-sms", &[("NOTIFY_API_KEYS", API_KEY)]).await;
    let (status, body) = crate::support::answer(post(&function, &[], SMS).await).await;
    assert_eq!((status, body["demo"].as_bool()), (200, Some(true)));
}

#[tokio::test]
async fn a_browser_token_is_accepted_fresh_and_refused_expired() {
    let function = live_sms(&[("NOTIFY_JWT_SECRET", JWT_SECRET)]).await;
    let fresh = jwt(json!({"sub": "staff-12", "exp": now() + 300}));
    let response = post(
        &function,
        &[("authorization", &format!("Bearer {fresh}"))],
        SMS,
    )
    .await;
    assert_eq!(response.status(), 200);
    let expired = jwt(json!({"sub": "staff-12", "exp": now() - 300}));
    let (status, body) = crate::support::answer(
        post(
            &function,
            &[("authorization", &format!("Bearer {expired}"))],
            SMS,
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("invalid_token"))
    );
    assert!(body["error"].as_str().unwrap().contains("expired"));
}

#[tokio::test]
async fn an_allowed_origin_gets_a_correct_preflight_and_cors_headers() {
    let function = live_sms(&[("NOTIFY_ALLOWED_ORIGINS", "https://app.example.com")]).await;
    let preflight = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, &function.base_url)
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    let headers = preflight.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert_eq!(headers["access-control-allow-methods"], "POST, OPTIONS");
    assert_eq!(
        headers["access-control-allow-headers"],
        "authorization, content-type, idempotency-key"
    );
    assert_eq!(headers["vary"], "Origin");

    let response = post(
        &function,
        &[
            ("origin", "https://app.example.com"),
            ("authorization", &format!("Bearer {API_KEY}")),
        ],
        SMS,
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    assert!(
        response.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .contains("x-request-id")
    );
}

#[tokio::test]
async fn a_refused_origin_gets_403_on_preflight_and_on_the_request() {
    let function = live_sms(&[("NOTIFY_ALLOWED_ORIGINS", "https://app.example.com")]).await;
    let preflight = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, &function.base_url)
        .header("origin", "https://evil.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 403);
    assert!(
        preflight
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    let (status, body) = crate::support::answer(
        post(
            &function,
            &[
                ("origin", "https://evil.example.com"),
                ("authorization", &format!("Bearer {API_KEY}")),
            ],
            SMS,
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("origin_not_allowed"))
    );
}

#[tokio::test]
async fn a_same_origin_browser_call_needs_no_cors_listing() {
    let function = live_sms(&[]).await;
    let host = function.base_url.trim_start_matches("http://").to_owned();
    let response = post(
        &function,
        &[
            ("origin", &function.base_url),
            ("host", &host),
            ("authorization", &format!("Bearer {API_KEY}")),
        ],
        SMS,
    )
    .await;
    assert_eq!(response.status(), 200);
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

/// `times` SMS sends with `auth`, each of which must be accepted.
async fn assert_accepted_times(function: &Function, auth: &str, times: usize) {
    for _ in 0..times {
        assert_eq!(
            post(function, &[("authorization", auth)], SMS)
                .await
                .status(),
            200
        );
    }
}

#[tokio::test]
async fn a_caller_over_its_rate_gets_429_with_retry_after() {
    let function = live_sms(&[("NOTIFY_RATE_LIMIT_PER_MINUTE", "2")]).await;
    let auth = format!("Bearer {API_KEY}");
    assert_accepted_times(&function, &auth, 2).await;
    let response = post(&function, &[("authorization", &auth)], SMS).await;
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry_after), "{retry_after}");
    let (status, body) = crate::support::answer(response).await;
    assert_eq!((status, body["code"].as_str()), (429, Some("rate_limited")));
}

#[tokio::test]
async fn a_recipient_over_the_hourly_sms_cap_gets_429_while_others_still_get_through() {
    let function = live_sms(&[("NOTIFY_SMS_PER_RECIPIENT_PER_HOUR", "2")]).await;
    let auth = format!("Bearer {API_KEY}");
    assert_accepted_times(&function, &auth, 2).await;
    let response = post(&function, &[("authorization", &auth)], SMS).await;
    assert!(response.headers().get("retry-after").is_some());
    let (status, body) = crate::support::answer(response).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("recipient_rate_limited"))
    );
    let other = r#"{"to": "+15557654321", "message": "Your invoice is ready"}"#;
    assert_eq!(
        post(&function, &[("authorization", &auth)], other)
            .await
            .status(),
        200
    );
}

fn assert_no_private_data(function: &Function, private: &[&str]) {
    let output = function.output();
    for value in private {
        assert!(!output.contains(value), "{value:?} leaked into:\n{output}");
    }
}

#[tokio::test]
async fn the_audit_event_of_a_live_send_is_complete_and_private() {
    let domain = format!("{}.example.com", crate::support::unique("clinic"));
    crate::support::verify_domain_in_moto(&domain).await;
    let mut vars =
        crate::support::ses_vars(&format!("noreply@{domain}"), &crate::support::moto_url());
    vars.insert(
        "NOTIFY_AUDIT_KEY",
        "audit-key-audit-key-audit-key-0123".into(),
    );
    let function = Function::start("send-email", &crate::support::as_pairs(&vars)).await;
    let response = reqwest::Client::new()
        .post(&function.base_url)
        .bearer_auth(API_KEY)
        .json(&json!({"to": "jane.doe@example.com", "subject": "Invoice INV-77", "body": "Balance 4412"}))
        .send()
        .await
        .unwrap();
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let (status, body) = crate::support::answer(response).await;
    assert_eq!(status, 200, "{body}");

    let events = function.audit_events();
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event["event"], "send_attempt");
    assert!(event["time"].as_str().unwrap().ends_with('Z'));
    assert_eq!(event["request_id"], request_id.as_str());
    assert_eq!(event["channel"], "email");
    assert_eq!(event["template"], Value::Null);
    assert_eq!(event["provider"], "aws-ses");
    assert_eq!(event["mode"], "live");
    assert_eq!(event["outcome"], "sent");
    assert_eq!(event["message_id"], body["messageId"]);
    assert_eq!(event["error_code"], Value::Null);
    assert_eq!(event["status"], 200);
    assert!(event["latency_ms"].is_u64());
    let recipient = &event["recipients"][0];
    assert_eq!(recipient["masked"], "j***@example.com");
    assert_eq!(recipient["hash"].as_str().unwrap().len(), 64);
    assert_no_private_data(
        &function,
        &[
            "jane.doe@example.com",
            "Invoice INV-77",
            "Balance 4412",
            crate::support::AWS_SECRET,
            API_KEY,
            "audit-key-audit-key",
        ],
    );
}

#[tokio::test]
async fn the_audit_event_of_a_demo_send_says_logged() {
    let function = Function::start("send-notification", &[]).await;
    let (status, _) = function
        .post_json(&json!({
            "template": "appointmentReminder",
            "data": {"client_name": "Jane Doe", "appointment_date": "2025-10-28", "appointment_time": "14:30"},
            "to": {"phone": "+15557654321"}
        }))
        .await;
    assert_eq!(status, 200);
    let events = function.audit_events();
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(
        (
            event["channel"].as_str(),
            event["template"].as_str(),
            event["mode"].as_str(),
            event["outcome"].as_str()
        ),
        (
            Some("sms"),
            Some("appointmentReminder"),
            Some("demo"),
            Some("logged")
        )
    );
    assert_eq!(event["message_id"], Value::Null);
    assert_eq!(event["recipients"][0]["masked"], "+1******4321");
    assert_no_private_data(&function, &["+15557654321", "Jane Doe", "2:30 PM"]);
}

#[tokio::test]
async fn the_audit_event_of_a_failed_send_carries_the_error_code() {
    let domain = format!("{}.example.com", crate::support::unique("unverified"));
    let vars = crate::support::ses_vars(&format!("noreply@{domain}"), &crate::support::moto_url());
    let function = Function::start("send-email", &crate::support::as_pairs(&vars)).await;
    let (status, _) = function
        .post_json(&json!({"to": "jane.doe@example.com", "subject": "s", "body": "Balance 4412"}))
        .await;
    assert_eq!(status, 503);
    let events = function.audit_events();
    let event = &events[0];
    assert_eq!(event["outcome"], "failed");
    assert_eq!(event["error_code"], "sender_not_verified");
    assert_eq!(event["provider_code"], "MessageRejected");
    assert_eq!(event["status"], 503);
    assert_no_private_data(
        &function,
        &[
            "jane.doe@example.com",
            "Balance 4412",
            crate::support::AWS_SECRET,
        ],
    );
}

#[tokio::test]
async fn health_says_which_safeguards_are_set_without_any_value() {
    let mut vars = crate::support::twilio_vars(&crate::support::prism_url());
    vars.insert("NOTIFY_JWT_SECRET", JWT_SECRET.into());
    let health = Function::start("health", &crate::support::as_pairs(&vars)).await;
    let (status, body) = health.get().await;
    assert_eq!(status, 200);
    assert_eq!(
        body["security"],
        json!({"apiKeys": true, "jwt": true, "unauthenticatedSends": false, "auditKey": false, "invalid": []})
    );
    let text = body.to_string();
    assert!(
        !text.contains(API_KEY)
            && !text.contains(JWT_SECRET)
            && !text.contains(crate::support::AUTH_TOKEN)
    );
}
