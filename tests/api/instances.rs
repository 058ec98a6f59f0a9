//! Two instances sharing one database: the real function binaries, each its own process, on
//! the real PostgreSQL server, with SES in moto and Twilio in Prism. What one instance counts,
//! claims or logs, the other sees; a database outage is a bounded 503 that heals by itself.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{
    API_KEY, AUDIT_KEY, Function, POSTGRES, as_pairs, fresh_database, moto_url, prism_url,
    recorded, ses_vars, twilio_vars, unique, verify_domain_in_moto,
};

/// A live `send-email` on moto with a verified sender of its own, storing in `database`.
async fn email_instances(database: &str, count: usize) -> (Vec<Function>, String) {
    let domain = format!("{}.example.com", unique("instances"));
    verify_domain_in_moto(&domain).await;
    let sender = format!("noreply@{domain}");
    let mut vars = ses_vars(&sender, &moto_url());
    vars.insert("DATABASE_URL", database.to_owned());
    vars.insert("NOTIFY_AUDIT_KEY", AUDIT_KEY.to_owned());
    vars.insert("NOTIFY_STORE_TIMEOUT_MS", "1500".to_owned());
    let mut functions = Vec::new();
    for _ in 0..count {
        functions.push(Function::start("send-email", &as_pairs(&vars)).await);
    }
    (functions, sender)
}

