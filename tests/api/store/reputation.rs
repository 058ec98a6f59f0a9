//! The reputation guard's measure and record: email recipients sent to, hard bounces and
//! complaints per window, and the guard kept with an audit line only when it changes; on both
//! stores.

use notify::names::GuardState;
use notify::store::{EmailCounts, Guard};

use super::*;

fn email_event(
    id: &str,
    kind: EventKind,
    message: usize,
    retryable: Option<bool>,
) -> DeliveryEvent {
    DeliveryEvent {
        channel: Channel::Email,
        provider: Provider::AwsSes,
        retryable,
        ..event(id, kind, &format!("SES{message}"), &format!("h{message}"))
    }
}

#[tokio::test]
async fn the_measure_counts_sent_recipients_hard_bounces_and_complaints_once_each() {
    on_both(|name, store| async move {
        let store = store.as_ref();
        let now = time::OffsetDateTime::now_utc();
        let messages: Vec<MessageRecord> = (0..250)
            .map(|i| MessageRecord {
                created_at: now,
                ..record(
                    &format!("msg_{i}"),
                    Channel::Email,
                    &format!("SES{i}"),
                    None,
                    &format!("h{i}"),
                    0,
                )
            })
            .collect();
        store.record(&messages, &[], &[]).await.unwrap();
        // An SMS does not count, nor does an email sent before the window.
        let old = MessageRecord {
            created_at: now - Duration::from_secs(3 * 24 * 3600),
            ..record("msg_old", Channel::Email, "SESold", None, "hold", 0)
        };
        store
            .record(
                &[old, record("msg_sms", Channel::Sms, "SMx", None, "hs", 0)],
                &[],
                &[],
            )
            .await
            .unwrap();
        for (id, kind, message, retryable) in [
            ("evt-b1", EventKind::Bounced, 1, Some(false)),
            ("evt-b1-copy", EventKind::Bounced, 1, Some(false)),
            ("evt-b2", EventKind::Bounced, 2, Some(false)),
            ("evt-soft", EventKind::Bounced, 3, Some(true)),
            ("evt-c", EventKind::Complained, 4, Some(false)),
        ] {
            apply(
                store,
                &email_event(id, kind, message, retryable),
                "{}",
                false,
            )
            .await;
        }
        let counts = store
            .email_counts(&[
                now - Duration::from_secs(3600),
                now - Duration::from_secs(7 * 24 * 3600),
            ])
            .await
            .unwrap();
        assert_eq!(
            counts,
            [
                EmailCounts {
                    emails: 250,
                    bounces: 2,
                    complaints: 1
                },
                EmailCounts {
                    emails: 251,
                    bounces: 2,
                    complaints: 1
                },
            ],
            "{name}: a soft bounce is no bounce, a copy counts once"
        );
    })
    .await;
}

#[tokio::test]
async fn the_guard_is_kept_admission_reads_it_and_only_a_change_is_audited() {
    on_both(|name, store| async move {
        let store = store.as_ref();
        let guard = |state| Guard {
            state,
            day: EmailCounts {
                emails: 300,
                bounces: 15,
                complaints: 0,
            },
            week: EmailCounts::default(),
            measured_at: time::OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap(),
        };
        let line = r#"{"type":"audit","event":"reputation_changed"}"#;
        assert_eq!(
            store
                .keep_guard(&guard(GuardState::Ok), line)
                .await
                .unwrap(),
            None,
            "{name}"
        );
        assert_eq!(
            store
                .keep_guard(&guard(GuardState::Held), line)
                .await
                .unwrap(),
            Some(GuardState::Ok),
            "{name}"
        );
        assert_eq!(
            store
                .keep_guard(&guard(GuardState::Held), line)
                .await
                .unwrap(),
            Some(GuardState::Held),
            "{name}"
        );
        assert_eq!(
            store.guard().await.unwrap(),
            Some(guard(GuardState::Held)),
            "{name}"
        );
        assert!(admit(store, Vec::new(), None).await.held, "{name}");
        let audit = store
            .audit(&notify::store::AuditQuery {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(
            audit.lines.len(),
            1,
            "{name}: a first measure that finds all well and a repeat are no change"
        );
    })
    .await;
}
