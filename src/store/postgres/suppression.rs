//! The Postgres store's suppression list (`notify_suppressions`, migrations/005): each call one
//! statement, its audit line written in it.

use tokio_postgres::types::{Json, Type};

use super::{PostgresStore, rfc3339};
use crate::error::Error;
use crate::store::{
    Suppressed, Suppression, SuppressionFilter, SuppressionPage, Suppressions, unavailable,
};
use crate::support::BoxFuture;

/// Adds the entry unless one is in force for the recipient, channel and scope; answers the
/// entry in force either way, and whether it is the new one.
const SUPPRESS: &str = r#"
WITH new AS (
    INSERT INTO notify_suppressions (id, channel, recipient_hash, masked, scope, reason, source,
        inferred, message_id, created_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, clock_timestamp())
    ON CONFLICT (recipient_hash, channel, coalesce(scope, '')) WHERE lifted_at IS NULL
        DO NOTHING
    RETURNING notify_suppression_json(notify_suppressions) AS entry
), audit AS (
    INSERT INTO notify_audit (event, line) SELECT $10::jsonb->>'event', $10::jsonb FROM new
)
SELECT entry, true FROM new
UNION ALL
SELECT notify_suppression_json(s), false FROM notify_suppressions s
WHERE NOT EXISTS (SELECT 1 FROM new) AND s.recipient_hash = $3 AND s.channel = $2
  AND coalesce(s.scope, '') = coalesce($5, '') AND s.lifted_at IS NULL"#;

const SUPPRESSION: &str =
    "SELECT notify_suppression_json(s) FROM notify_suppressions s WHERE s.id = $1";

const LIFT: &str = r#"
WITH lifted AS (
    UPDATE notify_suppressions SET lifted_at = clock_timestamp()
    WHERE id = $1 AND lifted_at IS NULL
    RETURNING notify_suppression_json(notify_suppressions) AS entry
), audit AS (
    INSERT INTO notify_audit (event, line) SELECT $2::jsonb->>'event', $2::jsonb FROM lifted
)
SELECT entry FROM lifted"#;

/// Newest first, after the cursor ($6, $7), at most $8.
const SUPPRESSIONS: &str = r#"
SELECT notify_suppression_json(s) FROM notify_suppressions s
WHERE ($1::text IS NULL OR s.channel = $1)
  AND ($2::text IS NULL OR s.reason = $2)
  AND ($3::text IS NULL OR s.recipient_hash = $3)
  AND ($4::text IS NULL OR s.created_at >= $4::timestamptz)
  AND ($5::bool IS NULL OR (s.lifted_at IS NULL) = $5)
  AND ($6::text IS NULL OR (s.created_at, s.id) < ($6::timestamptz, $7))
  AND ($9::bool IS NULL OR s.inferred = $9)
ORDER BY s.created_at DESC, s.id DESC
LIMIT $8"#;

impl Suppressions for PostgresStore {
    fn suppress<'a>(
        &'a self,
        new: &'a Suppression,
        audit: &'a str,
    ) -> BoxFuture<'a, Result<Suppressed, Error>> {
        Box::pin(async move {
            let scope = new.scope.map(|s| s.as_str());
            let (channel, reason, source) = (
                new.channel.as_str(),
                new.reason.as_str(),
                new.source.as_str(),
            );
            // A concurrent add of the same entry is not visible to this statement's snapshot
            // until it commits: the second try then reads it.
            for _ in 0..2 {
                let rows = self
                    .query(
                        SUPPRESS,
                        &[
                            (&new.id, Type::TEXT),
                            (&channel, Type::TEXT),
                            (&new.recipient_hash, Type::TEXT),
                            (&new.masked, Type::TEXT),
                            (&scope, Type::TEXT),
                            (&reason, Type::TEXT),
                            (&source, Type::TEXT),
                            (&new.inferred, Type::BOOL),
                            (&new.message_id, Type::TEXT),
                            (&audit, Type::TEXT),
                        ],
                    )
                    .await?;
                if let Some(row) = rows.first() {
                    let Json(entry) = row
                        .try_get::<_, Json<Suppression>>(0)
                        .map_err(unavailable)?;
                    let added: bool = row.try_get(1).map_err(unavailable)?;
                    return Ok(Suppressed { entry, added });
                }
            }
            Err(unavailable("the suppression could not be added or read"))
        })
    }

    fn suppression<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Suppression>, Error>> {
        Box::pin(async move { self.json(SUPPRESSION, &[(&id, Type::TEXT)]).await })
    }

    fn lift<'a>(
        &'a self,
        id: &'a str,
        audit: &'a str,
    ) -> BoxFuture<'a, Result<Option<Suppression>, Error>> {
        Box::pin(async move {
            self.json(LIFT, &[(&id, Type::TEXT), (&audit, Type::TEXT)])
                .await
        })
    }

    fn suppressions<'a>(
        &'a self,
        filter: &'a SuppressionFilter,
    ) -> BoxFuture<'a, Result<SuppressionPage, Error>> {
        Box::pin(async move {
            let channel = filter.channel.map(|c| c.as_str());
            let reason = filter.reason.map(|r| r.as_str());
            let since = rfc3339(filter.since);
            let after = rfc3339(filter.cursor.as_ref().map(|c| c.created_at));
            let after_id = filter.cursor.as_ref().map(|c| c.id.as_str());
            let limit = i64::from(filter.limit) + 1;
            let rows = self
                .query(
                    SUPPRESSIONS,
                    &[
                        (&channel, Type::TEXT),
                        (&reason, Type::TEXT),
                        (&filter.recipient_hash, Type::TEXT),
                        (&since, Type::TEXT),
                        (&filter.active, Type::BOOL),
                        (&after, Type::TEXT),
                        (&after_id, Type::TEXT),
                        (&limit, Type::INT8),
                        (&filter.inferred, Type::BOOL),
                    ],
                )
                .await?;
            let mut entries = Vec::with_capacity(rows.len());
            for row in &rows {
                let Json(entry) = row
                    .try_get::<_, Json<Suppression>>(0)
                    .map_err(unavailable)?;
                entries.push(entry);
            }
            Ok(SuppressionPage::of(entries, filter.limit))
        })
    }
}
