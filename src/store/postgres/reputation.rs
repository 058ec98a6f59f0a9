//! The Postgres store's reputation measure (the log's email recipients, the events' hard
//! bounces and complaints, per window) and the guard as last measured (`notify_reputation`).

use tokio_postgres::types::Type;

use super::{PostgresStore, rfc3339};
use crate::error::Error;
use crate::names::GuardState;
use crate::store::{EmailCounts, Guard, Reputation, unavailable};
use crate::support::BoxFuture;

/// One count per window start in $1 (a JSON list of times), in order.
const COUNTS: &str = r#"
SELECT coalesce(jsonb_agg(jsonb_build_object(
    'emails', (SELECT count(*) FROM notify_recipients r
        JOIN notify_messages m ON m.id = r.message_id
        WHERE m.channel = 'email' AND m.created_at >= s.since::timestamptz
          AND r.status IN ('sent', 'delayed', 'delivered', 'bounced', 'read', 'complained',
                           'opted_out')),
    'bounces', (SELECT count(DISTINCT (e.message_id, e.recipient_hash)) FROM notify_events e
        WHERE e.received_at >= s.since::timestamptz AND e.provider IN ('aws-ses', 'smtp')
          AND e.type = 'bounced' AND e.retryable = false),
    'complaints', (SELECT count(DISTINCT (e.message_id, e.recipient_hash)) FROM notify_events e
        WHERE e.received_at >= s.since::timestamptz AND e.provider IN ('aws-ses', 'smtp')
          AND e.type = 'complained')
) ORDER BY s.n), '[]'::jsonb)
FROM jsonb_array_elements_text($1::jsonb) WITH ORDINALITY AS s(since, n)"#;

/// Keeps the guard; its audit line only when the state changed (a first measure that finds all
/// well is no change). Answers the state before.
const KEEP: &str = r#"
WITH before AS (SELECT state FROM notify_reputation),
kept AS (
    INSERT INTO notify_reputation (id, state, measured, changed_at)
    VALUES (true, $1, $2::jsonb, clock_timestamp())
    ON CONFLICT (id) DO UPDATE SET state = excluded.state, measured = excluded.measured,
        changed_at = CASE WHEN notify_reputation.state = excluded.state
                          THEN notify_reputation.changed_at ELSE excluded.changed_at END
), audit AS (
    INSERT INTO notify_audit (event, line) SELECT $3::jsonb->>'event', $3::jsonb
    WHERE coalesce((SELECT state FROM before), 'ok') <> $1
)
SELECT (SELECT state FROM before)"#;

const GUARD: &str = "SELECT measured FROM notify_reputation";

impl Reputation for PostgresStore {
    fn email_counts<'a>(
        &'a self,
        since: &'a [time::OffsetDateTime],
    ) -> BoxFuture<'a, Result<Vec<EmailCounts>, Error>> {
        Box::pin(async move {
            let times: Vec<Option<String>> = since.iter().map(|t| rfc3339(Some(*t))).collect();
            let json = serde_json::to_string(&times).map_err(unavailable)?;
            let counts: Option<Vec<EmailCounts>> =
                self.json(COUNTS, &[(&json, Type::TEXT)]).await?;
            Ok(counts.unwrap_or_default())
        })
    }

    fn keep_guard<'a>(
        &'a self,
        guard: &'a Guard,
        audit: &'a str,
    ) -> BoxFuture<'a, Result<Option<GuardState>, Error>> {
        Box::pin(async move {
            let state = guard.state.as_str();
            let measured = serde_json::to_string(guard).map_err(unavailable)?;
            let rows = self
                .query(
                    KEEP,
                    &[
                        (&state, Type::TEXT),
                        (&measured, Type::TEXT),
                        (&audit, Type::TEXT),
                    ],
                )
                .await?;
            let before: Option<String> = match rows.first() {
                Some(row) => row.try_get(0).map_err(unavailable)?,
                None => None,
            };
            Ok(before.as_deref().and_then(GuardState::parse))
        })
    }

    fn guard(&self) -> BoxFuture<'_, Result<Option<Guard>, Error>> {
        Box::pin(async move { self.json(GUARD, &[]).await })
    }
}
