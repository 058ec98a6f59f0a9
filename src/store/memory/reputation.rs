//! The memory store's reputation measure, from the messages and events it holds, and the
//! guard as last measured.

use time::OffsetDateTime;

use super::{MemoryStore, audit, done};
use crate::error::Error;
use crate::names::{Channel, GuardState, MessageStatus};
use crate::store::{EmailCounts, Guard, Reputation};
use crate::support::BoxFuture;

/// The statuses of a recipient an email reached the provider for.
pub(super) const SENT: &[MessageStatus] = &[
    MessageStatus::Sent,
    MessageStatus::Delayed,
    MessageStatus::Delivered,
    MessageStatus::Bounced,
    MessageStatus::Read,
    MessageStatus::Complained,
    MessageStatus::OptedOut,
];

impl Reputation for MemoryStore {
    fn email_counts<'a>(
        &'a self,
        since: &'a [OffsetDateTime],
    ) -> BoxFuture<'a, Result<Vec<EmailCounts>, Error>> {
        let state = self.state();
        let counts = since
            .iter()
            .map(|since| {
                let emails = state
                    .messages
                    .iter()
                    .filter(|m| m.view.channel == Channel::Email && m.created_at >= *since)
                    .flat_map(|m| &m.view.recipients)
                    .filter(|r| SENT.contains(&r.status))
                    .count() as u64;
                let mut bounced = Vec::new();
                let mut complained = Vec::new();
                for row in state.events.iter().filter(|e| e.received_at >= *since) {
                    let Ok(payload) = serde_json::from_str::<serde_json::Value>(&row.payload)
                    else {
                        continue;
                    };
                    let data = &payload["data"];
                    if data["channel"] != "email" {
                        continue;
                    }
                    let who = (row.message_id.clone(), data["recipient_hash"].to_string());
                    match data["type"].as_str() {
                        Some("bounced") if data["retryable"] == false => bounced.push(who),
                        Some("complained") => complained.push(who),
                        _ => {}
                    }
                }
                for list in [&mut bounced, &mut complained] {
                    list.sort();
                    list.dedup();
                }
                EmailCounts {
                    emails,
                    bounces: bounced.len() as u64,
                    complaints: complained.len() as u64,
                }
            })
            .collect();
        done(counts)
    }

    fn keep_guard<'a>(
        &'a self,
        guard: &'a Guard,
        line: &'a str,
    ) -> BoxFuture<'a, Result<Option<GuardState>, Error>> {
        let now = self.now();
        let mut state = self.state();
        let before = state.guard.as_ref().map(|g| g.state);
        if changed(before, guard.state) {
            audit::append(&mut state, now, line);
        }
        state.guard = Some(guard.clone());
        done(before)
    }

    fn guard(&self) -> BoxFuture<'_, Result<Option<Guard>, Error>> {
        done(self.state().guard.clone())
    }
}

/// Whether a measure changed the guard's state (a first measure that finds all well is no
/// change).
fn changed(before: Option<GuardState>, now: GuardState) -> bool {
    match before {
        None => now != GuardState::Ok,
        Some(before) => before != now,
    }
}
