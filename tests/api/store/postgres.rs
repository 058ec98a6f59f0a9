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
            None,
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
