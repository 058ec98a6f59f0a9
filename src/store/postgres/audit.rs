//! The Postgres store's audit trail: lines appended (and expired by `notify_expire_audit`,
//! migrations/002_audit.sql), exported oldest first.

use tokio_postgres::types::Type;

use super::{PostgresStore, rfc3339};
use crate::error::Error;
use crate::store::{AuditPage, AuditQuery, AuditTrail, unavailable};
use crate::support::BoxFuture;

const APPEND_AUDIT: &str =
    "INSERT INTO notify_audit (event, line) VALUES ($1::jsonb->>'event', $1::jsonb)";

/// Oldest first, after the cursor ($3), at most $4 lines.
const AUDIT: &str = r#"
SELECT id, line::text FROM notify_audit
WHERE ($1::text IS NULL OR time >= $1::timestamptz)
  AND ($2::text IS NULL OR time < $2::timestamptz)
  AND ($3::int8 IS NULL OR id > $3)
ORDER BY id
LIMIT $4"#;

impl AuditTrail for PostgresStore {
    fn append_audit<'a>(&'a self, line: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            self.query(APPEND_AUDIT, &[(&line, Type::TEXT)])
                .await
                .map(drop)
        })
    }

    fn audit<'a>(&'a self, query: &'a AuditQuery) -> BoxFuture<'a, Result<AuditPage, Error>> {
        Box::pin(async move {
            let since = rfc3339(query.since);
            let until = rfc3339(query.until);
            let limit = i64::from(query.limit) + 1;
            let rows = self
                .query(
                    AUDIT,
                    &[
                        (&since, Type::TEXT),
                        (&until, Type::TEXT),
                        (&query.after, Type::INT8),
                        (&limit, Type::INT8),
                    ],
                )
                .await?;
            let mut lines = Vec::with_capacity(rows.len());
            for row in &rows {
                let id: i64 = row.try_get(0).map_err(unavailable)?;
                let line: String = row.try_get(1).map_err(unavailable)?;
                lines.push((id, line));
            }
            Ok(AuditPage::of(lines, query.limit))
        })
    }
}
