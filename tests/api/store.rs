//! Every store behaviour, tested against both stores: the memory store and Postgres (a new
//! database on the real PostgreSQL server `scripts/test` starts). One suite, run twice.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use notify::Config;
use notify::domain::DeliveryEvent;
use notify::names::{Channel, MessageStatus, Provider, ScheduledRoute};
use notify::store::{
    Admission, Applied, Change, Changed, Claim, ClaimOutcome, Forwarding, Limit, MemoryStore,
    MessageFilter, MessageRecord, NewEvent, Outgoing, RecipientView, ScheduledSend, Settled, Store,
    StoredAnswer, Sweep,
};
use time::OffsetDateTime;

use crate::support::{AUDIT_KEY, POSTGRES, fresh_database};

/// A Postgres store on `url`, as the configuration builds it.
pub fn postgres_store(url: &str) -> Arc<dyn Store> {
    let vars = HashMap::from([
        ("DATABASE_URL".to_owned(), url.to_owned()),
        ("NOTIFY_AUDIT_KEY".to_owned(), AUDIT_KEY.to_owned()),
    ]);
    Arc::from(notify::store::open(&Config::from_vars(&vars).store))
}

/// Runs `test` on the memory store, then on Postgres.
async fn on_both<F, Fut>(test: F)
where
    F: Fn(&'static str, Arc<dyn Store>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    test("memory", Arc::new(MemoryStore::default())).await;
    let _shared = POSTGRES.read().await;
    test("postgres", postgres_store(&fresh_database().await)).await;
}

fn hourly(key: &str, max: u32, group: u8) -> Limit {
    Limit::new(key.to_owned(), max, Duration::from_secs(3600), group)
}

fn claim(key: &str, hash: &str) -> Claim {
    Claim {
        scope: "caller-a".into(),
        key: key.into(),
        request_hash: hash.into(),
        lease: Duration::from_secs(60),
        ttl: Duration::from_secs(24 * 3600),
        channels: 1,
    }
}

fn answer(body: &str) -> StoredAnswer {
    StoredAnswer {
        status: 200,
        body: body.into(),
    }
}

async fn admit(
    store: &dyn Store,
    limits: Vec<Limit>,
    claim: Option<Claim>,
) -> notify::store::Admitted {
    store.admit(&Admission { limits, claim }).await.unwrap()
}

#[tokio::test]
async fn a_key_over_its_limit_is_refused_with_the_time_until_it_recovers() {
    on_both(|name, store| async move {
        for _ in 0..2 {
            let admitted = admit(store.as_ref(), vec![hourly("caller:a", 2, 0)], None).await;
            assert!(admitted.refused.is_empty(), "{name}");
        }
        let refused = admit(store.as_ref(), vec![hourly("caller:a", 2, 0)], None).await;
        let after = refused
            .refusal(0)
            .unwrap_or_else(|| panic!("{name}: not refused"));
        assert!(
            after > Duration::from_secs(1790) && after <= Duration::from_secs(1800),
            "{name}: {after:?}"
        );
        let other = admit(store.as_ref(), vec![hourly("caller:b", 2, 0)], None).await;
        assert!(other.refused.is_empty(), "{name}: keys are counted apart");
    })
    .await;
}

#[tokio::test]
async fn a_channel_over_its_cap_is_refused_as_a_whole_and_counts_none_of_its_keys() {
    on_both(|name, store| async move {
        let caps = || vec![hourly("email:a", 1, 1), hourly("email:b", 3, 1)];
        assert!(admit(store.as_ref(), caps(), None).await.refused.is_empty());
        let refused = admit(store.as_ref(), caps(), None).await;
        assert!(refused.refusal(1).is_some(), "{name}");
        // b was counted once (by the first request): two more fit, then it is full.
        for _ in 0..2 {
            let admitted = admit(store.as_ref(), vec![hourly("email:b", 3, 1)], None).await;
            assert!(
                admitted.refused.is_empty(),
                "{name}: a refused request counted b"
            );
        }
        let full = admit(store.as_ref(), vec![hourly("email:b", 3, 1)], None).await;
        assert!(full.refusal(1).is_some(), "{name}");
    })
    .await;
}

