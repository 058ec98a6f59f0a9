//! What only Postgres has: migrations, its configuration, and a transaction-mode pooler.

use super::*;

#[tokio::test]
async fn instances_starting_at_once_on_a_new_database_migrate_it_once() {
    let _shared = POSTGRES.read().await;
    let url = fresh_database().await;
    let mut checks = tokio::task::JoinSet::new();
    for _ in 0..5 {
        let store = postgres_store(&url);
        checks.spawn(async move { store.check().await });
    }
    for health in checks.join_all().await {
        assert!(health.reachable, "{health:?}");
        assert_eq!(health.schema_version, Some(SCHEMA_VERSION), "{health:?}");
    }
}

#[tokio::test]
async fn a_database_url_without_the_audit_key_is_named_and_nothing_is_admitted() {
    let vars = HashMap::from([(
        "DATABASE_URL".to_owned(),
        "postgres://notify@db.example.com/notify".to_owned(),
    )]);
    let store = notify::store::open(&Config::from_vars(&vars).store);
    let error = store.admit(&Admission::default()).await.unwrap_err();
    assert_eq!(
        (error.status(), error.code.as_str()),
        (503, "store_unavailable")
    );
    assert_eq!(error.missing, ["NOTIFY_AUDIT_KEY"]);
}

#[tokio::test]
async fn an_unencrypted_url_to_a_remote_host_is_refused_by_name() {
    let vars = HashMap::from([
        (
            "DATABASE_URL".to_owned(),
            "postgres://notify@db.example.com/notify?sslmode=disable".to_owned(),
        ),
        ("NOTIFY_AUDIT_KEY".to_owned(), AUDIT_KEY.to_owned()),
    ]);
    let store = notify::store::open(&Config::from_vars(&vars).store);
    let error = store.admit(&Admission::default()).await.unwrap_err();
    assert_eq!(error.code.as_str(), "store_unavailable");
    assert_eq!(error.invalid[0].field, "DATABASE_URL");
    assert!(
        !format!("{error:?}").contains("db.example.com"),
        "{error:?}"
    );
}

#[tokio::test]
async fn through_a_transaction_mode_pooler_as_neons_the_store_migrates_claims_and_logs_alike() {
    let _shared = POSTGRES.read().await;
    let direct = fresh_database().await;
    let name = direct.rsplit('/').next().unwrap();
    let pooled = format!(
        "{}/{name}",
        crate::support::emulator("NOTIFY_TEST_POOLER_URL")
    );
    let stores: Vec<Arc<dyn Store>> = (0..3).map(|_| postgres_store(&pooled)).collect();
    let mut checks = tokio::task::JoinSet::new();
    for store in &stores {
        let store = Arc::clone(store);
        checks.spawn(async move { store.check().await });
    }
    for health in checks.join_all().await {
        assert_eq!(
            (health.reachable, health.schema_version),
            (true, Some(SCHEMA_VERSION)),
            "{health:?}"
        );
    }
    let outcomes = super::admission::race_for_one_key(&stores).await;
    let claimed = outcomes
        .iter()
        .filter(|o| **o == ClaimOutcome::Claimed)
        .count();
    assert_eq!(claimed, 1, "{outcomes:?}");
    let store = stores[1].as_ref();
    let line = r#"{"type":"audit","event":"send_attempt"}"#.to_owned();
    store
        .record(
            &[record("msg_p", Channel::Sms, "SMp", None, "hp", 1)],
            &[line],
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        apply(
            store,
            &event("evt-p", EventKind::Delivered, "SMp", "hp"),
            "{}",
            false
        )
        .await,
        Applied::Kept
    );
    let message = stores[2].message("SMp").await.unwrap().unwrap();
    assert_eq!(message.status, MessageStatus::Delivered);
    let audit = stores[0]
        .audit(&notify::store::AuditQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.lines.len(), 2, "{audit:?}");
}

