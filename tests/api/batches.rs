//! Batches end to end: the real `batch`, `batches` and dispatcher binaries on one database, SES
//! in moto, Twilio in Prism behind a recording proxy (what reached it, and when), SES's
//! throttling from an in-process fake. Validation, replays and cancelling on the local server.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::aws_recorder::AwsRecorder;
use crate::support::{
    API_KEY, AUDIT_KEY, Function, POSTGRES, as_pairs, call, dispatch, fresh_database, moto_url,
    prism_url, ses_vars, twilio_vars, unique, verify_domain_in_moto,
};

const CRON_SECRET: &str = "a-cron-secret-for-batch-tests";
const STORE_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// A deployment on a new database: `batch` (instance A), `batches`, and a dispatcher
/// (instance B), with SES at `ses` and Twilio behind `twilio`.
struct Deployment {
    batch: Function,
    batches: Function,
    dispatcher: Function,
    domain: String,
}

impl Deployment {
    async fn start(ses: &str, twilio: &str, extra: &[(&'static str, &str)]) -> Self {
        let domain = format!("{}.example.com", unique("batch"));
        verify_domain_in_moto(&domain).await;
        let mut vars = ses_vars(&format!("noreply@{domain}"), ses);
        vars.extend(twilio_vars(twilio));
        vars.insert("DATABASE_URL", fresh_database().await);
        vars.insert("NOTIFY_AUDIT_KEY", AUDIT_KEY.into());
        vars.insert("NOTIFY_STORE_KEY", STORE_KEY.into());
        vars.insert("CRON_SECRET", CRON_SECRET.into());
        for (name, value) in extra {
            vars.insert(name, (*value).to_owned());
        }
        let vars = as_pairs(&vars);
        Self {
            batch: Function::start("batch", &vars).await,
            batches: Function::start("batches", &vars).await,
            dispatcher: Function::start("cron-dispatch", &vars).await,
            domain,
        }
    }

    /// `GET /api/batches/{id}` with `query` (`?id=...`): its 200 answer.
    async fn page(&self, query: &str) -> Value {
        let (status, body) = call(&self.batches, reqwest::Method::GET, query, None).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// The batch's counts once nothing of it waits (or after `limit`); the dispatcher is called
    /// every few seconds meanwhile, as Vercel Cron calls it (what a worker put back for a later
    /// slot is the next call's).
    async fn settled(&self, id: &str, limit: Duration) -> Value {
        let started = Instant::now();
        let mut called = Instant::now();
        loop {
            if called.elapsed() > Duration::from_secs(3) {
                // A nudge: a busy database may answer it 503, and the next one goes on.
                let _ = reqwest::Client::new()
                    .get(&self.dispatcher.base_url)
                    .bearer_auth(CRON_SECRET)
                    .send()
                    .await;
                called = Instant::now();
            }
            let counts = self.page(&format!("?id={id}")).await["batch"]["counts"].clone();
            if counts.get("scheduled").is_none() || started.elapsed() > limit {
                return counts;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// How many emails moto holds to each recipient of the `domain`'s sender.
async fn emails_to(domain: &str) -> HashMap<String, usize> {
    let data: Value = reqwest::get(format!("{}/moto-api/data.json", moto_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut counts = HashMap::new();
    let sender = format!("noreply@{domain}");
    for message in data["ses"]["Message"].as_array().into_iter().flatten() {
        if message["source"] != sender.as_str() {
            continue;
        }
        for to in message["destinations"]["ToAddresses"]
            .as_array()
            .into_iter()
            .flatten()
        {
            *counts.entry(to.as_str().unwrap().to_owned()).or_default() += 1;
        }
    }
    counts
}

/// The texts that reached Twilio through `proxy`: each `To` with when it arrived.
fn texts(proxy: &AwsRecorder) -> Vec<(String, Instant)> {
    proxy
        .calls()
        .into_iter()
        .filter_map(|call| {
            let form: Vec<(String, String)> = serde_urlencoded::from_str(&call.body).ok()?;
            let (_, to) = form.into_iter().find(|(name, _)| name == "To")?;
            Some((to, call.at))
        })
        .collect()
}

fn number(i: usize) -> String {
    format!("+1555300{i:04}")
}

async fn post_batch(url: &str, items: &[Value], headers: &[(&str, &str)]) -> (u16, Value, bool) {
    let mut request = reqwest::Client::new()
        .post(url)
        .bearer_auth(API_KEY)
        .json(&json!({ "items": items }));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("the batch function answers");
    let replayed = response.headers().contains_key("idempotency-replayed");
    let status = response.status().as_u16();
    // A replay's body is the first answer's, its requestId too: left out to compare the rest.
    let mut body: Value = response.json().await.expect("a JSON answer");
    body.as_object_mut().unwrap().remove("requestId");
    (status, body, replayed)
}

#[tokio::test]
async fn a_batch_of_300_worked_by_two_instances_sends_each_item_exactly_once() {
    let _shared = POSTGRES.read().await;
    let twilio = AwsRecorder::in_front_of(prism_url()).await;
    // 32 emails and 32 texts a second for batches: fast, but slow enough that both the
    // answering instance and the dispatcher take part.
    let rates = [
        ("NOTIFY_SES_MAX_SEND_RATE", "50"),
        ("NOTIFY_TWILIO_MPS", "40"),
    ];
    let deployment = Deployment::start(&moto_url(), &twilio.url, &rates).await;
    let items: Vec<Value> = (0..300)
        .map(|i| match i % 2 {
            0 => json!({"type": "email", "to": format!("patient{i}@{}", deployment.domain),
                        "subject": "Your statement", "body": "It is ready in the portal.",
                        "category": "documents"}),
            _ => json!({"type": "sms", "to": number(i), "message": "Your statement is ready in the portal.",
                        "category": "documents"}),
        })
        .collect();
    let (status, body, _) = post_batch(&deployment.batch.base_url, &items, &[]).await;
    assert_eq!(status, 202, "{body}");
    let id = body["batchId"].as_str().unwrap().to_owned();
    assert!(id.starts_with("bat_"), "{id}");
    assert_eq!(body["items"].as_array().unwrap().len(), 300);
    assert!(
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["status"] == "queued"),
        "{body}"
    );

    // Instance A sends after its answer; the dispatcher (instance B) joins in.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let report = dispatch(&deployment.dispatcher, CRON_SECRET).await;
    let counts = deployment.settled(&id, Duration::from_secs(60)).await;
    assert_eq!(
        counts,
        json!({"sent": 300}),
        "every item sent once: {counts}"
    );
    let by_b = report["scheduledSent"].as_u64().unwrap();
    assert!(
        (1..300).contains(&by_b),
        "both instances worked the batch: the dispatcher sent {by_b}"
    );

    let emails = emails_to(&deployment.domain).await;
    assert_eq!(emails.len(), 150, "every email reached SES");
    assert!(
        emails.values().all(|n| *n == 1),
        "no email twice: {emails:?}"
    );
    let mut numbers: HashMap<String, usize> = HashMap::new();
    for (to, _) in texts(&twilio) {
        *numbers.entry(to).or_default() += 1;
    }
    assert_eq!(numbers.len(), 150, "every text reached Twilio");
    assert!(
        numbers.values().all(|n| *n == 1),
        "no text twice: {numbers:?}"
    );

    // Every message carries the batch in the log.
    let page = deployment.page(&format!("?id={id}&limit=100")).await;
    let messages = page["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 100);
    assert!(
        messages.iter().all(|m| m["batchId"] == id.as_str()),
        "{page}"
    );
    assert!(page["nextCursor"].is_string(), "{page}");
}

#[tokio::test]
async fn with_a_rate_of_10_per_second_no_one_second_window_holds_more_than_10_sends() {
    let _shared = POSTGRES.read().await;
    let twilio = AwsRecorder::in_front_of(prism_url()).await;
    let deployment =
        Deployment::start(&moto_url(), &twilio.url, &[("NOTIFY_TWILIO_MPS", "10")]).await;
    let items: Vec<Value> = (0..40)
        .map(|i| json!({"type": "sms", "to": number(i), "message": "See you tomorrow."}))
        .collect();
    let (status, body, _) = post_batch(&deployment.batch.base_url, &items, &[]).await;
    assert_eq!(status, 202, "{body}");
    let id = body["batchId"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(200)).await;
    dispatch(&deployment.dispatcher, CRON_SECRET).await;
    let counts = deployment.settled(&id, Duration::from_secs(30)).await;
    assert_eq!(counts, json!({"sent": 40}), "{counts}");

    let mut times: Vec<Instant> = texts(&twilio).into_iter().map(|(_, at)| at).collect();
    assert_eq!(times.len(), 40, "each text once");
    times.sort_unstable();
    for (i, start) in times.iter().enumerate() {
        let within = times[i..]
            .iter()
            .take_while(|t| t.duration_since(*start) < Duration::from_secs(1))
            .count();
        assert!(
            within <= 10,
            "{within} texts within one second from text {i}"
        );
    }
    // Batches get 80% of the rate: 8 a second, so 40 take about five seconds.
    let spread = times[39].duration_since(times[0]);
    assert!(
        spread >= Duration::from_millis(4_400),
        "40 texts in {spread:?}"
    );
}

#[tokio::test]
async fn a_throttling_answer_from_ses_puts_the_item_back_and_it_is_sent_later() {
    let _shared = POSTGRES.read().await;
    let ses = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/email/outbound-emails"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-amzn-errortype", "TooManyRequestsException")
                .set_body_json(json!({"message": "Maximum sending rate exceeded."})),
        )
        .up_to_n_times(1)
        .mount(&ses)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/email/outbound-emails"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"MessageId": "ses-later"})))
        .mount(&ses)
        .await;
    // One attempt per send, so the provider's throttling reaches the batch.
    let extra = [
        ("NOTIFY_MAX_ATTEMPTS", "1"),
        ("NOTIFY_SES_MAX_SEND_RATE", "10"),
    ];
    let deployment = Deployment::start(&ses.uri(), &prism_url(), &extra).await;
    let item = json!({"type": "email", "to": "patient@example.com", "subject": "Statement",
                      "body": "It is ready in the portal."});
    let (status, body, _) = post_batch(&deployment.batch.base_url, &[item], &[]).await;
    assert_eq!(status, 202, "{body}");
    let id = body["batchId"].as_str().unwrap().to_owned();
    let message_id = body["items"][0]["ids"]["email"]
        .as_str()
        .unwrap()
        .to_owned();

    // Throttled after the answer: not failed, waiting again.
    let started = Instant::now();
    while ses.received_requests().await.unwrap().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(10), "never tried");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let page = deployment.page(&format!("?id={id}")).await;
    assert_eq!(page["batch"]["counts"], json!({"scheduled": 1}), "{page}");
    let throttled: Vec<Value> = deployment
        .batch
        .audit_events()
        .into_iter()
        .filter(|e| e["event"] == "send_attempt")
        .collect();
    assert_eq!(throttled.len(), 1, "the attempt is in the audit trail");
    assert_eq!(
        throttled[0]["error_code"], "provider_throttled",
        "{}",
        throttled[0]
    );

    // The dispatcher sends it once its wait is over.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let report = dispatch(&deployment.dispatcher, CRON_SECRET).await;
    assert_eq!(report["scheduledSent"], 1, "{report}");
    let counts = deployment.settled(&id, Duration::from_secs(10)).await;
    assert_eq!(counts, json!({"sent": 1}), "{counts}");
    assert_eq!(ses.received_requests().await.unwrap().len(), 2);
    let page = deployment.page(&format!("?id={id}")).await;
    assert_eq!(page["messages"][0]["id"], message_id.as_str());
    assert_eq!(
        page["messages"][0]["providerMessageId"], "ses-later",
        "{page}"
    );
}

/// The local server with demo channels and the memory store.
async fn local() -> Function {
    let vars = [
        ("NOTIFY_DISPATCH_INTERVAL_SECONDS", "0"),
        ("NOTIFY_API_KEYS", API_KEY),
    ];
    Function::start_dev_server(&vars).await
}

fn reminder(to: Value) -> Value {
    let template = notify::templates::TemplateName::AppointmentReminder;
    json!({"template": template.as_str(), "data": template.sample(), "to": to})
}

async fn on_local(server: &Function, method: reqwest::Method, path: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .request(method, format!("{}{path}", server.base_url))
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    crate::support::answer(response).await
}

#[tokio::test]
async fn a_strict_batch_with_an_invalid_item_queues_nothing_and_names_every_bad_field() {
    let server = local().await;
    let batch = format!("{}/api/batch", server.base_url);
    let items = [
        reminder(json!({"email": "jane@example.com"})),
        json!({"type": "sms", "to": "not a number", "message": "hi"}),
        json!({"type": "fax"}),
        json!({"type": "email", "to": "a@example.com", "subject": "s", "body": "b",
               "attachments": [{"filename": "a.pdf", "content": "AAAA"}]}),
    ];
    let (status, body, _) = post_batch(&batch, &items, &[]).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "invalid_request");
    let fields: Vec<&str> = body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["items[1].to", "items[2].type", "items[3].attachments"],
        "{body}"
    );
    let (_, log) = on_local(&server, reqwest::Method::GET, "/api/messages").await;
    assert_eq!(log["messages"], json!([]), "nothing was queued: {log}");

    let (status, body, _) = post_batch(&batch, &items, &[("Batch-Validation", "permissive")]).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["items"].as_array().unwrap().len(), 1, "{body}");
    assert_eq!(body["items"][0]["index"], 0);
    let errors: Vec<(u64, &str)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["index"].as_u64().unwrap(),
                e["details"][0]["field"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            (1, "items[1].to"),
            (2, "items[2].type"),
            (3, "items[3].attachments")
        ]
    );

    let (status, body, _) = post_batch(&batch, &[], &[]).await;
    assert_eq!(
        (status, body["details"][0]["field"].as_str()),
        (400, Some("items"))
    );
    let (status, body, _) =
        post_batch(&batch, &items[..1], &[("Batch-Validation", "lenient")]).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["details"][0]["field"], "Batch-Validation");
}

#[tokio::test]
async fn a_replayed_batch_answers_the_same_ids_and_queues_nothing_twice() {
    let server = local().await;
    let batch = format!("{}/api/batch", server.base_url);
    let items: Vec<Value> = (0..3)
        .map(|i| reminder(json!({"phone": number(i)})))
        .collect();
    let key = [("Idempotency-Key", "reminders-for-tomorrow")];
    let (status, first, replayed) = post_batch(&batch, &items, &key).await;
    assert_eq!((status, replayed), (202, false), "{first}");
    let (status, again, replayed) = post_batch(&batch, &items, &key).await;
    assert_eq!((status, replayed), (202, true), "{again}");
    assert_eq!(again, first);
    let id = first["batchId"].as_str().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, page) = on_local(&server, reqwest::Method::GET, &format!("/api/batches/{id}")).await;
    assert_eq!(page["batch"]["counts"], json!({"logged": 3}), "{page}");
    let (_, log) = on_local(&server, reqwest::Method::GET, "/api/messages").await;
    assert_eq!(log["messages"].as_array().unwrap().len(), 3, "{log}");