#[tokio::test]
async fn an_idempotency_key_is_claimed_once_then_replayed_and_refused_for_another_request() {
    on_both(|name, store| async move {
        let store = store.as_ref();
        let first = admit(store, Vec::new(), Some(claim("k1", "h1"))).await;
        assert_eq!(first.claim, ClaimOutcome::Claimed, "{name}");
        let running = admit(store, Vec::new(), Some(claim("k1", "h1"))).await;
        assert!(
            matches!(running.claim, ClaimOutcome::InProgress { retry_after } if retry_after <= Duration::from_secs(60)),
            "{name}: {running:?}"
        );
        store
            .record(&[], &[], Some((&claim("k1", "h1"), &answer("the first answer"))))
            .await
            .unwrap();
        let replay = admit(store, Vec::new(), Some(claim("k1", "h1"))).await;
        assert_eq!(
            replay.claim,
            ClaimOutcome::Replay(answer("the first answer")),
            "{name}"
        );
        let reused = admit(store, Vec::new(), Some(claim("k1", "h2"))).await;
        assert_eq!(reused.claim, ClaimOutcome::Reused, "{name}");
        let elsewhere = Claim {
            scope: "caller-b".into(),
            ..claim("k1", "h2")
        };
        let theirs = admit(store, Vec::new(), Some(elsewhere)).await;
        assert_eq!(theirs.claim, ClaimOutcome::Claimed, "{name}: keys are per caller");
    })
    .await;
}

