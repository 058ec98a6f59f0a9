//! `send-sms` live against Prism serving Twilio's own OpenAPI description (started by
//! `scripts/test` from `../shared/emulators/twilio/`).

use crate::support::Function;
use serde_json::json;

async fn send_sms_function(extra: &[(&'static str, &str)]) -> Function {
    let mut vars = crate::support::twilio_vars(&crate::support::prism_url());
    for (name, value) in extra {
        vars.insert(name, value.to_string());
    }
    Function::start("send-sms", &crate::support::as_pairs(&vars)).await
}

#[tokio::test]
async fn an_sms_sent_through_twilio_answers_with_twilios_sid() {
    let function = send_sms_function(&[]).await;
    let (status, body) = function
        .post_json(&json!({"to": "+15551234567", "message": "Test SMS from Twilio"}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["message"], "SMS sent successfully");
    let sid = body["messageId"].as_str().expect("a messageId");
    assert!(sid.starts_with("SM") && sid.len() == 34, "{sid}");
    assert!(body.get("demo").is_none());
}

#[tokio::test]
async fn a_messaging_service_alone_is_a_valid_sender_for_twilio() {
    let mut vars = crate::support::twilio_vars(&crate::support::prism_url());
    vars.remove("TWILIO_PHONE_NUMBER");
    vars.insert(
        "TWILIO_MESSAGING_SERVICE_SID",
        "MG0123456789abcdef0123456789abcdef".into(),
    );
    let function = Function::start("send-sms", &crate::support::as_pairs(&vars)).await;
    let (status, body) = function
        .post_json(&json!({"to": "+15551234567", "message": "Hi"}))
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_live_send_logs_no_secret_no_full_number_and_no_text() {
    let function = send_sms_function(&[]).await;
    let (status, _) = function
        .post_json(&json!({"to": "+15557654321", "message": "Balance due 4412"}))
        .await;
    assert_eq!(status, 200);
    let output = function.output();
    assert!(output.contains("+1******4321"), "{output}");
    for private in [
        "+15557654321",
        "Balance due 4412",
        crate::support::AUTH_TOKEN,
    ] {
        assert!(
            !output.contains(private),
            "{private:?} leaked into:\n{output}"
        );
    }
}

#[tokio::test]
async fn twilio_refusing_the_credentials_is_reported_with_the_credentials_hint() {
    // Prism answers with the spec's Twilio-shaped 401 (code 20003) when asked to.
    let prism = crate::support::prism_url();
    let response = reqwest::Client::new()
        .post(format!(
            "{prism}/2010-04-01/Accounts/{}/Messages.json",
            crate::support::ACCOUNT_SID
        ))
        .basic_auth(crate::support::ACCOUNT_SID, Some("x"))
        .header("Prefer", "code=401")
        .form(&[
            ("To", "+15551234567"),
            ("Body", "x"),
            ("From", "+15550001111"),
        ])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap();
    let error = notify::sms::classify_twilio_error(
        status,
        body["code"].as_u64().map(|c| c as u32),
        body["message"].as_str(),
    );
    assert_eq!(
        (error.status(), error.code.as_str()),
        (503, "provider_auth_failed")
    );
    assert!(error.hint.unwrap().contains("TWILIO_AUTH_TOKEN"));
}
