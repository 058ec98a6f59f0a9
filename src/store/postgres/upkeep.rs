//! The Postgres store's upkeep: the retention sweep, bounded per table, and health's view of
//! the database and its queues.

use serde::Deserialize;
use tokio_postgres::types::Type;

use super::{PostgresStore, rfc3339};
use crate::error::Error;
use crate::store::{OutboxHealth, ScheduledHealth, StoreHealth, Sweep, Swept, Upkeep};
use crate::support::BoxFuture;

/// Retention, bounded to $1 rows a table: expired idempotency keys, limit rows idle a day
/// (their limits have long recovered), messages (with their recipients and events), batches and
/// orphan events older than $2, audit lines older than $3; and the dispatch stamped with its summary.
const SWEEP: &str = r#"
WITH keys AS (
    DELETE FROM notify_idempotency WHERE ctid IN (
        SELECT ctid FROM notify_idempotency WHERE expires_at < clock_timestamp() LIMIT $1)
    RETURNING 1
), limits AS (
    DELETE FROM notify_limits WHERE ctid IN (
        SELECT ctid FROM notify_limits WHERE tat < clock_timestamp() - interval '1 day'
        LIMIT $1)
    RETURNING 1
), messages AS (
    DELETE FROM notify_messages WHERE id IN (
        SELECT id FROM notify_messages WHERE created_at < $2::timestamptz
        ORDER BY created_at LIMIT $1)
    RETURNING 1
), orphans AS (
    DELETE FROM notify_events WHERE id IN (
        SELECT id FROM notify_events WHERE message_id IS NULL AND received_at < $2::timestamptz
        LIMIT $1)
    RETURNING 1
), scheduled AS (
    DELETE FROM notify_scheduled WHERE id IN (
        SELECT id FROM notify_scheduled
        WHERE state IN ('sent', 'cancelled', 'unknown') AND updated_at < $2::timestamptz
        LIMIT $1)
), batches AS (
    DELETE FROM notify_batches WHERE id IN (
        SELECT id FROM notify_batches WHERE created_at < $2::timestamptz LIMIT $1)
), audit AS (
    SELECT notify_expire_audit($3::timestamptz, $1::int) AS n
), stamp AS (
    INSERT INTO notify_dispatch (id, last_at, last) VALUES (true, clock_timestamp(), $4::jsonb)
    ON CONFLICT (id) DO UPDATE SET last_at = excluded.last_at, last = excluded.last
)
SELECT jsonb_build_object(
    'idempotencyKeys', (SELECT count(*) FROM keys),
    'limits', (SELECT count(*) FROM limits),
    'messages', (SELECT count(*) FROM messages),
    'orphanEvents', (SELECT count(*) FROM orphans),
    'auditLines', (SELECT n FROM audit))"#;

/// Health's view of the outbox and of scheduled sends: counts and times, never contents.
const QUEUES: &str = r#"
SELECT jsonb_build_object(
    'outbox', (SELECT jsonb_build_object(
        'waiting', count(*) FILTER (WHERE forward = 'pending'),
        'oldestWaitingSeconds', floor(extract(epoch FROM
            clock_timestamp() - min(received_at) FILTER (WHERE forward = 'pending'))),
        'failed', count(*) FILTER (WHERE forward = 'failed'),
        'lastDispatchAt', (SELECT to_char(last_at AT TIME ZONE 'UTC',
            'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') FROM notify_dispatch))
        FROM notify_events WHERE forward IN ('pending', 'failed')),
    'scheduled', (SELECT jsonb_build_object(
        'waiting', count(*),
        'nextDueAt', to_char(min(send_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
        FROM notify_scheduled WHERE state = 'scheduled'))"#;

impl Upkeep for PostgresStore {
    fn sweep<'a>(
        &'a self,
        sweep: &'a Sweep,
        summary: &'a str,
    ) -> BoxFuture<'a, Result<Swept, Error>> {
        Box::pin(async move {
            let max_rows = i64::from(sweep.max_rows);
            let messages_before = rfc3339(Some(sweep.messages_before));
            let audit_before = rfc3339(Some(sweep.audit_before));
            let swept: Option<Swept> = self
                .json(
                    SWEEP,
                    &[
                        (&max_rows, Type::INT8),
                        (&messages_before, Type::TEXT),
                        (&audit_before, Type::TEXT),
                        (&summary, Type::TEXT),
                    ],
                )
                .await?;
            Ok(swept.unwrap_or_default())
        })
    }

    fn connect_ahead(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.first_connection())
    }

    fn check(&self) -> BoxFuture<'_, StoreHealth> {
        Box::pin(async move {
            #[derive(Deserialize)]
            struct Queues {
                outbox: OutboxHealth,
                scheduled: ScheduledHealth,
            }
            let answer = self.json::<Queues>(QUEUES, &[]).await;
            let queues = answer.as_ref().ok().and_then(Option::as_ref);
            let problem = match (&self.pool, &answer) {
                (Err(_), Err(error)) => Some(error.message.clone()),
                (Ok(_), Err(_)) => Some(
                    "the database did not answer in time; sends and the messages API answer 503 until it does"
                        .to_owned(),
                ),
                _ => None,
            };
            StoreHealth {
                reachable: answer.is_ok(),
                schema_version: self.schema.get().copied(),
                problem,
                outbox: queues.map(|q| q.outbox.clone()),
                scheduled: queues.map(|q| q.scheduled.clone()),
            }
        })
    }
}
