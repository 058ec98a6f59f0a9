//! `DeliveryEvent`: what happened to a message after it was sent, whichever provider said so.

use serde::Serialize;

use crate::names::{Channel, EventKind, Provider};

/// One thing that happened to one message for one recipient, whichever provider said so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[schemars(rename = "DeliveryEventData")]
pub struct DeliveryEvent {
    /// Stable for the same provider report, so a receiver can drop duplicates.
    pub id: String,
    #[serde(rename = "type")]
    pub kind: EventKind,
    pub channel: Channel,
    pub provider: Provider,
    pub provider_message_id: String,
    /// The audit trail's keyed hash of the recipient, so events join the send's audit event.
    pub recipient_hash: Option<String>,
    /// When the provider says it happened (RFC 3339), else when it was received.
    pub time: String,
    pub error_code: Option<String>,
    /// For failures: whether sending again could succeed. `null` for non-failures.
    pub retryable: Option<bool>,
    /// The recipient, masked, for the suppression list; not forwarded (the hash joins).
    #[serde(skip)]
    pub recipient_masked: Option<String>,
    /// The batch its message was sent in (`POST /api/batch`), as the store found it when it
    /// kept the event; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub batch_id: Option<String>,
}
