//! The events outbox and the dispatcher, through the real function binaries (the Twilio
//! webhook, the dispatcher, the pull API) on the real PostgreSQL server: a receiver that
//! refuses, a receiver that is down, and two dispatchers at once.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde_json::Value;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{API_KEY, AUDIT_KEY, Function, POSTGRES, as_pairs, fresh_database};
use crate::webhooks::{PUBLIC_URL, events_secret, twilio_signature, verified_payload};

const CRON_SECRET: &str = "a-cron-secret-for-these-tests";

/// The functions of one deployment on `database`, forwarding to `events_url`.
struct Deployment {
    webhook: Function,
    dispatchers: [Function; 2],
    events: Function,
    health: Function,
    database: String,
}

impl Deployment {
    async fn start(events_url: &str) -> Self {
        let database = fresh_database().await;
        let mut vars = crate::support::twilio_vars("http://127.0.0.1:9");
        vars.insert("NOTIFY_PUBLIC_URL", PUBLIC_URL.into());
        vars.insert("NOTIFY_EVENTS_URL", events_url.into());
        vars.insert("NOTIFY_EVENTS_SECRET", events_secret());
        vars.insert("DATABASE_URL", database.clone());
        vars.insert("NOTIFY_AUDIT_KEY", AUDIT_KEY.into());
        vars.insert("NOTIFY_API_KEYS", API_KEY.into());
        vars.insert("CRON_SECRET", CRON_SECRET.into());
        let vars = as_pairs(&vars);
        Self {
            webhook: Function::start("webhooks-twilio", &vars).await,
            dispatchers: [
                Function::start("cron-dispatch", &vars).await,
                Function::start("cron-dispatch", &vars).await,
            ],
            events: Function::start("events", &vars).await,
            health: Function::start("health", &vars).await,
            database,
        }
    }

    /// Posts Twilio's signed status callback for `sid`.
    async fn report(&self, sid: &str, status: &str) {
        let params = [
            ("MessageSid", sid),
            ("MessageStatus", status),
            ("To", "+15551234567"),
            ("AccountSid", crate::support::ACCOUNT_SID),
        ];
        let signature = twilio_signature(&format!("{PUBLIC_URL}/api/webhooks/twilio"), &params);
        let response = reqwest::Client::new()
            .post(&self.webhook.base_url)
            .header("x-twilio-signature", signature)
            .form(&params)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }

    /// Calls dispatcher `n` as Vercel Cron does; its answer.
    async fn dispatch(&self, n: usize) -> Value {
        crate::support::dispatch(&self.dispatchers[n], CRON_SECRET).await
    }

    /// Moves the clock past every waiting event's next attempt (what minutes or hours of
    /// waiting would do).
    async fn time_passes(&self) {
        crate::support::sql(
            &self.database,
            "UPDATE notify_events SET next_attempt_at = now() - interval '1 second' \
             WHERE forward = 'pending'",
        )
        .await;
    }

    /// `GET /api/events` with `query`.
    async fn events(&self, query: &str) -> (u16, Value) {
        let response = reqwest::Client::new()
            .get(format!("{}/api/events{query}", self.events.base_url))
            .bearer_auth(API_KEY)
            .send()
            .await
            .unwrap();
        crate::support::answer(response).await
    }
}

/// Waits until nothing is forwarded any more (the work after a webhook's answer has ended).
async fn settled(receiver: &MockServer) -> Vec<wiremock::Request> {
    let mut seen = usize::MAX;
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let requests = receiver.received_requests().await.unwrap_or_default();
        if requests.len() == seen {
            return requests;
        }
        seen = requests.len();
    }
}

/// A loopback address where nothing listens (connections are refused) until a receiver is
/// started there.
fn address_down() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

/// The practice app's receiver, come up at `address` and accepting after `delay`.
async fn receiver_up(address: &str, delay: Duration) -> MockServer {
    let receiver = MockServer::builder()
        .listener(std::net::TcpListener::bind(address).unwrap())
        .start()
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(delay))
        .mount(&receiver)
        .await;
    receiver
}

