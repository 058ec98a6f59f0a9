//! The Postgres store: a small pool built without connecting (its first connection is made by
//! the first call, or ahead of it by `Upkeep::connect_ahead` as a function starts), the schema
//! migrated with that first connection, and every call one round trip bounded by
//! `NOTIFY_STORE_TIMEOUT_MS`. Statements are sent unnamed (`query_typed`), so the store works
//! through a transaction-mode pooler such as Neon's PgBouncer as well as directly. A pooled
//! connection idle for longer than `NOTIFY_STORE_MAX_IDLE_SECONDS` (50 s: well inside what
//! poolers, NATs and a suspending database allow; Neon suspends after five minutes) is not used
//! again, since a frozen function's connection may have died meanwhile without a word, and TCP
//! keepalives find a dead one while the instance runs.

mod admission;
mod audit;
mod batch;
mod log;
mod migrate;

pub use migrate::SCHEMA_VERSION;
mod outbox;
mod pace;
mod preferences;
mod reputation;
mod scheduled;
mod suppression;
mod upkeep;

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Hook, HookError, Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use time::OffsetDateTime;
use tokio_postgres::types::{Json, ToSql, Type};

use super::unavailable;
use crate::config::{Misconfiguration, PostgresSettings};
use crate::error::{Error, FieldError};

pub struct PostgresStore {
    /// The pool, or what keeps the configured database from being used.
    pool: Result<Pool, Misconfiguration>,
    timeout: Duration,
    /// The schema version, once this instance has checked (and if need be applied) migrations.
    schema: tokio::sync::OnceCell<i32>,
    /// Set once the instance's first connection was tried (ahead of the first request when
    /// the function starts it): every call waits for that try, so the first request uses the
    /// connection it made instead of opening another beside it.
    first: tokio::sync::OnceCell<()>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("schema", &self.schema.get())
            .finish_non_exhaustive()
    }
}

type Param<'a> = (&'a (dyn ToSql + Sync), Type);

/// TCP keepalives on each connection: a connection that died while the instance ran is found
/// by the kernel, not by the next request.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(20);

impl PostgresStore {
    /// Builds the pool; connects nothing.
    pub fn new(settings: &PostgresSettings) -> Self {
        match Self::pool(settings) {
            Ok(pool) => Self::with(Ok(pool), settings.timeout),
            Err(why) => Self::with(
                Err(Misconfiguration {
                    missing: Vec::new(),
                    invalid: vec![FieldError::new("DATABASE_URL", why)],
                }),
                settings.timeout,
            ),
        }
    }

    /// A store for a database that is asked for but cannot be used as configured: every call
    /// answers 503 naming what to fix, and nothing is sent without it.
    pub fn misconfigured(problem: Misconfiguration) -> Self {
        Self::with(Err(problem), Duration::ZERO)
    }

    fn with(pool: Result<Pool, Misconfiguration>, timeout: Duration) -> Self {
        Self {
            pool,
            timeout,
            schema: tokio::sync::OnceCell::new(),
            first: tokio::sync::OnceCell::new(),
        }
    }

    fn pool(settings: &PostgresSettings) -> Result<Pool, String> {
        let max_idle = settings.max_idle;
        let mut connection = settings.connection.clone();
        connection
            .connect_timeout(settings.timeout)
            .keepalives(true)
            .keepalives_idle(KEEPALIVE_IDLE);
        let manager = Manager::from_config(
            connection,
            tls()?,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        Pool::builder(manager)
            .max_size(settings.pool_size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(settings.timeout))
            .create_timeout(Some(settings.timeout))
            .recycle_timeout(Some(settings.timeout))
            .pre_recycle(Hook::sync_fn(move |_, metrics| {
                if metrics.last_used() > max_idle {
                    Err(HookError::message("idle for too long"))
                } else {
                    Ok(())
                }
            }))
            .build()
            .map_err(|e| e.to_string())
    }

    /// Runs one statement on a pooled connection (migrating first on this instance's first
    /// call), within the store's bound.
    async fn query(
        &self,
        statement: &str,
        params: &[Param<'_>],
    ) -> Result<Vec<tokio_postgres::Row>, Error> {
        let work = async {
            let client = self.connection().await?;
            client
                .query_typed(statement, params)
                .await
                .map_err(unavailable)
        };
        self.bounded(work).await
    }

    /// A pooled connection, the schema checked (and migrated) on this instance's first.
    async fn connection(&self) -> Result<deadpool_postgres::Object, Error> {
        self.first_connection().await;
        self.pooled().await
    }

    /// The instance's first connection, tried once; a failure is left for the call that
    /// needs a connection to meet again, and answer.
    async fn first_connection(&self) {
        (self.first)
            .get_or_init(|| async {
                if let Err(error) = self.pooled().await {
                    tracing::warn!(
                        code = error.code.as_str(),
                        "the store's first connection failed"
                    );
                }
            })
            .await;
    }

    async fn pooled(&self) -> Result<deadpool_postgres::Object, Error> {
        let pool = self.pool.as_ref().map_err(misconfigured)?;
        let work = async {
            let mut client = pool.get().await.map_err(unavailable)?;
            // A connection whose server end closed after it was handed out (found by its
            // reader task meanwhile): the statement was never sent, so a fresh connection runs
            // it. One that closes while a statement is on its way is never retried: that
            // statement may have run.
            if client.is_closed() {
                drop(deadpool_postgres::Object::take(client));
                client = pool.get().await.map_err(unavailable)?;
            }
            self.schema
                .get_or_try_init(|| migrate::apply(&client))
                .await
                .map_err(unavailable)?;
            Ok(client)
        };
        self.bounded(work).await
    }

    /// `work` within the store's bound.
    async fn bounded<T>(
        &self,
        work: impl std::future::Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        match tokio::time::timeout(self.timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(unavailable(format!(
                "no answer within {} ms",
                self.timeout.as_millis()
            ))),
        }
    }

    /// The first column of the first row, as JSON.
    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        statement: &str,
        params: &[Param<'_>],
    ) -> Result<Option<T>, Error> {
        let rows = self.query(statement, params).await?;
        match rows.first() {
            None => Ok(None),
            Some(row) => row
                .try_get::<_, Option<Json<T>>>(0)
                .map(|json| json.map(|Json(value)| value))
                .map_err(unavailable),
        }
    }
}

/// TLS through rustls with Mozilla's roots (`webpki-roots`), ring as the crypto provider: the
/// server's certificate and host name are always verified when TLS is used.
fn tls() -> Result<tokio_postgres_rustls::MakeRustlsConnect, String> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    // PostgreSQL's ALPN name: required of a directly negotiated TLS connection (PostgreSQL
    // 17's `sslnegotiation=direct`, and proxies such as Neon's that check it).
    config.alpn_protocols = vec![b"postgresql".to_vec()];
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

fn rfc3339(time: Option<OffsetDateTime>) -> Option<String> {
    time.and_then(|t| {
        t.format(&time::format_description::well_known::Rfc3339)
            .ok()
    })
}

/// The 503 of a database that cannot be used as configured, naming what to fix.
fn misconfigured(problem: &Misconfiguration) -> Error {
    problem.error(
        crate::error::ErrorCode::StoreUnavailable,
        "The message store is not configured correctly, so nothing was sent",
        "Set the variables in Vercel (Settings > Environment Variables) and redeploy; GET /api/health names them.",
    )
}
