//! The memory store's upkeep: the retention sweep (expired keys, idle limits, old messages,
//! orphan events and audit lines, and finished scheduled sends, a bounded number a call) and
//! health, which it always answers.

use std::collections::HashSet;
use std::time::Duration;

use super::scheduled::SendState;
use super::{MemoryStore, done};
use crate::error::Error;
use crate::store::{StoreHealth, Sweep, Swept, Upkeep};
use crate::support::BoxFuture;

impl Upkeep for MemoryStore {
    fn sweep<'a>(
        &'a self,
        sweep: &'a Sweep,
        _summary: &'a str,
    ) -> BoxFuture<'a, Result<Swept, Error>> {
        done(self.sweep_now(sweep))
    }

    fn check(&self) -> BoxFuture<'_, StoreHealth> {
        let health = StoreHealth {
            reachable: true,
            schema_version: None,
            problem: None,
            outbox: Some(self.outbox()),
            scheduled: Some(self.scheduled()),
        };
        Box::pin(std::future::ready(health))
    }
}

impl MemoryStore {
    fn sweep_now(&self, sweep: &Sweep) -> Swept {
        let now = self.now();
        let max = sweep.max_rows as usize;
        let mut state = self.state();
        let state = &mut *state;
        let mut swept = Swept::default();
        let expired: Vec<_> = state
            .claims
            .iter()
            .filter(|(_, row)| row.expires_at < now)
            .map(|(id, _)| id.clone())
            .take(max)
            .collect();
        for id in &expired {
            state.claims.remove(id);
        }
        swept.idempotency_keys = expired.len() as u64;
        let idle: Vec<_> = state
            .limits
            .iter()
            .filter(|(_, tat)| **tat < now - Duration::from_secs(86_400))
            .map(|(key, _)| key.clone())
            .take(max)
            .collect();
        for key in &idle {
            state.limits.remove(key);
        }
        swept.limits = idle.len() as u64;
        let mut gone = HashSet::new();
        while gone.len() < max
            && let Some(oldest) = state.messages.front()
            && oldest.created_at < sweep.messages_before
        {
            if let Some(message) = state.messages.pop_front() {
                gone.insert(message.view.id);
            }
        }
        swept.messages = gone.len() as u64;
        let mut orphans = 0;
        state.events.retain(|row| match &row.message_id {
            Some(id) => !gone.contains(id),
            None if orphans < max && row.received_at < sweep.messages_before => {
                orphans += 1;
                false
            }
            None => true,
        });
        swept.orphan_events = orphans as u64;
        // Oldest first: the expired lines are at the front.
        while (swept.audit_lines as usize) < max
            && state
                .audit
                .front()
                .is_some_and(|(_, time, _)| *time < sweep.audit_before)
        {
            state.audit.pop_front();
            swept.audit_lines += 1;
        }
        state.scheduled.retain(|row| {
            matches!(row.state, SendState::Scheduled | SendState::Sending)
                || row.updated_at >= sweep.messages_before
        });
        state.last_dispatch = Some(now);
        swept
    }
}