/// The practice app's receiver, refusing (503) its first `times` requests, then accepting.
async fn receiver_refusing(times: u64) -> MockServer {
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(times)
        .with_priority(1)
        .mount(&receiver)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(204))
        .with_priority(2)
        .mount(&receiver)
        .await;
    receiver
}

fn ids(requests: &[wiremock::Request]) -> Vec<String> {
    requests
        .iter()
        .map(|r| {
            verified_payload(r)["data"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn a_receiver_that_refuses_the_first_attempts_then_accepts_gets_the_event_exactly_once() {
    let _shared = POSTGRES.read().await;
    let receiver = receiver_refusing(2).await;
    let deployment = Deployment::start(&receiver.uri()).await;
    deployment
        .report("SM00000000000000000000000000000001", "delivered")
        .await;
    assert_eq!(
        settled(&receiver).await.len(),
        1,
        "the first attempt, refused"
    );

    let early = deployment.dispatch(0).await;
    assert_eq!(early["delivered"], 0, "retried before its time: {early}");
    deployment.time_passes().await;
    let second = deployment.dispatch(0).await;
    assert_eq!(
        (&second["retrying"], &second["delivered"]),
        (&1.into(), &0.into()),
        "{second}"
    );
    deployment.time_passes().await;
    let third = deployment.dispatch(1).await;
    assert_eq!(third["delivered"], 1, "{third}");
    deployment.time_passes().await;
    let after = deployment.dispatch(0).await;
    assert_eq!(
        (&after["delivered"], &after["retrying"]),
        (&0.into(), &0.into()),
        "{after}"
    );

    let requests = receiver.received_requests().await.unwrap();
    let attempts = ids(&requests);
    assert_eq!(attempts.len(), 3, "{attempts:?}");
    assert!(
        attempts.iter().all(|id| *id == attempts[0]),
        "every attempt carries the same webhook-id, so the receiver can drop repeats"
    );
    let (_, page) = deployment.events("").await;
    assert_eq!(page["events"].as_array().unwrap().len(), 1, "{page}");
}

#[tokio::test]
async fn every_event_kept_while_the_receiver_was_down_arrives_once_in_order_when_it_is_up() {
    let _shared = POSTGRES.read().await;
    let address = address_down();
    let deployment = Deployment::start(&format!("http://{address}")).await;
    let sids: Vec<String> = (0..5).map(|i| format!("SM{i:032}")).collect();
    for sid in &sids {
        deployment.report(sid, "sent").await;
    }
    for sid in &sids {
        deployment.report(sid, "delivered").await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    deployment.time_passes().await;
    let down = deployment.dispatch(0).await;
    assert_eq!(down["delivered"], 0, "{down}");
    let (_, health) = deployment.health.get().await;
    let outbox = &health["store"]["outbox"];
    assert_eq!(outbox["waiting"], 10, "{health}");
    assert_eq!(outbox["failed"], 0, "{health}");
    assert!(outbox["oldestWaitingSeconds"].is_u64(), "{health}");
    assert!(outbox["lastDispatchAt"].is_string(), "{health}");
    assert!(
        !health.to_string().contains("SM0"),
        "health shows an event: {health}"
    );

    // The practice app is back, on the same address.
    let receiver = receiver_up(&address, Duration::ZERO).await;
    deployment.time_passes().await;
    let up = deployment.dispatch(1).await;
    assert_eq!(up["delivered"], 10, "one dispatch delivers all ten: {up}");
    let requests = receiver.received_requests().await.unwrap();
    let delivered = ids(&requests);
    let unique: HashSet<&String> = delivered.iter().collect();
    assert_eq!((delivered.len(), unique.len()), (10, 10), "{delivered:?}");
    let mut seen: HashMap<String, Vec<String>> = HashMap::new();
    for request in &requests {
        let payload = verified_payload(request);
        seen.entry(
            payload["data"]["provider_message_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        )
        .or_default()
        .push(payload["data"]["type"].as_str().unwrap().to_owned());
    }
    for sid in &sids {
        assert_eq!(seen[sid], ["sent", "delivered"], "{sid} out of order");
    }

    // The pull API serves the same ten, in the order kept, by page.
    let (status, first) = deployment.events("?limit=6").await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["more"], true);
    let first = first["events"].as_array().unwrap().clone();
    let last = first[5]["data"]["id"].as_str().unwrap();
    let (_, rest) = deployment.events(&format!("?after={last}")).await;
    assert_eq!(rest["more"], false);
    let all: Vec<Value> = first
        .iter()
        .chain(rest["events"].as_array().unwrap())
        .cloned()
        .collect();
    let kinds: Vec<&str> = all
        .iter()
        .map(|e| e["data"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, [["sent"; 5], ["delivered"; 5]].concat());
    let (status, unknown) = deployment.events("?after=evt_not_kept").await;
    assert_eq!(
        (status, unknown["details"][0]["field"].as_str()),
        (400, Some("after"))
    );
}

#[tokio::test]
async fn two_dispatchers_at_the_same_moment_never_deliver_an_event_twice() {
    let _shared = POSTGRES.read().await;
    let address = address_down();
    let deployment = Deployment::start(&format!("http://{address}")).await;
    for i in 0..60 {
        deployment.report(&format!("SM{i:032}"), "delivered").await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let receiver = receiver_up(&address, Duration::from_millis(20)).await;
    deployment.time_passes().await;
    let (a, b) = tokio::join!(deployment.dispatch(0), deployment.dispatch(1));
    let delivered = a["delivered"].as_u64().unwrap() + b["delivered"].as_u64().unwrap();
    assert_eq!(delivered, 60, "{a} {b}");
    let requests = receiver.received_requests().await.unwrap();
    let ids = ids(&requests);
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(
        (ids.len(), unique.len()),
        (60, 60),
        "an event was delivered twice"
    );
}

#[tokio::test]
async fn the_dispatcher_answers_only_its_scheduler_and_is_never_open() {
    let unset = Function::start("cron-dispatch", &[]).await;
    let (status, body) = unset.get().await;
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("dispatcher_not_configured")),
        "{body}"
    );
    let set = Function::start("cron-dispatch", &[("CRON_SECRET", CRON_SECRET)]).await;
    let (status, body) = set.get().await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("authentication_required"))
    );
    let response = reqwest::Client::new()
        .get(&set.base_url)
        .bearer_auth("a-cron-secret-for-these-test")
        .send()
        .await
        .unwrap();
    let (status, body) = crate::support::answer(response).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("invalid_authorization"))
    );
}

#[tokio::test]
async fn cargo_run_retries_a_refused_event_on_its_own_timer() {
    let receiver = receiver_refusing(1).await;
    let mut vars = crate::support::twilio_vars("http://127.0.0.1:9");
    vars.insert("NOTIFY_PUBLIC_URL", PUBLIC_URL.into());
    vars.insert("NOTIFY_EVENTS_URL", receiver.uri());
    vars.insert("NOTIFY_EVENTS_SECRET", events_secret());
    vars.insert("NOTIFY_DISPATCH_INTERVAL_SECONDS", "1".into());
    let server = Function::start_dev_server(&as_pairs(&vars)).await;
    let params = [
        ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
        ("MessageStatus", "delivered"),
        ("To", "+15551234567"),
        ("AccountSid", crate::support::ACCOUNT_SID),
    ];
    let signature = twilio_signature(&format!("{PUBLIC_URL}/api/webhooks/twilio"), &params);
    let response = reqwest::Client::new()
        .post(format!("{}/api/webhooks/twilio", server.base_url))
        .header("x-twilio-signature", signature)
        .form(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // Refused at once; the schedule's first wait is 5 s, then the next tick retries it.
    for _ in 0..100 {
        let requests = receiver.received_requests().await.unwrap();
        if requests.len() >= 2 {
            let ids = ids(&requests);
            assert_eq!(ids[0], ids[1]);
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the local dispatcher did not retry:\n{}", server.output());
}
