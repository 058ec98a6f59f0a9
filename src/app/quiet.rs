//! Quiet hours applied to a send: whether it waits for the end of the window it falls in.

use jiff::tz::TimeZone;
use time::OffsetDateTime;

use super::{App, RequestContext};
use crate::config::DEFAULT_TIMEZONE;
use crate::error::FieldError;
use crate::names::Channel;

impl App {
    /// `NOTIFY_TIMEZONE` from the time-zone database, looked up once; `America/New_York` when
    /// it is not a zone the database knows (health names it).
    pub(super) fn practice_zone(&self) -> &TimeZone {
        self.quiet_zone.get_or_init(|| {
            TimeZone::get(&self.config.quiet.zone_name)
                .or_else(|_| TimeZone::get(DEFAULT_TIMEZONE))
                .unwrap_or(TimeZone::UTC)
        })
    }

    /// The name of the zone [`practice_zone`](Self::practice_zone) is.
    pub fn practice_zone_name(&self) -> &str {
        match self.practice_zone().iana_name() {
            Some(name) => name,
            None => "UTC",
        }
    }

    /// The problem with `NOTIFY_TIMEZONE`, if the database does not know it.
    pub fn practice_zone_problem(&self) -> Option<FieldError> {
        let name = &self.config.quiet.zone_name;
        TimeZone::get(name).is_err().then(|| {
            FieldError::new(
                "NOTIFY_TIMEZONE",
                format!(
                    "must be an IANA time zone such as America/Chicago; {DEFAULT_TIMEZONE} is used"
                ),
            )
        })
    }

    /// When a send due at `at` on `channels` may go, given quiet hours in `zone` (the
    /// patient's; the practice's when `None`): `None` when it need not wait (no window, an
    /// `urgent` send, no channel the window holds back, outside the window, or a scheduled
    /// send's run, placed when it was scheduled), else the window's end. SMS are held back;
    /// email only with `NOTIFY_QUIET_HOURS_EMAIL=1`. A notification waits as a whole.
    pub fn quiet_until(
        &self,
        channels: &[Channel],
        zone: Option<&TimeZone>,
        urgent: bool,
        at: OffsetDateTime,
        context: &RequestContext,
    ) -> Option<OffsetDateTime> {
        let quiet = &self.config.quiet;
        let window = quiet.window?;
        if urgent || context.scheduled.is_some() {
            return None;
        }
        let held = |channel: &Channel| match channel {
            Channel::Sms => true,
            Channel::Email => quiet.email,
        };
        if !channels.iter().any(held) {
            return None;
        }
        let at = jiff::Timestamp::from_nanosecond(at.unix_timestamp_nanos()).ok()?;
        let end = window.deferral(at, zone.unwrap_or(self.practice_zone()))?;
        OffsetDateTime::from_unix_timestamp_nanos(end.as_nanosecond()).ok()
    }
}
