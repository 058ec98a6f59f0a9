//! `send-email` live against moto's SES v2 emulator (started by `scripts/test`).

use crate::support::Function;
use serde_json::json;

async fn send_email_function(sender: &str) -> Function {
    let vars = crate::support::ses_vars(sender, &crate::support::moto_url());
    Function::start("send-email", &crate::support::as_pairs(&vars)).await
}

#[tokio::test]
async fn an_email_reaches_ses_with_the_right_sender_recipients_subject_and_body() {
    let domain = format!("{}.example.com", crate::support::unique("clinic"));
    crate::support::verify_domain_in_moto(&domain).await;
    let function = send_email_function(&format!("Sunrise Clinic <noreply@{domain}>")).await;

    let (status, body) = function
        .post_json(&json!({
            "to": ["patient@example.com", "Second Guardian <guardian@example.com>"],
            "subject": "Payment Received - Invoice #123",
            "body": "Thank you for your payment of $100.00"
        }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["message"], "Email sent successfully");
    assert!(body.get("demo").is_none());
    let message_id = body["messageId"].as_str().expect("a messageId");

    let sent = crate::support::message_in_moto(message_id).await;
    assert_eq!(
        sent["source"],
        format!("\"Sunrise Clinic\" <noreply@{domain}>")
    );
    assert_eq!(
        sent["destinations"]["ToAddresses"],
        json!([
            "patient@example.com",
            "\"Second Guardian\" <guardian@example.com>"
        ])
    );
    assert_eq!(sent["subject"], "Payment Received - Invoice #123");
    assert_eq!(sent["body"], "Thank you for your payment of $100.00");
}

#[tokio::test]
async fn an_html_email_reaches_ses_as_its_html_part() {
    let domain = format!("{}.example.com", crate::support::unique("clinic"));
    crate::support::verify_domain_in_moto(&domain).await;
    let function = send_email_function(&format!("noreply@{domain}")).await;
    let (status, body) = function
        .post_json(&json!({
            "to": "patient@example.com",
            "subject": "Your invoice",
            "body": "Your invoice is ready.",
            "html": "<p>Your invoice is <b>ready</b>.</p>",
            "replyTo": "billing@example.com"
        }))
        .await;
    assert_eq!(status, 200, "{body}");
    // moto keeps one body of a Simple message, the HTML one when there is one.
    let sent = crate::support::message_in_moto(body["messageId"].as_str().unwrap()).await;
    assert_eq!(sent["body"], "<p>Your invoice is <b>ready</b>.</p>");
}

#[tokio::test]
async fn an_unverified_sender_gets_the_mapped_error_and_the_verify_hint() {
    let domain = format!("{}.example.com", crate::support::unique("unverified"));
    let function = send_email_function(&format!("noreply@{domain}")).await;
    let (status, body) = function
        .post_json(&json!({"to": "patient@example.com", "subject": "s", "body": "b"}))
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["success"], false);
    assert_eq!(body["code"], "sender_not_verified");
    assert_eq!(body["providerCode"], "MessageRejected");
    assert!(
        body["error"].as_str().unwrap().contains("not verified"),
        "{body}"
    );
    assert!(
        body["hint"]
            .as_str()
            .unwrap()
            .contains("Verify your sender"),
        "{body}"
    );
}

#[tokio::test]
async fn a_live_send_logs_no_secret_no_full_address_and_no_body() {
    let domain = format!("{}.example.com", crate::support::unique("clinic"));
    crate::support::verify_domain_in_moto(&domain).await;
    let function = send_email_function(&format!("noreply@{domain}")).await;
    let (status, body) = function
        .post_json(&json!({
            "to": "jane.doe@example.com",
            "subject": "Appointment on Friday",
            "body": "Secret body text 7731"
        }))
        .await;
    assert_eq!(status, 200, "{body}");
    let output = function.output();
    assert!(
        output.contains("\"outcome\":\"sent\""),
        "no audit event in:\n{output}"
    );
    assert!(output.contains("j***@example.com"), "{output}");
    for private in [
        "jane.doe@example.com",
        "Secret body text 7731",
        "Appointment on Friday",
        crate::support::AWS_SECRET,
    ] {
        assert!(
            !output.contains(private),
            "{private:?} leaked into:\n{output}"
        );
    }
}

#[tokio::test]
async fn health_reports_the_email_channel_live_when_fully_configured() {
    let vars = crate::support::ses_vars("noreply@clinic.example.com", &crate::support::moto_url());
    let health = Function::start("health", &crate::support::as_pairs(&vars)).await;
    let (status, body) = health.get().await;
    assert_eq!(status, 200);
    assert_eq!(body["channels"]["email"]["mode"], "live");
    assert_eq!(body["channels"]["sms"]["mode"], "demo");
}
