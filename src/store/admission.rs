//! Admission of a send: the caller's rate, the idempotency key and the recipient caps, counted
//! and claimed in one atomic step, the suppression list read in the same step, and the answer
//! kept for replays.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Chosen, Suppression};
use crate::error::Error;
use crate::names::{Category, Channel};
use crate::support::BoxFuture;

/// Admission and limits.
pub trait Admit {
    /// Counts the request against its limits and claims its idempotency key, atomically.
    fn admit<'a>(&'a self, admission: &'a Admission) -> BoxFuture<'a, Result<Admitted, Error>>;
}

/// One limit a request counts against: at most `max` per `period` for `key`, spread as GCRA
/// spreads them (a burst of `max`, then one every `period / max`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    pub key: String,
    pub interval: Duration,
    pub period: Duration,
    /// 0 for the caller's rate; one group per channel for recipient caps. A group is refused
    /// as a whole when any of its keys is over its limit.
    pub group: u8,
}

impl Limit {
    pub fn new(key: String, max: u32, period: Duration, group: u8) -> Self {
        Self {
            key,
            interval: period / max.max(1),
            period,
            group,
        }
    }
}

/// An `Idempotency-Key` claimed for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// Whose key it is (a keyed hash of the caller), so callers never see each other's.
    pub scope: String,
    pub key: String,
    /// A hash of the route and the canonical body: the same key with another request is refused.
    pub request_hash: String,
    /// How long the first request may run before its outcome is taken as unknown.
    pub lease: Duration,
    /// How long the answer is kept for replays.
    pub ttl: Duration,
    /// How many channel groups the request asked for: refused on all of them, it is forgotten.
    pub channels: u8,
}

/// One send request's admission: the caller's rate first, then the key, then recipient caps;
/// and the suppressions in force for its recipients.
#[derive(Debug, Clone, Default)]
pub struct Admission {
    pub limits: Vec<Limit>,
    pub claim: Option<Claim>,
    pub reach: Vec<Reach>,
}

/// One recipient a request would reach on one channel, for a message of `category`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    pub channel: Channel,
    pub recipient_hash: String,
    pub category: Option<Category>,
}

impl Reach {
    /// Whether `entry` keeps this send from going.
    pub fn stopped_by(&self, entry: &Suppression) -> bool {
        entry.channel == self.channel
            && entry.recipient_hash == self.recipient_hash
            && entry.applies_to(self.category)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub group: u8,
    pub retry_after: Duration,
}

/// What became of a request's idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// No key was given, or the request was refused before the key was looked at.
    None,
    /// This request holds the key: it sends, then records its answer.
    Claimed,
    /// The key's first request has answered: this is that answer.
    Replay(StoredAnswer),
    /// The key's first request is still running.
    InProgress { retry_after: Duration },
    /// The key was used with another request.
    Reused,
    /// The key's first request never recorded an answer within its lease (its instance
    /// stopped): whether it sent is unknown, so it is not sent again.
    Abandoned,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admitted {
    pub refused: Vec<Refusal>,
    pub claim: ClaimOutcome,
    /// The entries in force that stop one of its reaches (read only when it may go on).
    pub suppressed: Vec<Suppression>,
    /// The choices on record for its reaches' categories, and the consent of its SMS ones
    /// (read only when it may go on).
    pub chosen: Chosen,
    /// Whether the reputation guard holds sends of categories a patient may turn off.
    pub held: bool,
}

impl Admitted {
    pub fn refusal(&self, group: u8) -> Option<Duration> {
        self.refused
            .iter()
            .find(|r| r.group == group)
            .map(|r| r.retry_after)
    }
}

/// A first answer, kept for replays: its status and its JSON body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAnswer {
    pub status: u16,
    pub body: String,
}
