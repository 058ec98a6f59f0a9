//! The `POST /api/batch` body as sent: its items, each read by the route of its `type`.

use schemars::JsonSchema;
use serde::Deserialize;

/// The most items one batch may hold.
pub const MAX_BATCH_ITEMS: usize = 1_000;

/// The JSON body of `POST /api/batch`, as sent.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, expecting = "a JSON object with items")]
pub struct BatchRequest {
    /// 1 to 1,000 sends. Each is what `POST /api/send-notification` takes (template, data, to,
    /// sendAt, timezone, urgent, channels, strategy, fallbackAfter) or, with `"type": "email"`
    /// or `"type": "sms"`, what `send-email` or `send-sms` takes (no attachments in a batch).
    #[schemars(required, length(min = 1, max = MAX_BATCH_ITEMS))]
    pub items: Option<Vec<serde_json::Map<String, serde_json::Value>>>,
}
