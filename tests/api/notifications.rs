//! The templated routes as real function binaries: `send-notification` in demo mode and live
//! against moto and Prism, `templates`, and `preview`.

use crate::support::Function;
use serde_json::json;

const BRANDING: [(&str, &str); 3] = [
    ("PRACTICE_NAME", "Sunrise Family Clinic"),
    ("PRACTICE_PHONE", "(555) 010-2000"),
    ("PRACTICE_PORTAL_URL", "https://portal.sunrise.example.com"),
];

fn payment_received(to: serde_json::Value) -> serde_json::Value {
    json!({
        "template": "paymentReceived",
        "data": {"client_name": "John Doe", "invoice_number": "INV-123", "total_amount": 100.00},
        "to": to
    })
}

#[tokio::test]
async fn a_demo_notification_answers_for_both_channels() {
    let function = Function::start("send-notification", &BRANDING).await;
    let (status, body) = function
        .post_json(&payment_received(
            json!({"email": "john@example.com", "phone": "+15551234567"}),
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    let mut body = body;
    let email_id = crate::support::take_id(&mut body["email"]);
    assert_ne!(email_id, crate::support::take_id(&mut body["sms"]));
    assert_eq!(
        body,
        json!({
            "success": true,
            "template": "paymentReceived",
            "email": {"success": true, "message": "Email logged (demo mode - AWS SES not configured)", "demo": true},
            "sms": {"success": true, "message": "SMS logged (demo mode - Twilio not configured)", "demo": true}
        })
    );
}

#[tokio::test]
async fn one_recipient_sends_on_one_channel_only() {
    let function = Function::start("send-notification", &[]).await;
    let (status, body) = function
        .post_json(&payment_received(json!({"phone": "+15551234567"})))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("email").is_none(), "{body}");
    assert_eq!(body["sms"]["demo"], true);
}

#[tokio::test]
async fn missing_and_mistyped_data_fields_are_400s_naming_the_field() {
    let function = Function::start("send-notification", &[]).await;
    let to = json!({"email": "john@example.com"});
    for (data, field) in [
        (
            json!({"invoice_number": "INV-1", "total_amount": 5}),
            "data.client_name",
        ),
        (
            json!({"client_name": "J", "invoice_number": "INV-1", "total_amount": "five"}),
            "data.total_amount",
        ),
        (
            json!({"client_name": "J", "invoice_number": "INV-1", "total_amount": 5, "payment_date": "10/25/2025"}),
            "data.payment_date",
        ),
        (
            json!({"client_name": "J", "invoice_number": "INV-1", "total_amount": 5, "reason": "flu"}),
            "data.reason",
        ),
    ] {
        let (status, body) = function
            .post_json(&json!({"template": "paymentReceived", "data": data, "to": to}))
            .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["details"][0]["field"], field, "{body}");
    }
    let (status, body) = function
        .post_json(&json!({"template": "paymentReceived", "data": {}, "to": {}}))
        .await;
    assert_eq!(
        (status, body["details"][0]["field"].as_str()),
        (400, Some("to"))
    );
}

#[tokio::test]
async fn unknown_templates_are_404s_listing_the_known_ones() {
    let function = Function::start("send-notification", &[]).await;
    let (status, body) = function
        .post_json(
            &json!({"template": "paymentRecieved", "data": {}, "to": {"email": "a@example.com"}}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("template_not_found"))
    );
    assert!(body["error"].as_str().unwrap().contains("documentAssigned"));

    let preview = Function::start("preview", &[]).await;
    let response = reqwest::get(format!("{}/?template=nope", preview.base_url))
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn the_template_list_has_the_eight_with_channels_fields_and_samples() {
    let function = Function::start("templates", &[]).await;
    let (status, body) = function.get().await;
    assert_eq!(status, 200);
    let templates = body["templates"].as_array().unwrap();
    let names: Vec<&str> = templates
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "paymentReceived",
            "paymentFailed",
            "refundProcessed",
            "invoiceCreated",
            "autopayEnabled",
            "autopayFailed",
            "appointmentReminder",
            "documentAssigned"
        ]
    );
    for template in templates {
        assert_eq!(template["channels"], json!(["email", "sms"]));
        assert_eq!(
            template["fields"][0],
            json!({
                "name": "client_name", "type": "string", "required": true,
                "description": "the patient's name as the practice addresses them"
            })
        );
        assert!(template["sample"].is_object());
    }
}

