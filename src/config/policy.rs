//! The time and attempt bounds of one send.

use std::time::Duration;

use super::vars::Vars;
use crate::error::FieldError;

/// Time and attempt bounds for one send, chosen so that a send with all its retries ends well
/// inside the function's `maxDuration` (30 s in `vercel.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendPolicy {
    /// One request to the provider, connection included.
    pub attempt_timeout: Duration,
    /// The whole send, retries and back-off included.
    pub send_timeout: Duration,
    /// Attempts in all, the first included.
    pub max_attempts: u32,
}

impl Default for SendPolicy {
    fn default() -> Self {
        Self {
            attempt_timeout: Duration::from_secs(10),
            send_timeout: Duration::from_secs(25),
            max_attempts: 3,
        }
    }
}

pub(super) fn read_policy(vars: &Vars) -> (SendPolicy, Vec<FieldError>) {
    let defaults = SendPolicy::default();
    let mut problems = Vec::new();
    let mut millis = |name: &'static str, default: Duration| -> Duration {
        match vars.get(name).map(str::parse::<u64>) {
            None => default,
            Some(Ok(ms)) if (1..=60_000).contains(&ms) => Duration::from_millis(ms),
            Some(_) => {
                problems.push(FieldError::new(
                    name,
                    "must be milliseconds, from 1 to 60000",
                ));
                default
            }
        }
    };
    let attempt_timeout = millis("NOTIFY_ATTEMPT_TIMEOUT_MS", defaults.attempt_timeout);
    let send_timeout = millis("NOTIFY_SEND_TIMEOUT_MS", defaults.send_timeout);
    let max_attempts = match vars.get("NOTIFY_MAX_ATTEMPTS").map(str::parse::<u32>) {
        None => defaults.max_attempts,
        Some(Ok(n)) if (1..=5).contains(&n) => n,
        Some(_) => {
            problems.push(FieldError::new(
                "NOTIFY_MAX_ATTEMPTS",
                "must be a number from 1 to 5",
            ));
            defaults.max_attempts
        }
    };
    let policy = SendPolicy {
        attempt_timeout,
        send_timeout,
        max_attempts,
    };
    (policy, problems)
}