#[tokio::test]
async fn twenty_simultaneous_requests_with_one_key_give_exactly_one_claim() {
    on_both(|name, store| async move {
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let store = Arc::clone(&store);
            tasks.spawn(async move {
                admit(
                    store.as_ref(),
                    vec![hourly("caller:x", 1000, 0)],
                    Some(claim("race", "h")),
                )
                .await
                .claim
            });
        }
        let outcomes = tasks.join_all().await;
        let claimed = outcomes
            .iter()
            .filter(|o| **o == ClaimOutcome::Claimed)
            .count();
        assert_eq!(claimed, 1, "{name}: {outcomes:?}");
        assert!(
            outcomes
                .iter()
                .all(|o| matches!(o, ClaimOutcome::Claimed | ClaimOutcome::InProgress { .. })),
            "{name}: {outcomes:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_request_refused_before_any_send_keeps_no_key() {
    on_both(|name, store| async move {
        let store = store.as_ref();
        let caller_over = vec![hourly("caller:slow", 1, 0)];
        admit(store, caller_over.clone(), None).await;
        let limited = admit(store, caller_over, Some(claim("k-rate", "h"))).await;
        assert!(limited.refusal(0).is_some(), "{name}");
        assert_eq!(limited.claim, ClaimOutcome::None, "{name}");
        let capped = || vec![hourly("sms:full", 1, 2)];
        admit(store, capped(), None).await;
        let refused = admit(store, capped(), Some(claim("k-cap", "h"))).await;
        assert_eq!(
            refused.claim,
            ClaimOutcome::None,
            "{name}: kept a refused key"
        );
        let fresh = admit(store, Vec::new(), Some(claim("k-cap", "h"))).await;
        assert_eq!(
            fresh.claim,
            ClaimOutcome::Claimed,
            "{name}: the refused request kept the key"
        );
    })
    .await;
}

fn record(
    id: &str,
    channel: Channel,
    provider_id: &str,
    template: Option<&'static str>,
    hash: &str,
    seconds: i64,
) -> MessageRecord {
    MessageRecord {
        id: id.into(),
        channel,
        template,
        provider: if channel == Channel::Sms {
            Provider::Twilio
        } else {
            Provider::AwsSes
        },
        provider_message_id: Some(provider_id.into()),
        status: MessageStatus::Sent,
        error_code: None,
        caller: "key-1".into(),
        request_id: format!("req-{id}"),
        idempotency_key: None,
        created_at: time::OffsetDateTime::from_unix_timestamp(1_780_000_000 + seconds).unwrap(),
        recipients: vec![RecipientView {
            masked: "p***@example.com".into(),
            hash: hash.into(),
            status: MessageStatus::Sent,
        }],
    }
}

#[tokio::test]
async fn messages_are_found_by_either_id_filtered_counted_and_paged_newest_first() {
    on_both(|name, store| async move {
        let store = store.as_ref();
        let records = [
            record(
                "msg_1",
                Channel::Email,
                "ses-1",
                Some("paymentReceived"),
                "ha",
                1,
            ),
            record(
                "msg_2",
                Channel::Sms,
                "SM2",
                Some("paymentReceived"),
                "hb",
                2,
            ),
            record("msg_3", Channel::Email, "ses-3", None, "hb", 3),
            record(
                "msg_4",
                Channel::Sms,
                "SM4",
                Some("appointmentReminder"),
                "ha",
                4,
            ),
            record("msg_5", Channel::Email, "ses-5", None, "ha", 5),
        ];
        store.record(&records, &[], None).await.unwrap();
        let one = store.message("msg_2").await.unwrap().unwrap();
        assert_eq!(
            (one.provider_message_id.as_deref(), one.events.as_deref()),
            (Some("SM2"), Some(&[][..])),
            "{name}"
        );
        assert_eq!(
            store.message("SM2").await.unwrap().unwrap().id,
            "msg_2",
            "{name}"
        );
        assert!(store.message("msg_404").await.unwrap().is_none(), "{name}");
        assert_eq!(one.created_at, "2026-05-28T20:26:42.000000Z", "{name}");

        let ids = |page: &notify::store::MessagePage| -> Vec<String> {
            page.messages.iter().map(|m| m.id.clone()).collect()
        };
        let mut filter = MessageFilter {
            limit: 2,
            ..Default::default()
        };
        let first = store.messages(&filter).await.unwrap();
        assert_eq!(ids(&first), ["msg_5", "msg_4"], "{name}");
        filter.cursor = notify::store::Cursor::decode(first.next_cursor.as_deref().unwrap());
        let second = store.messages(&filter).await.unwrap();
        assert_eq!(ids(&second), ["msg_3", "msg_2"], "{name}");
        filter.cursor = notify::store::Cursor::decode(second.next_cursor.as_deref().unwrap());
        let last = store.messages(&filter).await.unwrap();
        assert_eq!(
            (ids(&last), last.next_cursor),
            (vec!["msg_1".to_owned()], None),
            "{name}"
        );

        let only = |f: MessageFilter| async move {
            let page = store
                .messages(&MessageFilter { limit: 100, ..f })
                .await
                .unwrap();
            ids(&page)
        };
        assert_eq!(
            only(MessageFilter {
                channel: Some(Channel::Sms),
                ..Default::default()
            })
            .await,
            ["msg_4", "msg_2"],
            "{name}"
        );
        assert_eq!(
            only(MessageFilter {
                recipient_hash: Some("hb".into()),
                ..Default::default()
            })
            .await,
            ["msg_3", "msg_2"],
            "{name}"
        );
        assert_eq!(
            only(MessageFilter {
                template: Some("paymentReceived".into()),
                ..Default::default()
            })
            .await,
            ["msg_2", "msg_1"],
            "{name}"
        );
        let at = |s: i64| time::OffsetDateTime::from_unix_timestamp(1_780_000_000 + s).unwrap();
        assert_eq!(
            only(MessageFilter {
                since: Some(at(2)),
                until: Some(at(4)),
                ..Default::default()
            })
            .await,
            ["msg_3", "msg_2"],
            "{name}"
        );
        assert_eq!(
            only(MessageFilter {
                status: Some(MessageStatus::Delivered),
                ..Default::default()
            })
            .await,
            Vec::<String>::new(),
            "{name}"
        );

        let stats = store.stats(Some(at(2)), None).await.unwrap();
        assert_eq!(stats.total, 4, "{name}");
        assert_eq!(stats.by_channel["email"]["sent"], 2, "{name}");
        assert_eq!(stats.by_channel["sms"]["sent"], 2, "{name}");
        assert_eq!(stats.by_template["paymentReceived"], 1, "{name}");
        assert_eq!(stats.by_template["appointmentReminder"], 1, "{name}");
    })
    .await;
}

/// Gives the store `event` with its audit line, forwarded or not.
async fn apply(store: &dyn Store, event: &DeliveryEvent, audit: &str, forward: bool) -> Applied {
    let payload = notify::webhooks::event_payload(event);
    store
        .apply_event(NewEvent {
            event,
            payload: &payload,
            audit,
            forward,
        })
        .await
        .unwrap()
}

fn event(id: &str, kind: &'static str, provider_id: &str, hash: &str) -> DeliveryEvent {
    DeliveryEvent {
        id: id.into(),
        kind,
        channel: Channel::Sms,
        provider: Provider::Twilio,
        provider_message_id: provider_id.into(),
        recipient_hash: Some(hash.into()),
        time: "2026-12-03T10:00:00Z".into(),
        error_code: None,
        retryable: None,
    }
}

#[tokio::test]
async fn delivery_events_move_a_status_forward_only_and_the_same_report_is_kept_once() {
    on_both(|name, store| async move {
        let store = store.as_ref();
        store
            .record(
                &[record("msg_e", Channel::Sms, "SMe", None, "he", 1)],
                &[],
                None,
            )
            .await
            .unwrap();
        apply(
            store,
            &event("evt-1", "delivered", "SMe", "he"),
            "{}",
            false,
        )
        .await;
        apply(store, &event("evt-2", "sent", "SMe", "he"), "{}", false).await;
        apply(
            store,
            &event("evt-1", "delivered", "SMe", "he"),
            "{}",
            false,
        )
        .await;
        apply(
            store,
            &event("evt-3", "delivered", "SM-unknown", "hx"),
            "{}",
            false,
        )
        .await;
        let message = store.message("msg_e").await.unwrap().unwrap();
        assert_eq!(
            message.status,
            MessageStatus::Delivered,
            "{name}: a late sent moved it back"
        );
        assert_eq!(
            message.recipients[0].status,
            MessageStatus::Delivered,
            "{name}"
        );
        let kinds: Vec<MessageStatus> = message.events.unwrap().iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [MessageStatus::Delivered, MessageStatus::Sent],
            "{name}"
        );
    })
    .await;
}

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
        assert_eq!(health.schema_version, Some(4), "{health:?}");
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
async fn audit_lines_are_kept_in_order_once_per_report_and_exported_by_page() {
    on_both(|name, store| async move {
        let store = store.as_ref();
        let line = |n: u32| format!(r#"{{"type":"audit","event":"send_attempt","n":{n}}}"#);
        store
            .record(
                &[record("msg_a", Channel::Sms, "SMa", None, "ha", 1)],
                &[line(1), line(2)],
                None,
            )
            .await
            .unwrap();
        let delivered = r#"{"type":"audit","event":"delivery_event","n":3}"#;
        for _ in 0..2 {
            apply(
                store,
                &event("evt-a", "delivered", "SMa", "ha"),
                delivered,
                false,
            )
            .await;
        }
        store
            .append_audit(r#"{"type":"audit","event":"webhook_refused","n":4}"#)
            .await
            .unwrap();
        let mut query = notify::store::AuditQuery {
            limit: 3,
            ..Default::default()
        };
        let first = store.audit(&query).await.unwrap();
        query.after = first.next;
        let rest = store.audit(&query).await.unwrap();
        assert_eq!(rest.next, None, "{name}");
        let numbers: Vec<u64> = first
            .lines
            .iter()
            .chain(&rest.lines)
            .map(|(_, line)| {
                serde_json::from_str::<serde_json::Value>(line).unwrap()["n"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert_eq!(
            numbers,
            [1, 2, 3, 4],
            "{name}: a report's second copy is audited once"
        );
    })
    .await;
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
            (true, Some(4)),
            "{health:?}"
        );
    }
    let mut claims = tokio::task::JoinSet::new();
    for i in 0..20 {
        let store = Arc::clone(&stores[i % 3]);
        claims.spawn(async move {
            admit(
                store.as_ref(),
                vec![hourly("caller:p", 1000, 0)],
                Some(claim("pooled", "h")),
            )
            .await
            .claim
        });
    }
    let outcomes = claims.join_all().await;
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
            &event("evt-p", "delivered", "SMp", "hp"),
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

/// The ids of the events `due` leased.
fn ids(due: &[Outgoing]) -> Vec<&str> {
    due.iter().map(|o| o.id.as_str()).collect()
}

fn settled(outgoing: &Outgoing, forward: Forwarding, next_at: Option<OffsetDateTime>) -> Settled {
    Settled {
        id: outgoing.id.clone(),
        attempts: outgoing.attempts,
        forward,
        next_at,
        error: (forward != Forwarding::Delivered).then(|| "answered 500".to_owned()),
    }
}

#[tokio::test]
async fn forwarded_events_go_out_in_order_per_message_leased_once_and_counted_once() {
    on_both(|name, store| async move {
        let store = store.as_ref();
        let lease = Duration::from_secs(60);
        store
            .record(
                &[record("msg_o", Channel::Sms, "SMo", None, "ho", 1)],
                &[],
                None,
            )
            .await
            .unwrap();
        let a1 = event("evt-a1", "sent", "SMo", "ho");
        let a2 = event("evt-a2", "delivered", "SMo", "ho");
        let b1 = event("evt-b1", "delivered", "SM-other", "hb");
        assert_eq!(
            apply(store, &a1, "{}", true).await,
            Applied::Claimed,
            "{name}"
        );
        assert_eq!(
            apply(store, &a2, "{}", true).await,
            Applied::Kept,
            "{name}: a2 must wait behind a1"
        );
        assert_eq!(
            apply(store, &b1, "{}", true).await,
            Applied::Claimed,
            "{name}"
        );
        assert_eq!(apply(store, &a1, "{}", true).await, Applied::Copy, "{name}");
        assert!(
            store.due_events(10, lease).await.unwrap().is_empty(),
            "{name}: a leased event, or one behind it, was leased again"
        );

        // a1's first attempt is refused and due again at once; b1 is delivered.
        let first = |e: &DeliveryEvent| Outgoing {
            id: e.id.clone(),
            payload: String::new(),
            attempts: 0,
        };
        let due_now = OffsetDateTime::now_utc() - Duration::from_secs(1);
        store
            .settle(&[
                settled(&first(&a1), Forwarding::Pending, Some(due_now)),
                settled(&first(&b1), Forwarding::Delivered, None),
            ])
            .await
            .unwrap();
        let due = store.due_events(10, lease).await.unwrap();
        assert_eq!(ids(&due), ["evt-a1"], "{name}: a2 overtook a1");
        assert_eq!(due[0].attempts, 1, "{name}");
        let payload: serde_json::Value = serde_json::from_str(&due[0].payload).unwrap();
        assert_eq!(payload["data"]["id"], "evt-a1", "{name}");
        assert!(
            store.due_events(10, lease).await.unwrap().is_empty(),
            "{name}"
        );
        store
            .settle(&[settled(&due[0], Forwarding::Delivered, None)])
            .await
            .unwrap();
        // A late copy of the same attempt's outcome changes nothing.
        store
            .settle(&[settled(&due[0], Forwarding::Failed, None)])
            .await
            .unwrap();
        let due = store.due_events(10, lease).await.unwrap();
        assert_eq!(ids(&due), ["evt-a2"], "{name}");
        store
            .settle(&[settled(&due[0], Forwarding::Failed, None)])
            .await
            .unwrap();
        assert!(
            store.due_events(10, lease).await.unwrap().is_empty(),
            "{name}"
        );

        let outbox = store.check().await.outbox.unwrap();
        assert_eq!(
            (outbox.waiting, outbox.failed),
            (0, 1),
            "{name}: {outbox:?}"
        );

        // The pull API: every event in the order kept, forwarded or not.
        let page = store.events(None, 10).await.unwrap().unwrap();
        let order: Vec<&str> = page
            .events
            .iter()
            .map(|e| e["data"]["id"].as_str().unwrap())
            .collect();
        assert_eq!(order, ["evt-a1", "evt-a2", "evt-b1"], "{name}");
        assert_eq!(page.events[0]["type"], "message.sent", "{name}");
        let page = store.events(Some("evt-a1"), 1).await.unwrap().unwrap();
        assert_eq!(page.events[0]["data"]["id"], "evt-a2", "{name}");
        assert!(page.more, "{name}");
        let page = store.events(Some("evt-b1"), 10).await.unwrap().unwrap();
        assert!(page.events.is_empty() && !page.more, "{name}");
        assert_eq!(
            store.events(Some("evt-none"), 10).await.unwrap(),
            None,
            "{name}"
        );
    })
    .await;
}

#[tokio::test]
async fn an_event_whose_lease_lapsed_is_taken_over_by_the_next_dispatcher() {
    on_both(|name, store| async move {
        let store = store.as_ref();
        let first = event("evt-l1", "sent", "SMl", "hl");
        assert_eq!(
            apply(store, &first, "{}", true).await,
            Applied::Claimed,
            "{name}"
        );
        let outbox = store.check().await.outbox.unwrap();
        assert_eq!(outbox.waiting, 1, "{name}");
        assert!(outbox.oldest_waiting_seconds.is_some(), "{name}");
        // The first attempt was refused; a dispatcher leases the retry and dies mid-way.
        let refused = Outgoing {
            id: first.id.clone(),
            payload: String::new(),
            attempts: 0,
        };
        let due_now = OffsetDateTime::now_utc() - Duration::from_secs(1);
        store
            .settle(&[settled(&refused, Forwarding::Pending, Some(due_now))])
            .await
            .unwrap();
        let short = Duration::from_millis(200);
        assert_eq!(ids(&store.due_events(10, short).await.unwrap()), ["evt-l1"]);
        assert!(
            store.due_events(10, short).await.unwrap().is_empty(),
            "{name}"
        );
        tokio::time::sleep(Duration::from_millis(400)).await;
        let taken = store.due_events(10, short).await.unwrap();
        assert_eq!(
            ids(&taken),
            ["evt-l1"],
            "{name}: the lapsed lease was not taken over"
        );
        assert_eq!(taken[0].attempts, 1, "{name}");
    })
    .await;
}

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
                None,
            )
            .await
            .unwrap();
        apply(
            store,
            &event("evt-old", "delivered", "SMold", "h1"),
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

fn scheduled_send(id: &str, email: &str, sms: &str, in_seconds: i64) -> ScheduledSend {
    ScheduledSend {
        id: id.into(),
        route: ScheduledRoute::Notification,
        send_at: OffsetDateTime::now_utc() + time::Duration::seconds(in_seconds),
        content: b"sealed bytes".to_vec(),
        caller: "key-1".into(),
        request_id: format!("req-{id}"),
        email_id: Some(email.into()),
        sms_id: Some(sms.into()),
    }
}

fn waiting(id: &str, channel: Channel) -> MessageRecord {
    MessageRecord {
        status: MessageStatus::Scheduled,
        provider_message_id: None,
        recipients: vec![RecipientView {
            masked: "+1******4567".into(),
            hash: "hs".into(),
            status: MessageStatus::Scheduled,
        }],
        ..record(id, channel, "unused", Some("appointmentReminder"), "hs", 1)
    }
}

#[tokio::test]
async fn a_scheduled_send_waits_is_leased_once_when_due_and_its_record_is_replaced_when_sent() {
    on_both(|name, store| async move {
        let store = store.as_ref();
        let send = scheduled_send("msg_s", "msg_s", "msg_s2", 3600);
        let records = [
            waiting("msg_s", Channel::Email),
            waiting("msg_s2", Channel::Sms),
        ];
        store.schedule(&send, &records, None).await.unwrap();
        let message = store.message("msg_s2").await.unwrap().unwrap();
        assert_eq!(message.status, MessageStatus::Scheduled, "{name}");
        let health = store.check().await.scheduled.unwrap();
        assert_eq!(health.waiting, 1, "{name}");
        assert!(health.next_due_at.is_some(), "{name}");
        let lease = Duration::from_secs(60);
        assert!(
            store.due_sends(10, lease).await.unwrap().is_empty(),
            "{name}: sent early"
        );

        // Moved into the past (the HTTP layer never allows it; time passing does).
        let now = OffsetDateTime::now_utc() - Duration::from_secs(1);
        let moved = store.change("msg_s2", Change::MoveTo(now)).await.unwrap();
        assert!(
            matches!(moved, Changed::Done { ref id, .. } if id == "msg_s"),
            "{name}: {moved:?}"
        );
        let due = store.due_sends(10, lease).await.unwrap();
        assert_eq!(due.len(), 1, "{name}");
        assert_eq!(due[0].content, b"sealed bytes", "{name}");
        assert_eq!(due[0].sms_id.as_deref(), Some("msg_s2"), "{name}");
        assert!(
            store.due_sends(10, lease).await.unwrap().is_empty(),
            "{name}: leased twice"
        );
        assert_eq!(
            store.change("msg_s", Change::Cancel).await.unwrap(),
            Changed::TooLate,
            "{name}: cancelled while being sent"
        );

        // The run records under the same ids.
        let mut sent = record(
            "msg_s",
            Channel::Email,
            "ses-1",
            Some("appointmentReminder"),
            "hs",
            1,
        );
        sent.created_at = OffsetDateTime::now_utc();
        store.record(&[sent], &[], None).await.unwrap();
        store.sent("msg_s").await.unwrap();
        let message = store.message("msg_s").await.unwrap().unwrap();
        assert_eq!(message.status, MessageStatus::Sent, "{name}");
        assert_eq!(
            message.provider_message_id.as_deref(),
            Some("ses-1"),
            "{name}"
        );
        assert_eq!(message.recipients.len(), 1, "{name}");
        let page = store
            .messages(&MessageFilter {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(
            page.messages.len(),
            2,
            "{name}: the record was added, not replaced"
        );
        assert_eq!(store.check().await.scheduled.unwrap().waiting, 0, "{name}");
        assert_eq!(
            store.change("msg_s", Change::Cancel).await.unwrap(),
            Changed::TooLate,
            "{name}"
        );
        assert_eq!(
            store.change("msg_none", Change::Cancel).await.unwrap(),
            Changed::NotScheduled,
            "{name}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_cancelled_send_is_never_due_and_its_messages_are_cancelled() {
    on_both(|name, store| async move {
        let store = store.as_ref();
        let send = scheduled_send("msg_c", "msg_c", "msg_c2", 120);
        let records = [
            waiting("msg_c", Channel::Email),
            waiting("msg_c2", Channel::Sms),
        ];
        store.schedule(&send, &records, None).await.unwrap();
        let cancelled = store.change("msg_c", Change::Cancel).await.unwrap();
        assert_eq!(
            cancelled,
            Changed::Done {
                id: "msg_c".into(),
                send_at: None
            },
            "{name}"
        );
        for id in ["msg_c", "msg_c2"] {
            let message = store.message(id).await.unwrap().unwrap();
            assert_eq!(message.status, MessageStatus::Cancelled, "{name}");
            assert_eq!(
                message.recipients[0].status,
                MessageStatus::Cancelled,
                "{name}"
            );
        }
        let past = OffsetDateTime::now_utc() - Duration::from_secs(1);
        assert_eq!(
            store.change("msg_c", Change::MoveTo(past)).await.unwrap(),
            Changed::TooLate,
            "{name}"
        );
        assert!(
            store
                .due_sends(10, Duration::from_secs(60))
                .await
                .unwrap()
                .is_empty(),
            "{name}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_send_whose_dispatcher_stopped_is_never_sent_again_and_its_messages_fail() {
    on_both(|name, store| async move {
        let store = store.as_ref();
        let send = scheduled_send("msg_l", "msg_l", "msg_l2", -1);
        let records = [
            waiting("msg_l", Channel::Email),
            waiting("msg_l2", Channel::Sms),
        ];
        store.schedule(&send, &records, None).await.unwrap();
        let short = Duration::from_millis(200);
        assert_eq!(store.due_sends(10, short).await.unwrap().len(), 1, "{name}");
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(
            store.due_sends(10, short).await.unwrap().is_empty(),
            "{name}: sent a second time"
        );
        let message = store.message("msg_l2").await.unwrap().unwrap();
        assert_eq!(message.status, MessageStatus::Failed, "{name}");
        assert_eq!(
            message.error_code.as_deref(),
            Some("provider_timeout"),
            "{name}"
        );
    })
    .await;
}
