//! Upkeep: the dispatcher's retention sweep, on both stores.

use super::*;

#[tokio::test]
async fn the_sweep_removes_expired_keys_and_what_passed_retention_and_stamps_the_dispatch() {
    on_both(|name, store| async move {
        let store = store.as_ref();
        let mut short = claim("short-lived", "h");
        short.ttl = Duration::from_millis(1);
        admit(store, vec![hourly("caller:s", 100, 0)], Some(short)).await;
        store
            .record(
                &[
                    record("msg_old", Channel::Sms, "SMold", None, "h1", 1),
                    record("msg_new", Channel::Sms, "SMnew", None, "h2", 10),
                ],
                &[r#"{"type":"audit","event":"send_attempt"}"#.to_owned()],
                &[],
            )
            .await
            .unwrap();
        apply(
            store,
            &event("evt-old", EventKind::Delivered, "SMold", "h1"),
            "{}",
            false,
        )
        .await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        let cutoff = OffsetDateTime::from_unix_timestamp(1_780_000_005).unwrap();
        let sweep = Sweep {
            audit_before: OffsetDateTime::now_utc() + Duration::from_secs(1),
            messages_before: cutoff,
            max_rows: 1000,
        };
        assert_eq!(store.check().await.outbox.unwrap().last_dispatch_at, None);
        let swept = store.sweep(&sweep, "{}").await.unwrap();
        assert_eq!(swept.idempotency_keys, 1, "{name}: {swept:?}");
        assert_eq!(swept.messages, 1, "{name}: {swept:?}");
        assert_eq!(swept.audit_lines, 2, "{name}: {swept:?}");
        assert!(store.message("msg_old").await.unwrap().is_none(), "{name}");
        assert!(store.message("msg_new").await.unwrap().is_some(), "{name}");
        let page = store.events(None, 10).await.unwrap().unwrap();
        assert!(
            page.events.is_empty(),
            "{name}: the old message's event stayed"
        );
        assert!(
            store
                .check()
                .await
                .outbox
                .unwrap()
                .last_dispatch_at
                .is_some(),
            "{name}"
        );
        let again = store.sweep(&sweep, "{}").await.unwrap();
        assert_eq!(
            again,
            Default::default(),
            "{name}: a second sweep found more"
        );
    })
    .await;
}
