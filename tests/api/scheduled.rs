//! Scheduled sends through the real function binaries: SES in moto, the real PostgreSQL
//! server, the dispatcher as Vercel Cron calls it. Time passing is the database's clock moved.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::instances::emails_from;
use crate::support::{
    API_KEY, AUDIT_KEY, Function, POSTGRES, answer, as_pairs, fresh_database, moto_url, prism_url,
    ses_vars, twilio_vars, unique, verify_domain_in_moto,
};

const CRON_SECRET: &str = "a-cron-secret-for-scheduled-tests";
const STORE_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// `send-email`, `messages` and two dispatchers of one deployment on a new database.
struct Deployment {
    send: Function,
    messages: Function,
    dispatchers: [Function; 2],
    database: String,
    sender: String,
}

impl Deployment {
    async fn start() -> Self {
        let domain = format!("{}.example.com", unique("scheduled"));
        verify_domain_in_moto(&domain).await;
        let sender = format!("noreply@{domain}");
        let database = fresh_database().await;
        let mut vars = ses_vars(&sender, &moto_url());
        vars.insert("DATABASE_URL", database.clone());
        vars.insert("NOTIFY_AUDIT_KEY", AUDIT_KEY.into());
        vars.insert("NOTIFY_STORE_KEY", STORE_KEY.into());
        vars.insert("CRON_SECRET", CRON_SECRET.into());
        let vars = as_pairs(&vars);
        Self {
            send: Function::start("send-email", &vars).await,
            messages: Function::start("messages", &vars).await,
            dispatchers: [
                Function::start("cron-dispatch", &vars).await,
                Function::start("cron-dispatch", &vars).await,
            ],
            database,
            sender,
        }
    }

    /// Schedules an email to `to` at `in_minutes` from now; the answer.
    async fn schedule(&self, to: &str, in_minutes: i64) -> (u16, Value) {
        let at = time::OffsetDateTime::now_utc() + time::Duration::minutes(in_minutes);
        let body = json!({
            "to": to, "subject": "Your appointment tomorrow",
            "body": "A confidential reminder body",
            "sendAt": at.format(&time::format_description::well_known::Rfc3339).unwrap(),
        });
        self.send.post_json(&body).await
    }

    async fn dispatch(&self, n: usize) -> Value {
        crate::support::dispatch(&self.dispatchers[n], CRON_SECRET).await
    }

    /// `method` on `/api/messages/{id}`, with `body` if given.
    async fn message(
        &self,
        method: reqwest::Method,
        id: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = reqwest::Client::new()
            .request(
                method,
                format!("{}/api/messages/{id}", self.messages.base_url),
            )
            .bearer_auth(API_KEY);
        if let Some(body) = body {
            request = request.json(&body);
        }
        answer(request.send().await.unwrap()).await
    }

    /// Runs `sql` on the deployment's database: the test's own view of what is kept.
    async fn sql(&self, sql: &str) -> Vec<tokio_postgres::Row> {
        crate::support::sql(&self.database, sql).await
    }

    /// Moves every waiting send `minutes` closer (what that much waiting would do).
    async fn minutes_pass(&self, minutes: i64) {
        self.sql(&format!(
            "UPDATE notify_scheduled SET send_at = send_at - interval '{minutes} minutes' \
             WHERE state = 'scheduled'"
        ))
        .await;
    }

    /// Scheduled rows still holding content, and any row holding the body in the clear.
    async fn content_left(&self) -> (i64, i64) {
        let rows = self
            .sql(
                "SELECT count(*) FILTER (WHERE content IS NOT NULL), \
                 count(*) FILTER (WHERE position('confidential'::bytea IN content) > 0) \
                 FROM notify_scheduled",
            )
            .await;
        (rows[0].get(0), rows[0].get(1))
    }
}