#[tokio::test]
async fn previews_render_html_for_a_browser_text_and_sms_with_segments() {
    let function = Function::start("preview", &BRANDING).await;
    let html = reqwest::get(format!(
        "{}/?template=invoiceCreated&format=html",
        function.base_url
    ))
    .await
    .unwrap();
    assert_eq!(html.headers()["content-type"], "text/html; charset=utf-8");
    let html = html.text().await.unwrap();
    assert!(
        html.contains("$150.00") && html.contains("Sunrise Family Clinic"),
        "{html}"
    );

    let text = reqwest::get(format!(
        "{}/?template=invoiceCreated&format=text",
        function.base_url
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(
        text.starts_with("Subject: New invoice INV-124 from Sunrise Family Clinic"),
        "{text}"
    );

    let (status, sms) = crate::support::answer(
        reqwest::get(format!(
            "{}/?template=appointmentReminder&format=sms",
            function.base_url
        ))
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(sms["encoding"], "GSM-7");
    assert_eq!(sms["segments"], 1);
    assert!(
        sms["text"]
            .as_str()
            .unwrap()
            .contains("Tue, Oct 28 at 2:30 PM")
    );
}

#[tokio::test]
async fn a_preview_of_posted_data_is_escaped_in_html_and_formatted_in_text() {
    let function = Function::start("preview", &BRANDING).await;
    let response = reqwest::Client::new()
        .post(format!("{}/?template=paymentReceived&format=json", function.base_url))
        .json(&json!({"client_name": "<script>x</script> Zoë", "invoice_number": "INV-9", "total_amount": "1234.5"}))
        .send()
        .await
        .unwrap();
    let (status, body) = crate::support::answer(response).await;
    assert_eq!(status, 200, "{body}");
    let html = body["html"].as_str().unwrap();
    assert!(
        !html.contains("<script>x") && html.contains("&#60;script&#62;"),
        "{html}"
    );
    assert!(body["text"].as_str().unwrap().contains("$1,234.50"));
    assert_eq!(
        body["sms"]["encoding"], "GSM-7",
        "the SMS carries no name, so no ë"
    );
}

#[tokio::test]
async fn a_live_notification_reaches_moto_and_prism_with_the_rendered_content() {
    let domain = format!("{}.example.com", crate::support::unique("clinic"));
    crate::support::verify_domain_in_moto(&domain).await;
    let mut vars =
        crate::support::ses_vars(&format!("noreply@{domain}"), &crate::support::moto_url());
    vars.extend(crate::support::twilio_vars(&crate::support::prism_url()));
    let mut pairs = crate::support::as_pairs(&vars);
    pairs.extend(BRANDING);
    let function = Function::start("send-notification", &pairs).await;

    let (status, body) = function
        .post_json(&payment_received(
            json!({"email": "john@example.com", "phone": "+15551234567"}),
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["success"], true);
    assert!(body["sms"]["messageId"].as_str().unwrap().starts_with("SM"));
    let sent = crate::support::message_in_moto(body["email"]["messageId"].as_str().unwrap()).await;
    assert_eq!(sent["subject"], "Payment received - Invoice INV-123");
    assert_eq!(
        sent["destinations"]["ToAddresses"],
        json!(["john@example.com"])
    );
    let html = sent["body"].as_str().unwrap();
    assert!(
        html.contains("Hello John Doe,") && html.contains("$100.00"),
        "{html}"
    );
}

#[tokio::test]
async fn one_channel_failing_while_the_other_succeeds_is_a_207_reporting_both() {
    // The sender's domain is never verified in moto, so SES refuses the email.
    let domain = format!("{}.example.com", crate::support::unique("unverified"));
    let mut vars =
        crate::support::ses_vars(&format!("noreply@{domain}"), &crate::support::moto_url());
    vars.extend(crate::support::twilio_vars(&crate::support::prism_url()));
    let function = Function::start("send-notification", &crate::support::as_pairs(&vars)).await;

    let (status, body) = function
        .post_json(&payment_received(
            json!({"email": "john@example.com", "phone": "+15551234567"}),
        ))
        .await;
    assert_eq!(status, 207, "{body}");
    assert_eq!(body["success"], false);
    assert_eq!(body["code"], "partially_sent");
    assert_eq!(body["email"]["success"], false);
    assert_eq!(body["email"]["code"], "sender_not_verified");
    assert_eq!(body["sms"]["success"], true);
    assert!(body["sms"]["messageId"].as_str().unwrap().starts_with("SM"));
}

#[tokio::test]
async fn every_channel_failing_answers_the_failures_own_status() {
    let domain = format!("{}.example.com", crate::support::unique("unverified"));
    let vars = crate::support::ses_vars(&format!("noreply@{domain}"), &crate::support::moto_url());
    let function = Function::start("send-notification", &crate::support::as_pairs(&vars)).await;
    let (status, body) = function
        .post_json(&payment_received(json!({"email": "john@example.com"})))
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "notification_failed");
    assert_eq!(body["email"]["code"], "sender_not_verified");
}
