//! The memory store's pacer: one process's slots.

use std::time::Duration;

use super::{MemoryStore, done};
use crate::error::Error;
use crate::store::{Paced, Pacer};
use crate::support::BoxFuture;

impl Pacer for MemoryStore {
    fn pace<'a>(
        &'a self,
        key: &'a str,
        interval: Duration,
        cost: u32,
        max_wait: Duration,
    ) -> BoxFuture<'a, Result<Paced, Error>> {
        let now = self.now();
        let mut state = self.state();
        let next = state.pace.get(key).copied().unwrap_or(now).max(now);
        let wait = (next - now).unsigned_abs();
        if wait > max_wait {
            return done(Paced::Full(wait));
        }
        state.pace.insert(key.to_owned(), next + interval * cost);
        done(Paced::Reserved(wait))
    }
}