#[tokio::test]
async fn a_scheduled_email_waits_for_its_time_then_goes_once_with_two_dispatchers_at_once() {
    let _shared = POSTGRES.read().await;
    let deployment = Deployment::start().await;
    let at = time::OffsetDateTime::now_utc() + time::Duration::minutes(90);
    let request = json!({
        "to": "patient@example.com", "subject": "Your appointment tomorrow",
        "body": "A confidential reminder body",
        "sendAt": at.format(&time::format_description::well_known::Rfc3339).unwrap(),
    });
    let scheduling = || {
        reqwest::Client::new()
            .post(&deployment.send.base_url)
            .bearer_auth(API_KEY)
            .header("idempotency-key", "appointment-42-reminder")
            .json(&request)
            .send()
    };
    let (status, body) = answer(scheduling().await.unwrap()).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(
        (&body["success"], &body["scheduled"]),
        (&json!(true), &json!(true))
    );
    let id = body["id"].as_str().unwrap().to_owned();
    // The practice app retried the booking's call: the same answer, nothing scheduled twice.
    let retried = scheduling().await.unwrap();
    assert!(retried.headers().contains_key("idempotency-replayed"));
    // (Its body is the first answer, as kept: the first request's id in it.)
    let status = retried.status().as_u16();
    let again: Value = retried.json().await.unwrap();
    assert_eq!((status, &again["id"]), (202, &body["id"]), "{again}");
    let (_, message) = deployment.message(reqwest::Method::GET, &id, None).await;
    assert_eq!(message["message"]["status"], "scheduled", "{message}");
    let (waiting, clear) = deployment.content_left().await;
    assert_eq!(
        (waiting, clear),
        (1, 0),
        "the waiting content is not sealed"
    );

    let early = deployment.dispatch(0).await;
    assert_eq!(early["scheduledSent"], 0, "{early}");
    assert_eq!(
        emails_from(&deployment.sender).await,
        0,
        "sent before its time"
    );

    deployment.minutes_pass(91).await;
    let (a, b) = tokio::join!(deployment.dispatch(0), deployment.dispatch(1));
    let sent = a["scheduledSent"].as_u64().unwrap() + b["scheduledSent"].as_u64().unwrap();
    assert_eq!(sent, 1, "{a} {b}");
    assert_eq!(emails_from(&deployment.sender).await, 1, "not exactly once");
    let (_, message) = deployment.message(reqwest::Method::GET, &id, None).await;
    assert_eq!(message["message"]["status"], "sent", "{message}");
    assert!(
        message["message"]["providerMessageId"].is_string(),
        "{message}"
    );
    assert_eq!(
        deployment.content_left().await,
        (0, 0),
        "content left after the send"
    );
    let again = deployment.dispatch(1).await;
    assert_eq!(again["scheduledSent"], 0, "{again}");
}

