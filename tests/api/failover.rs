//! Email failover between providers (SES, then an SMTP relay) and attachments, against moto,
//! the SMTP sink (aiosmtpd) and in-process fault servers.

use std::collections::HashMap;

use crate::support::Function;
use base64::Engine;
use mail_parser::{MessageParser, MimeHeaders};
use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// SES at `ses_endpoint` first, then the SMTP sink.
async fn ses_then_smtp(ses_endpoint: &str, extra: &[(&'static str, &str)]) -> Function {
    let mut vars = crate::support::ses_vars("Clinic <noreply@clinic.example.com>", ses_endpoint);
    vars.extend(crate::support::smtp_vars(
        "Clinic <noreply@clinic.example.com>",
    ));
    vars.insert("EMAIL_PROVIDERS", "ses,smtp".into());
    vars.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    Function::start("send-email", &crate::support::as_pairs(&vars)).await
}

fn email(subject: &str) -> Value {
    json!({"to": "patient@example.com", "subject": subject, "body": "Your statement is ready."})
}

/// A port on 127.0.0.1 where nothing listens.
fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

#[tokio::test]
async fn ses_down_fails_over_to_smtp_and_says_so() {
    let function = ses_then_smtp(&closed_port_url(), &[]).await;
    let subject = crate::support::unique("Statement");
    let (status, body) = function.post_json(&email(&subject)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["provider"], "smtp");
    assert_eq!(
        body["failedOver"],
        json!([{"provider": "aws-ses", "code": "provider_unreachable"}])
    );
    let raw = crate::support::message_in_smtp_sink(body["messageId"].as_str().unwrap()).await;
    let message = MessageParser::new().parse(&raw).unwrap();
    assert_eq!(message.subject(), Some(subject.as_str()));
    let event = &function.audit_events()[0];
    assert_eq!(event["provider"], "smtp");
    assert_eq!(event["failed_over"][0]["provider"], "aws-ses");
}

#[tokio::test]
async fn an_email_that_fails_over_to_smtp_keeps_the_channels_reply_to() {
    let function = ses_then_smtp(
        &closed_port_url(),
        &[("AWS_SES_REPLY_TO", "Front Desk <desk@clinic.example.com>")],
    )
    .await;
    let (status, body) = function
        .post_json(&email(&crate::support::unique("Statement")))
        .await;
    assert_eq!(
        (status, body["provider"].as_str()),
        (200, Some("smtp")),
        "{body}"
    );
    let raw = crate::support::message_in_smtp_sink(body["messageId"].as_str().unwrap()).await;
    let message = MessageParser::new().parse(&raw).unwrap();
    let reply_to = message.reply_to().and_then(|r| r.first()).unwrap();
    assert_eq!(reply_to.address(), Some("desk@clinic.example.com"));
}

#[tokio::test]
async fn ses_throttling_fails_over_to_smtp_after_its_retries() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-amzn-errortype", "TooManyRequestsException")
                .set_body_json(json!({"message": "Maximum sending rate exceeded."})),
        )
        .mount(&server)
        .await;
    let function = ses_then_smtp(&server.uri(), &[("NOTIFY_MAX_ATTEMPTS", "2")]).await;
    let (status, body) = function
        .post_json(&email(&crate::support::unique("Statement")))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["provider"], "smtp");
    assert_eq!(body["failedOver"][0]["code"], "provider_throttled");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn ses_rejecting_the_recipient_does_not_fail_over() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(400)
                .insert_header("x-amzn-errortype", "MessageRejected")
                .set_body_json(json!({"message": "Illegal address"})),
        )
        .mount(&server)
        .await;
    let function = ses_then_smtp(&server.uri(), &[]).await;
    let subject = crate::support::unique("Statement");
    let (status, body) = function.post_json(&email(&subject)).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "message_rejected");
    assert_eq!(body["provider"], "aws-ses");
    assert!(body.get("failedOver").is_none());
    assert!(
        crate::support::smtp_sink_messages_containing(&subject).is_empty(),
        "SMTP got it anyway"
    );
}

#[tokio::test]
async fn a_provider_that_may_have_accepted_the_email_is_not_failed_over() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(std::time::Duration::from_secs(60)))
        .mount(&server)
        .await;
    let function = ses_then_smtp(
        &server.uri(),
        &[
            ("NOTIFY_ATTEMPT_TIMEOUT_MS", "300"),
            ("NOTIFY_SEND_TIMEOUT_MS", "1500"),
        ],
    )
    .await;
    let subject = crate::support::unique("Statement");
    let (status, body) = function.post_json(&email(&subject)).await;
    assert_eq!(status, 504, "{body}");
    assert_eq!(body["acceptanceUnknown"], true);
    assert!(crate::support::smtp_sink_messages_containing(&subject).is_empty());
    assert_eq!(function.audit_events()[0]["acceptance_unknown"], true);
}

/// A small PDF-like file and a PNG-like one with every byte value, to catch any re-encoding.
fn attachments() -> (Vec<Vec<u8>>, Value) {
    let pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n".to_vec();
    let png: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let encode = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let request = json!([
        {"filename": "Statement October.pdf", "content": encode(&pdf), "contentType": "application/pdf"},
        {"filename": "../receipt.png", "content": encode(&png), "contentType": "image/png"}
    ]);
    (vec![pdf, png], request)
}

