//! The Postgres store's scheduled sends: kept with their messages in one statement, leased
//! once when due, cancelled or moved.

use std::time::Duration;

use time::OffsetDateTime;
use tokio_postgres::types::{ToSql, Type};

use super::log::{Recorded, record};
use super::{Param, PostgresStore, rfc3339};
use crate::domain::Caller;
use crate::error::{Error, ErrorCode};
use crate::names::{MessageStatus, ScheduledRoute};
use crate::store::{
    Change, Changed, Claim, MessageRecord, Schedule, ScheduledSend, StoredAnswer, unavailable,
};
use crate::support::BoxFuture;

/// A send kept for later: its messages (status `scheduled`) as `RECORD` writes them, and the
/// sealed request.
const SCHEDULE: &str = concat!(
    r#"WITH scheduled AS (
    INSERT INTO notify_scheduled (id, route, send_at, state, content, caller, request_id,
        email_id, sms_id)
    VALUES ($4, $5, $6::timestamptz, 'scheduled', $7, $8, $9, $10, $11)
)
SELECT "#,
    record!()
);

/// Leases up to $1 due sends (of the batch $6, when given) for $2 ms; first, sends whose dispatcher stopped mid-way are
/// marked unknown (never sent twice), their messages failed ($3, ranked $4) as of unknown
/// outcome ($5).
const DUE_SENDS: &str = r#"
WITH lapsed AS (
    UPDATE notify_scheduled SET state = 'unknown', content = NULL, lease_until = NULL,
        updated_at = clock_timestamp()
    WHERE state = 'sending' AND lease_until < clock_timestamp()
    RETURNING email_id, sms_id
), unknown AS (
    UPDATE notify_messages SET status = $3, status_rank = $4,
        error_code = $5, updated_at = clock_timestamp()
    WHERE status = 'scheduled' AND id IN (SELECT email_id FROM lapsed UNION SELECT sms_id FROM lapsed)
), unknown_recipients AS (
    UPDATE notify_recipients SET status = $3, status_rank = $4
    WHERE status = 'scheduled'
      AND message_id IN (SELECT email_id FROM lapsed UNION SELECT sms_id FROM lapsed)
), due AS (
    SELECT id FROM notify_scheduled
    WHERE state = 'scheduled' AND send_at <= clock_timestamp()
      AND ($6::text IS NULL OR batch_id = $6)
    ORDER BY send_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
)
UPDATE notify_scheduled s SET state = 'sending', updated_at = clock_timestamp(),
    lease_until = clock_timestamp() + make_interval(secs => $2 / 1e3)
FROM due WHERE s.id = due.id
RETURNING s.id, s.route, (extract(epoch FROM s.send_at) * 1000000)::int8, s.content, s.caller,
    s.request_id, s.email_id, s.sms_id, s.batch_id"#;

/// A leased send back to wait until $2.
const PUT_BACK: &str = r#"
UPDATE notify_scheduled SET state = 'scheduled', send_at = $2::timestamptz, lease_until = NULL,
    updated_at = clock_timestamp()
WHERE id = $1 AND state = 'sending'"#;

const SENT: &str = r#"
UPDATE notify_scheduled SET state = 'sent', content = NULL, lease_until = NULL,
    updated_at = clock_timestamp()
WHERE id = $1 AND state = 'sending'"#;

/// Moves ($2 set) or cancels ($2 NULL) the scheduled send $1 (or the one a message $1 is of),
/// only while it is scheduled, its messages then cancelled ($3, ranked $4); answers its id,
/// its state before, whether it changed and its time now.
const CHANGE: &str = r#"
WITH target AS (
    SELECT id, state, send_at FROM notify_scheduled
    WHERE id = $1 OR email_id = $1 OR sms_id = $1
    LIMIT 1
    FOR UPDATE
), moved AS (
    UPDATE notify_scheduled s SET send_at = $2::timestamptz, updated_at = clock_timestamp()
    FROM target t WHERE s.id = t.id AND t.state = 'scheduled' AND $2::text IS NOT NULL
    RETURNING s.id
), cancelled AS (
    UPDATE notify_scheduled s SET state = 'cancelled', content = NULL, lease_until = NULL,
        updated_at = clock_timestamp()
    FROM target t WHERE s.id = t.id AND t.state = 'scheduled' AND $2::text IS NULL
    RETURNING s.email_id, s.sms_id
), messages AS (
    UPDATE notify_messages SET status = $3, status_rank = $4,
        updated_at = clock_timestamp()
    WHERE id IN (SELECT email_id FROM cancelled UNION SELECT sms_id FROM cancelled)
), recipients AS (
    UPDATE notify_recipients SET status = $3, status_rank = $4
    WHERE message_id IN (SELECT email_id FROM cancelled UNION SELECT sms_id FROM cancelled)
)
SELECT (SELECT id FROM target), (SELECT state FROM target),
    (SELECT count(*) FROM moved) + (SELECT count(*) FROM cancelled)"#;