#[tokio::test]
async fn a_cancelled_email_never_goes_and_a_rescheduled_one_goes_at_its_new_time() {
    let _shared = POSTGRES.read().await;
    let deployment = Deployment::start().await;
    let (_, cancelled) = deployment.schedule("cancel@example.com", 60).await;
    let (_, moved) = deployment.schedule("moved@example.com", 60).await;
    let (cancelled, moved) = (
        cancelled["id"].as_str().unwrap(),
        moved["id"].as_str().unwrap(),
    );

    let (status, body) = deployment
        .message(reqwest::Method::DELETE, cancelled, None)
        .await;
    assert_eq!(
        (status, &body["status"]),
        (200, &json!("cancelled")),
        "{body}"
    );
    let later = time::OffsetDateTime::now_utc() + time::Duration::minutes(120);
    let later = later
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (status, body) = deployment
        .message(
            reqwest::Method::PATCH,
            moved,
            Some(json!({ "sendAt": later })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = deployment
        .message(
            reqwest::Method::PATCH,
            moved,
            Some(json!({ "sendAt": "tomorrow" })),
        )
        .await;
    assert_eq!(
        (status, body["details"][0]["field"].as_str()),
        (400, Some("sendAt"))
    );

    // Past the first time: nothing goes (one was cancelled, the other moved).
    deployment.minutes_pass(61).await;
    let first = deployment.dispatch(0).await;
    assert_eq!(first["scheduledSent"], 0, "{first}");
    // Past the new time: the moved one goes.
    deployment.minutes_pass(60).await;
    let second = deployment.dispatch(0).await;
    assert_eq!(second["scheduledSent"], 1, "{second}");
    assert_eq!(emails_from(&deployment.sender).await, 1);
    let (_, message) = deployment
        .message(reqwest::Method::GET, cancelled, None)
        .await;
    assert_eq!(message["message"]["status"], "cancelled", "{message}");
    assert_eq!(deployment.content_left().await, (0, 0));

    for (method, id) in [
        (reqwest::Method::DELETE, moved),
        (reqwest::Method::DELETE, cancelled),
        (reqwest::Method::PATCH, moved),
    ] {
        let body = (method == reqwest::Method::PATCH).then(|| json!({ "sendAt": later }));
        let (status, answer) = deployment.message(method, id, body).await;
        assert_eq!(
            (status, answer["code"].as_str()),
            (409, Some("message_already_sent")),
            "{answer}"
        );
    }
    let (status, answer) = deployment
        .message(reqwest::Method::DELETE, "msg_unknown", None)
        .await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (404, Some("message_not_found"))
    );
}

#[tokio::test]
async fn a_scheduled_send_without_what_it_needs_is_refused_by_name() {
    let at = time::OffsetDateTime::now_utc() + time::Duration::minutes(10);
    let at = at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let sms = json!({"to": "+15551234567", "message": "Reminder", "sendAt": at});

    let on_vercel = Function::start("send-sms", &[("VERCEL", "1")]).await;
    let (status, body) = on_vercel.post_json(&sms).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("store_required")),
        "{body}"
    );
    assert_eq!(body["missing"], json!(["DATABASE_URL"]));

    let _shared = POSTGRES.read().await;
    let database = fresh_database().await;
    let vars: HashMap<&str, String> = HashMap::from([
        ("DATABASE_URL", database),
        ("NOTIFY_AUDIT_KEY", AUDIT_KEY.into()),
        ("NOTIFY_API_KEYS", API_KEY.into()),
    ]);
    let keyless = Function::start("send-sms", &as_pairs(&vars)).await;
    let (status, body) = keyless.post_json(&sms).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("store_required")),
        "{body}"
    );
    assert_eq!(body["missing"], json!(["NOTIFY_STORE_KEY"]));

    let soon =
        json!({"to": "+15551234567", "message": "Reminder", "sendAt": "2020-01-01T00:00:00Z"});
    let (status, body) = keyless.post_json(&soon).await;
    assert_eq!(
        (status, body["details"][0]["field"].as_str()),
        (400, Some("sendAt")),
        "{body}"
    );
}

/// A quiet window in UTC from an hour ago to an hour ahead (so now is inside it), and its end.
fn window_around_now() -> (String, String) {
    let now = time::OffsetDateTime::now_utc();
    let (start, end) = (
        now - time::Duration::hours(1),
        now + time::Duration::hours(1),
    );
    let hhmm = |t: time::OffsetDateTime| format!("{:02}:{:02}", t.hour(), t.minute());
    let end_instant = end
        .replace_second(0)
        .unwrap()
        .replace_nanosecond(0)
        .unwrap();
    let end_text = end_instant
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    (format!("{}-{}", hhmm(start), hhmm(end)), end_text)
}

