//! The message log: the messages of each send (never a body, a subject or a full address or
//! number), written with their audit lines and replay answer, read back by id, filter or count.

use std::collections::BTreeMap;

use base64::Engine;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{Claim, Forwarding, StoredAnswer};
use crate::error::{Error, ErrorCode};
use crate::names::{Category, Channel, MessageStatus, Provider};
use crate::support::BoxFuture;
use crate::templates::TemplateName;

/// The message log.
pub trait MessageLog {
    /// Writes the messages of one or more sends, their audit lines and the answers kept for
    /// the replays of their keys. A message already in the log under its id (a scheduled one,
    /// now sent) is replaced by its new record.
    fn record<'a>(
        &'a self,
        messages: &'a [MessageRecord],
        audit: &'a [String],
        answers: &'a [(&'a Claim, &'a StoredAnswer)],
    ) -> BoxFuture<'a, Result<(), Error>>;

    /// A message by our id or the provider's message id.
    fn message<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<MessageView>, Error>>;

    /// A page of messages, newest first.
    fn messages<'a>(
        &'a self,
        filter: &'a MessageFilter,
    ) -> BoxFuture<'a, Result<MessagePage, Error>>;

    /// Counts by channel and status, by template, and by day (in the IANA time zone `zone`)
    /// and channel, over a time range.
    fn stats<'a>(
        &'a self,
        since: Option<OffsetDateTime>,
        until: Option<OffsetDateTime>,
        zone: &'a str,
    ) -> BoxFuture<'a, Result<Stats, Error>>;
}

/// One message of a send, as the log keeps it: never a body, a subject, template data or a
/// full address or number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageRecord {
    pub id: String,
    pub channel: Channel,
    pub template: Option<TemplateName>,
    pub provider: Provider,
    pub provider_message_id: Option<String>,
    pub status: MessageStatus,
    pub error_code: Option<ErrorCode>,
    pub category: Option<Category>,
    /// Why it was not sent: the suppression's reason, or the rule that declined it.
    pub reason: Option<&'static str>,
    /// For a billing SMS: whether the patient's consent to texts was on file.
    pub consent_on_file: Option<bool>,
    /// The message of the notification's earlier channel that could not reach the patient,
    /// when this one was sent instead (fallback).
    pub fallback_of: Option<String>,
    /// The batch it was sent in (`POST /api/batch`).
    pub batch_id: Option<String>,
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
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventView {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: MessageStatus,
    pub time: String,
    pub error_code: Option<String>,
    pub retryable: Option<bool>,
    /// Its forwarding to the practice's webhook (`NOTIFY_EVENTS_URL`): `None` when it is not
    /// forwarded.
    #[serde(default)]
    pub forward: Option<Forwarding>,
    /// The forwarding attempts made so far.
    #[serde(default)]
    pub attempts: u16,
}

/// A message as `GET /api/messages/{id}` answers it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    pub id: String,
    pub channel: Channel,
    pub template: Option<TemplateName>,
    pub provider: Provider,
    pub provider_message_id: Option<String>,
    pub status: MessageStatus,
    pub error_code: Option<String>,
    #[serde(default)]
    pub category: Option<Category>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub consent_on_file: Option<bool>,
    /// The message this one was sent instead of (fallback).
    #[serde(default)]
    pub fallback_of: Option<String>,
    /// The message sent instead of this one, when it could not reach the patient.
    #[serde(default)]
    pub fallback: Option<String>,
    /// The batch it was sent in.
    #[serde(default)]
    pub batch_id: Option<String>,
    pub caller: String,
    pub request_id: String,
    pub idempotency_key: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub recipients: Vec<RecipientView>,
    /// Only on a single message; lists leave them out.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub events: Option<Vec<EventView>>,
    /// Only on a single message: the audit lines naming it (its send attempts, its
    /// scheduling), oldest first.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub audit: Option<Vec<serde_json::Value>>,
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
    pub template: Option<TemplateName>,
    /// The keyed hash of a full address or number: the log never holds the address itself.
    pub recipient_hash: Option<String>,
    /// The messages of one batch.
    pub batch: Option<String>,
    pub category: Option<Category>,
    /// Only messages that failed or bounced at some point, whatever their latest status.
    pub ever_failed: bool,
    /// The error code the message was recorded with (ours, as the send's answer gave it).
    pub error_code: Option<ErrorCode>,
    pub idempotency_key: Option<String>,
    pub provider_message_id: Option<String>,
    pub since: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
    pub limit: u16,
    pub cursor: Option<Cursor>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessagePage {
    pub messages: Vec<MessageView>,
    pub next_cursor: Option<String>,
}

/// Counts by channel then status, by template, and by day and channel.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub total: u64,
    pub by_channel: BTreeMap<String, BTreeMap<String, u64>>,
    pub by_template: BTreeMap<String, u64>,
    /// Oldest day first, then email before sms.
    #[serde(default)]
    pub days: Vec<DayCount>,
}

/// One day's messages on one channel, by what became of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DayCount {
    /// `YYYY-MM-DD` in the practice's time zone.
    pub day: String,
    pub channel: Channel,
    /// Accepted by the provider (or logged in demo mode).
    pub sent: u64,
    /// Delivered, read or complained of: it reached the patient.
    pub delivered: u64,
    /// Failed or bounced, at the send or after it.
    pub failed: u64,
    pub bounced: u64,
    pub complained: u64,
}

impl DayCount {
    pub fn new(day: String, channel: Channel) -> Self {
        Self {
            day,
            channel,
            sent: 0,
            delivered: 0,
            failed: 0,
            bounced: 0,
            complained: 0,
        }
    }

    /// Counts one message with `status` into its day, `accepted` when the provider took it.
    pub fn count(&mut self, status: MessageStatus, accepted: bool) {
        self.sent += u64::from(accepted);
        match status {
            MessageStatus::Delivered | MessageStatus::Read => self.delivered += 1,
            MessageStatus::Complained => {
                self.delivered += 1;
                self.complained += 1;
            }
            MessageStatus::Failed => self.failed += 1,
            MessageStatus::Bounced => {
                self.failed += 1;
                self.bounced += 1;
            }
            _ => {}
        }
    }
}

/// A page of at most `limit` messages from up to `limit + 1` fetched, newest first: the one
/// more tells whether there is a next page, which starts after the last one kept.
pub(super) fn page(mut views: Vec<MessageView>, limit: u16) -> MessagePage {
    let limit = usize::from(limit);
    let more = views.len() > limit;
    views.truncate(limit);
    let next_cursor = views.last().filter(|_| more).and_then(|last| {
        let created_at = OffsetDateTime::parse(
            &last.created_at,
            &time::format_description::well_known::Rfc3339,
        )
        .ok()?;
        Some(
            Cursor {
                created_at,
                id: last.id.clone(),
            }
            .encode(),
        )
    });
    MessagePage {
        messages: views,
        next_cursor,
    }
}
