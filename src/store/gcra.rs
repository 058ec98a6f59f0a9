//! The generic cell rate algorithm the limits use (the one `notify_admit` runs in Postgres): a
//! key may take a burst of `max`, then one every `period / max`. Its whole state is one time,
//! the theoretical arrival time (TAT) of the next request.

use std::time::Duration;

use time::OffsetDateTime;

use super::Limit;

/// `Ok` when one more request fits under `limit`; else how long until it would.
pub(super) fn check(
    tat: Option<OffsetDateTime>,
    now: OffsetDateTime,
    limit: &Limit,
) -> Result<(), Duration> {
    let earliest = start(tat, now) + limit.interval - limit.period;
    if earliest > now {
        Err(ceil_millis(earliest - now))
    } else {
        Ok(())
    }
}

/// The key's TAT once one more request is counted.
pub(super) fn counted(
    tat: Option<OffsetDateTime>,
    now: OffsetDateTime,
    limit: &Limit,
) -> OffsetDateTime {
    start(tat, now) + limit.interval
}

fn start(tat: Option<OffsetDateTime>, now: OffsetDateTime) -> OffsetDateTime {
    tat.map_or(now, |tat| tat.max(now))
}

/// Whole milliseconds, rounded up, as Postgres computes them.
pub(super) fn ceil_millis(duration: time::Duration) -> Duration {
    let nanos = duration.whole_nanoseconds().max(0) as u128;
    Duration::from_millis(nanos.div_ceil(1_000_000) as u64)
}