#[tokio::test]
async fn an_sms_inside_quiet_hours_waits_for_their_end_unless_urgent_or_the_patient_is_elsewhere() {
    let (window, end) = window_around_now();
    let vars = [
        ("NOTIFY_QUIET_HOURS", window.as_str()),
        ("NOTIFY_TIMEZONE", "UTC"),
    ];
    let sms = Function::start("send-sms", &vars).await;
    let text = |extra: Value| {
        let mut body = json!({"to": "+15551234567", "message": "Your appointment is tomorrow"});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };

    let (status, body) = sms.post_json(&text(json!({}))).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["scheduled"], true);
    assert_eq!(body["deferredUntil"].as_str(), Some(end.as_str()), "{body}");
    assert_eq!(body["sendAt"], body["deferredUntil"]);

    let (status, body) = sms.post_json(&text(json!({"urgent": true}))).await;
    assert_eq!(
        (status, &body["demo"]),
        (200, &json!(true)),
        "urgent waits: {body}"
    );

    // Twelve hours away, the same instant is daytime for the patient.
    let (status, body) = sms
        .post_json(&text(json!({"timezone": "Etc/GMT+12"})))
        .await;
    assert_eq!(
        status, 200,
        "quiet hours held back a patient for whom it is day: {body}"
    );

    let (status, body) = sms
        .post_json(&text(json!({"timezone": "Mars/Olympus_Mons"})))
        .await;
    assert_eq!(
        (status, body["details"][0]["field"].as_str()),
        (400, Some("timezone"))
    );

    // Email is not held back unless asked.
    let email = json!({"to": "p@example.com", "subject": "Invoice", "body": "Ready"});
    let mail = Function::start("send-email", &vars).await;
    assert_eq!(mail.post_json(&email).await.0, 200);
    let mut held = vars.to_vec();
    held.push(("NOTIFY_QUIET_HOURS_EMAIL", "1"));
    let mail = Function::start("send-email", &held).await;
    let (status, body) = mail.post_json(&email).await;
    assert_eq!(
        (status, body["deferredUntil"].as_str()),
        (202, Some(end.as_str())),
        "{body}"
    );
}

