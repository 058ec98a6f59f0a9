//! Scheduled sends: kept, leased once when due, cancelled, never sent twice, on both stores.

use super::*;

fn scheduled_send(id: &str, email: &str, sms: &str, in_seconds: i64) -> ScheduledSend {
    ScheduledSend {
        id: id.into(),
        route: ScheduledRoute::Notification,
        send_at: OffsetDateTime::now_utc() + time::Duration::seconds(in_seconds),
        content: b"sealed bytes".to_vec(),
        caller: Caller::ApiKey("key:0a1b2c3d".into()),
        request_id: format!("req-{id}"),
        email_id: Some(email.into()),
        sms_id: Some(sms.into()),
        batch_id: None,
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
        ..record(
            id,
            channel,
            "unused",
            Some(TemplateName::AppointmentReminder),
            "hs",
            1,
        )
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
        store.schedule(&send, &records, &[], None).await.unwrap();
        let message = store.message("msg_s2").await.unwrap().unwrap();
        assert_eq!(message.status, MessageStatus::Scheduled, "{name}");
        let health = store.check().await.scheduled.unwrap();
        assert_eq!(health.waiting, 1, "{name}");
        assert!(health.next_due_at.is_some(), "{name}");
        let lease = Duration::from_secs(60);
        assert!(
            store.due_sends(10, lease, None).await.unwrap().is_empty(),
            "{name}: sent early"
        );

        // Moved into the past (the HTTP layer never allows it; time passing does).
        let now = OffsetDateTime::now_utc() - Duration::from_secs(1);
        let moved = store.change("msg_s2", Change::MoveTo(now)).await.unwrap();
        assert!(
            matches!(moved, Changed::Done { ref id, .. } if id == "msg_s"),
            "{name}: {moved:?}"
        );
        let due = store.due_sends(10, lease, None).await.unwrap();
        assert_eq!(due.len(), 1, "{name}");
        assert_eq!(due[0].content, b"sealed bytes", "{name}");
        assert_eq!(due[0].sms_id.as_deref(), Some("msg_s2"), "{name}");
        assert!(
            store.due_sends(10, lease, None).await.unwrap().is_empty(),
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
            Some(TemplateName::AppointmentReminder),
            "hs",
            1,
        );
        sent.created_at = OffsetDateTime::now_utc();
        store.record(&[sent], &[], &[]).await.unwrap();
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
        store.schedule(&send, &records, &[], None).await.unwrap();
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
                .due_sends(10, Duration::from_secs(60), None)
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
        store.schedule(&send, &records, &[], None).await.unwrap();
        let short = Duration::from_millis(200);
        assert_eq!(
            store.due_sends(10, short, None).await.unwrap().len(),
            1,
            "{name}"
        );
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(
            store.due_sends(10, short, None).await.unwrap().is_empty(),
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