/// An email with text and HTML alternatives and `attachments` beside them.
fn statement_with(attachments: Value) -> Value {
    json!({
        "to": "patient@example.com", "subject": "Your statement",
        "body": "Your statement is ready.", "html": "<p>Your statement is ready.</p>",
        "attachments": attachments
    })
}

fn assert_attachments(raw: &[u8], expected: &[Vec<u8>]) {
    let message = MessageParser::new().parse(raw).expect("MIME");
    let found: Vec<(String, Vec<u8>)> = message
        .attachments()
        .map(|part| {
            (
                part.attachment_name().unwrap_or("").to_owned(),
                part.contents().to_vec(),
            )
        })
        .collect();
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0].0, "Statement October.pdf");
    assert_eq!(found[1].0, "receipt.png", "the path was stripped");
    assert_eq!(found[0].1, expected[0], "the PDF arrived changed");
    assert_eq!(found[1].1, expected[1], "the PNG arrived changed");
    assert_eq!(
        message.body_text(0).as_deref().map(str::trim),
        Some("Your statement is ready.")
    );
    assert!(
        message
            .body_html(0)
            .is_some_and(|html| html.contains("<p>"))
    );
}

#[tokio::test]
async fn attachments_arrive_byte_identical_through_ses() {
    let domain = format!("{}.example.com", crate::support::unique("clinic"));
    crate::support::verify_domain_in_moto(&domain).await;
    let vars = crate::support::ses_vars(&format!("noreply@{domain}"), &crate::support::moto_url());
    let function = Function::start("send-email", &crate::support::as_pairs(&vars)).await;
    let (expected, attachments) = attachments();
    let (status, body) = function.post_json(&statement_with(attachments)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["provider"], "aws-ses");
    let raw = crate::support::raw_message_in_moto(body["messageId"].as_str().unwrap()).await;
    assert_attachments(&raw, &expected);
}

#[tokio::test]
async fn attachments_arrive_byte_identical_through_smtp() {
    let vars = crate::support::smtp_vars("noreply@clinic.example.com");
    let function = Function::start("send-email", &crate::support::as_pairs(&vars)).await;
    let (expected, attachments) = attachments();
    let (status, body) = function.post_json(&statement_with(attachments)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["provider"], "smtp");
    let raw = crate::support::message_in_smtp_sink(body["messageId"].as_str().unwrap()).await;
    assert_attachments(&raw, &expected);
}

#[tokio::test]
async fn attachment_limits_are_enforced_with_clear_errors() {
    let function = Function::start("send-email", &[]).await;
    let file = |name: &str, size: usize, kind: &str| json!({"filename": name, "content": base64::engine::general_purpose::STANDARD.encode(vec![7u8; size]), "contentType": kind});
    let send = |attachments: Value| json!({"to": "a@example.com", "subject": "s", "body": "b", "attachments": attachments});
    let eleven: Vec<Value> = (0..11)
        .map(|i| file(&format!("{i}.pdf"), 10, "application/pdf"))
        .collect();
    let (status, body) = function.post_json(&send(json!(eleven))).await;
    assert_eq!(
        (status, body["details"][0]["field"].as_str()),
        (400, Some("attachments"))
    );

    let big = vec![
        file("a.pdf", 2 * 1024 * 1024, "application/pdf"),
        file("b.pdf", 1024 * 1024 + 1, "application/pdf"),
    ];
    let (status, body) = function.post_json(&send(json!(big))).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("attachments_too_large"))
    );

    let (status, body) = function
        .post_json(&send(json!([file(
            "setup.exe",
            10,
            "application/octet-stream"
        )])))
        .await;
    assert_eq!(
        (status, body["details"][0]["field"].as_str()),
        (400, Some("attachments[0].filename"))
    );

    let (status, body) = function
        .post_json(&send(json!([file("a.pdf", 10, "application/pdf")])))
        .await;
    assert_eq!((status, body["demo"].as_bool()), (200, Some(true)));
}

#[tokio::test]
async fn health_lists_each_email_provider_with_its_mode_and_order() {
    let mut vars: HashMap<&'static str, String> =
        crate::support::smtp_vars("noreply@clinic.example.com");
    vars.insert("AWS_SES_ACCESS_KEY_ID", "AKIAONLY".into());
    let health = Function::start("health", &crate::support::as_pairs(&vars)).await;
    let (_, body) = health.get().await;
    let email = &body["channels"]["email"];
    assert_eq!(
        email["mode"], "misconfigured",
        "a half-configured SES is never skipped silently"
    );
    assert_eq!(email["providers"][0]["name"], "aws-ses");
    assert_eq!(email["providers"][0]["mode"], "misconfigured");
    assert_eq!(
        email["providers"][1],
        json!({"name": "smtp", "mode": "live", "order": null, "missing": [], "invalid": []})
    );

    let vars = crate::support::smtp_vars("noreply@clinic.example.com");
    let health = Function::start("health", &crate::support::as_pairs(&vars)).await;
    let (_, body) = health.get().await;
    assert_eq!(body["channels"]["email"]["provider"], "smtp");
    assert_eq!(body["channels"]["email"]["providers"][1]["order"], 1);
}
