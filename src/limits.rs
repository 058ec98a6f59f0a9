//! Abuse limits: send requests per caller, and messages per recipient per hour on live
//! channels, against SMS-pumping fraud and loops in a calling app. They hold per function
//! instance (each instance counts on its own); see the README for global limits.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::config::Limits;
use crate::error::{Error, ErrorCode};

type Keyed<C> =
    RateLimiter<String, DefaultKeyedStateStore<String>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// Keys kept before forgetting those whose limit has fully recovered, so memory stays bounded.
const MAX_TRACKED_KEYS: usize = 10_000;

pub struct RateLimits<C: Clock = DefaultClock> {
    callers: Keyed<C>,
    sms_recipients: Keyed<C>,
    email_recipients: Keyed<C>,
    clock: C,
}

impl<C: Clock> std::fmt::Debug for RateLimits<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits").finish_non_exhaustive()
    }
}

impl RateLimits {
    pub fn new(limits: &Limits) -> Self {
        Self::with_clock(limits, DefaultClock::default())
    }
}

impl<C: Clock + Clone> RateLimits<C> {
    /// With an explicit clock, so tests can move time forward.
    pub fn with_clock(limits: &Limits, clock: C) -> Self {
        let keyed = |quota: Quota| {
            RateLimiter::new(quota, DefaultKeyedStateStore::default(), clock.clone())
        };
        Self {
            callers: keyed(Quota::per_minute(at_least_one(limits.requests_per_minute))),
            sms_recipients: keyed(Quota::per_hour(at_least_one(
                limits.sms_per_recipient_per_hour,
            ))),
            email_recipients: keyed(Quota::per_hour(at_least_one(
                limits.emails_per_recipient_per_hour,
            ))),
            clock,
        }
    }

    /// One send request by `caller` (an API key id, a JWT subject or a client IP).
    pub fn check_caller(&self, caller: &str) -> Result<(), Error> {
        self.check(&self.callers, caller).map_err(|after| {
            Error::new(
                ErrorCode::RateLimited,
                "Too many send requests from this caller. Retry after the delay given.",
            )
            .with_hint("Raise NOTIFY_RATE_LIMIT_PER_MINUTE if this traffic is expected.")
            .with_retry_after(after)
        })
    }

    /// One SMS to the recipient whose audit hash is `recipient`.
    pub fn check_sms_recipient(&self, recipient: &str) -> Result<(), Error> {
        self.check(&self.sms_recipients, recipient)
            .map_err(|after| recipient_limited("SMS", "NOTIFY_SMS_PER_RECIPIENT_PER_HOUR", after))
    }

    /// One email to the recipient whose audit hash is `recipient`.
    pub fn check_email_recipient(&self, recipient: &str) -> Result<(), Error> {
        self.check(&self.email_recipients, recipient)
            .map_err(|after| {
                recipient_limited("emails", "NOTIFY_EMAILS_PER_RECIPIENT_PER_HOUR", after)
            })
    }

    fn check(&self, limiter: &Keyed<C>, key: &str) -> Result<(), Duration> {
        if limiter.len() > MAX_TRACKED_KEYS {
            limiter.retain_recent();
        }
        limiter
            .check_key(&key.to_owned())
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

fn at_least_one(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

fn recipient_limited(what: &str, variable: &'static str, after: Duration) -> Error {
    let hint: &'static str = match variable {
        "NOTIFY_SMS_PER_RECIPIENT_PER_HOUR" => {
            "This cap guards against SMS-pumping fraud and loops in the calling app; raise NOTIFY_SMS_PER_RECIPIENT_PER_HOUR if it is too low."
        }
        _ => {
            "This cap guards against loops in the calling app; raise NOTIFY_EMAILS_PER_RECIPIENT_PER_HOUR if it is too low."
        }
    };
    Error::new(
        ErrorCode::RecipientRateLimited,
        format!("Too many {what} to this recipient in the last hour. Retry after the delay given."),
    )
    .with_hint(hint)
    .with_retry_after(after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;

    fn limits() -> (RateLimits<FakeRelativeClock>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        let limits = Limits {
            requests_per_minute: 2,
            sms_per_recipient_per_hour: 3,
            emails_per_recipient_per_hour: 1,
        };
        (RateLimits::with_clock(&limits, clock.clone()), clock)
    }

    #[test]
    fn a_caller_over_its_rate_gets_429_with_retry_after_and_recovers() {
        let (limits, clock) = limits();
        assert!(limits.check_caller("key:1").is_ok());
        assert!(limits.check_caller("key:1").is_ok());
        let error = limits.check_caller("key:1").unwrap_err();
        assert_eq!((error.status(), error.code.as_str()), (429, "rate_limited"));
        assert_eq!(error.retry_after, Some(Duration::from_secs(30)));
        assert!(
            limits.check_caller("key:2").is_ok(),
            "another caller is counted apart"
        );
        clock.advance(Duration::from_secs(30));
        assert!(
            limits.check_caller("key:1").is_ok(),
            "the limit resets as time passes"
        );
    }

    #[test]
    fn a_recipient_over_its_hourly_sms_cap_is_refused_until_the_cap_recovers() {
        let (limits, clock) = limits();
        for _ in 0..3 {
            limits.check_sms_recipient("hash-a").unwrap();
        }
        let error = limits.check_sms_recipient("hash-a").unwrap_err();
        assert_eq!(
            (error.status(), error.code.as_str()),
            (429, "recipient_rate_limited")
        );
        assert_eq!(error.retry_after, Some(Duration::from_secs(20 * 60)));
        assert!(limits.check_sms_recipient("hash-b").is_ok());
        clock.advance(Duration::from_secs(20 * 60));
        assert!(limits.check_sms_recipient("hash-a").is_ok());
    }

    #[test]
    fn email_and_sms_caps_are_counted_apart() {
        let (limits, _) = limits();
        limits.check_email_recipient("hash-a").unwrap();
        assert!(limits.check_email_recipient("hash-a").is_err());
        assert!(limits.check_sms_recipient("hash-a").is_ok());
    }
}
