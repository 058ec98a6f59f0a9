//! The Postgres store: a small pool built lazily (no connection before the first call that
//! needs one), the schema migrated on first use, and every call one round trip bounded by
//! `NOTIFY_STORE_TIMEOUT_MS`. Statements are sent unnamed (`query_typed`), so the store works
//! through a transaction-mode pooler such as Neon's PgBouncer as well as directly.

mod admit;
mod events;
mod migrate;
mod scheduled;
mod sql;

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio_postgres::types::{Json, ToSql, Type};

use super::outbox::{Applied, EventPage, NewEvent, OutboxHealth, Outgoing, Settled, Sweep, Swept};
use super::scheduled::{Change, Changed, ScheduledHealth, ScheduledSend};
use super::types::{
    Admission, Admitted, AuditPage, AuditQuery, Claim, MessageFilter, MessagePage, MessageRecord,
    MessageView, Stats, StoreHealth, StoredAnswer,
};
use super::{Store, unavailable};
use crate::config::{Misconfiguration, PostgresSettings};
use crate::error::{Error, FieldError};
use crate::support::BoxFuture;
use admit::{AdmitAnswer, admission_json, admitted};

pub struct PostgresStore {
    /// The pool, or what keeps the configured database from being used.
    pool: Result<Pool, Misconfiguration>,
    timeout: Duration,
    /// The schema version, once this instance has checked (and if need be applied) migrations.
    schema: tokio::sync::OnceCell<i32>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("schema", &self.schema.get())
            .finish_non_exhaustive()
    }
}

type Param<'a> = (&'a (dyn ToSql + Sync), Type);

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
        }
    }

    fn pool(settings: &PostgresSettings) -> Result<Pool, String> {
        let mut connection = settings.connection.clone();
        connection.connect_timeout(settings.timeout);
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
        let pool = self.pool.as_ref().map_err(misconfigured)?;
        let work = async {
            let client = pool.get().await.map_err(unavailable)?;
            self.schema
                .get_or_try_init(|| migrate::apply(&client))
                .await
                .map_err(unavailable)?;
            client
                .query_typed(statement, params)
                .await
                .map_err(unavailable)
        };
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
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// The parameters `RECORD` and `SCHEDULE` share ($1 to $6): each record with the rank of
/// its status, which Postgres compares to move forward; the answer kept for replays; the audit
/// lines (each a JSON object already).
struct Recorded<'a> {
    messages: String,
    audit: String,
    scope: Option<&'a str>,
    key: Option<&'a str>,
    status: Option<i16>,
    body: Option<&'a str>,
}

impl<'a> Recorded<'a> {
    fn new(
        messages: &[MessageRecord],
        audit: &[String],
        answer: Option<(&'a Claim, &'a StoredAnswer)>,
    ) -> Result<Self, Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Ranked<'r> {
            #[serde(flatten)]
            record: &'r MessageRecord,
            status_rank: u8,
        }
        let ranked: Vec<Ranked> = messages
            .iter()
            .map(|record| Ranked {
                record,
                status_rank: record.status.rank(),
            })
            .collect();
        Ok(Self {
            messages: serde_json::to_string(&ranked).map_err(unavailable)?,
            audit: format!("[{}]", audit.join(",")),
            scope: answer.map(|(c, _)| c.scope.as_str()),
            key: answer.map(|(c, _)| c.key.as_str()),
            status: answer.map(|(_, a)| a.status as i16),
            body: answer.map(|(_, a)| a.body.as_str()),
        })
    }

    fn params(&self) -> Vec<Param<'_>> {
        vec![
            (&self.messages, Type::TEXT),
            (&self.scope, Type::TEXT),
            (&self.key, Type::TEXT),
            (&self.status, Type::INT2),
            (&self.body, Type::TEXT),
            (&self.audit, Type::TEXT),
        ]
    }
}

fn rfc3339(time: Option<OffsetDateTime>) -> Option<String> {
    time.and_then(|t| {
        t.format(&time::format_description::well_known::Rfc3339)
            .ok()
    })
}

impl Store for PostgresStore {
    fn admit<'a>(&'a self, admission: &'a Admission) -> BoxFuture<'a, Result<Admitted, Error>> {
        Box::pin(async move {
            let (limits, claim) = admission_json(admission);
            let answer: Option<AdmitAnswer> = self
                .json(sql::ADMIT, &[(&limits, Type::TEXT), (&claim, Type::TEXT)])
                .await?;
            admitted(answer.ok_or_else(|| unavailable("notify_admit answered nothing"))?)
        })
    }

