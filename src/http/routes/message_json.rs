//! The message log as the messages API answers it: the contract's JSON, decided here from the
//! store's views, so the store may change how it keeps a message without changing an answer.

use serde::Serialize;

use crate::names::{Channel, MessageStatus, Provider};
use crate::store::{EventView, MessageView, RecipientView, Stats};
use crate::templates::TemplateName;

/// A message: `GET /api/messages/{id}` (with its events) and each row of a page (without).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Message<'a> {
    id: &'a str,
    channel: Channel,
    template: Option<TemplateName>,
    provider: Provider,
    provider_message_id: Option<&'a str>,
    status: MessageStatus,
    error_code: Option<&'a str>,
    caller: &'a str,
    request_id: &'a str,
    idempotency_key: Option<&'a str>,
    created_at: &'a str,
    updated_at: &'a str,
    recipients: Vec<Recipient<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    events: Option<Vec<Event<'a>>>,
}

/// A recipient, masked for a person and hashed for look-ups; never the address itself.
#[derive(Serialize)]
pub(super) struct Recipient<'a> {
    masked: &'a str,
    hash: &'a str,
    status: MessageStatus,
}

/// A delivery event of the message.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Event<'a> {
    #[serde(rename = "type")]
    kind: MessageStatus,
    time: &'a str,
    error_code: Option<&'a str>,
    retryable: Option<bool>,
}

/// Counts by channel then status, and by template.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Counts<'a> {
    total: u64,
    by_channel: &'a std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>>,
    by_template: &'a std::collections::BTreeMap<String, u64>,
}

impl<'a> Message<'a> {
    /// A page's row: the message without its events.
    pub(super) fn row(view: &'a MessageView) -> Self {
        Self {
            events: None,
            ..Self::from(view)
        }
    }
}

impl<'a> From<&'a MessageView> for Message<'a> {
    fn from(view: &'a MessageView) -> Self {
        Self {
            id: &view.id,
            channel: view.channel,
            template: view.template,
            provider: view.provider,
            provider_message_id: view.provider_message_id.as_deref(),
            status: view.status,
            error_code: view.error_code.as_deref(),
            caller: &view.caller,
            request_id: &view.request_id,
            idempotency_key: view.idempotency_key.as_deref(),
            created_at: &view.created_at,
            updated_at: &view.updated_at,
            recipients: view.recipients.iter().map(Recipient::from).collect(),
            events: view
                .events
                .as_ref()
                .map(|events| events.iter().map(Event::from).collect()),
        }
    }
}

impl<'a> From<&'a RecipientView> for Recipient<'a> {
    fn from(view: &'a RecipientView) -> Self {
        Self {
            masked: &view.masked,
            hash: &view.hash,
            status: view.status,
        }
    }
}

impl<'a> From<&'a EventView> for Event<'a> {
    fn from(view: &'a EventView) -> Self {
        Self {
            kind: view.kind,
            time: &view.time,
            error_code: view.error_code.as_deref(),
            retryable: view.retryable,
        }
    }
}

impl<'a> From<&'a Stats> for Counts<'a> {
    fn from(stats: &'a Stats) -> Self {
        Self {
            total: stats.total,
            by_channel: &stats.by_channel,
            by_template: &stats.by_template,
        }
    }
}
