//! Provider faults injected with an in-process fake server (wiremock): throttling, 5xx, a
//! provider that hangs, and rejections that must not be retried. Driven through `App`, the
//! same path every route takes.

use std::collections::HashMap;
use std::time::Duration;

use notify::app::{RequestContext, Sending};
use notify::domain::{EmailAddress, EmailMessage, PhoneNumber, Sent, SmsMessage};
use notify::{App, Config, Error};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TWILIO_PATH: &str = "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json";
const SES_PATH: &str = "/v2/email/outbound-emails";

/// Tight bounds so that a hanging provider is given up on quickly.
const POLICY: [(&str, &str); 3] = [
    ("NOTIFY_ATTEMPT_TIMEOUT_MS", "300"),
    ("NOTIFY_SEND_TIMEOUT_MS", "1500"),
    ("NOTIFY_MAX_ATTEMPTS", "3"),
];

fn app(provider_vars: HashMap<&'static str, String>) -> App {
    let mut vars: HashMap<String, String> = provider_vars
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    vars.extend(POLICY.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    App::new(Config::from_vars(&vars))
}

fn twilio_app(server: &MockServer) -> App {
    app(crate::support::twilio_vars(&server.uri()))
}

fn ses_app(server: &MockServer) -> App {
    app(crate::support::ses_vars(
        "noreply@clinic.example.com",
        &server.uri(),
    ))
}

fn sms() -> SmsMessage {
    SmsMessage {
        to: PhoneNumber::parse("+15551234567").unwrap(),
        body: "Your appointment is tomorrow.".into(),
        category: None,
    }
}

fn email() -> EmailMessage {
    EmailMessage {
        to: vec![EmailAddress::parse("patient@example.com").unwrap()],
        subject: "Reminder".into(),
        text: Some("Your appointment is tomorrow.".into()),
        html: None,
        reply_to: Vec::new(),
        attachments: Vec::new(),
        category: None,
        list_unsubscribe: None,
    }
}

/// Guards the test itself against a hang; the assertions are about outcomes, not time.
async fn within_test_guard<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), future)
        .await
        .expect("the send must end by itself")
}

fn twilio_error(status: u16, code: u32) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(serde_json::json!({
        "code": code, "message": "error", "more_info": "https://www.twilio.com/docs/errors", "status": status
    }))
}

fn twilio_created() -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(serde_json::json!({
        "sid": "SM0123456789abcdef0123456789abcdef", "status": "queued"
    }))
}

fn ses_error(status: u16, error_type: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("x-amzn-errortype", error_type)
        .set_body_json(serde_json::json!({"message": "injected fault"}))
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.unwrap_or_default().len()
}

/// No request here has an idempotency key, so no answer is kept.
/// A send as a Rust caller without a key makes it: its outcome once its record is written.
async fn recorded(
    app: App,
    send: impl AsyncFnOnce(&App) -> Result<Sending<Result<Sent, Error>>, Error>,
) -> Result<Sent, Error> {
    match send(&app).await? {
        Sending::Done(result, unrecorded) => {
            app.record(unrecorded, None).await?;
            result
        }
        Sending::Replay(answer) => panic!("replayed {answer:?} without a key"),
    }
}

async fn sms_sent(app: App) -> Result<Sent, Error> {
    let send = async |app: &App| app.send_sms(&sms(), &RequestContext::new()).await;
    within_test_guard(recorded(app, send)).await
}

async fn email_sent(app: App) -> Result<Sent, Error> {
    let send = async |app: &App| app.send_email(&email(), &RequestContext::new()).await;
    within_test_guard(recorded(app, send)).await
}

fn code(result: &Result<Sent, Error>) -> (u16, &'static str) {
    let error = result.as_ref().expect_err("the send should fail");
    (error.status(), error.code.as_str())
}

#[tokio::test]
async fn twilio_throttling_then_success_is_retried_and_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TWILIO_PATH))
        .respond_with(twilio_error(429, 20429))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(TWILIO_PATH))
        .respond_with(twilio_created())
        .mount(&server)
        .await;
    let sent = sms_sent(twilio_app(&server)).await.unwrap();
    assert_eq!(
        sent.message_id.as_deref(),
        Some("SM0123456789abcdef0123456789abcdef")
    );
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn twilio_server_errors_are_retried_up_to_the_limit_then_answered_502() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(twilio_error(500, 20500))
        .mount(&server)
        .await;
    let result = sms_sent(twilio_app(&server)).await;
    assert_eq!(code(&result), (502, "provider_error"));
    assert_eq!(requests(&server).await, 3);
}

#[tokio::test]
async fn a_hanging_twilio_is_answered_504_within_the_send_budget() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(twilio_created().set_delay(Duration::from_secs(60)))
        .mount(&server)
        .await;
    let result = sms_sent(twilio_app(&server)).await;
    assert_eq!(code(&result), (504, "provider_timeout"));
    assert!(requests(&server).await <= 3);
}

