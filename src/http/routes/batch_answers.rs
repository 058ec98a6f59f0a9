//! The batch routes' answers: a batch admitted (`202`, kept for replays of its key), a batch
//! read, a batch cancelled.

use schemars::JsonSchema;
use serde::Serialize;

use super::message_json::Message;
use crate::app::{BatchOutcome, ItemOutcome};
use crate::error::{ErrorCode, FieldError};
use crate::names::BatchItemStatus;

/// A batch admitted: `202`.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "BatchResult")]
pub(in crate::http) struct BatchBody<'a> {
    #[schemars(extend("const" = true))]
    pub(super) success: bool,
    /// What became of the items, in words.
    pub(super) message: String,
    /// `GET`/`DELETE /api/batches/{id}`, and `GET /api/messages?batch=`.
    #[schemars(regex(pattern = "^bat_"))]
    pub(super) batch_id: &'a str,
    /// Each valid item, in the request's order.
    pub(super) items: Vec<ItemBody<'a>>,
    /// Each invalid item (`Batch-Validation: permissive`), in the request's order.
    pub(super) errors: &'a [ItemError],
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "BatchItemResult")]
pub(super) struct ItemBody<'a> {
    /// Its place in `items`, from 0.
    pub(super) index: usize,
    /// Its message in the log on each channel it is kept under.
    pub(super) ids: Ids<'a>,
    pub(super) status: BatchItemStatus,
    /// When it goes, for a `scheduled` item (its `sendAt`, or the end of quiet hours).
    #[serde(
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    pub(super) send_at: Option<time::OffsetDateTime>,
}

#[derive(Serialize, JsonSchema)]
#[schemars(rename = "BatchItemIds")]
pub(super) struct Ids<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^msg_"))]
    pub(super) email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^msg_"))]
    pub(super) sms: Option<&'a str>,
}

/// An item left out of a permissive batch.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "BatchItemError")]
pub(super) struct ItemError {
    pub(super) index: usize,
    pub(super) code: ErrorCode,
    pub(super) error: String,
    /// Each field at fault, its path from the item (`items[3].to`).
    pub(super) details: Vec<FieldError>,
}

/// `GET /api/batches/{id}`.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "OneBatch")]
pub(in crate::http) struct BatchPage<'a> {
    #[schemars(extend("const" = true))]
    pub(super) success: bool,
    pub(super) batch: BatchSummary<'a>,
    /// A page of its messages, newest first.
    pub(super) messages: Vec<Message<'a>>,
    /// Ask again with it as `cursor` for the next page; `null` on the last.
    pub(super) next_cursor: Option<&'a str>,
}

#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "BatchSummary")]
pub(super) struct BatchSummary<'a> {
    #[schemars(regex(pattern = "^bat_"))]
    pub(super) id: &'a str,
    pub(super) caller: &'a str,
    /// How many items it was admitted with (the valid ones).
    pub(super) items: u32,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub(super) created_at: time::OffsetDateTime,
    /// Its messages by their latest status (`scheduled`: not gone yet).
    pub(super) counts: &'a std::collections::BTreeMap<String, u64>,
}

/// `DELETE /api/batches/{id}`.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "BatchCancelled")]
pub(in crate::http) struct CancelledBody<'a> {
    #[schemars(extend("const" = true))]
    pub(super) success: bool,
    #[schemars(regex(pattern = "^bat_"))]
    pub(super) batch_id: &'a str,
    /// Its sends that had not gone, now `cancelled`.
    pub(super) cancelled: u64,
}

pub(super) fn body<'a>(outcome: &'a BatchOutcome, invalid: &'a [ItemError]) -> BatchBody<'a> {
    let count = |status| {
        (outcome.items.iter())
            .filter(|i| i.status == status)
            .count()
    };
    let mut said: Vec<String> = [
        BatchItemStatus::Queued,
        BatchItemStatus::Scheduled,
        BatchItemStatus::Suppressed,
        BatchItemStatus::Declined,
    ]
    .into_iter()
    .map(|status| (count(status), status))
    .filter(|(n, _)| *n > 0)
    .map(|(n, status)| format!("{n} {status}"))
    .collect();
    if !invalid.is_empty() {
        said.push(format!("{} invalid and left out", invalid.len()));
    }
    BatchBody {
        success: true,
        message: format!("Batch accepted: {}.", said.join(", ")),
        batch_id: &outcome.id,
        items: outcome.items.iter().map(item_body).collect(),
        errors: invalid,
    }
}

fn item_body(item: &ItemOutcome) -> ItemBody<'_> {
    ItemBody {
        index: item.index,
        ids: Ids {
            email: item.email.as_deref(),
            sms: item.sms.as_deref(),
        },
        status: item.status,
        send_at: item.send_at,
    }
}
