//! SMS-to-email fallback end to end: the real function binaries on one database, Twilio in
//! Prism, email through the SMTP sink. A notification with `"strategy": "fallback"` uses the
//! first channel that can reach the patient; the one passed over names its fallback in the log,
//! the fallback its original, and the practice is told (`message.fallback`).

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::support::{
    API_KEY, AUDIT_KEY, Function, POSTGRES, as_pairs, call, eventually, fresh_database,
    practice_events, prism_url, smtp_vars, twilio_vars, unique,
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

/// A message as the log answers it, once its record is written (just after its send's answer).
async fn message(function: &Function, id: &str) -> Value {
    let path = format!("?id={id}");
    let read = || call(function, reqwest::Method::GET, &path, None);
    let (status, body) = eventually(read, |(status, _)| *status == 200).await;
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
    let told = practice_events(&events, "message.fallback").await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(
        (
            told[0]["data"]["original"].as_str(),
            told[0]["data"]["fallback"].as_str(),
            told[0]["data"]["reason"].as_str()
        ),
        (Some(sms_id), Some(email_id), Some("recipient_suppressed")),
        "{told:?}"
    );
}

const CRON_SECRET: &str = "a-cron-secret-for-fallback-tests";
const STORE_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

#[tokio::test]
async fn an_undelivered_text_reported_twice_to_two_instances_sends_exactly_one_email_and_a_delivered_one_none()
 {
    use crate::support::{dispatch, smtp_sink_messages_containing};
    use crate::webhooks::{PUBLIC_URL, post_form, twilio_signature};
    let _shared = POSTGRES.read().await;
    let database = fresh_database().await;
    let mut vars = twilio_vars(&prism_url());
    vars.extend(smtp_vars("clinic@example.com"));
    vars.extend(stored(&database));
    vars.insert("NOTIFY_STORE_KEY", STORE_KEY.into());
    vars.insert("CRON_SECRET", CRON_SECRET.into());
    vars.insert("NOTIFY_PUBLIC_URL", PUBLIC_URL.into());
    let pairs = as_pairs(&vars);
    let notify = Function::start("send-notification", &pairs).await;
    let webhooks = [
        Function::start("webhooks-twilio", &pairs).await,
        Function::start("webhooks-twilio", &pairs).await,
    ];
    let dispatchers = [
        Function::start("cron-dispatch", &pairs).await,
        Function::start("cron-dispatch", &pairs).await,
    ];
    let messages = Function::start("messages", &pairs).await;
    let url = format!("{PUBLIC_URL}/api/webhooks/twilio");
    let fallback = json!({"channels": ["sms", "email"], "strategy": "fallback"});

    for (status_reported, emails_wanted) in [("undelivered", 1), ("delivered", 0)] {
        let email = format!("{}@example.com", unique("after-report"));
        let (status, sent) = call(
            &notify,
            reqwest::Method::POST,
            "",
            Some(reminder(
                json!({"email": email, "phone": "+15551230077"}),
                fallback.clone(),
            )),
        )
        .await;
        assert_eq!(status, 200, "{sent}");
        assert_eq!(sent["reachedBy"], "sms", "{sent}");
        let sms_id = sent["sms"]["id"].as_str().unwrap().to_owned();
        let prepared = message(&messages, &sms_id).await["fallback"]
            .as_str()
            .expect("the email is prepared")
            .to_owned();
        let waiting = message(&messages, &prepared).await;
        assert_eq!(
            (waiting["status"].as_str(), waiting["fallbackOf"].as_str()),
            (Some("scheduled"), Some(sms_id.as_str())),
            "{waiting}"
        );

        // Twilio reports the text twice, to each of two instances.
        let sid = sent["sms"]["messageId"].as_str().unwrap();
        let callback = [
            ("MessageSid", sid),
            ("MessageStatus", status_reported),
            (
                "ErrorCode",
                if status_reported == "undelivered" {
                    "30003"
                } else {
                    ""
                },
            ),
            ("To", "+15551230077"),
            ("From", "+15550001111"),
        ];
        let callback: Vec<(&str, &str)> = callback
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .collect();
        for webhook in [&webhooks[0], &webhooks[1], &webhooks[0], &webhooks[1]] {
            let signature = twilio_signature(&url, &callback);
            let response = post_form(webhook, "", &callback, Some(&signature)).await;
            assert_eq!(response.status(), 200);
        }
        // Two dispatchers at once.
        tokio::join!(
            dispatch(&dispatchers[0], CRON_SECRET),
            dispatch(&dispatchers[1], CRON_SECRET)
        );
        dispatch(&dispatchers[0], CRON_SECRET).await;
        assert_eq!(
            smtp_sink_messages_containing(&email).len(),
            emails_wanted,
            "{status_reported}: emails to {email}"
        );
        let settled = message(&messages, &prepared).await;
        let wanted = if emails_wanted == 1 {
            "sent"
        } else {
            "cancelled"
        };
        assert_eq!(settled["status"], wanted, "{settled}");
        assert_eq!(settled["fallbackOf"], sms_id.as_str(), "{settled}");
    }

    let events = Function::start("events", &as_pairs(&stored(&database))).await;
    let told = practice_events(&events, "message.fallback").await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["data"]["reason"], "undelivered", "{told:?}");
}

