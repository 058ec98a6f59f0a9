//! Batches and the pacer: a batch kept with its messages and sends in one call, leased by
//! batch, put back, counted and cancelled; slots of a pace one after another, on both stores.

use notify::store::{BatchRecord, Paced};

use super::*;

fn item(id: &str, batch: &str, in_seconds: i64) -> (ScheduledSend, MessageRecord) {
    let send = ScheduledSend {
        id: id.into(),
        route: ScheduledRoute::Sms,
        send_at: OffsetDateTime::now_utc() + time::Duration::seconds(in_seconds),
        content: format!("sealed {id}").into_bytes(),
        caller: Caller::ApiKey("key:0a1b2c3d".into()),
        request_id: "req-batch".into(),
        email_id: None,
        sms_id: Some(id.into()),
        batch_id: Some(batch.into()),
    };
    let message = MessageRecord {
        status: MessageStatus::Scheduled,
        provider_message_id: None,
        batch_id: Some(batch.into()),
        ..record(id, Channel::Sms, "", None, &format!("hash-{id}"), 0)
    };
    (send, message)
}

fn batch(id: &str, items: u32) -> BatchRecord {
    BatchRecord {
        id: id.into(),
        caller: "key:0a1b2c3d".into(),
        request_id: "req-batch".into(),
        items,
        created_at: notify::support::now_micros(),
    }
}

#[tokio::test]
async fn a_batch_is_kept_leased_by_batch_put_back_counted_and_cancelled() {
    on_both(|name, store| async move {
        let (a, a_msg) = item("msg_a", "bat_1", -1);
        let (b, b_msg) = item("msg_b", "bat_1", -1);
        let (later, later_msg) = item("msg_later", "bat_1", 3600);
        let (other, other_msg) = item("msg_other", "bat_2", -1);
        store
            .keep_batch(
                &batch("bat_1", 3),
                &[a, b, later],
                &[a_msg, b_msg, later_msg],
                &[],
                None,
            )
            .await
            .unwrap();
        store
            .keep_batch(&batch("bat_2", 1), &[other], &[other_msg], &[], None)
            .await
            .unwrap();

        let lease = Duration::from_secs(60);
        let due = store.due_sends(10, lease, Some("bat_1")).await.unwrap();
        let mut ids: Vec<&str> = due.iter().map(|s| s.id.as_str()).collect();
        ids.sort_unstable();
        assert_eq!(ids, ["msg_a", "msg_b"], "{name}: only bat_1's due sends");
        assert!(
            due.iter().all(|s| s.batch_id.as_deref() == Some("bat_1")),
            "{name}"
        );
        assert_eq!(
            due[0].content,
            format!("sealed {}", due[0].id).into_bytes(),
            "{name}"
        );

        // One goes back to wait: not due again until its time.
        store
            .put_back(
                "msg_a",
                OffsetDateTime::now_utc() + time::Duration::seconds(3600),
            )
            .await
            .unwrap();
        assert!(
            store
                .due_sends(10, lease, Some("bat_1"))
                .await
                .unwrap()
                .is_empty(),
            "{name}: put back for later, and msg_b still leased"
        );
        let filter = MessageFilter {
            batch: Some("bat_1".into()),
            limit: 10,
            ..MessageFilter::default()
        };
        let page = store.messages(&filter).await.unwrap();
        assert_eq!(page.messages.len(), 3, "{name}");
        assert!(
            page.messages
                .iter()
                .all(|m| m.batch_id.as_deref() == Some("bat_1")),
            "{name}"
        );

        let view = store.batch("bat_1").await.unwrap().expect("kept");
        assert_eq!(
            (view.items, view.counts.get("scheduled")),
            (3, Some(&3)),
            "{name}"
        );
        assert!(store.batch("bat_none").await.unwrap().is_none(), "{name}");

        // Cancelling takes what waits (msg_a put back, msg_later), not what is leased (msg_b).
        assert_eq!(
            store.cancel_batch("bat_1").await.unwrap(),
            Some(2),
            "{name}"
        );
        assert_eq!(
            store.cancel_batch("bat_none").await.unwrap(),
            None,
            "{name}"
        );
        let view = store.batch("bat_1").await.unwrap().unwrap();
        assert_eq!(view.counts.get("cancelled"), Some(&2), "{name}");
        let other = store.due_sends(10, lease, None).await.unwrap();
        assert_eq!(other.len(), 1, "{name}: the other batch is untouched");
        assert_eq!(other[0].id, "msg_other", "{name}");
    })
    .await;
}