    let (status, other, _) = post_batch(&batch, &items[..2], &key).await;
    assert_eq!(
        (status, other["code"].as_str()),
        (422, Some("idempotency_key_reused"))
    );
}

#[tokio::test]
async fn a_cancelled_batch_sends_nothing_that_had_not_gone() {
    let server = local().await;
    let batch = format!("{}/api/batch", server.base_url);
    let tomorrow = (time::OffsetDateTime::now_utc() + time::Duration::days(1))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let mut later = reminder(json!({"email": "later@example.com"}));
    later["sendAt"] = json!(tomorrow);
    let items = [
        later.clone(),
        later,
        reminder(json!({"email": "now@example.com"})),
    ];
    let (status, body, _) = post_batch(&batch, &items, &[]).await;
    assert_eq!(status, 202, "{body}");
    let statuses: Vec<&str> = (body["items"].as_array().unwrap().iter())
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["scheduled", "scheduled", "queued"], "{body}");
    assert!(body["items"][0]["sendAt"].is_string(), "{body}");
    let id = body["batchId"].as_str().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let path = format!("/api/batches/{id}");
    let (status, cancelled) = on_local(&server, reqwest::Method::DELETE, &path).await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["cancelled"], 2, "{cancelled}");
    let (_, page) = on_local(&server, reqwest::Method::GET, &path).await;
    assert_eq!(
        page["batch"]["counts"],
        json!({"cancelled": 2, "logged": 1}),
        "{page}"
    );
    let (_, again) = on_local(&server, reqwest::Method::DELETE, &path).await;
    assert_eq!(again["cancelled"], 0, "{again}");
    let (status, missing) =
        on_local(&server, reqwest::Method::GET, "/api/batches/bat_nothing").await;
    assert_eq!(
        (status, missing["code"].as_str()),
        (404, Some("batch_not_found"))
    );
    let (_, log) = on_local(
        &server,
        reqwest::Method::GET,
        &format!("/api/messages?batch={id}"),
    )
    .await;
    assert_eq!(log["messages"].as_array().unwrap().len(), 3, "{log}");
}

