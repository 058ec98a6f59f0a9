//! Delivery events and the outbox: kept once, in order, forwarded once, on both stores.

use super::*;

#[tokio::test]
async fn delivery_events_move_a_status_forward_only_and_the_same_report_is_kept_once() {
    on_both(|name, store| async move {
        let store = store.as_ref();
        store
            .record(
                &[record("msg_e", Channel::Sms, "SMe", None, "he", 1)],
                &[],
                &[],
            )
            .await
            .unwrap();
        // Delivered, then a late sent, the same report again, and one for no message.
        for (id, kind, message, hash) in [
            ("evt-1", EventKind::Delivered, "SMe", "he"),
            ("evt-2", EventKind::Sent, "SMe", "he"),
            ("evt-1", EventKind::Delivered, "SMe", "he"),
            ("evt-3", EventKind::Delivered, "SM-unknown", "hx"),
        ] {
            apply(store, &event(id, kind, message, hash), "{}", false).await;
        }
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
                &[],
            )
            .await
            .unwrap();
        let a1 = event("evt-a1", EventKind::Sent, "SMo", "ho");
        let a2 = event("evt-a2", EventKind::Delivered, "SMo", "ho");
        let b1 = event("evt-b1", EventKind::Delivered, "SM-other", "hb");
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
        let first = event("evt-l1", EventKind::Sent, "SMl", "hl");
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
async fn a_practice_event_is_kept_once_in_the_events_order_and_forwarded_on_its_own() {
    on_both(|name, store| async move {
        let store = store.as_ref();
        apply(
            store,
            &event("evt-d", EventKind::Delivered, "SMd", "hd"),
            "{}",
            true,
        )
        .await;
        let payload = notify::webhooks::practice_payload(
            "suppression.added",
            "evt-s",
            &serde_json::json!({"reason": "sms_stop"}),
        );
        let practice = notify::store::PracticeEvent {
            id: "evt-s",
            kind: "suppression.added",
            payload: &payload,
            forward: true,
        };
        assert_eq!(
            store.keep_event(&practice).await.unwrap(),
            Applied::Kept,
            "{name}"
        );
        assert_eq!(
            store.keep_event(&practice).await.unwrap(),
            Applied::Copy,
            "{name}"
        );
        let page = store.events(None, 10).await.unwrap().unwrap();
        let ids: Vec<&str> = page
            .events
            .iter()
            .map(|e| e["data"]["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["evt-d", "evt-s"], "{name}");
        assert_eq!(page.events[1]["type"], "suppression.added", "{name}");
        assert_eq!(page.events[1]["data"]["reason"], "sms_stop", "{name}");
        // The delivery event is leased for its first attempt by its receiver; the practice
        // event waits for the dispatcher, behind no message.
        let due = store.due_events(10, Duration::from_secs(60)).await.unwrap();
        let due: Vec<&str> = due.iter().map(|o| o.id.as_str()).collect();
        assert_eq!(due, ["evt-s"], "{name}");
    })
    .await;
}
