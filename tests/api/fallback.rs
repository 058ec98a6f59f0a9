//! SMS-to-email fallback end to end: the real function binaries on one database, Twilio in
//! Prism, email through the SMTP sink. A notification with `"strategy": "fallback"` uses the
//! first channel that can reach the patient; the one passed over names its fallback in the log,
//! the fallback its original, and the practice is told (`message.fallback`).

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::support::{
    API_KEY, AUDIT_KEY, Function, POSTGRES, answer, as_pairs, call, fresh_database, prism_url,
    smtp_vars, twilio_vars, unique,
};

fn stored(database: &str) -> HashMap<&'static str, String> {
    HashMap::from([
        ("DATABASE_URL", database.to_owned()),
        ("NOTIFY_AUDIT_KEY", AUDIT_KEY.to_owned()),
        ("NOTIFY_API_KEYS", API_KEY.to_owned()),
    ])
}

fn reminder(to: Value, extra: Value) -> Value {
    let template = notify::templates::TemplateName::AppointmentReminder;
    let mut body = json!({"template": template.as_str(), "to": to, "data": template.sample()});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

async fn message(function: &Function, id: &str) -> Value {
    let (status, body) = call(function, reqwest::Method::GET, &format!("?id={id}"), None).await;
    assert_eq!(status, 200, "{body}");
    body["message"].clone()
}

#[tokio::test]
async fn a_fallback_notification_passes_over_a_suppressed_or_absent_number_and_the_log_links_both()
{
    let _shared = POSTGRES.read().await;
    let database = fresh_database().await;
    let mut vars = twilio_vars(&prism_url());
    vars.extend(smtp_vars("clinic@example.com"));
    vars.extend(stored(&database));
    vars.insert("NOTIFY_FALLBACK_CATEGORIES", "care_reminders".into());
    let notify = Function::start("send-notification", &as_pairs(&vars)).await;
    let list = Function::start("suppressions", &as_pairs(&stored(&database))).await;
    let messages = Function::start("messages", &as_pairs(&stored(&database))).await;
    let email = format!("{}@example.com", unique("fallback"));
    let phone = "+15551239876";
    let fallback = json!({"channels": ["sms", "email"], "strategy": "fallback"});

    // The practice's default for reminders: a text, and the email is not needed.
    let (status, first) = call(
        &notify,
        reqwest::Method::POST,
        "",
        Some(reminder(json!({"email": email, "phone": phone}), json!({}))),
    )
    .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(
        (first["strategy"].as_str(), first["reachedBy"].as_str()),
        (Some("fallback"), Some("sms")),
        "{first}"
    );
    assert!(first["email"].is_null(), "not needed: {first}");

    // The number is suppressed: the email goes instead.
    let (status, body) = call(
        &list,
        reqwest::Method::POST,
        "/api/suppressions",
        Some(json!({"to": phone, "reason": "manual"})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, sent) = call(
        &notify,
        reqwest::Method::POST,
        "",
        Some(reminder(
            json!({"email": email, "phone": phone}),
            fallback.clone(),
        )),
    )
    .await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(sent["success"], true);
    assert_eq!(sent["reachedBy"], "email", "{sent}");
    assert_eq!(sent["sms"]["code"], "recipient_suppressed", "{sent}");
    assert_eq!(sent["email"]["success"], true, "{sent}");
    let sms_id = sent["sms"]["id"]
        .as_str()
        .expect("the passed-over text is in the log");
    let email_id = sent["email"]["id"].as_str().unwrap();
    let original = message(&messages, sms_id).await;
    assert_eq!(
        (original["status"].as_str(), original["fallback"].as_str()),
        (Some("suppressed"), Some(email_id)),
        "{original}"
    );
    let replacement = message(&messages, email_id).await;
    assert_eq!(replacement["fallbackOf"], sms_id, "{replacement}");

    // No number at all: passed over, with no message in the log for it.
    let (status, sent) = call(
        &notify,
        reqwest::Method::POST,
        "",
        Some(reminder(json!({"email": email}), fallback.clone())),
    )
    .await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(
        (sent["sms"]["code"].as_str(), sent["reachedBy"].as_str()),
        (Some("no_address"), Some("email")),
        "{sent}"
    );
    assert!(
        message(&messages, sent["email"]["id"].as_str().unwrap()).await["fallbackOf"].is_null()
    );

    // Strategy all names only channels it has an address for.
    let (status, refused) = call(
        &notify,
        reqwest::Method::POST,
        "",
        Some(reminder(
            json!({"email": email}),
            json!({"channels": ["sms"], "strategy": "all"}),
        )),
    )
    .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["details"][0]["field"], "channels[0]", "{refused}");

    // The practice app is told of the fallback.
    let events = Function::start("events", &as_pairs(&stored(&database))).await;
    let (_, page) = answer(
        reqwest::Client::new()
            .get(&events.base_url)
            .bearer_auth(API_KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let told: Vec<&Value> = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "message.fallback")
        .collect();
    assert_eq!(told.len(), 1, "{page}");
    assert_eq!(
        (
            told[0]["data"]["original"].as_str(),
            told[0]["data"]["fallback"].as_str(),
            told[0]["data"]["reason"].as_str()
        ),
        (Some(sms_id), Some(email_id), Some("recipient_suppressed")),
        "{page}"
    );
}