#[tokio::test]
async fn with_fallback_after_a_text_without_a_receipt_is_followed_by_the_email_and_without_it_the_wait_ends_in_nothing()
 {
    use crate::support::{dispatch, smtp_sink_messages_containing, sql};
    let _shared = POSTGRES.read().await;
    let database = fresh_database().await;
    let mut vars = twilio_vars(&prism_url());
    vars.extend(smtp_vars("clinic@example.com"));
    vars.extend(stored(&database));
    vars.insert("NOTIFY_STORE_KEY", STORE_KEY.into());
    vars.insert("CRON_SECRET", CRON_SECRET.into());
    let pairs = as_pairs(&vars);
    let notify = Function::start("send-notification", &pairs).await;
    let dispatcher = Function::start("cron-dispatch", &pairs).await;
    let messages = Function::start("messages", &pairs).await;

    for (after, emails_wanted, status_wanted) in
        [(Some("PT15M"), 1, "sent"), (None, 0, "cancelled")]
    {
        let email = format!("{}@example.com", unique("no-receipt"));
        let mut how = json!({"channels": ["sms", "email"], "strategy": "fallback"});
        if let Some(after) = after {
            how["fallbackAfter"] = json!(after);
        }
        let (status, sent) = call(
            &notify,
            reqwest::Method::POST,
            "",
            Some(reminder(
                json!({"email": email, "phone": "+15551230088"}),
                how,
            )),
        )
        .await;
        assert_eq!(status, 200, "{sent}");
        let sms_id = sent["sms"]["id"].as_str().unwrap().to_owned();
        let prepared = message(&messages, &sms_id).await["fallback"]
            .as_str()
            .expect("the email is prepared")
            .to_owned();
        // No report comes; the wait (fallbackAfter, else 72 hours) ends.
        sql(
            &database,
            &format!("UPDATE notify_scheduled SET send_at = now() WHERE id = '{prepared}'"),
        )
        .await;
        dispatch(&dispatcher, CRON_SECRET).await;
        assert_eq!(
            smtp_sink_messages_containing(&email).len(),
            emails_wanted,
            "{after:?}"
        );
        let settled = message(&messages, &prepared).await;
        assert_eq!(settled["status"], status_wanted, "{after:?}: {settled}");
    }
    let events = Function::start("events", &as_pairs(&stored(&database))).await;
    let told = practice_events(&events, "message.fallback").await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["data"]["reason"], "no_receipt", "{told:?}");
}