#[tokio::test]
async fn bad_quiet_hours_variables_and_a_malformed_store_key_are_named_in_health() {
    let health = Function::start(
        "health",
        &[
            ("NOTIFY_QUIET_HOURS", "late-early"),
            ("NOTIFY_TIMEZONE", "Atlantis/Capital"),
            ("NOTIFY_STORE_KEY", "c2hvcnQ="),
        ],
    )
    .await;
    let (_, body) = health.get().await;
    let named: Vec<&str> = body["quietHours"]["invalid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["field"].as_str().unwrap())
        .collect();
    assert_eq!(named, ["NOTIFY_QUIET_HOURS", "NOTIFY_TIMEZONE"], "{body}");
    assert_eq!(body["quietHours"]["window"], Value::Null);
    assert_eq!(body["quietHours"]["timezone"], "America/New_York");
    assert_eq!(body["status"], "degraded");
    let security = body["security"]["invalid"].to_string();
    assert!(
        security.contains("NOTIFY_STORE_KEY"),
        "a malformed store key is not named: {body}"
    );
}

#[tokio::test]
async fn a_scheduled_send_that_fails_when_due_is_recorded_failed_and_forwarded_as_an_event() {
    let _shared = POSTGRES.read().await;
    let receiver = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(204))
        .mount(&receiver)
        .await;
    // A sender moto never verified: SES refuses the message when it is due.
    let sender = format!("noreply@{}.example.com", unique("unverified"));
    let database = fresh_database().await;
    let mut vars = ses_vars(&sender, &moto_url());
    vars.insert("DATABASE_URL", database.clone());
    vars.insert("NOTIFY_AUDIT_KEY", AUDIT_KEY.into());
    vars.insert("NOTIFY_STORE_KEY", STORE_KEY.into());
    vars.insert("CRON_SECRET", CRON_SECRET.into());
    vars.insert("NOTIFY_EVENTS_URL", receiver.uri());
    vars.insert("NOTIFY_EVENTS_SECRET", crate::webhooks::events_secret());
    let vars = as_pairs(&vars);
    let send = Function::start("send-email", &vars).await;
    let dispatcher = Function::start("cron-dispatch", &vars).await;
    let at = time::OffsetDateTime::now_utc() + time::Duration::minutes(5);
    let at = at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (status, body) = send
        .post_json(
            &json!({"to": "p@example.com", "subject": "Invoice", "body": "Ready", "sendAt": at}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    crate::support::sql(
        &database,
        "UPDATE notify_scheduled SET send_at = now() - interval '1 second'",
    )
    .await;
    let report = crate::support::dispatch(&dispatcher, CRON_SECRET).await;
    assert_eq!(report["scheduledSent"], 1, "{report}");
    let requests = receiver.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "the failure was not forwarded");
    let event = crate::webhooks::verified_payload(&requests[0]);
    assert_eq!(event["type"], "message.failed", "{event}");
    assert_eq!(event["data"]["provider_message_id"], id.as_str(), "{event}");
    assert!(event["data"]["error_code"].is_string(), "{event}");
}

#[tokio::test]
async fn a_scheduled_notification_goes_once_on_both_channels_when_due_with_two_dispatchers_at_once()
{
    let _shared = POSTGRES.read().await;
    let domain = format!("{}.example.com", unique("notice"));
    verify_domain_in_moto(&domain).await;
    let sender = format!("noreply@{domain}");
    let database = fresh_database().await;
    let mut vars = ses_vars(&sender, &moto_url());
    vars.extend(twilio_vars(&prism_url()));
    vars.insert("DATABASE_URL", database.clone());
    vars.insert("NOTIFY_AUDIT_KEY", AUDIT_KEY.into());
    vars.insert("NOTIFY_STORE_KEY", STORE_KEY.into());
    vars.insert("CRON_SECRET", CRON_SECRET.into());
    let vars = as_pairs(&vars);
    let notify = Function::start("send-notification", &vars).await;
    let dispatchers = [
        Function::start("cron-dispatch", &vars).await,
        Function::start("cron-dispatch", &vars).await,
    ];
    let at = time::OffsetDateTime::now_utc() + time::Duration::minutes(90);
    let (status, body) = notify
        .post_json(&json!({
            "template": "appointmentReminder",
            "to": {"email": "patient@example.com", "phone": "+15551234567"},
            "data": {"client_name": "Pat", "appointment_date": "2026-12-24", "appointment_time": "09:00"},
            "sendAt": at.format(&time::format_description::well_known::Rfc3339).unwrap(),
        }))
        .await;
    assert_eq!(status, 202, "{body}");
    crate::support::sql(
        &database,
        "UPDATE notify_scheduled SET send_at = now() - interval '1 second'",
    )
    .await;
    let (a, b) = tokio::join!(
        crate::support::dispatch(&dispatchers[0], CRON_SECRET),
        crate::support::dispatch(&dispatchers[1], CRON_SECRET),
    );
    let sent = a["scheduledSent"].as_u64().unwrap() + b["scheduledSent"].as_u64().unwrap();
    assert_eq!(sent, 1, "{a} {b}");
    assert_eq!(
        emails_from(&sender).await,
        1,
        "the email did not go exactly once"
    );
    let messages = crate::support::sql(
        &database,
        "SELECT channel, status, provider_message_id, template FROM notify_messages ORDER BY channel",
    )
    .await;
    let messages: Vec<(String, String, Option<String>, Option<String>)> = messages
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2), row.get(3)))
        .collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    for (channel, status, provider_id, template) in &messages {
        assert_eq!(status, "sent", "{channel}: {messages:?}");
        assert!(provider_id.is_some(), "{channel}: {messages:?}");
        assert_eq!(template.as_deref(), Some("appointmentReminder"));
    }
    let attempts = crate::support::sql(
        &database,
        "SELECT line->>'channel' FROM notify_audit WHERE event = 'send_attempt' ORDER BY 1",
    )
    .await;
    let attempts: Vec<String> = attempts.iter().map(|row| row.get(0)).collect();
    assert_eq!(attempts, ["email", "sms"], "one attempt per channel");
}
