//! The memory store's audit trail: the newest `MAX_AUDIT_LINES` lines, in order.

use time::OffsetDateTime;

use super::{MAX_AUDIT_LINES, MemoryStore, State};
use crate::error::Error;
use crate::store::{AuditPage, AuditQuery, AuditTrail};
use crate::support::BoxFuture;

impl AuditTrail for MemoryStore {
    fn append_audit<'a>(&'a self, line: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let now = self.now();
            append(&mut self.state(), now, line);
            Ok(())
        })
    }

    fn audit<'a>(&'a self, query: &'a AuditQuery) -> BoxFuture<'a, Result<AuditPage, Error>> {
        Box::pin(async move {
            let state = self.state();
            let lines = state
                .audit
                .iter()
                .filter(|(id, time, _)| {
                    query.after.is_none_or(|after| *id > after)
                        && query.since.is_none_or(|t| *time >= t)
                        && query.until.is_none_or(|t| *time < t)
                })
                .take(usize::from(query.limit) + 1)
                .map(|(id, _, line)| (*id, line.clone()))
                .collect();
            Ok(AuditPage::of(lines, query.limit))
        })
    }
}

pub(super) fn append(state: &mut State, now: OffsetDateTime, line: &str) {
    state.next_audit_id += 1;
    let id = state.next_audit_id;
    state.audit.push_back((id, now, line.to_owned()));
    if state.audit.len() > MAX_AUDIT_LINES {
        state.audit.pop_front();
    }
}
