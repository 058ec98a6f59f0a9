//! Practice events: what the practice app is told besides delivery events (a suppression added
//! or lifted, a patient's choices changed, the reputation guard's new state), kept in the same
//! outbox and order, served by `GET /api/events` and forwarded by the dispatcher.

use serde::Serialize;

use super::App;
use crate::error::Error;
use crate::names::{Category, Channel, SuppressionReason, SuppressionSource};
use crate::store::{PracticeEvent, Suppression};
use crate::webhooks::{event_id, practice_payload};

impl App {
    /// Keeps the event `kind` with `fields` under `id` (the same id is kept once).
    pub(super) async fn tell_practice(
        &self,
        kind: &str,
        id: &str,
        fields: &impl Serialize,
    ) -> Result<(), Error> {
        let payload = practice_payload(kind, id, fields);
        let event = PracticeEvent {
            id,
            kind,
            payload: &payload,
            forward: self.events.is_some(),
        };
        self.store().keep_event(&event).await.map(drop)
    }

    /// `suppression.added` or `suppression.lifted` for `entry`: its id follows from the entry's,
    /// so a provider's retry of the report that added it tells the practice once.
    pub(super) async fn tell_suppression(
        &self,
        kind: &'static str,
        entry: &Suppression,
    ) -> Result<(), Error> {
        let id = event_id(&["notify", kind, &entry.id]);
        let fields = SuppressionFields {
            suppression_id: &entry.id,
            channel: entry.channel,
            recipient: &entry.masked,
            recipient_hash: &entry.recipient_hash,
            scope: entry.scope,
            reason: entry.reason,
            source: entry.source,
            inferred: entry.inferred,
            message_id: entry.message_id.as_deref(),
            created_at: crate::support::timestamp(entry.created_at),
            lifted_at: entry.lifted_at.map(crate::support::timestamp),
        };
        self.tell_practice(kind, &id, &fields).await
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SuppressionFields<'a> {
    suppression_id: &'a str,
    channel: Channel,
    /// Masked, never the address or number.
    recipient: &'a str,
    recipient_hash: &'a str,
    scope: Option<Category>,
    reason: SuppressionReason,
    source: SuppressionSource,
    inferred: bool,
    message_id: Option<&'a str>,
    created_at: String,
    lifted_at: Option<String>,
}
