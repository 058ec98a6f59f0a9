//! The suppression list: one entry in force per recipient, channel and scope, read by
//! admission in its own step, lifted and kept on record, paged; on both stores.

use notify::names::{Category, SuppressionReason, SuppressionSource};
use notify::store::{Reach, Suppression, SuppressionFilter};

use super::*;

fn entry(id: &str, channel: Channel, hash: &str, scope: Option<Category>) -> Suppression {
    Suppression {
        id: id.into(),
        channel,
        recipient_hash: hash.into(),
        masked: "p***@example.com".into(),
        scope,
        reason: SuppressionReason::HardBounce,
        source: SuppressionSource::ProviderEvent,
        inferred: false,
        message_id: Some("msg_a".into()),
        created_at: OffsetDateTime::now_utc(),
        lifted_at: None,
    }
}

fn line(n: u32) -> String {
    format!(r#"{{"type":"audit","event":"suppression_added","n":{n}}}"#)
}

async fn reached(store: &dyn Store, reach: Vec<Reach>) -> Vec<String> {
    let admitted = store
        .admit(&Admission {
            limits: Vec::new(),
            claim: None,
            reach,
        })
        .await
        .unwrap();
    let mut ids: Vec<String> = admitted.suppressed.into_iter().map(|s| s.id).collect();
    ids.sort();
    ids
}

fn reach(channel: Channel, hash: &str, category: Option<Category>) -> Reach {
    Reach {
        channel,
        recipient_hash: hash.into(),
        category,
    }
}

#[tokio::test]
async fn a_recipient_is_suppressed_once_per_channel_and_scope_and_its_audit_line_is_kept_once() {
    on_both(|name, store| async move {
        let store = store.as_ref();
        let first = store
            .suppress(&entry("sup_1", Channel::Email, "ha", None), &line(1))
            .await
            .unwrap();
        assert!(first.added, "{name}");
        assert_eq!(first.entry.masked, "p***@example.com", "{name}");
        let again = store
            .suppress(&entry("sup_2", Channel::Email, "ha", None), &line(2))
            .await
            .unwrap();
        assert_eq!(
            (again.added, again.entry.id.as_str()),
            (false, "sup_1"),
            "{name}"
        );
        // Another channel, or one category, is an entry of its own.
        for (id, channel, scope) in [
            ("sup_3", Channel::Sms, None),
            ("sup_4", Channel::Email, Some(Category::CareReminders)),
        ] {
            let added = store
                .suppress(&entry(id, channel, "ha", scope), &line(3))
                .await
                .unwrap();
            assert!(added.added, "{name}: {id}");
        }
        let audit = store
            .audit(&notify::store::AuditQuery {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(
            audit.lines.len(),
            3,
            "{name}: the refused copy wrote no line"
        );
    })
    .await;
}

#[tokio::test]
async fn admission_answers_the_entries_that_stop_its_recipients_by_channel_and_category() {
    on_both(|name, store| async move {
        let store = store.as_ref();
        for suppression in [
            entry("sup_all", Channel::Email, "ha", None),
            entry(
                "sup_care",
                Channel::Email,
                "hb",
                Some(Category::CareReminders),
            ),
            entry("sup_sms", Channel::Sms, "hc", None),
        ] {
            store.suppress(&suppression, &line(1)).await.unwrap();
        }
        let email = |hash, category| reach(Channel::Email, hash, category);
        assert_eq!(
            reached(store, vec![email("ha", None)]).await,
            ["sup_all"],
            "{name}"
        );
        assert_eq!(
            reached(store, vec![email("ha", Some(Category::BillingAlerts))]).await,
            ["sup_all"],
            "{name}: an entry for every category stops every category"
        );
        assert!(
            reached(store, vec![email("hb", None)]).await.is_empty(),
            "{name}: a send without a category meets only the entries for every category"
        );
        assert!(
            reached(store, vec![email("hb", Some(Category::Documents))])
                .await
                .is_empty(),
            "{name}"
        );
        assert_eq!(
            reached(store, vec![email("hb", Some(Category::CareReminders))]).await,
            ["sup_care"],
            "{name}"
        );
        assert!(
            reached(store, vec![email("hc", None)]).await.is_empty(),
            "{name}: an SMS entry does not stop email"
        );
        assert_eq!(
            reached(
                store,
                vec![
                    email("ha", None),
                    reach(Channel::Sms, "hc", None),
                    email("hz", None)
                ]
            )
            .await,
            ["sup_all", "sup_sms"],
            "{name}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_lifted_entry_stays_on_record_stops_nothing_and_lets_a_new_one_in() {
    on_both(|name, store| async move {
        let store = store.as_ref();
        store
            .suppress(&entry("sup_1", Channel::Sms, "ha", None), &line(1))
            .await
            .unwrap();
        let lifted = store.lift("sup_1", &line(2)).await.unwrap().unwrap();
        assert!(lifted.lifted_at.is_some(), "{name}");
        assert_eq!(store.lift("sup_1", &line(3)).await.unwrap(), None, "{name}");
        assert_eq!(
            store.lift("sup_none", &line(3)).await.unwrap(),
            None,
            "{name}"
        );
        assert!(
            reached(store, vec![reach(Channel::Sms, "ha", None)])
                .await
                .is_empty(),
            "{name}"
        );
        let read = store.suppression("sup_1").await.unwrap().unwrap();
        assert_eq!(read.lifted_at, lifted.lifted_at, "{name}");
        let again = store
            .suppress(&entry("sup_2", Channel::Sms, "ha", None), &line(4))
            .await
            .unwrap();
        assert!(again.added, "{name}");
        assert_eq!(
            reached(store, vec![reach(Channel::Sms, "ha", None)]).await,
            ["sup_2"],
            "{name}"
        );
    })
    .await;
}

#[tokio::test]
async fn the_list_is_filtered_and_paged_newest_first() {
    on_both(|name, store| async move {
        let store = store.as_ref();
        for n in 0..5 {
            let channel = if n % 2 == 0 {
                Channel::Email
            } else {
                Channel::Sms
            };
            let id = format!("sup_{n}");
            store
                .suppress(&entry(&id, channel, &format!("h{n}"), None), &line(n))
                .await
                .unwrap();
        }
        store.lift("sup_2", &line(9)).await.unwrap();
        let mut filter = SuppressionFilter {
            limit: 2,
            ..SuppressionFilter::default()
        };
        let mut ids = Vec::new();
        loop {
            let page = store.suppressions(&filter).await.unwrap();
            ids.extend(page.entries.iter().map(|e| e.id.clone()));
            match page.next_cursor {
                Some(next) => filter.cursor = notify::store::Cursor::decode(&next),
                None => break,
            }
        }
        assert_eq!(ids, ["sup_4", "sup_3", "sup_2", "sup_1", "sup_0"], "{name}");
        let only = |filter: SuppressionFilter| async move {
            let page = store.suppressions(&filter).await.unwrap();
            page.entries.into_iter().map(|e| e.id).collect::<Vec<_>>()
        };
        let base = SuppressionFilter {
            limit: 10,
            ..SuppressionFilter::default()
        };
        assert_eq!(
            only(SuppressionFilter {
                channel: Some(Channel::Email),
                active: Some(true),
                ..base.clone()
            })
            .await,
            ["sup_4", "sup_0"],
            "{name}"
        );
        assert_eq!(
            only(SuppressionFilter {
                recipient_hash: Some("h3".into()),
                ..base.clone()
            })
            .await,
            ["sup_3"],
            "{name}"
        );
        assert_eq!(
            only(SuppressionFilter {
                active: Some(false),
                ..base.clone()
            })
            .await,
            ["sup_2"],
            "{name}"
        );
        assert!(
            only(SuppressionFilter {
                reason: Some(SuppressionReason::Complaint),
                ..base.clone()
            })
            .await
            .is_empty(),
            "{name}"
        );
        assert!(
            only(SuppressionFilter {
                inferred: Some(true),
                ..base.clone()
            })
            .await
            .is_empty(),
            "{name}: none was read from plain words"
        );
        assert_eq!(
            only(SuppressionFilter {
                inferred: Some(false),
                ..base
            })
            .await
            .len(),
            5,
            "{name}"
        );
    })
    .await;
}
