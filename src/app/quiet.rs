//! Quiet hours applied to a send: whether it waits for the end of the window it falls in.

use jiff::tz::TimeZone;
use time::OffsetDateTime;

use super::{App, RequestContext};
use crate::names::Channel;

impl App {
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
        let end = window.deferral(at, zone.unwrap_or(&quiet.zone))?;
        OffsetDateTime::from_unix_timestamp_nanos(end.as_nanosecond()).ok()
    }
}