#[tokio::test]
async fn a_twilio_rejection_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(twilio_error(400, 21610))
        .mount(&server)
        .await;
    let result = sms_sent(twilio_app(&server)).await;
    assert_eq!(code(&result), (422, "recipient_opted_out"));
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn a_long_twilio_retry_after_is_passed_to_the_caller_instead_of_waited_out() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(twilio_error(429, 20429).insert_header("retry-after", "60"))
        .mount(&server)
        .await;
    let result = sms_sent(twilio_app(&server)).await;
    assert_eq!(code(&result), (429, "provider_throttled"));
    assert_eq!(
        result.unwrap_err().retry_after,
        Some(Duration::from_secs(60))
    );
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn ses_throttling_then_success_is_retried_and_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(SES_PATH))
        .respond_with(ses_error(429, "TooManyRequestsException"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(SES_PATH))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"MessageId": "ses-id-1"})),
        )
        .mount(&server)
        .await;
    let sent = email_sent(ses_app(&server)).await.unwrap();
    assert_eq!(sent.message_id.as_deref(), Some("ses-id-1"));
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn ses_server_errors_are_retried_up_to_the_limit_then_answered_502() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ses_error(500, "InternalFailure"))
        .mount(&server)
        .await;
    let result = email_sent(ses_app(&server)).await;
    assert_eq!(code(&result), (502, "provider_error"));
    assert_eq!(requests(&server).await, 3);
}

#[tokio::test]
async fn a_hanging_ses_is_answered_504_within_the_send_budget() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(60)))
        .mount(&server)
        .await;
    let result = email_sent(ses_app(&server)).await;
    assert_eq!(code(&result), (504, "provider_timeout"));
}

#[tokio::test]
async fn an_ses_rejection_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ses_error(400, "MessageRejected"))
        .mount(&server)
        .await;
    let result = email_sent(ses_app(&server)).await;
    assert_eq!(code(&result), (422, "message_rejected"));
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn an_unreachable_provider_is_a_502_not_a_hang() {
    // Port 9 on loopback: nothing listens, so the connection is refused at once.
    let mut vars = crate::support::twilio_vars("http://127.0.0.1:9");
    vars.insert("NOTIFY_MAX_ATTEMPTS", "1".into());
    let result = sms_sent(app(vars)).await;
    assert_eq!(code(&result), (502, "provider_unreachable"));
}

#[tokio::test]
async fn a_number_twilio_refuses_as_opted_out_or_unable_to_text_is_suppressed_and_never_tried_again()
 {
    use notify::names::SuppressionReason;
    use notify::store::SuppressionFilter;
    for (code, answer, reason) in [
        (21610, "recipient_opted_out", SuppressionReason::SmsStop),
        (
            21614,
            "recipient_not_mobile",
            SuppressionReason::InvalidRecipient,
        ),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(twilio_error(400, code))
            .mount(&server)
            .await;
        let app = twilio_app(&server);
        let send = async || match app.send_sms(&sms(), &RequestContext::new()).await? {
            Sending::Done(result, unrecorded) => {
                app.record(unrecorded, None).await?;
                result
            }
            Sending::Replay(answer) => panic!("replayed {answer:?} without a key"),
        };
        let first = within_test_guard(send()).await;
        assert_eq!(code_of(&first), answer, "{code}");
        let second = within_test_guard(send()).await;
        assert_eq!(code_of(&second), "recipient_suppressed", "{code}");
        assert_eq!(
            requests(&server).await,
            1,
            "{code}: Twilio is not asked again"
        );
        let listed = app
            .suppressions(&SuppressionFilter {
                limit: 10,
                ..SuppressionFilter::default()
            })
            .await
            .unwrap()
            .entries;
        assert_eq!(listed.len(), 1, "{code}");
        assert_eq!(listed[0].reason, reason, "{code}");
        assert_eq!(listed[0].masked, "+1******4567", "{code}");
    }
}

fn code_of(result: &Result<Sent, Error>) -> &'static str {
    result
        .as_ref()
        .expect_err("the send should fail")
        .code
        .as_str()
}

#[tokio::test]
async fn a_text_twilio_refuses_for_its_number_falls_back_to_email_in_the_same_request() {
    use notify::requests::SendNotificationRequest;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(twilio_error(400, 21614))
        .mount(&server)
        .await;
    let mut vars = crate::support::twilio_vars(&server.uri());
    vars.extend(crate::support::smtp_vars("clinic@example.com"));
    let app = app(vars);
    let template = notify::templates::TemplateName::PaymentReceived;
    let request: SendNotificationRequest = serde_json::from_value(serde_json::json!({
        "template": template.as_str(), "data": template.sample(),
        "to": {"email": "pat@example.com", "phone": "+15551234567"},
        "channels": ["sms", "email"], "strategy": "fallback",
    }))
    .unwrap();
    let sending = app
        .send_template_notification(request.parse().unwrap(), &RequestContext::new())
        .await
        .unwrap();
    let Sending::Done(outcome, unrecorded) = sending else {
        panic!("no key, no replay")
    };
    app.record(unrecorded, None).await.unwrap();
    let refused = outcome.sms.unwrap().unwrap_err();
    assert_eq!(refused.code.as_str(), "recipient_not_mobile");
    let sent = outcome.email.unwrap().unwrap();
    assert_eq!(requests(&server).await, 1, "Twilio is asked once");
    let email = app
        .message(sent.id.as_deref().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        email.fallback_of, refused.id,
        "the email names the text it replaced"
    );
    let text = app
        .message(refused.id.as_deref().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(text.fallback, sent.id);
}