#[tokio::test]
async fn a_callers_limit_is_updated_in_place_without_touching_an_index() {
    let _shared = POSTGRES.read().await;
    let url = fresh_database().await;
    let store = postgres_store(&url);
    for _ in 0..60 {
        let admitted = admit(store.as_ref(), vec![hourly("caller:hot", 1000, 0)], None).await;
        assert!(admitted.refused.is_empty());
    }
    // The statistics reach the view once the store's connection reports them (within a second
    // or so of its last statement).
    let mut counts = (0, 0);
    for _ in 0..50 {
        let row = &crate::support::sql(
            &url,
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'notify_limits'",
        )
        .await[0];
        counts = (row.get::<_, i64>(0), row.get::<_, i64>(1));
        if counts.0 >= 59 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let (updates, hot) = counts;
    assert!(updates >= 59, "{counts:?}");
    assert!(
        hot * 10 >= updates * 9,
        "most updates are heap-only: {counts:?}"
    );
}

/// Sends an email to `<prefix><n>@example.com` through `function`: its status and answer.
async fn send_email(
    function: &crate::support::Function,
    prefix: &str,
    n: usize,
) -> (u16, serde_json::Value) {
    let body = serde_json::json!({"to": format!("{prefix}{n}@example.com"), "subject": "Hi", "body": "Hello"});
    function.post_json(&body).await
}

/// Stops or continues the process `pid` (`STOP`, `CONT`).
fn signal(pid: u32, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([format!("-{signal}"), pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn a_connection_ended_while_the_function_was_frozen_is_replaced_and_nothing_is_sent_twice() {
    let _shared = POSTGRES.read().await;
    let url = fresh_database().await;
    let function = crate::support::Function::start(
        "send-email",
        &[
            ("DATABASE_URL", &url),
            ("NOTIFY_AUDIT_KEY", AUDIT_KEY),
            ("NOTIFY_RATE_LIMIT_PER_MINUTE", "1000"),
        ],
    )
    .await;
    let send = |n: usize| send_email(&function, "frozen", n);
    let (status, body) = send(0).await;
    assert_eq!(status, 200, "{body}");
    crate::support::recorded(&url, body["id"].as_str().unwrap()).await;
    for round in 1..=5 {
        // Frozen as Vercel freezes an idle instance (once the work after its answer, the
        // send's record, is done); meanwhile the server ends its sessions (a pooler's idle
        // timeout, a restart, pg_terminate_backend).
        signal(function.pid(), "STOP");
        let ended = crate::support::sql(
            &url,
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .await;
        assert!(
            ended[0].get::<_, i64>(0) >= 1,
            "round {round}: a session was ended"
        );
        signal(function.pid(), "CONT");
        let (status, body) = send(round).await;
        assert_eq!(status, 200, "round {round}: {body}\n{}", function.output());
        crate::support::recorded(&url, body["id"].as_str().unwrap()).await;
    }
    let kept = crate::support::sql(
        &url,
        "SELECT count(*), count(DISTINCT id) FROM notify_messages",
    )
    .await;
    assert_eq!(
        (kept[0].get::<_, i64>(0), kept[0].get::<_, i64>(1)),
        (6, 6),
        "each send once"
    );
}

/// A TCP proxy in front of the test PostgreSQL server whose connections can be cut silently:
/// after `cut`, the connections open then pass no more bytes and are never closed (as when a
/// NAT or a pooler forgets them while a function is frozen); new ones pass as usual.
struct SilentCutProxy {
    port: u16,
    generation: Arc<std::sync::atomic::AtomicU64>,
}

impl SilentCutProxy {
    async fn start(upstream: std::net::SocketAddr) -> Self {
        use std::sync::atomic::Ordering;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let generation = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let current = generation.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let born = current.load(Ordering::SeqCst);
                let Ok(server) = tokio::net::TcpStream::connect(upstream).await else {
                    continue;
                };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                for (mut from, mut to, current) in [
                    (
                        Box::new(client_read) as Box<dyn tokio::io::AsyncRead + Send + Unpin>,
                        Box::new(server_write) as Box<dyn tokio::io::AsyncWrite + Send + Unpin>,
                        current.clone(),
                    ),
                    (
                        Box::new(server_read) as _,
                        Box::new(client_write) as _,
                        current.clone(),
                    ),
                ] {
                    tokio::spawn(async move {
                        let mut buffer = vec![0; 16 * 1024];
                        while let Ok(n) = from.read(&mut buffer).await {
                            if n == 0 {
                                break;
                            }
                            // Cut: the bytes go nowhere, and the socket stays open.
                            if current.load(Ordering::SeqCst) != born {
                                continue;
                            }
                            if to.write_all(&buffer[..n]).await.is_err() {
                                break;
                            }
                        }
                        // Held open after a cut, as a forgotten connection is.
                        if current.load(Ordering::SeqCst) != born {
                            std::future::pending::<()>().await;
                        }
                    });
                }
            }
        });
        Self { port, generation }
    }

    fn cut(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[tokio::test]
async fn a_connection_cut_silently_while_idle_is_not_used_again() {
    let _shared = POSTGRES.read().await;
    let url = fresh_database().await;
    let parsed = reqwest::Url::parse(&url).unwrap();
    let upstream = format!("{}:{}", parsed.host_str().unwrap(), parsed.port().unwrap())
        .parse()
        .unwrap();
    let proxy = SilentCutProxy::start(upstream).await;
    let mut through_proxy = parsed.clone();
    through_proxy.set_port(Some(proxy.port)).unwrap();
    let function = crate::support::Function::start(
        "send-email",
        &[
            ("DATABASE_URL", through_proxy.as_str()),
            ("NOTIFY_AUDIT_KEY", AUDIT_KEY),
            ("NOTIFY_STORE_MAX_IDLE_SECONDS", "1"),
            ("NOTIFY_STORE_TIMEOUT_MS", "2000"),
        ],
    )
    .await;
    let send = |n: usize| send_email(&function, "cut", n);
    let (status, body) = send(0).await;
    assert_eq!(status, 200, "{body}");
    crate::support::recorded(&url, body["id"].as_str().unwrap()).await;
    proxy.cut();
    // Idle past NOTIFY_STORE_MAX_IDLE_SECONDS: the cut connection is left, a new one made.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (status, body) = send(1).await;
    assert_eq!(status, 200, "{body}\n{}", function.output());
    let kept = crate::support::eventually(
        || async {
            let rows = crate::support::sql(&url, "SELECT count(*) FROM notify_messages").await;
            rows[0].get::<_, i64>(0)
        },
        |&n| n == 2,
    )
    .await;
    assert_eq!(kept, 2);
}

#[tokio::test]
async fn a_function_connects_and_migrates_before_its_first_request() {
    let _shared = POSTGRES.read().await;
    let url = fresh_database().await;
    let _function = crate::support::Function::start(
        "send-sms",
        &[("DATABASE_URL", &url), ("NOTIFY_AUDIT_KEY", AUDIT_KEY)],
    )
    .await;
    // Only Vercel's ping has reached it: no request that needs the store.
    let mut found = (0, false);
    for _ in 0..100 {
        let row = &crate::support::sql(
            &url,
            "SELECT (SELECT count(*) FROM pg_stat_activity \
                     WHERE datname = current_database() AND pid <> pg_backend_pid()), \
                    to_regclass('notify_schema_version') IS NOT NULL",
        )
        .await[0];
        found = (row.get::<_, i64>(0), row.get::<_, bool>(1));
        if found.1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        found,
        (1, true),
        "one connection, made ahead, and the schema migrated"
    );
    let version = crate::support::sql(&url, "SELECT max(version) FROM notify_schema_version").await;
    assert_eq!(version[0].get::<_, Option<i32>>(0), Some(SCHEMA_VERSION));
}
