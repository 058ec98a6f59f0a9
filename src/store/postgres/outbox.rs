//! The Postgres store's delivery events: kept once in commit order with their audit line,
//! leased for forwarding (`FOR UPDATE SKIP LOCKED`), settled, and paged.

use std::time::Duration;

use tokio_postgres::types::{Json, Type};

use super::PostgresStore;
use crate::error::Error;
use crate::store::{
    Applied, EventPage, FIRST_ATTEMPT_LEASE, NewEvent, Outbox, Outgoing, PracticeEvent, Settled,
    unavailable,
};
use crate::support::BoxFuture;

/// A delivery event, kept once (see `notify_apply_event` in migrations/003_outbox.sql, with
/// its batch in 009_event_batch.sql).
const APPLY_EVENT: &str = "SELECT notify_apply_event($1::jsonb, $2, $3, $4::jsonb, $5, $6)";

/// A practice event, kept once (see `notify_keep_event` in migrations/005_reach.sql).
const KEEP_EVENT: &str = "SELECT notify_keep_event($1, $2, $3::jsonb, $4)";

/// Leases at most $1 events due for an attempt, for $2 ms: only the first waiting event of
/// each message (so a message's events go out in order), skipping what another dispatcher holds.
const DUE_EVENTS: &str = r#"
WITH due AS (
    SELECT e.id FROM notify_events e
    WHERE e.forward = 'pending' AND e.next_attempt_at <= clock_timestamp()
      AND (e.lease_until IS NULL OR e.lease_until <= clock_timestamp())
      AND NOT EXISTS (
        SELECT 1 FROM notify_events p
        WHERE p.forward = 'pending' AND p.provider = e.provider
          AND p.provider_message_id = e.provider_message_id AND p.seq < e.seq)
    ORDER BY e.seq
    LIMIT $1
    FOR UPDATE SKIP LOCKED
)
UPDATE notify_events e
SET lease_until = clock_timestamp() + make_interval(secs => $2 / 1e3)
FROM due WHERE e.id = due.id
RETURNING e.id, e.payload::text, e.attempts"#;

/// Each attempt's outcome: delivered, failed, or pending again from its next time. An attempt
/// counts once: of two that raced (a lease ran out mid-attempt), the first to settle does.
const SETTLE: &str = r#"
UPDATE notify_events e
SET forward = s.forward, next_attempt_at = s."nextAt", attempts = e.attempts + 1,
    lease_until = NULL, last_error = s.error
FROM jsonb_to_recordset($1::jsonb)
    AS s(id text, attempts smallint, forward text, "nextAt" timestamptz, error text)
WHERE e.id = s.id AND e.forward = 'pending' AND e.attempts = s.attempts"#;

/// Events in order after the one named $1 (which comes first, to tell that it exists), at most
/// $2 rows.
const EVENTS: &str = r#"
SELECT id, payload FROM notify_events
WHERE payload IS NOT NULL
  AND ($1::text IS NULL OR seq >= (SELECT seq FROM notify_events WHERE id = $1))
ORDER BY seq
LIMIT $2"#;

/// What became of an event, as the store's function answered.
fn fate(rows: &[tokio_postgres::Row]) -> Result<Applied, Error> {
    let fate: String = rows
        .first()
        .and_then(|row| row.try_get(0).ok())
        .unwrap_or_default();
    named_fate(&fate)
}

fn named_fate(fate: &str) -> Result<Applied, Error> {
    match fate {
        "copy" => Ok(Applied::Copy),
        "kept" => Ok(Applied::Kept),
        "claimed" => Ok(Applied::Claimed),
        other => Err(unavailable(format!(
            "the store answered {other:?} for an event"
        ))),
    }
}

impl Outbox for PostgresStore {
    fn apply_event<'a>(
        &'a self,
        new: NewEvent<'a>,
    ) -> BoxFuture<'a, Result<(Applied, Option<String>), Error>> {
        Box::pin(async move {
            let status = new.event.kind.status();
            let rank = i16::from(status.rank());
            let status = status.as_str();
            let lease = FIRST_ATTEMPT_LEASE.as_millis() as i32;
            let rows = self
                .query(
                    APPLY_EVENT,
                    &[
                        (&new.payload, Type::TEXT),
                        (&status, Type::TEXT),
                        (&rank, Type::INT2),
                        (&new.audit, Type::TEXT),
                        (&new.forward, Type::BOOL),
                        (&lease, Type::INT4),
                    ],
                )
                .await?;
            #[derive(serde::Deserialize)]
            #[serde(rename_all = "camelCase")]
            struct Answer {
                fate: String,
                batch_id: Option<String>,
            }
            let Json(answer): Json<Answer> = rows
                .first()
                .ok_or_else(|| unavailable("no answer for an event"))?
                .try_get(0)
                .map_err(unavailable)?;
            Ok((named_fate(&answer.fate)?, answer.batch_id))
        })
    }

    fn keep_event<'a>(
        &'a self,
        event: &'a PracticeEvent<'a>,
    ) -> BoxFuture<'a, Result<Applied, Error>> {
        Box::pin(async move {
            let rows = self
                .query(
                    KEEP_EVENT,
                    &[
                        (&event.id, Type::TEXT),
                        (&event.kind, Type::TEXT),
                        (&event.payload, Type::TEXT),
                        (&event.forward, Type::BOOL),
                    ],
                )
                .await?;
            fate(&rows)
        })
    }

    fn due_events(
        &self,
        limit: u16,
        lease: Duration,
    ) -> BoxFuture<'_, Result<Vec<Outgoing>, Error>> {
        Box::pin(async move {
            let limit = i64::from(limit);
            let lease = lease.as_millis() as i64;
            let rows = self
                .query(DUE_EVENTS, &[(&limit, Type::INT8), (&lease, Type::INT8)])
                .await?;
            let mut due = Vec::with_capacity(rows.len());
            for row in &rows {
                let attempts: i16 = row.try_get(2).map_err(unavailable)?;
                due.push(Outgoing {
                    id: row.try_get(0).map_err(unavailable)?,
                    payload: row.try_get(1).map_err(unavailable)?,
                    attempts: attempts.max(0) as u16,
                });
            }
            // The lease came in the table's order; attempts go in the events' order.
            Ok(due)
        })
    }

    fn settle<'a>(&'a self, settled: &'a [Settled]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            if settled.is_empty() {
                return Ok(());
            }
            let settled = serde_json::to_string(settled).map_err(unavailable)?;
            self.query(SETTLE, &[(&settled, Type::TEXT)])
                .await
                .map(drop)
        })
    }

    fn events<'a>(
        &'a self,
        after: Option<&'a str>,
        limit: u16,
    ) -> BoxFuture<'a, Result<Option<EventPage>, Error>> {
        Box::pin(async move {
            // The event `after` comes first, then `limit` more and one to tell if others follow.
            let fetch = i64::from(limit) + 1 + i64::from(after.is_some());
            let rows = self
                .query(EVENTS, &[(&after, Type::TEXT), (&fetch, Type::INT8)])
                .await?;
            let mut events = Vec::with_capacity(rows.len());
            for (i, row) in rows.iter().enumerate() {
                let id: String = row.try_get(0).map_err(unavailable)?;
                if i == 0
                    && let Some(after) = after
                {
                    if id != after {
                        return Ok(None);
                    }
                    continue;
                }
                let Json(payload) = row
                    .try_get::<_, Json<serde_json::Value>>(1)
                    .map_err(unavailable)?;
                events.push(payload);
            }
            if after.is_some() && rows.is_empty() {
                return Ok(None);
            }
            Ok(Some(EventPage::of(events, limit)))
        })
    }
}
