//! Schema migrations: embedded in every binary, versioned, forward only, applied on an
//! instance's first call under a transaction-scoped advisory lock, so concurrent cold starts
//! never race (and the lock holds through a transaction-mode pooler). `psql -f` on the files
//! in `migrations/` applies them ahead of a deploy instead (README, "Database").

use deadpool_postgres::Object;

/// Every migration in `migrations/`, in order (the list is made by `build.rs`). A new one is a
/// new file with the next version; applied ones are never edited.
const MIGRATIONS: &[(i32, &str)] = include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

/// The newest schema version this build knows.
pub const SCHEMA_VERSION: i32 = MIGRATIONS[MIGRATIONS.len() - 1].0;

/// An arbitrary constant naming this API's migration lock among the database's advisory locks.
const LOCK: i64 = 0x6e6f_7469_6679;

const VERSION: &str = "SELECT coalesce(max(version), 0) FROM notify_schema_version";

/// The schema version, after applying what this build has and the database lacks.
pub(super) async fn apply(client: &Object) -> Result<i32, tokio_postgres::Error> {
    // The usual case, one round trip: the schema is already there.
    if let Ok(row) = client.query_typed_one(VERSION, &[]).await {
        let version: i32 = row.get(0);
        if version >= SCHEMA_VERSION {
            return Ok(version);
        }
    }
    client
        .batch_execute(&format!(
            "BEGIN; SELECT pg_advisory_xact_lock({LOCK}); \
             CREATE TABLE IF NOT EXISTS notify_schema_version ( \
                 version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());"
        ))
        .await?;
    let result = apply_locked(client).await;
    let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
    client.batch_execute(end).await?;
    result
}

async fn apply_locked(client: &Object) -> Result<i32, tokio_postgres::Error> {
    let current: i32 = client.query_typed_one(VERSION, &[]).await?.get(0);
    for (version, migration) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        tracing::info!(version, "applying a schema migration");
        client.batch_execute(migration).await?;
        client
            .batch_execute(&format!(
                "INSERT INTO notify_schema_version (version) VALUES ({version})"
            ))
            .await?;
    }
    Ok(current.max(SCHEMA_VERSION))
}
