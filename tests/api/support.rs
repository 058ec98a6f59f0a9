//! Test support: spawns the real function binaries on free ports and finds the emulators that
//! the test command (`scripts/test`) started.

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const AUTH_TOKEN: &str = "twilio-auth-token-do-not-log";
pub const AWS_SECRET: &str = "aws-secret-key-do-not-log";
/// The API key live test functions are given, and their requests carry.
pub const API_KEY: &str = "test-api-key-0123456789abcdef";

/// A function binary running as Vercel runs it, on `127.0.0.1:$VERCEL_DEV_PORT`.
pub struct Function {
    child: Child,
    pub base_url: String,
    log_path: PathBuf,
    /// The first of `NOTIFY_API_KEYS`, sent with `post_json` when the function has keys.
    api_key: Option<String>,
}

/// The binary path of a function (`send-email` for `api/send-email.rs`): beside the local
/// server's, as Cargo builds every `[[bin]]` for the tests.
pub fn binary(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_BIN_EXE_notify")).with_file_name(name);
    assert!(path.exists(), "no function binary named {name}");
    path
}

/// A port that is free now, below the kernel's ephemeral range (32768 and up on Linux): a port
/// the kernel hands out may be taken by an outgoing connection of another test before the
/// function binds it. Each call moves on, so two functions never get the same one.
fn free_port() -> u16 {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let base = 10_000 + (std::process::id() % 200) * 100;
    loop {
        let port = (base + NEXT.fetch_add(1, Ordering::Relaxed) % 20_000) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

impl Function {
    /// The process id, to pause it as Vercel freezes an instance between requests.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Starts `name` with exactly `vars` as its environment (plus PATH), and waits until it
    /// answers Vercel's `/_vercel/ping`.
    pub async fn start(name: &str, vars: &[(&str, &str)]) -> Function {
        Self::spawn(name, "VERCEL_DEV_PORT", "/_vercel/ping", vars).await
    }

    /// Starts the local server of `cargo run`, every route on `$PORT`.
    pub async fn start_dev_server(vars: &[(&str, &str)]) -> Function {
        Self::spawn("notify", "PORT", "/api/health", vars).await
    }

    async fn spawn(
        name: &str,
        port_var: &str,
        ready_path: &str,
        vars: &[(&str, &str)],
    ) -> Function {
        // A port taken between the check and the bind is tried again with the next one.
        for _ in 0..3 {
            if let Some(function) = Self::try_spawn(name, port_var, ready_path, vars).await {
                return function;
            }
        }
        panic!("{name} found no free port in three tries");
    }

    async fn try_spawn(
        name: &str,
        port_var: &str,
        ready_path: &str,
        vars: &[(&str, &str)],
    ) -> Option<Function> {
        static STARTED: AtomicU32 = AtomicU32::new(0);
        let port = free_port();
        let log_path = std::env::temp_dir().join(format!(
            "notify-test-{}-{}-{name}.log",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        ));
        let log = std::fs::File::create(&log_path).expect("a log file");
        let child = Command::new(binary(name))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env(port_var, port.to_string())
            .envs(vars.iter().copied())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {name}: {e}"));
        let api_key = vars
            .iter()
            .find(|(name, _)| *name == "NOTIFY_API_KEYS")
            .and_then(|(_, keys)| keys.split(',').next())
            .map(|key| key.trim().to_owned());
        let mut function = Function {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            log_path,
            api_key,
        };
        function
            .wait_until_ready(name, ready_path)
            .await
            .then_some(function)
    }

    /// Whether it answers; `false` when it could not bind its port.
    async fn wait_until_ready(&mut self, name: &str, ready_path: &str) -> bool {
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = reqwest::Client::new();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                if self.output().contains("AddrInUse") {
                    return false;
                }
                panic!(
                    "{name} exited with {status} before answering:\n{}",
                    self.output()
                );
            }
            let ping = client
                .get(format!("{}{ready_path}", self.base_url))
                .send()
                .await;
            if ping.is_ok_and(|r| r.status() == 200) {
                return true;
            }
            assert!(
                Instant::now() < deadline,
                "{name} did not answer {ready_path}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// The audit events (`"type":"audit"` JSON lines) the function has written so far.
    pub fn audit_events(&self) -> Vec<serde_json::Value> {
        self.output()
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|event| event["type"] == "audit")
            .collect()
    }

    /// Everything the function has printed so far (its logs).
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    pub async fn post_json(&self, body: &serde_json::Value) -> (u16, serde_json::Value) {
        let mut request = reqwest::Client::new().post(&self.base_url).json(body);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        answer(request.send().await.expect("the function answers")).await
    }

    pub async fn get(&self) -> (u16, serde_json::Value) {
        answer(
            reqwest::get(&self.base_url)
                .await
                .expect("the function answers"),
        )
        .await
    }
}

/// The status and JSON body of an answer, which must carry its request id both as the
/// `x-request-id` header and as `requestId` (taken out here, so tests compare the rest).
pub async fn answer(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let header_id = response
        .headers()
        .get("x-request-id")
        .map(|v| v.to_str().unwrap().to_owned())
        .expect("every answer has an x-request-id");
    let text = response.text().await.unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("answer {status} is not JSON: {text:?}"));
    let body_id = json
        .as_object_mut()
        .and_then(|o| o.remove("requestId"))
        .unwrap_or_else(|| panic!("answer {status} has no requestId: {text}"));
    assert_eq!(body_id, header_id.as_str());
    (status, json)
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log_path);
    }
}