#[tokio::test]
async fn the_pacer_gives_slots_one_after_another_and_none_beyond_the_wait_allowed() {
    on_both(|name, store| async move {
        let interval = Duration::from_millis(100);
        let max_wait = Duration::from_millis(450);
        let mut waits = Vec::new();
        for _ in 0..5 {
            match store.pace("sms", interval, 1, max_wait).await.unwrap() {
                Paced::Reserved(wait) => waits.push(wait),
                Paced::Full(wait) => panic!("{name}: full after {} slots ({wait:?})", waits.len()),
            }
        }
        // Each slot starts an interval after the one before (allowing for the time the calls
        // themselves take).
        for (i, wait) in waits.iter().enumerate() {
            let expected = interval * i as u32;
            assert!(
                *wait <= expected && expected - *wait < Duration::from_millis(60),
                "{name}: slot {i} starts after {wait:?}, expected about {expected:?}"
            );
        }
        // The next would start 500 ms from now: more than allowed, so nothing is reserved.
        match store.pace("sms", interval, 1, max_wait).await.unwrap() {
            Paced::Full(wait) => assert!(wait > Duration::from_millis(400), "{name}: {wait:?}"),
            other => panic!("{name}: {other:?}"),
        }
        // An email to three recipients takes three intervals of its own pace.
        assert_eq!(
            store.pace("email", interval, 3, max_wait).await.unwrap(),
            Paced::Reserved(Duration::ZERO),
            "{name}: another pace is free"
        );
        match store.pace("email", interval, 1, max_wait).await.unwrap() {
            Paced::Reserved(wait) => assert!(
                wait > Duration::from_millis(240) && wait <= Duration::from_millis(300),
                "{name}: {wait:?}"
            ),
            other => panic!("{name}: {other:?}"),
        }
    })
    .await;
}

#[tokio::test]
async fn an_event_of_a_batch_message_is_kept_and_answered_with_its_batch() {
    on_both(|name, store| async move {
        let (send, message) = item("msg_sent", "bat_events", -1);
        store
            .keep_batch(&batch("bat_events", 1), &[send], &[message], &[], None)
            .await
            .unwrap();
        // Sent: the record under the same id now has the provider's id.
        let sent = MessageRecord {
            provider_message_id: Some("SMbatch1".into()),
            batch_id: None,
            ..record(
                "msg_sent",
                Channel::Sms,
                "SMbatch1",
                None,
                "hash-msg_sent",
                1,
            )
        };
        store.record(&[sent], &[], &[]).await.unwrap();
        let delivered = event(
            "evt_batch_1",
            EventKind::Delivered,
            "SMbatch1",
            "hash-msg_sent",
        );
        let payload = notify::webhooks::event_payload(&delivered);
        let (applied, batch) = store
            .apply_event(NewEvent {
                event: &delivered,
                payload: &payload,
                audit: "{}",
                forward: true,
            })
            .await
            .unwrap();
        assert_eq!(
            (applied, batch.as_deref()),
            (Applied::Claimed, Some("bat_events")),
            "{name}"
        );
        let page = store.events(None, 10).await.unwrap().unwrap();
        let kept = page.events.last().unwrap();
        assert_eq!(kept["data"]["batch_id"], "bat_events", "{name}: {kept}");
        let outside = event("evt_batch_2", EventKind::Delivered, "SMother", "hash-x");
        let payload = notify::webhooks::event_payload(&outside);
        let (_, batch) = store
            .apply_event(NewEvent {
                event: &outside,
                payload: &payload,
                audit: "{}",
                forward: false,
            })
            .await
            .unwrap();
        assert_eq!(batch, None, "{name}: an orphan event has no batch");
    })
    .await;
}
