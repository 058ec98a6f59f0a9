//! Every store behaviour, tested against both stores: the memory store and Postgres (a new
//! database on the real PostgreSQL server `scripts/test` starts). One suite per concern, as the
//! store is laid out (`src/store/<concern>.rs`), each test run on both.

mod admission;
mod audit;
mod batch;
mod log;
mod outbox;
mod postgres;
mod preferences;
mod reputation;
mod scheduled;
mod suppression;
mod upkeep;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use notify::Config;
use notify::domain::Caller;
use notify::domain::DeliveryEvent;
use notify::error::ErrorCode;
use notify::names::ScheduledRoute;
use notify::names::{Category, Channel, EventKind, MessageStatus, Provider};
use notify::store::{
    Admission, Admitted, Applied, Change, Changed, Claim, ClaimOutcome, Forwarding, Limit,
    MemoryStore, MessageFilter, MessageRecord, NewEvent, Outgoing, RecipientView, SCHEMA_VERSION,
    ScheduledSend, Settled, Store, StoredAnswer, Sweep,
};
use notify::templates::TemplateName;
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
pub async fn on_both<F, Fut>(test: F)
where
    F: Fn(&'static str, Arc<dyn Store>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    test("memory", Arc::new(MemoryStore::default())).await;
    let _shared = POSTGRES.read().await;
    test("postgres", postgres_store(&fresh_database().await)).await;
}

pub fn hourly(key: &str, max: u32, group: u8) -> Limit {
    Limit::new(key.to_owned(), max, Duration::from_secs(3600), group)
}

pub fn claim(key: &str, hash: &str) -> Claim {
    Claim {
        scope: "caller-a".into(),
        key: key.into(),
        request_hash: hash.into(),
        lease: Duration::from_secs(60),
        ttl: Duration::from_secs(24 * 3600),
        channels: 1,
    }
}

pub fn answer(body: &str) -> StoredAnswer {
    StoredAnswer {
        status: 200,
        body: body.into(),
    }
}

pub async fn admit(store: &dyn Store, limits: Vec<Limit>, claim: Option<Claim>) -> Admitted {
    store
        .admit(&Admission {
            limits,
            claim,
            reach: Vec::new(),
        })
        .await
        .unwrap()
}

/// A message of a send, sent `seconds` after a fixed time.
pub fn record(
    id: &str,
    channel: Channel,
    provider_id: &str,
    template: Option<TemplateName>,
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
        category: template.map(|t| t.category()),
        reason: None,
        consent_on_file: None,
        fallback_of: None,
        batch_id: None,
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

/// Gives the store `event` with its audit line, forwarded or not.
pub async fn apply(
    store: &dyn Store,
    event: &DeliveryEvent,
    audit: &str,
    forward: bool,
) -> Applied {
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
        .0
}

pub fn event(id: &str, kind: EventKind, provider_id: &str, hash: &str) -> DeliveryEvent {
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
        recipient_masked: None,
        batch_id: None,
    }
}
