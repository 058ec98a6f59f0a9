//! The Postgres store's pacer: a row per pace holding when its next slot starts, moved on
//! under the row's lock, so slots never overlap whichever instance asks.

use std::time::Duration;

use tokio_postgres::types::Type;

use tokio_postgres::types::ToSql;

use super::PostgresStore;
use crate::error::Error;
use crate::store::{Paced, Pacer, unavailable};
use crate::support::BoxFuture;

/// Reserves a slot of $2 µs for the pace $1 when it starts within $3 µs; answers the wait
/// before the reserved slot (NULL when none was), and the wait before the next free one.
const PACE: &str = r#"
WITH reserved AS (
    INSERT INTO notify_pace AS p (key, next_at)
    VALUES ($1, clock_timestamp() + make_interval(secs => $2::float8 / 1e6))
    ON CONFLICT (key) DO UPDATE
        SET next_at = greatest(p.next_at, clock_timestamp()) + make_interval(secs => $2::float8 / 1e6)
        WHERE p.next_at <= clock_timestamp() + make_interval(secs => $3::float8 / 1e6)
    RETURNING next_at - make_interval(secs => $2::float8 / 1e6) AS starts_at
)
SELECT (SELECT greatest(0, extract(epoch FROM starts_at - clock_timestamp()) * 1e6)::int8
        FROM reserved),
    (SELECT greatest(0, extract(epoch FROM next_at - clock_timestamp()) * 1e6)::int8
        FROM notify_pace WHERE key = $1)"#;

impl Pacer for PostgresStore {
    fn pace<'a>(
        &'a self,
        key: &'a str,
        interval: Duration,
        cost: u32,
        max_wait: Duration,
    ) -> BoxFuture<'a, Result<Paced, Error>> {
        Box::pin(async move {
            let slot = (interval * cost).as_micros() as i64;
            let max_wait = max_wait.as_micros() as i64;
            let rows = self
                .query(
                    PACE,
                    &[
                        (&key as &(dyn ToSql + Sync), Type::TEXT),
                        (&slot, Type::INT8),
                        (&max_wait, Type::INT8),
                    ],
                )
                .await?;
            let row = rows
                .first()
                .ok_or_else(|| unavailable("no answer to a pace"))?;
            let reserved: Option<i64> = row.try_get(0).map_err(unavailable)?;
            let next: Option<i64> = row.try_get(1).map_err(unavailable)?;
            let micros = |m: i64| Duration::from_micros(m.max(0) as u64);
            Ok(match reserved {
                Some(wait) => Paced::Reserved(micros(wait)),
                None => Paced::Full(micros(next.unwrap_or(0))),
            })
        })
    }
}
