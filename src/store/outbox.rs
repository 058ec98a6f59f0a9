//! Delivery events and their outbox: each event kept once and in order, leased for forwarding
//! to the practice's webhook, settled, and paged for the pull API.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::Error;
use crate::support::BoxFuture;

/// Delivery events and the outbox.
pub trait Outbox {
    /// Keeps a delivery event in order with its audit line (an orphan when its message is
    /// unknown), moves the message's and the recipient's status forward, never back, and, when
    /// it is to be forwarded, queues it. The same report (the same event id) is kept once, on
    /// any number of instances. An event of a batch's message is kept (and forwarded) with
    /// `batch_id` in its data; the batch is answered with what became of it.
    fn apply_event<'a>(
        &'a self,
        new: NewEvent<'a>,
    ) -> BoxFuture<'a, Result<(Applied, Option<String>), Error>>;

    /// Leases up to `limit` events due for a forwarding attempt, for `lease`: the first waiting
    /// event of each message only, and none that another caller holds.
    fn due_events(
        &self,
        limit: u16,
        lease: Duration,
    ) -> BoxFuture<'_, Result<Vec<Outgoing>, Error>>;

    /// Records how attempts ended.
    fn settle<'a>(&'a self, settled: &'a [Settled]) -> BoxFuture<'a, Result<(), Error>>;

    /// Keeps a practice event (not about one message: a suppression, a preference, the
    /// reputation guard) in the same order and outbox as delivery events; the same id is kept
    /// once. The dispatcher forwards it.
    fn keep_event<'a>(
        &'a self,
        event: &'a PracticeEvent<'a>,
    ) -> BoxFuture<'a, Result<Applied, Error>>;

    /// Up to `limit` events in order after the event `after` (from the first without it);
    /// `None` when there is no event `after`.
    fn events<'a>(
        &'a self,
        after: Option<&'a str>,
        limit: u16,
    ) -> BoxFuture<'a, Result<Option<EventPage>, Error>>;
}

/// How long the instance that received an event holds it for its first attempt before a
/// dispatcher may take it (the attempt itself is bounded well below this).
pub const FIRST_ATTEMPT_LEASE: Duration = Duration::from_secs(60);

/// A delivery event as the store is given it.
#[derive(Debug, Clone, Copy)]
pub struct NewEvent<'a> {
    pub event: &'a crate::domain::DeliveryEvent,
    /// The JSON it is forwarded as and served as by the pull API.
    pub payload: &'a str,
    pub audit: &'a str,
    /// Whether it is to be forwarded (`NOTIFY_EVENTS_URL` is set).
    pub forward: bool,
}

/// A practice event as the store is given it.
#[derive(Debug, Clone, Copy)]
pub struct PracticeEvent<'a> {
    pub id: &'a str,
    /// `suppression.added`, `suppression.lifted`, `preference.updated`, `reputation.changed`.
    pub kind: &'a str,
    /// The JSON it is forwarded and served as.
    pub payload: &'a str,
    /// Whether it is to be forwarded (`NOTIFY_EVENTS_URL` is set).
    pub forward: bool,
}

/// What became of a delivery event given to the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The same report was kept already (a provider's retry, or another instance had it).
    Copy,
    /// Kept; if it is to be forwarded, the dispatcher will (an earlier event of its message is
    /// still waiting, so it must not overtake it).
    Kept,
    /// Kept and leased to the caller for its first attempt, right away.
    Claimed,
}

/// An event leased for a forwarding attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub id: String,
    pub payload: String,
    /// Attempts made before this one.
    pub attempts: u16,
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Settled {
    pub id: String,
    /// The attempts made before it, as leased: an attempt counts once.
    pub attempts: u16,
    pub forward: Forwarding,
    /// When it is tried again, while pending.
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_at: Option<OffsetDateTime>,
    /// Why it was not accepted (a status or a connection error), never the payload.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Forwarding {
    Pending,
    Delivered,
    Failed,
}

/// Events in order after a given one.
#[derive(Debug, Clone, PartialEq)]
pub struct EventPage {
    pub events: Vec<serde_json::Value>,
    /// Whether more follow the last one.
    pub more: bool,
}

impl EventPage {
    /// A page of at most `limit` events from up to `limit + 1` fetched.
    pub fn of(mut events: Vec<serde_json::Value>, limit: u16) -> Self {
        let more = events.len() > usize::from(limit);
        events.truncate(usize::from(limit));
        Self { events, more }
    }
}

/// The outbox as health reports it: counts and ages, never an event's contents.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxHealth {
    pub waiting: u64,
    pub oldest_waiting_seconds: Option<u64>,
    pub failed: u64,
    pub last_dispatch_at: Option<String>,
}
