//! The memory store's suppression list: every entry kept, oldest first, with the same rules as
//! Postgres's (one entry in force per recipient, channel and scope).

use super::{MemoryStore, audit, done};
use crate::error::Error;
use crate::store::{Suppressed, Suppression, SuppressionFilter, SuppressionPage, Suppressions};
use crate::support::BoxFuture;

impl Suppressions for MemoryStore {
    fn suppress<'a>(
        &'a self,
        new: &'a Suppression,
        line: &'a str,
    ) -> BoxFuture<'a, Result<Suppressed, Error>> {
        let now = self.now();
        let mut state = self.state();
        let in_force = state.suppressions.iter().find(|e| {
            e.lifted_at.is_none()
                && e.channel == new.channel
                && e.recipient_hash == new.recipient_hash
                && e.scope == new.scope
        });
        if let Some(entry) = in_force {
            return done(Suppressed {
                entry: entry.clone(),
                added: false,
            });
        }
        // Microseconds, as Postgres keeps them and cursors carry them.
        let created_at = now
            .replace_nanosecond(now.nanosecond() / 1_000 * 1_000)
            .unwrap_or(now);
        let entry = Suppression {
            created_at,
            lifted_at: None,
            ..new.clone()
        };
        state.suppressions.push(entry.clone());
        audit::append(&mut state, now, line);
        done(Suppressed { entry, added: true })
    }

    fn suppression<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Suppression>, Error>> {
        let state = self.state();
        done(state.suppressions.iter().find(|e| e.id == id).cloned())
    }

    fn lift<'a>(
        &'a self,
        id: &'a str,
        line: &'a str,
    ) -> BoxFuture<'a, Result<Option<Suppression>, Error>> {
        let now = self.now();
        let mut state = self.state();
        let Some(entry) = state
            .suppressions
            .iter_mut()
            .find(|e| e.id == id && e.lifted_at.is_none())
        else {
            return done(None);
        };
        entry.lifted_at = Some(now);
        let lifted = entry.clone();
        audit::append(&mut state, now, line);
        done(Some(lifted))
    }

    fn suppressions<'a>(
        &'a self,
        filter: &'a SuppressionFilter,
    ) -> BoxFuture<'a, Result<SuppressionPage, Error>> {
        let state = self.state();
        let mut entries: Vec<Suppression> = state
            .suppressions
            .iter()
            .filter(|e| {
                filter.matches(e)
                    && filter.cursor.as_ref().is_none_or(|c| {
                        (e.created_at, e.id.as_str()) < (c.created_at, c.id.as_str())
                    })
            })
            .cloned()
            .collect();
        entries.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        entries.truncate(usize::from(filter.limit) + 1);
        done(SuppressionPage::of(entries, filter.limit))
    }
}
