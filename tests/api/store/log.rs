//! The message log: records found by either id, filtered, counted and paged, on both stores.

use super::*;

/// The ids of the messages `filter` finds (up to 100), newest first.
async fn ids_matching(store: &dyn Store, filter: MessageFilter) -> Vec<String> {
    let page = store
        .messages(&MessageFilter {
            limit: 100,
            ..filter
        })
        .await
        .unwrap();
    page.messages.iter().map(|m| m.id.clone()).collect()
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
                Some(TemplateName::PaymentReceived),
                "ha",
                1,
            ),
            record(
                "msg_2",
                Channel::Sms,
                "SM2",
                Some(TemplateName::PaymentReceived),
                "hb",
                2,
            ),
            record("msg_3", Channel::Email, "ses-3", None, "hb", 3),
            record(
                "msg_4",
                Channel::Sms,
                "SM4",
                Some(TemplateName::AppointmentReminder),
                "ha",
                4,
            ),
            record("msg_5", Channel::Email, "ses-5", None, "ha", 5),
        ];
        store.record(&records, &[], &[]).await.unwrap();
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

        let only = |f: MessageFilter| ids_matching(store, f);
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
                template: Some(TemplateName::PaymentReceived),
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

        let stats = store.stats(Some(at(2)), None, "UTC").await.unwrap();
        assert_eq!(stats.total, 4, "{name}");
        assert_eq!(stats.by_channel["email"]["sent"], 2, "{name}");
        assert_eq!(stats.by_channel["sms"]["sent"], 2, "{name}");
        assert_eq!(stats.by_template["paymentReceived"], 1, "{name}");
        assert_eq!(stats.by_template["appointmentReminder"], 1, "{name}");
    })
    .await;
}

#[tokio::test]
async fn a_fallback_names_its_original_and_the_original_its_fallback() {
    on_both(|name, store| async move {
        let store = store.as_ref();
        let template = Some(TemplateName::AppointmentReminder);
        let mut original = record("msg_sms", Channel::Sms, "SM9", template, "hp", 1);
        original.status = MessageStatus::Suppressed;
        let mut fallback = record("msg_email", Channel::Email, "ses-9", template, "he", 1);
        fallback.fallback_of = Some("msg_sms".into());
        store.record(&[original, fallback], &[], &[]).await.unwrap();
        let original = store.message("msg_sms").await.unwrap().unwrap();
        assert_eq!(
            (
                original.fallback.as_deref(),
                original.fallback_of.as_deref()
            ),
            (Some("msg_email"), None),
            "{name}"
        );
        let fallback = store.message("msg_email").await.unwrap().unwrap();
        assert_eq!(
            (
                fallback.fallback.as_deref(),
                fallback.fallback_of.as_deref()
            ),
            (None, Some("msg_sms")),
            "{name}"
        );
        let listed = store
            .messages(&MessageFilter {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        let listed_original = listed.messages.iter().find(|m| m.id == "msg_sms").unwrap();
        assert_eq!(
            listed_original.fallback.as_deref(),
            Some("msg_email"),
            "{name}"
        );
    })
    .await;
}

#[tokio::test]
async fn the_activity_filters_find_by_category_failure_error_key_and_provider_id_and_days_count_in_the_zone()
 {
    on_both(|name, store| async move {
        let store = store.as_ref();
        let template = Some(TemplateName::PaymentFailed);
        let mut failed = record("msg_f", Channel::Email, "ses-f", template, "ha", 1);
        failed.status = MessageStatus::Failed;
        failed.error_code = Some(ErrorCode::InvalidRecipient);
        failed.provider_message_id = None;
        let mut keyed = record("msg_k", Channel::Sms, "SMk", None, "hb", 2);
        keyed.idempotency_key = Some("order-7".into());
        // Delivered, then reported failed (a status never moves back): "ever failed", though
        // its latest status is not.
        let mut retried = record("msg_r", Channel::Sms, "SMr", None, "hc", 3);
        retried.status = MessageStatus::Sent;
        store
            .record(&[failed, keyed, retried], &[], &[])
            .await
            .unwrap();
        apply(
            store,
            &event("ev_r1", EventKind::Delivered, "SMr", "hc"),
            "{}",
            false,
        )
        .await;
        apply(
            store,
            &event("ev_r2", EventKind::Failed, "SMr", "hc"),
            "{}",
            false,
        )
        .await;
        let filters = [
            (
                MessageFilter {
                    category: Some(Category::BillingAlerts),
                    ..Default::default()
                },
                vec!["msg_f"],
            ),
            (
                MessageFilter {
                    ever_failed: true,
                    ..Default::default()
                },
                vec!["msg_r", "msg_f"],
            ),
            (
                MessageFilter {
                    error_code: Some(ErrorCode::InvalidRecipient),
                    ..Default::default()
                },
                vec!["msg_f"],
            ),
            (
                MessageFilter {
                    idempotency_key: Some("order-7".into()),
                    ..Default::default()
                },
                vec!["msg_k"],
            ),
            (
                MessageFilter {
                    provider_message_id: Some("SMr".into()),
                    ..Default::default()
                },
                vec!["msg_r"],
            ),
        ];
        for (filter, expected) in filters {
            assert_eq!(
                ids_matching(store, filter.clone()).await,
                expected,
                "{name}: {filter:?}"
            );
        }
        // 20:26 UTC on 28 May is the 29th in Tokyo.
        let stats = store.stats(None, None, "Asia/Tokyo").await.unwrap();
        let days: Vec<(String, Channel, u64, u64, u64)> = stats
            .days
            .iter()
            .map(|d| (d.day.clone(), d.channel, d.sent, d.delivered, d.failed))
            .collect();
        assert_eq!(
            days,
            [
                ("2026-05-29".to_owned(), Channel::Email, 0, 0, 1),
                ("2026-05-29".to_owned(), Channel::Sms, 2, 1, 0),
            ],
            "{name}"
        );
        let one = store.message("msg_r").await.unwrap().unwrap();
        let kinds: Vec<MessageStatus> = one.events.unwrap().iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [MessageStatus::Delivered, MessageStatus::Failed],
            "{name}"
        );
        assert_eq!(one.status, MessageStatus::Delivered, "{name}");
    })
    .await;
}

#[tokio::test]
async fn a_message_carries_the_audit_lines_that_name_it_oldest_first() {
    on_both(|name, store| async move {
        let store = store.as_ref();
        let lines = [
            r#"{"type":"audit","event":"send_scheduled","id":"msg_a","send_at":"2030-01-01T14:00:00Z","quiet_hours":true}"#.to_owned(),
            r#"{"type":"audit","event":"send_attempt","id":"msg_b","outcome":"sent"}"#.to_owned(),
        ];
        let records = [
            record("msg_a", Channel::Email, "ses-a", None, "ha", 1),
            record("msg_b", Channel::Email, "ses-b", None, "ha", 2),
        ];
        store.record(&records, &lines, &[]).await.unwrap();
        store
            .append_audit(r#"{"type":"audit","event":"send_attempt","id":"msg_a","outcome":"sent"}"#)
            .await
            .unwrap();
        let audit = store.message("msg_a").await.unwrap().unwrap().audit.unwrap();
        let events: Vec<&str> = audit.iter().map(|l| l["event"].as_str().unwrap()).collect();
        assert_eq!(events, ["send_scheduled", "send_attempt"], "{name}");
        let listed = store
            .messages(&MessageFilter {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(listed.messages.iter().all(|m| m.audit.is_none()), "{name}");
    })
    .await;
}
