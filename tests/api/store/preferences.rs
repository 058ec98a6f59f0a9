//! Patients' choices and SMS consent: set, replaced, read back, and read by admission for the
//! categories it sends; on both stores.

use notify::names::{Category, ChoiceSource};
use notify::store::{Choice, Consent, Reach};

use super::*;

fn choice(channel: Channel, hash: &str, category: Category, enabled: bool) -> Choice {
    Choice {
        channel,
        recipient_hash: hash.into(),
        masked: "+1******4567".into(),
        category,
        enabled,
        source: ChoiceSource::Api,
        updated_at: time::OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap(),
    }
}

fn consent(hash: &str, version: &str) -> Consent {
    let at = time::OffsetDateTime::from_unix_timestamp(1_779_000_000).unwrap();
    Consent {
        recipient_hash: hash.into(),
        masked: "+1******4567".into(),
        at,
        source: "intake-form".into(),
        text_version: version.into(),
        recorded_at: at,
    }
}

const LINE: &str = r#"{"type":"audit","event":"preference_updated"}"#;

#[tokio::test]
async fn choices_are_replaced_per_category_and_channel_and_read_back_with_consent() {
    on_both(|name, store| async move {
        let store = store.as_ref();
        let care = Category::CareReminders;
        store
            .choose(
                &[
                    choice(Channel::Sms, "hp", care, false),
                    choice(Channel::Email, "he", care, true),
                ],
                Some(&consent("hp", "v1")),
                LINE,
            )
            .await
            .unwrap();
        store
            .choose(
                &[choice(Channel::Sms, "hp", care, true)],
                Some(&consent("hp", "v2")),
                LINE,
            )
            .await
            .unwrap();
        let chosen = store
            .choices(&[(Channel::Sms, "hp".into()), (Channel::Email, "he".into())])
            .await
            .unwrap();
        assert_eq!(chosen.choices.len(), 2, "{name}: {chosen:?}");
        assert_eq!(
            chosen.choice(Channel::Sms, "hp", care).map(|c| c.enabled),
            Some(true),
            "{name}"
        );
        assert_eq!(
            chosen.consent("hp").map(|c| c.text_version.as_str()),
            Some("v2"),
            "{name}"
        );
        assert_eq!(chosen.consent("he"), None, "{name}: consent is a phone's");
        let other = store.choices(&[(Channel::Sms, "hx".into())]).await.unwrap();
        assert!(
            other.choices.is_empty() && other.consent.is_empty(),
            "{name}"
        );
        let audit = store
            .audit(&notify::store::AuditQuery {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(audit.lines.len(), 2, "{name}: one line per change");
    })
    .await;
}

#[tokio::test]
async fn admission_reads_the_choice_of_the_category_it_sends_and_the_phones_consent() {
    on_both(|name, store| async move {
        let store = store.as_ref();
        store
            .choose(
                &[
                    choice(Channel::Sms, "hp", Category::CareReminders, false),
                    choice(Channel::Sms, "hp", Category::Documents, true),
                ],
                Some(&consent("hp", "v1")),
                LINE,
            )
            .await
            .unwrap();
        let admitted = store
            .admit(&Admission {
                limits: Vec::new(),
                claim: None,
                reach: vec![Reach {
                    channel: Channel::Sms,
                    recipient_hash: "hp".into(),
                    category: Some(Category::CareReminders),
                }],
            })
            .await
            .unwrap();
        let chosen = &admitted.chosen;
        assert_eq!(
            chosen
                .choice(Channel::Sms, "hp", Category::CareReminders)
                .map(|c| c.enabled),
            Some(false),
            "{name}"
        );
        assert!(
            chosen
                .choice(Channel::Sms, "hp", Category::Documents)
                .is_none(),
            "{name}: only the category sent is read"
        );
        assert!(chosen.consent("hp").is_some(), "{name}");
    })
    .await;
}