/// The base URL of an emulator started by `scripts/test`. Missing means the suite was not run
/// through the test command: fail loudly rather than skip.
pub fn emulator(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: run the suite with scripts/test, which installs and starts the emulators")
    })
}

pub fn moto_url() -> String {
    emulator("NOTIFY_TEST_MOTO_URL")
}

pub fn prism_url() -> String {
    emulator("NOTIFY_TEST_PRISM_URL")
}

/// A name no other test uses, so tests can share one emulator without seeing each other.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Verifies a sending domain in moto, as `CreateEmailIdentity` does in SES.
pub async fn verify_domain_in_moto(domain: &str) {
    let response = reqwest::Client::new()
        .post(format!("{}/v2/email/identities", moto_url()))
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIATEST/20260101/us-east-1/ses/aws4_request",
        )
        .json(&serde_json::json!({ "EmailIdentity": domain }))
        .send()
        .await
        .expect("moto answers");
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

/// Everything moto holds (`/moto-api/data.json`).
async fn moto_data() -> serde_json::Value {
    reqwest::get(format!("{}/moto-api/data.json", moto_url()))
        .await
        .expect("moto answers")
        .json()
        .await
        .expect("moto's data is JSON")
}

/// The message moto recorded under `message_id`.
pub async fn message_in_moto(message_id: &str) -> serde_json::Value {
    let data = moto_data().await;
    data["ses"]["Message"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["id"] == message_id)
        .cloned()
        .unwrap_or_else(|| panic!("moto has no message {message_id}"))
}

/// The variables of a live SES channel pointed at `endpoint`, sending from `sender`.
pub fn ses_vars(sender: &str, endpoint: &str) -> HashMap<&'static str, String> {
    HashMap::from([
        ("AWS_SES_ACCESS_KEY_ID", "AKIATESTKEY".to_owned()),
        ("AWS_SES_SECRET_ACCESS_KEY", AWS_SECRET.to_owned()),
        ("AWS_SES_FROM_EMAIL", sender.to_owned()),
        ("AWS_SES_REGION", "us-east-1".to_owned()),
        ("AWS_ENDPOINT_URL_SESV2", endpoint.to_owned()),
        ("NOTIFY_API_KEYS", API_KEY.to_owned()),
    ])
}

/// The variables of a live Twilio channel pointed at `base_url`.
pub fn twilio_vars(base_url: &str) -> HashMap<&'static str, String> {
    HashMap::from([
        ("TWILIO_ACCOUNT_SID", ACCOUNT_SID.to_owned()),
        ("TWILIO_AUTH_TOKEN", AUTH_TOKEN.to_owned()),
        ("TWILIO_PHONE_NUMBER", "+15550001111".to_owned()),
        ("TWILIO_API_BASE_URL", base_url.to_owned()),
        ("NOTIFY_API_KEYS", API_KEY.to_owned()),
    ])
}

pub fn as_pairs<'a>(vars: &'a HashMap<&'static str, String>) -> Vec<(&'static str, &'a str)> {
    vars.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// The variables of an SMTP provider pointed at the test suite's SMTP sink (no TLS: the sink
/// is on this host, which is the one place `SMTP_SECURITY=none` is allowed).
pub fn smtp_vars(from: &str) -> HashMap<&'static str, String> {
    HashMap::from([
        ("SMTP_HOST", "127.0.0.1".to_owned()),
        ("SMTP_PORT", emulator("NOTIFY_TEST_SMTP_PORT")),
        ("SMTP_SECURITY", "none".to_owned()),
        ("SMTP_FROM", from.to_owned()),
        ("NOTIFY_API_KEYS", API_KEY.to_owned()),
    ])
}

