//! The memory store's admission of a send: the caller's rate, the idempotency key, the
//! recipient caps and the suppressions in force, with the same outcome as Postgres's
//! `notify_admit`.

use time::OffsetDateTime;

use super::preferences;
use super::{ClaimRow, MAX_TRACKED_KEYS, MemoryStore, State, done};
use crate::error::Error;
use crate::names::GuardState;
use crate::store::gcra;
use crate::store::{Admission, Admit, Admitted, Chosen, ClaimOutcome, Refusal};
use crate::support::BoxFuture;

impl Admit for MemoryStore {
    fn admit<'a>(&'a self, admission: &'a Admission) -> BoxFuture<'a, Result<Admitted, Error>> {
        done(self.admit_now(admission))
    }
}

impl MemoryStore {
    fn admit_now(&self, admission: &Admission) -> Admitted {
        let now = self.now();
        let mut state = self.state();
        if state.limits.len() > MAX_TRACKED_KEYS {
            state.limits.retain(|_, tat| *tat > now);
        }
        let refused: Vec<Refusal> = admission
            .limits
            .iter()
            .filter_map(|limit| {
                let tat = state.limits.get(&limit.key).copied();
                gcra::check(tat, now, limit)
                    .err()
                    .map(|retry_after| Refusal {
                        group: limit.group,
                        retry_after,
                    })
            })
            .collect();
        let is_refused = |group: u8| refused.iter().any(|r| r.group == group);
        if is_refused(0) {
            return Admitted {
                refused,
                claim: ClaimOutcome::None,
                suppressed: Vec::new(),
                chosen: Chosen::default(),
                held: false,
            };
        }
        count(&mut state, admission, now, |group| group == 0);
        let mut claim = ClaimOutcome::None;
        if let Some(wanted) = &admission.claim {
            let id = (wanted.scope.clone(), wanted.key.clone());
            if state
                .claims
                .get(&id)
                .is_some_and(|row| row.expires_at <= now)
            {
                state.claims.remove(&id);
            }
            match state.claims.get(&id) {
                None => {
                    state.claims.insert(
                        id,
                        ClaimRow {
                            request_hash: wanted.request_hash.clone(),
                            answer: None,
                            lease_until: now + wanted.lease,
                            expires_at: now + wanted.ttl,
                        },
                    );
                    claim = ClaimOutcome::Claimed;
                }
                Some(row) => {
                    let outcome = if row.request_hash != wanted.request_hash {
                        ClaimOutcome::Reused
                    } else if let Some(answer) = &row.answer {
                        ClaimOutcome::Replay(answer.clone())
                    } else if row.lease_until > now {
                        ClaimOutcome::InProgress {
                            retry_after: gcra::ceil_millis(row.lease_until - now),
                        }
                    } else {
                        ClaimOutcome::Abandoned
                    };
                    return Admitted {
                        refused: Vec::new(),
                        claim: outcome,
                        suppressed: Vec::new(),
                        chosen: Chosen::default(),
                        held: false,
                    };
                }
            }
        }
        count(&mut state, admission, now, |group| {
            group != 0 && !is_refused(group)
        });
        if let (ClaimOutcome::Claimed, Some(wanted)) = (&claim, &admission.claim) {
            let groups: std::collections::BTreeSet<u8> = refused.iter().map(|r| r.group).collect();
            if groups.len() >= usize::from(wanted.channels) {
                state
                    .claims
                    .remove(&(wanted.scope.clone(), wanted.key.clone()));
                claim = ClaimOutcome::None;
            }
        }
        let suppressed = state
            .suppressions
            .iter()
            .filter(|entry| admission.reach.iter().any(|r| r.stopped_by(entry)))
            .cloned()
            .collect();
        Admitted {
            refused,
            claim,
            suppressed,
            chosen: preferences::chosen_for(&state, &admission.reach),
            held: state
                .guard
                .as_ref()
                .is_some_and(|g| g.state == GuardState::Held),
        }
    }
}

/// Counts the request against the limits of the groups `counted` picks.
fn count(
    state: &mut State,
    admission: &Admission,
    now: OffsetDateTime,
    counted: impl Fn(u8) -> bool,
) {
    for limit in admission.limits.iter().filter(|l| counted(l.group)) {
        let tat = state.limits.get(&limit.key).copied();
        state
            .limits
            .insert(limit.key.clone(), gcra::counted(tat, now, limit));
    }
}