/// What a lapsed send's messages become, and a cancelled one's.
const FAILED: MessageStatus = MessageStatus::Failed;
const CANCELLED: MessageStatus = MessageStatus::Cancelled;

impl Schedule for PostgresStore {
    fn schedule<'a>(
        &'a self,
        send: &'a ScheduledSend,
        messages: &'a [MessageRecord],
        audit: &'a [String],
        answer: Option<(&'a Claim, &'a StoredAnswer)>,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let record = Recorded::new(messages, audit, answer.as_slice())?;
            let route = send.route.as_str();
            let send_at = rfc3339(Some(send.send_at));
            let caller = send.caller.to_string();
            let mut params = record.params();
            params.extend_from_slice(&[
                (&send.id as &(dyn ToSql + Sync), Type::TEXT),
                (&route, Type::TEXT),
                (&send_at, Type::TEXT),
                (&send.content, Type::BYTEA),
                (&caller, Type::TEXT),
                (&send.request_id, Type::TEXT),
                (&send.email_id, Type::TEXT),
                (&send.sms_id, Type::TEXT),
            ]);
            self.query(SCHEDULE, &params).await.map(drop)
        })
    }

    fn due_sends<'a>(
        &'a self,
        limit: u16,
        lease: Duration,
        batch: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Vec<ScheduledSend>, Error>> {
        Box::pin(async move {
            let limit = i64::from(limit);
            let lease = lease.as_millis() as i64;
            let rows = self
                .query(
                    DUE_SENDS,
                    &[
                        (&limit, Type::INT8),
                        (&lease, Type::INT8),
                        (&FAILED.as_str(), Type::TEXT),
                        (&i16::from(FAILED.rank()), Type::INT2),
                        (&ErrorCode::ProviderTimeout.as_str(), Type::TEXT),
                        (&batch, Type::TEXT),
                    ],
                )
                .await?;
            let mut due = Vec::with_capacity(rows.len());
            for row in &rows {
                let route: String = row.try_get(1).map_err(unavailable)?;
                let micros: i64 = row.try_get(2).map_err(unavailable)?;
                due.push(ScheduledSend {
                    id: row.try_get(0).map_err(unavailable)?,
                    route: ScheduledRoute::parse(&route).ok_or_else(|| {
                        unavailable(format!("a scheduled send's route {route:?}"))
                    })?,
                    send_at: OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
                        .map_err(unavailable)?,
                    content: row.try_get(3).map_err(unavailable)?,
                    caller: Caller::parse(row.try_get(4).map_err(unavailable)?),
                    request_id: row.try_get(5).map_err(unavailable)?,
                    email_id: row.try_get(6).map_err(unavailable)?,
                    sms_id: row.try_get(7).map_err(unavailable)?,
                    batch_id: row.try_get(8).map_err(unavailable)?,
                });
            }
            Ok(due)
        })
    }

    fn put_back<'a>(&'a self, id: &'a str, at: OffsetDateTime) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let at = rfc3339(Some(at));
            let params: [Param; 2] = [(&id, Type::TEXT), (&at, Type::TEXT)];
            self.query(PUT_BACK, &params).await.map(drop)
        })
    }

    fn sent<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move { self.query(SENT, &[(&id, Type::TEXT)]).await.map(drop) })
    }

    fn change<'a>(&'a self, id: &'a str, change: Change) -> BoxFuture<'a, Result<Changed, Error>> {
        Box::pin(async move {
            let send_at = match change {
                Change::Cancel => None,
                Change::MoveTo(at) => rfc3339(Some(at)),
            };
            let rows = self
                .query(
                    CHANGE,
                    &[
                        (&id, Type::TEXT),
                        (&send_at, Type::TEXT),
                        (&CANCELLED.as_str(), Type::TEXT),
                        (&i16::from(CANCELLED.rank()), Type::INT2),
                    ],
                )
                .await?;
            let row = rows
                .first()
                .ok_or_else(|| unavailable("no answer to a change"))?;
            let found: Option<String> = row.try_get(0).map_err(unavailable)?;
            let changed: i64 = row.try_get(2).map_err(unavailable)?;
            Ok(match found {
                None => Changed::NotScheduled,
                Some(_) if changed == 0 => Changed::TooLate,
                Some(id) => Changed::Done {
                    id,
                    send_at: match change {
                        Change::Cancel => None,
                        Change::MoveTo(at) => Some(at),
                    },
                },
            })
        })
    }
}
