//! The suppression list: recipients not to be sent to on a channel (for every category or for
//! one), keyed by the recipient's keyed hash, each with its reason and source; lifted entries
//! stay on record. Admission reads it in its own round trip ([`Reach`] in `admission.rs`).

use serde::Deserialize;
use time::OffsetDateTime;

use super::Cursor;
use crate::error::Error;
use crate::names::{Category, Channel, SuppressionReason, SuppressionSource};
use crate::support::BoxFuture;

/// The suppression list.
pub trait Suppressions {
    /// Adds `new` with its audit line, unless the recipient is already suppressed on that
    /// channel for that scope: then the entry in force is answered and nothing is written.
    fn suppress<'a>(
        &'a self,
        new: &'a Suppression,
        audit: &'a str,
    ) -> BoxFuture<'a, Result<Suppressed, Error>>;

    /// An entry by id, in force or lifted.
    fn suppression<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Suppression>, Error>>;

    /// Lifts the entry `id` with its audit line, if it is in force: the entry as lifted, or
    /// `None` when there is no such entry in force (nothing is written then).
    fn lift<'a>(
        &'a self,
        id: &'a str,
        audit: &'a str,
    ) -> BoxFuture<'a, Result<Option<Suppression>, Error>>;

    /// A page of entries, newest first.
    fn suppressions<'a>(
        &'a self,
        filter: &'a SuppressionFilter,
    ) -> BoxFuture<'a, Result<SuppressionPage, Error>>;
}

/// One entry of the list. Never the address or number itself: its keyed hash, and a masked
/// form for a person.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Suppression {
    pub id: String,
    pub channel: Channel,
    pub recipient_hash: String,
    pub masked: String,
    /// The category it applies to; `None`: every category, and sends without one.
    pub scope: Option<Category>,
    pub reason: SuppressionReason,
    pub source: SuppressionSource,
    /// Read from a patient's own words rather than a provider's keyword: for staff to review.
    pub inferred: bool,
    /// The message whose outcome (or reply) caused it.
    pub message_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub lifted_at: Option<OffsetDateTime>,
}

impl Suppression {
    /// Whether it keeps a send of `category` to its recipient on its channel from going.
    pub fn applies_to(&self, category: Option<Category>) -> bool {
        self.lifted_at.is_none() && (self.scope.is_none() || self.scope == category)
    }
}

/// What [`Suppressions::suppress`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppressed {
    /// The entry in force: the new one, or the one that was already there.
    pub entry: Suppression,
    pub added: bool,
}

/// The filters of `GET /api/suppressions`.
#[derive(Debug, Clone, Default)]
pub struct SuppressionFilter {
    pub channel: Option<Channel>,
    pub reason: Option<SuppressionReason>,
    pub recipient_hash: Option<String>,
    pub since: Option<OffsetDateTime>,
    /// Only the entries in force (`Some(true)`) or only the lifted ones (`Some(false)`).
    pub active: Option<bool>,
    /// Only the entries read from a patient's plain words (`Some(true)`), for staff to review,
    /// or only the others.
    pub inferred: Option<bool>,
    pub limit: u16,
    pub cursor: Option<Cursor>,
}

impl SuppressionFilter {
    /// Whether `entry` passes every filter but the cursor and the limit.
    pub fn matches(&self, entry: &Suppression) -> bool {
        self.channel.is_none_or(|c| entry.channel == c)
            && self.reason.is_none_or(|r| entry.reason == r)
            && self
                .recipient_hash
                .as_ref()
                .is_none_or(|h| &entry.recipient_hash == h)
            && self.since.is_none_or(|t| entry.created_at >= t)
            && self.active.is_none_or(|a| entry.lifted_at.is_none() == a)
            && self.inferred.is_none_or(|i| entry.inferred == i)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuppressionPage {
    pub entries: Vec<Suppression>,
    pub next_cursor: Option<String>,
}

impl SuppressionPage {
    /// A page of at most `limit` entries from up to `limit + 1` fetched, newest first.
    pub fn of(mut entries: Vec<Suppression>, limit: u16) -> Self {
        let more = entries.len() > usize::from(limit);
        entries.truncate(usize::from(limit));
        let next_cursor = entries.last().filter(|_| more).map(|last| {
            Cursor {
                created_at: last.created_at,
                id: last.id.clone(),
            }
            .encode()
        });
        Self {
            entries,
            next_cursor,
        }
    }
}
