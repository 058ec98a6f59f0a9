//! The pacer: one slot after another per provider rate, shared by every instance and
//! function, so that batch sends together never go faster than the rate they are given.

use std::time::Duration;

use crate::error::Error;
use crate::support::BoxFuture;

/// The pacer.
pub trait Pacer {
    /// Reserves the next slot of `key`, `cost` intervals long (an email to three recipients
    /// costs three), when it starts within `max_wait` of now.
    fn pace<'a>(
        &'a self,
        key: &'a str,
        interval: Duration,
        cost: u32,
        max_wait: Duration,
    ) -> BoxFuture<'a, Result<Paced, Error>>;
}

/// A slot of the pacer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paced {
    /// Reserved: it starts after this wait.
    Reserved(Duration),
    /// Nothing reserved: the next slot starts only after this wait.
    Full(Duration),
}