/// How many emails moto holds from `sender`.
pub async fn emails_from(sender: &str) -> usize {
    let data: Value = reqwest::get(format!("{}/moto-api/data.json", moto_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    data["ses"]["Message"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["source"] == sender)
        .count()
}

async fn post(function: &Function, body: &Value, key: Option<&str>) -> (u16, Value, bool) {
    post_to(&function.base_url, body, key).await
}

async fn post_to(url: &str, body: &Value, key: Option<&str>) -> (u16, Value, bool) {
    let mut request = reqwest::Client::new()
        .post(url)
        .bearer_auth(API_KEY)
        .json(body);
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let response = request.send().await.expect("the function answers");
    let replayed = response.headers().get("idempotency-replayed").is_some();
    let status = response.status().as_u16();
    (
        status,
        response.json().await.unwrap_or(Value::Null),
        replayed,
    )
}

#[tokio::test]
async fn twenty_simultaneous_requests_with_one_key_over_two_instances_send_one_email() {
    let _shared = POSTGRES.read().await;
    let database = fresh_database().await;
    let (functions, sender) = email_instances(&database, 2).await;
    let body = json!({"to": "patient@example.com", "subject": "Your invoice", "body": "Ready."});
    let mut requests = tokio::task::JoinSet::new();
    for i in 0..20 {
        let (url, body) = (functions[i % 2].base_url.clone(), body.clone());
        requests.spawn(async move { post_to(&url, &body, Some("invoice-77")).await });
    }
    let answers = requests.join_all().await;
    assert_eq!(emails_from(&sender).await, 1, "{answers:?}");
    let sent: Vec<&Value> = answers
        .iter()
        .filter(|(status, _, _)| *status == 200)
        .map(|(_, body, _)| body)
        .collect();
    assert!(!sent.is_empty(), "{answers:?}");
    assert!(
        answers.iter().all(|(status, body, _)| *status == 200
            || (*status == 409 && body["code"] == "idempotency_in_progress")),
        "{answers:?}"
    );
    // Once the first has answered (and its record is written, a moment later), any instance
    // answers a retry with it, replayed.
    recorded(&database, sent[0]["id"].as_str().unwrap()).await;
    let (status, again, replayed) = post(&functions[1], &body, Some("invoice-77")).await;
    assert_eq!((status, replayed), (200, true), "{again}");
    assert_eq!(again["messageId"], sent[0]["messageId"]);
    assert_eq!(emails_from(&sender).await, 1);
    let other = json!({"to": "patient@example.com", "subject": "Another", "body": "Ready."});
    let (status, reused, _) = post(&functions[0], &other, Some("invoice-77")).await;
    assert_eq!(
        (status, reused["code"].as_str()),
        (422, Some("idempotency_key_reused"))
    );
}

#[tokio::test]
async fn the_per_recipient_sms_cap_holds_across_two_instances() {
    let _shared = POSTGRES.read().await;
    let database = fresh_database().await;
    let mut vars = twilio_vars(&prism_url());
    vars.insert("DATABASE_URL", database);
    vars.insert("NOTIFY_AUDIT_KEY", AUDIT_KEY.to_owned());
    vars.insert("NOTIFY_SMS_PER_RECIPIENT_PER_HOUR", "2".to_owned());
    let a = Function::start("send-sms", &as_pairs(&vars)).await;
    let b = Function::start("send-sms", &as_pairs(&vars)).await;
    let sms = json!({"to": "+15551234567", "message": "Your appointment is tomorrow."});
    assert_eq!(post(&a, &sms, None).await.0, 200);
    assert_eq!(post(&b, &sms, None).await.0, 200);
    let (status, body, _) = post(&a, &sms, None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("recipient_rate_limited"))
    );
    let other = json!({"to": "+15557654321", "message": "Your appointment is tomorrow."});
    assert_eq!(post(&b, &other, None).await.0, 200);
}

#[tokio::test]
async fn a_message_sent_through_one_instance_is_found_through_another_by_both_ids() {
    let _shared = POSTGRES.read().await;
    let database = fresh_database().await;
    let (functions, _) = email_instances(&database, 1).await;
    let body =
        json!({"to": "Pat Doe <pat@example.com>", "subject": "Your invoice", "body": "Ready."});
    let (status, sent, _) = post(&functions[0], &body, None).await;
    assert_eq!(status, 200, "{sent}");
    recorded(&database, sent["id"].as_str().unwrap()).await;
    let messages = Function::start(
        "messages",
        &[
            ("DATABASE_URL", database.as_str()),
            ("NOTIFY_AUDIT_KEY", AUDIT_KEY),
            ("NOTIFY_API_KEYS", API_KEY),
        ],
    )
    .await;
    let get = |path: String| {
        reqwest::Client::new()
            .get(format!("{}{path}", messages.base_url))
            .bearer_auth(API_KEY)
            .send()
    };
    for id in [&sent["id"], &sent["messageId"]] {
        let id = id.as_str().unwrap();
        let answer: Value = get(format!("/api/messages/{id}"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(answer["message"]["id"], sent["id"], "{answer}");
        assert_eq!(answer["message"]["status"], "sent");
        assert_eq!(
            answer["message"]["recipients"][0]["masked"],
            "p***@example.com"
        );
        assert!(!answer.to_string().contains("pat@example.com"), "{answer}");
        assert!(!answer.to_string().contains("Your invoice"), "{answer}");
    }
    let by_recipient: Value = get("/api/messages?recipient=PAT@example.com".into())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        by_recipient["messages"][0]["id"], sent["id"],
        "{by_recipient}"
    );
    let missing = get("/api/messages/msg_nothing".into()).await.unwrap();
    assert_eq!(missing.status(), 404);
    let unauthenticated = reqwest::get(format!("{}/api/messages", messages.base_url))
        .await
        .unwrap();
    assert_eq!(
        unauthenticated.status(),
        401,
        "a database means credentials"
    );
}

#[tokio::test]
async fn a_send_answers_before_its_record_is_written_and_a_replay_meanwhile_is_never_sent_twice() {
    let _shared = POSTGRES.read().await;
    let database = fresh_database().await;
    let (functions, sender) = email_instances(&database, 2).await;
    let body = json!({"to": "patient@example.com", "subject": "Your invoice", "body": "Ready."});
    // Both instances connected and the schema checked before the log is locked.
    for function in &functions {
        let (status, warm, _) = post(function, &body, None).await;
        assert_eq!(status, 200, "{warm}");
        recorded(&database, warm["id"].as_str().unwrap()).await;
    }
    // Writing to the log waits while this transaction holds the table; admission does not.
    let (holder, connection) = tokio_postgres::connect(&database, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    holder
        .batch_execute("BEGIN; LOCK TABLE notify_messages IN SHARE ROW EXCLUSIVE MODE")
        .await
        .unwrap();
    let (status, sent, _) = post(&functions[0], &body, Some("record-later")).await;
    assert_eq!(
        status, 200,
        "answered while its record cannot be written: {sent}"
    );
    let id = sent["id"].as_str().unwrap();
    let logged = crate::support::sql(
        &database,
        &format!("SELECT count(*) FROM notify_messages WHERE id = '{id}'"),
    )
    .await;
    assert_eq!(
        logged[0].get::<_, i64>(0),
        0,
        "the record is not written yet"
    );
    let (status, early, _) = post(&functions[1], &body, Some("record-later")).await;
    assert_eq!(
        (status, early["code"].as_str(), early["retryAfter"].as_u64()),
        (409, Some("idempotency_in_progress"), Some(1)),
        "{early}"
    );
    // The same replay at the instance still writing the record waits for it instead.
    let (url, same) = (functions[0].base_url.clone(), body.clone());
    let waiting = tokio::spawn(async move { post_to(&url, &same, Some("record-later")).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    holder.batch_execute("COMMIT").await.unwrap();
    let (status, waited, replayed) = waiting.await.unwrap();
    assert_eq!((status, replayed), (200, true), "{waited}");
    assert_eq!(waited["id"], sent["id"]);
    recorded(&database, id).await;
    let (status, again, replayed) = post(&functions[1], &body, Some("record-later")).await;
    assert_eq!((status, replayed), (200, true), "{again}");
    assert_eq!(again["id"], sent["id"]);
    assert_eq!(
        emails_from(&sender).await,
        3,
        "two warm-up emails and one kept"
    );
}

#[tokio::test]
async fn the_records_of_sends_that_end_together_are_written_together() {
    let _shared = POSTGRES.read().await;
    let database = fresh_database().await;
    let (functions, _) = email_instances(&database, 1).await;
    let mut requests = tokio::task::JoinSet::new();
    for n in 0..20 {
        let url = functions[0].base_url.clone();
        let body =
            json!({"to": format!("patient{n}@example.com"), "subject": "Hi", "body": "Ready."});
        requests.spawn(async move { post_to(&url, &body, Some(&format!("together-{n}"))).await });
    }
    for (status, sent, _) in requests.join_all().await {
        assert_eq!(status, 200, "{sent}");
        recorded(&database, sent["id"].as_str().unwrap()).await;
    }
    // Each statement is a transaction of its own: rows written together share its id.
    let written = crate::support::sql(
        &database,
        "SELECT count(*), count(DISTINCT xmin::text), \
             (SELECT count(*) FROM notify_idempotency WHERE body IS NOT NULL) \
         FROM notify_messages",
    )
    .await;
    let (messages, statements, answers) = (
        written[0].get::<_, i64>(0),
        written[0].get::<_, i64>(1),
        written[0].get::<_, i64>(2),
    );
    assert_eq!(
        (messages, answers),
        (20, 20),
        "every record and answer is kept"
    );
    assert!(statements < 20, "20 records in {statements} statements");
}

#[tokio::test]
async fn a_database_outage_is_a_bounded_503_and_sends_resume_when_it_is_back() {
    let _alone = POSTGRES.write().await;
    let database = fresh_database().await;
    let (functions, sender) = email_instances(&database, 1).await;
    let function = &functions[0];
    let body = json!({"to": "patient@example.com", "subject": "Reminder", "body": "Tomorrow."});
    assert_eq!(post(function, &body, None).await.0, 200);
    let pg_ctl = crate::support::emulator("NOTIFY_TEST_PG_CTL");
    let stopped = std::process::Command::new(&pg_ctl)
        .arg("stop")
        .output()
        .unwrap();
    assert!(stopped.status.success(), "{stopped:?}");
    let started = Instant::now();
    let (status, refused, _) = post(function, &body, None).await;
    let waited = started.elapsed();
    let restarted = std::process::Command::new(&pg_ctl)
        .arg("start")
        .output()
        .unwrap();
    assert!(restarted.status.success(), "{restarted:?}");
    assert_eq!(
        (status, refused["code"].as_str()),
        (503, Some("store_unavailable")),
        "{refused}"
    );
    assert!(waited < Duration::from_secs(4), "waited {waited:?}");
    assert_eq!(
        emails_from(&sender).await,
        1,
        "an email went out without the store"
    );
    let mut last = None;
    for _ in 0..50 {
        let (status, answer, _) = post(function, &body, None).await;
        if status == 200 {
            last = None;
            break;
        }
        last = Some((status, answer));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(last, None, "sends did not resume");
    assert_eq!(emails_from(&sender).await, 2);
}

#[tokio::test]
async fn the_audit_export_holds_every_send_attempt_and_refusal_with_no_address_body_or_secret() {
    let _shared = POSTGRES.read().await;
    let database = fresh_database().await;
    let (emails, _) = email_instances(&database, 1).await;
    let mut vars = twilio_vars(&prism_url());
    vars.insert("DATABASE_URL", database.clone());
    vars.insert("NOTIFY_AUDIT_KEY", AUDIT_KEY.to_owned());
    vars.insert("NOTIFY_PUBLIC_URL", "https://notify.example.com".to_owned());
    let sms = Function::start("send-sms", &as_pairs(&vars)).await;
    let webhook = Function::start("webhooks-twilio", &as_pairs(&vars)).await;
    let audit = Function::start("audit", &as_pairs(&vars)).await;
    let email = json!({"to": "patient@example.com", "subject": "Your invoice", "body": "Private balance details."});
    let text = json!({"to": "+15551234567", "message": "Private appointment details."});
    for (function, body) in [(&emails[0], &email), (&emails[0], &email), (&sms, &text)] {
        let (status, sent, _) = post(function, body, None).await;
        assert_eq!(status, 200, "{sent}");
        recorded(&database, sent["id"].as_str().unwrap()).await;
    }
    let forged = reqwest::Client::new()
        .post(&webhook.base_url)
        .form(&[("MessageSid", "SM1"), ("MessageStatus", "delivered")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);

    let unauthenticated = reqwest::get(&audit.base_url).await.unwrap();
    assert_eq!(unauthenticated.status(), 401);
    let export = reqwest::Client::new()
        .get(format!("{}?limit=1000", audit.base_url))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), 200);
    assert_eq!(export.headers()["content-type"], "application/x-ndjson");
    let text = export.text().await.unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let events: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
    assert_eq!(
        events.iter().filter(|e| **e == "send_attempt").count(),
        3,
        "{text}"
    );
    assert!(events.contains(&"webhook_refused"), "{text}");
    for private in [
        "patient@example.com",
        "+15551234567",
        "5551234567",
        "Your invoice",
        "Private",
        crate::support::AWS_SECRET,
        crate::support::AUTH_TOKEN,
        API_KEY,
        AUDIT_KEY,
    ] {
        assert!(!text.contains(private), "{private} is in the audit export");
    }
}
