//! The memory store: the default without `DATABASE_URL` (`cargo run`, demo mode, tests). It
//! behaves as the Postgres store does within one process, and holds at most `MAX_MESSAGES`
//! messages, `MAX_EVENTS` delivery events and `MAX_AUDIT_LINES` audit lines (the oldest go
//! first) and `MAX_TRACKED_KEYS` limit keys, so an instance under load stays small.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use time::OffsetDateTime;

mod admission;
mod audit;
mod batch;
mod log;
mod outbox;
mod pace;
mod preferences;
mod reputation;
mod scheduled;
mod suppression;
mod upkeep;

use outbox::EventRow;
use scheduled::ScheduledRow;

use super::{MessageView, StoredAnswer};
use crate::error::Error;
use crate::support::BoxFuture;

const MAX_MESSAGES: usize = 1_000;
const MAX_TRACKED_KEYS: usize = 10_000;
const MAX_AUDIT_LINES: usize = 5_000;
const MAX_EVENTS: usize = 5_000;

#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
    /// How far tests have moved this store's clock forward.
    skew: Mutex<Duration>,
}

#[derive(Debug, Default)]
struct State {
    limits: HashMap<String, OffsetDateTime>,
    claims: HashMap<(String, String), ClaimRow>,
    /// Oldest first.
    messages: VecDeque<Stored>,
    /// Delivery events in the order they were kept: the outbox and the pull API's source.
    events: VecDeque<EventRow>,
    last_dispatch: Option<OffsetDateTime>,
    /// The newest `MAX_AUDIT_LINES` audit lines: id, time, JSON.
    audit: VecDeque<(i64, OffsetDateTime, String)>,
    next_audit_id: i64,
    /// Scheduled sends, in the order they were made.
    scheduled: Vec<ScheduledRow>,
    batches: Vec<super::BatchRecord>,
    /// When each pace's next slot starts.
    pace: HashMap<String, OffsetDateTime>,
    /// The suppression list, oldest first; lifted entries stay.
    suppressions: Vec<super::Suppression>,
    /// Patients' choices (one per recipient, channel and category) and SMS consent.
    choices: Vec<super::Choice>,
    consent: Vec<super::Consent>,
    /// The reputation guard as last measured.
    guard: Option<super::Guard>,
}

#[derive(Debug)]
struct ClaimRow {
    request_hash: String,
    answer: Option<StoredAnswer>,
    lease_until: OffsetDateTime,
    expires_at: OffsetDateTime,
}

#[derive(Debug)]
struct Stored {
    view: MessageView,
    created_at: OffsetDateTime,
    rank: u8,
    recipient_ranks: Vec<u8>,
}

impl MemoryStore {
    /// Moves this store's clock forward, for tests of limits and expiry.
    pub fn advance(&self, by: Duration) {
        *self.skew.lock().unwrap_or_else(|p| p.into_inner()) += by;
    }

    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + *self.skew.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the maps consistent (each step is one insert
        // or update), so the data is still good to use.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The answer of a memory store's call: its work is done under the lock before it returns, so
/// no lock is ever held across an await.
fn done<'a, T: Send + 'a>(value: T) -> BoxFuture<'a, Result<T, Error>> {
    Box::pin(std::future::ready(Ok(value)))
}