    fn record<'a>(
        &'a self,
        messages: &'a [MessageRecord],
        audit: &'a [String],
        answer: Option<(&'a Claim, &'a StoredAnswer)>,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let record = Recorded::new(messages, audit, answer)?;
            self.query(sql::RECORD, &record.params()).await.map(drop)
        })
    }

    fn schedule<'a>(
        &'a self,
        send: &'a ScheduledSend,
        messages: &'a [MessageRecord],
        answer: Option<(&'a Claim, &'a StoredAnswer)>,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(self.schedule_in(send, messages, answer))
    }

    fn due_sends(
        &self,
        limit: u16,
        lease: Duration,
    ) -> BoxFuture<'_, Result<Vec<ScheduledSend>, Error>> {
        Box::pin(self.due_sends_in(limit, lease))
    }

    fn sent<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move { self.query(sql::SENT, &[(&id, Type::TEXT)]).await.map(drop) })
    }

    fn change<'a>(&'a self, id: &'a str, change: Change) -> BoxFuture<'a, Result<Changed, Error>> {
        Box::pin(self.change_in(id, change))
    }

    fn apply_event<'a>(&'a self, new: NewEvent<'a>) -> BoxFuture<'a, Result<Applied, Error>> {
        Box::pin(self.apply_event_in(new))
    }

    fn due_events(
        &self,
        limit: u16,
        lease: Duration,
    ) -> BoxFuture<'_, Result<Vec<Outgoing>, Error>> {
        Box::pin(self.due_events_in(limit, lease))
    }

    fn settle<'a>(&'a self, settled: &'a [Settled]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(self.settle_in(settled))
    }

    fn events<'a>(
        &'a self,
        after: Option<&'a str>,
        limit: u16,
    ) -> BoxFuture<'a, Result<Option<EventPage>, Error>> {
        Box::pin(self.events_in(after, limit))
    }

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
                    sql::SWEEP,
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

    fn append_audit<'a>(&'a self, line: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            self.query(sql::APPEND_AUDIT, &[(&line, Type::TEXT)])
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
                    sql::AUDIT,
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

    fn message<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<MessageView>, Error>> {
        Box::pin(async move { self.json(sql::MESSAGE, &[(&id, Type::TEXT)]).await })
    }

    fn messages<'a>(
        &'a self,
        filter: &'a MessageFilter,
    ) -> BoxFuture<'a, Result<MessagePage, Error>> {
        Box::pin(async move {
            let channel = filter.channel.map(|c| c.as_str());
            let status = filter.status.map(|s| s.as_str());
            let since = rfc3339(filter.since);
            let until = rfc3339(filter.until);
            let after = rfc3339(filter.cursor.as_ref().map(|c| c.created_at));
            let after_id = filter.cursor.as_ref().map(|c| c.id.as_str());
            let limit = i64::from(filter.limit) + 1;
            let rows = self
                .query(
                    sql::MESSAGES,
                    &[
                        (&channel, Type::TEXT),
                        (&status, Type::TEXT),
                        (&filter.template, Type::TEXT),
                        (&filter.recipient_hash, Type::TEXT),
                        (&since, Type::TEXT),
                        (&until, Type::TEXT),
                        (&after, Type::TEXT),
                        (&after_id, Type::TEXT),
                        (&limit, Type::INT8),
                    ],
                )
                .await?;
            let mut views = Vec::with_capacity(rows.len());
            for row in &rows {
                let Json(view) = row
                    .try_get::<_, Json<MessageView>>(0)
                    .map_err(unavailable)?;
                views.push(view);
            }
            Ok(super::page(views, filter.limit))
        })
    }

    fn stats<'a>(
        &'a self,
        since: Option<OffsetDateTime>,
        until: Option<OffsetDateTime>,
    ) -> BoxFuture<'a, Result<Stats, Error>> {
        Box::pin(async move {
            let since = rfc3339(since);
            let until = rfc3339(until);
            let stats: Option<Stats> = self
                .json(sql::STATS, &[(&since, Type::TEXT), (&until, Type::TEXT)])
                .await?;
            Ok(stats.unwrap_or_default())
        })
    }

    fn check(&self) -> BoxFuture<'_, StoreHealth> {
        Box::pin(async move {
            #[derive(Deserialize)]
            struct Queues {
                outbox: OutboxHealth,
                scheduled: ScheduledHealth,
            }
            let answer = self.json::<Queues>(sql::QUEUES, &[]).await;
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

/// The 503 of a database that cannot be used as configured, naming what to fix.
fn misconfigured(problem: &Misconfiguration) -> Error {
    problem.error(
        crate::error::ErrorCode::StoreUnavailable,
        "The message store is not configured correctly, so nothing was sent",
        "Set the variables in Vercel (Settings > Environment Variables) and redeploy; GET /api/health names them.",
    )
}