/// The raw message the SMTP sink received with `Message-ID: <message_id>`, waiting briefly for
/// the sink to write it.
pub async fn message_in_smtp_sink(message_id: &str) -> Vec<u8> {
    let folder = PathBuf::from(emulator("NOTIFY_TEST_SMTP_DIR"));
    let wanted = format!("Message-ID: {message_id}");
    for _ in 0..50 {
        if let Some(found) = smtp_sink_messages(&folder)
            .into_iter()
            .find(|raw| String::from_utf8_lossy(raw).contains(&wanted))
        {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the SMTP sink has no message {message_id}")
}

/// Every raw message the SMTP sink holds whose text contains `needle`.
pub fn smtp_sink_messages_containing(needle: &str) -> Vec<Vec<u8>> {
    let folder = PathBuf::from(emulator("NOTIFY_TEST_SMTP_DIR"));
    smtp_sink_messages(&folder)
        .into_iter()
        .filter(|raw| String::from_utf8_lossy(raw).contains(needle))
        .collect()
}

fn smtp_sink_messages(folder: &std::path::Path) -> Vec<Vec<u8>> {
    std::fs::read_dir(folder)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                .filter_map(|e| std::fs::read(e.path()).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The raw MIME of a message sent to moto as raw (with attachments), by SES message id.
pub async fn raw_message_in_moto(message_id: &str) -> Vec<u8> {
    let data = moto_data().await;
    data["ses"]["RawMessage"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["id"] == message_id)
        .and_then(|m| m["raw_data"].as_str())
        .map(|raw| raw.as_bytes().to_vec())
        .unwrap_or_else(|| panic!("moto has no raw message {message_id}"))
}

/// `method` on `function` at `path`, with the test API key and, if given, a JSON body: its
/// status and JSON answer.
pub async fn call(
    function: &Function,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", function.base_url))
        .bearer_auth(API_KEY);
    if let Some(body) = body {
        request = request.json(&body);
    }
    answer(request.send().await.unwrap()).await
}

/// Takes the message log's `id` out of a send answer (it differs every time), checking its form.
pub fn take_id(answer: &mut serde_json::Value) -> String {
    let id = answer
        .as_object_mut()
        .and_then(|o| o.remove("id"))
        .and_then(|id| id.as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("no id in {answer}"));
    assert!(id.starts_with("msg_"), "{id}");
    id
}

/// Held (shared) by every test that uses the PostgreSQL server; the outage test, which stops
/// the server, holds it alone.
pub static POSTGRES: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

/// The test PostgreSQL server `scripts/test` started (`NOTIFY_TEST_POSTGRES_URL`).
pub fn postgres_server() -> String {
    emulator("NOTIFY_TEST_POSTGRES_URL")
}

/// A new, empty database on the test server, for one test; its URL.
pub async fn fresh_database() -> String {
    let server = postgres_server();
    let name = unique("notify").replace('-', "_");
    let (client, connection) =
        tokio_postgres::connect(&format!("{server}/postgres"), tokio_postgres::NoTls)
            .await
            .expect("the test PostgreSQL server answers");
    tokio::spawn(connection);
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("a test database is created");
    format!("{server}/{name}")
}

/// Runs `statement` on the database at `url`: a test's own view of what is kept, or the clock
/// moved on (rows made due).
pub async fn sql(url: &str, statement: &str) -> Vec<tokio_postgres::Row> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("the test database answers");
    tokio::spawn(connection);
    client.query(statement, &[]).await.unwrap()
}

/// What `read` gives once `done` holds of it, or its last reading after two seconds: a send's
/// record is written just after its answer, so another function (or the database read
/// directly) finds it a moment later.
pub async fn eventually<T, F: std::future::Future<Output = T>>(
    mut read: impl FnMut() -> F,
    done: impl Fn(&T) -> bool,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let value = read().await;
        if done(&value) || Instant::now() > deadline {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits (two seconds at most) until the message `id` is in the log of the database at `url`:
/// a send's record is written just after its answer, so a test that reads it through another
/// function, or reports on it, waits as a practice's next call would.
pub async fn recorded(url: &str, id: &str) {
    let statement = format!("SELECT count(*) FROM notify_messages WHERE id = '{id}'");
    let found = eventually(
        || async { sql(url, &statement).await[0].get::<_, i64>(0) },
        |&n| n == 1,
    )
    .await;
    assert_eq!(found, 1, "the message {id} is in the log");
}

/// Calls the dispatcher `function` as Vercel Cron does, with `secret`; its 200 answer.
pub async fn dispatch(function: &Function, secret: &str) -> serde_json::Value {
    let response = reqwest::Client::new()
        .get(&function.base_url)
        .bearer_auth(secret)
        .send()
        .await
        .expect("the dispatcher answers");
    let (status, body) = answer(response).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// The audit key every store test and instance uses: hashes must match across instances.
pub const AUDIT_KEY: &str = "an-audit-key-shared-by-every-test-instance";

/// The events the practice app reads from the `events` function (as an API key), those whose
/// type starts with `kind`, oldest first.
pub async fn practice_events(events: &Function, kind: &str) -> Vec<serde_json::Value> {
    let response = reqwest::Client::new()
        .get(&events.base_url)
        .bearer_auth(API_KEY)
        .send()
        .await
        .unwrap();
    let (status, page) = answer(response).await;
    assert_eq!(status, 200, "{page}");
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"].as_str().unwrap_or("").starts_with(kind))
        .cloned()
        .collect()
}
