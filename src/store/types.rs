//! What goes in and out of a store: admissions, claims, message records and the views the
//! messages API answers with (the same JSON from either store).

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::ErrorCode;
use crate::names::{Channel, MessageStatus, Provider};

/// One limit a request counts against: at most `max` per `period` for `key`, spread as GCRA
/// spreads them (a burst of `max`, then one every `period / max`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    pub key: String,
    pub interval: Duration,
    pub period: Duration,
    /// 0 for the caller's rate; one group per channel for recipient caps. A group is refused
    /// as a whole when any of its keys is over its limit.
    pub group: u8,
}

impl Limit {
    pub fn new(key: String, max: u32, period: Duration, group: u8) -> Self {
        Self {
            key,
            interval: period / max.max(1),
            period,
            group,
        }
    }
}

/// An `Idempotency-Key` claimed for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// Whose key it is (a keyed hash of the caller), so callers never see each other's.
    pub scope: String,
    pub key: String,
    /// A hash of the route and the canonical body: the same key with another request is refused.
    pub request_hash: String,
    /// How long the first request may run before its outcome is taken as unknown.
    pub lease: Duration,
    /// How long the answer is kept for replays.
    pub ttl: Duration,
    /// How many channel groups the request asked for: refused on all of them, it is forgotten.
    pub channels: u8,
}

/// One send request's admission: the caller's rate first, then the key, then recipient caps.
#[derive(Debug, Clone, Default)]
pub struct Admission {
    pub limits: Vec<Limit>,
    pub claim: Option<Claim>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub group: u8,
    pub retry_after: Duration,
}

/// What became of a request's idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// No key was given, or the request was refused before the key was looked at.
    None,
    /// This request holds the key: it sends, then records its answer.
    Claimed,
    /// The key's first request has answered: this is that answer.
    Replay(StoredAnswer),
    /// The key's first request is still running.
    InProgress { retry_after: Duration },
    /// The key was used with another request.
    Reused,
    /// The key's first request never recorded an answer within its lease (its instance
    /// stopped): whether it sent is unknown, so it is not sent again.
    Abandoned,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admitted {
    pub refused: Vec<Refusal>,
    pub claim: ClaimOutcome,
}

impl Admitted {
    pub fn refusal(&self, group: u8) -> Option<Duration> {
        self.refused
            .iter()
            .find(|r| r.group == group)
            .map(|r| r.retry_after)
    }
}

/// A first answer, kept for replays: its status and its JSON body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAnswer {
    pub status: u16,
    pub body: String,
}

/// One message of a send, as the log keeps it: never a body, a subject, template data or a
/// full address or number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageRecord {
    pub id: String,
    pub channel: Channel,
    pub template: Option<&'static str>,
    pub provider: Provider,
    pub provider_message_id: Option<String>,
    pub status: MessageStatus,
    pub error_code: Option<ErrorCode>,
    pub caller: String,
    pub request_id: String,
    pub idempotency_key: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub recipients: Vec<RecipientView>,
}

/// One recipient of a message: masked for a person, hashed (the audit key) for look-ups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientView {
    pub masked: String,
    pub hash: String,
    pub status: MessageStatus,
}

/// One delivery event of a message, as the messages API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventView {
    #[serde(rename = "type")]
    pub kind: MessageStatus,
    pub time: String,
    pub error_code: Option<String>,
    pub retryable: Option<bool>,
}

/// A message as `GET /api/messages/{id}` answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    pub id: String,
    pub channel: Channel,
    pub template: Option<String>,
    pub provider: Provider,
    pub provider_message_id: Option<String>,
    pub status: MessageStatus,
    pub error_code: Option<String>,
    pub caller: String,
    pub request_id: String,
    pub idempotency_key: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub recipients: Vec<RecipientView>,
    /// Only on a single message; lists leave them out.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub events: Option<Vec<EventView>>,
}

/// Where a page of messages starts: after the message created at `created_at` with `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: OffsetDateTime,
    pub id: String,
}

impl Cursor {
    /// Opaque to callers: base64url of the creation time in microseconds and the id.
    pub fn encode(&self) -> String {
        let micros = self.created_at.unix_timestamp_nanos() / 1000;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{micros}.{}", self.id))
    }

    pub fn decode(text: &str) -> Option<Self> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text)
            .ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (micros, id) = text.split_once('.')?;
        let micros: i128 = micros.parse().ok()?;
        let created_at = OffsetDateTime::from_unix_timestamp_nanos(micros * 1000).ok()?;
        Some(Self {
            created_at,
            id: id.to_owned(),
        })
    }
}

/// The filters of `GET /api/messages`.
#[derive(Debug, Clone, Default)]
pub struct MessageFilter {
    pub channel: Option<Channel>,
    pub status: Option<MessageStatus>,
    pub template: Option<String>,
    /// The keyed hash of a full address or number: the log never holds the address itself.
    pub recipient_hash: Option<String>,
    pub since: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
    pub limit: u16,
    pub cursor: Option<Cursor>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessagePage {
    pub messages: Vec<MessageView>,
    pub next_cursor: Option<String>,
}

/// Counts by channel then status, and by template.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub total: u64,
    pub by_channel: BTreeMap<String, BTreeMap<String, u64>>,
    pub by_template: BTreeMap<String, u64>,
}

/// The store as health reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreHealth {
    pub reachable: bool,
    pub schema_version: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// When the store answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outbox: Option<super::OutboxHealth>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled: Option<super::ScheduledHealth>,
}

/// Which audit lines to export: a time range, after a cursor (the last line's id), at most
/// `limit`.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub since: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
    pub after: Option<i64>,
    pub limit: u16,
}

/// Audit lines (JSON text) with their ids, and the cursor of the next page if there is one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditPage {
    pub lines: Vec<(i64, String)>,
    pub next: Option<i64>,
}

impl AuditPage {
    /// A page of at most `limit` lines from up to `limit + 1` fetched.
    pub fn of(mut lines: Vec<(i64, String)>, limit: u16) -> Self {
        let more = lines.len() > usize::from(limit);
        lines.truncate(usize::from(limit));
        let next = lines.last().filter(|_| more).map(|(id, _)| *id);
        Self { lines, next }
    }
}