#[tokio::test]
async fn a_batch_item_whose_number_is_suppressed_falls_back_to_email_within_the_batch() {
    let server = local().await;
    let batch = format!("{}/api/batch", server.base_url);
    let phone = number(77);
    let response = reqwest::Client::new()
        .post(format!("{}/api/suppressions", server.base_url))
        .bearer_auth(API_KEY)
        .json(&json!({"to": phone, "reason": "manual"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let mut fallback = reminder(json!({"email": "pat@example.com", "phone": phone}));
    fallback["channels"] = json!(["sms", "email"]);
    fallback["strategy"] = json!("fallback");
    let only_sms = reminder(json!({"phone": phone}));
    let (status, body, _) = post_batch(&batch, &[fallback, only_sms], &[]).await;
    assert_eq!(status, 202, "{body}");
    let statuses: Vec<&str> = (body["items"].as_array().unwrap().iter())
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["queued", "suppressed"], "{body}");
    let id = body["batchId"].as_str().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let (_, log) = on_local(
        &server,
        reqwest::Method::GET,
        &format!("/api/messages?batch={id}"),
    )
    .await;
    let messages = log["messages"].as_array().unwrap();
    let text = body["items"][0]["ids"]["sms"].as_str().unwrap();
    let original = messages
        .iter()
        .find(|m| m["id"] == text)
        .expect("the text in the log");
    assert_eq!(original["status"], "suppressed", "{log}");
    let email = messages
        .iter()
        .find(|m| m["fallbackOf"] == text)
        .expect("the fallback is in the batch too");
    assert_eq!(
        (email["channel"].as_str(), email["status"].as_str()),
        (Some("email"), Some("logged")),
        "{log}"
    );
    assert_eq!(messages.len(), 3, "the suppressed item logged once: {log}");
}

#[tokio::test]
async fn the_email_pace_is_80_percent_of_the_rate_ses_tells_asked_once_per_instance() {
    let ses = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/email/account"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "SendQuota": {"Max24HourSend": 50000.0, "MaxSendRate": 14.0, "SentLast24Hours": 12.0},
            "SendingEnabled": true, "ProductionAccessEnabled": true,
        })))
        .expect(1)
        .mount(&ses)
        .await;
    let vars: HashMap<String, String> = ses_vars("noreply@clinic.example.com", &ses.uri())
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let app = notify::App::new(notify::Config::from_vars(&vars));
    for _ in 0..2 {
        let rates = app.rates().await;
        assert_eq!(rates.email_source, notify::names::RateSource::Ses);
        let email = rates.email.unwrap();
        assert!((email - 11.2).abs() < 1e-9, "{email}");
    }

    // SES without an answer (moto has no GetAccount): the sandbox's 1 a second, at 80%.
    let vars: HashMap<String, String> = ses_vars("noreply@clinic.example.com", &moto_url())
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let rates = notify::App::new(notify::Config::from_vars(&vars))
        .rates()
        .await;
    assert_eq!(
        (rates.email_source, rates.email),
        (notify::names::RateSource::SandboxDefault, Some(0.8))
    );
}
