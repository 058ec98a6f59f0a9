//! The Postgres store's message log: a send's messages, recipients, audit lines and replay
//! answer written in one statement; messages read as the JSON the API answers with.

use serde::Serialize;
use time::OffsetDateTime;
use tokio_postgres::types::{Json, Type};

use super::{Param, PostgresStore, rfc3339};
use crate::error::Error;
use crate::store::log::page;
use crate::store::{
    Claim, MessageFilter, MessageLog, MessagePage, MessageRecord, MessageView, Stats, StoredAnswer,
    unavailable,
};
use crate::support::BoxFuture;

/// A send's record: its messages (replacing a scheduled one's record under the same id), their
/// recipients, the answer kept for replays and the audit lines, written by `notify_record`
/// (migration 012, a PL/pgSQL function, so each session plans it once). `SCHEDULE` and
/// `KEEP_BATCH` call it beside their own writes, on the same parameters ($1 to $3).
macro_rules! record {
    () => {
        "notify_record($1::jsonb, $2::jsonb, $3::jsonb)"
    };
}

pub(super) use record;

const RECORD: &str = concat!("SELECT ", record!());

/// A message as JSON (see `MessageView`), `m` being its row.
macro_rules! view {
    () => {
        r#"jsonb_build_object(
    'id', m.id, 'channel', m.channel, 'template', m.template, 'provider', m.provider,
    'providerMessageId', m.provider_message_id, 'status', m.status, 'errorCode', m.error_code,
    'category', m.category, 'reason', m.reason, 'consentOnFile', m.consent_on_file,
    'fallbackOf', m.fallback_of,
    'fallback', (SELECT f.id FROM notify_messages f WHERE f.fallback_of = m.id LIMIT 1),
    'batchId', m.batch_id,
    'caller', m.caller, 'requestId', m.request_id, 'idempotencyKey', m.idempotency_key,
    'createdAt', to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    'updatedAt', to_char(m.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    'recipients', (SELECT coalesce(jsonb_agg(jsonb_build_object(
            'masked', r.masked, 'hash', r.hash, 'status', r.status) ORDER BY r.position), '[]')
        FROM notify_recipients r WHERE r.message_id = m.id))"#
    };
}

const MESSAGE: &str = concat!(
    "SELECT ",
    view!(),
    r#" || jsonb_build_object('events', (SELECT coalesce(jsonb_agg(jsonb_build_object(
        'id', e.id, 'type', e.type, 'time', e.time, 'errorCode', e.error_code, 'retryable', e.retryable,
        'forward', e.forward, 'attempts', e.attempts)
        ORDER BY e.received_at, e.id), '[]') FROM notify_events e WHERE e.message_id = m.id),
    'audit', (SELECT coalesce(jsonb_agg(a.line ORDER BY a.id), '[]') FROM notify_audit a
        WHERE a.line->>'id' = m.id
          AND a.event IN ('send_attempt', 'send_scheduled', 'idempotent_replay')))
FROM notify_messages m WHERE m.id = $1 OR m.provider_message_id = $1
ORDER BY m.id = $1 DESC, m.created_at DESC LIMIT 1"#
);

/// The log's filters but the recipient's: newest first, after the cursor ($7, $8), at most $9
/// rows; of the batch $10, the category $11, failed or bounced at some point ($12), with the
/// error code $13, the idempotency key $14, the provider's id $15.
macro_rules! filters {
    () => {
        r#"
  AND ($1::text IS NULL OR m.channel = $1)
  AND ($2::text IS NULL OR m.status = $2)
  AND ($3::text IS NULL OR m.template = $3)
  AND ($5::text IS NULL OR m.created_at >= $5::timestamptz)
  AND ($6::text IS NULL OR m.created_at < $6::timestamptz)
  AND ($7::text IS NULL OR (m.created_at, m.id) < ($7::timestamptz, $8))
  AND ($10::text IS NULL OR m.batch_id = $10)
  AND ($11::text IS NULL OR m.category = $11)
  AND (NOT $12::boolean OR m.status IN ('failed', 'bounced') OR EXISTS (
        SELECT 1 FROM notify_events e WHERE e.message_id = m.id AND e.type IN ('failed', 'bounced')))
  AND ($13::text IS NULL OR m.error_code = $13)
  AND ($14::text IS NULL OR m.idempotency_key = $14)
  AND ($15::text IS NULL OR m.provider_message_id = $15)
ORDER BY m.created_at DESC, m.id DESC
LIMIT $9"#
    };
}

/// A page of the log ($4, the recipient, unused).
const MESSAGES: &str = concat!(
    "SELECT ",
    view!(),
    "\nFROM notify_messages m\nWHERE $4::text IS NULL",
    filters!()
);

/// A page of one recipient's messages ($4, the keyed hash): a condition of its own, so that
/// PostgreSQL starts from the recipient's few rows (a semi-join on the hash's index) instead
/// of walking the whole log newest first and testing each.
const RECIPIENT_MESSAGES: &str = concat!(
    "SELECT ",
    view!(),
    "\nFROM notify_messages m\nWHERE m.id IN (SELECT r.message_id FROM notify_recipients r WHERE r.hash = $4)",
    filters!()
);

/// Over the range $1..$2, days in the time zone $3.
const STATS: &str = r#"
WITH s AS (
    SELECT channel, status, template, provider_message_id IS NOT NULL AS accepted,
        to_char(created_at AT TIME ZONE $3, 'YYYY-MM-DD') AS day
    FROM notify_messages
    WHERE ($1::text IS NULL OR created_at >= $1::timestamptz)
      AND ($2::text IS NULL OR created_at < $2::timestamptz)
)
SELECT jsonb_build_object(
    'total', (SELECT count(*) FROM s),
    'byChannel', (SELECT coalesce(jsonb_object_agg(channel, statuses), '{}') FROM (
        SELECT channel, jsonb_object_agg(status, n) AS statuses
        FROM (SELECT channel, status, count(*) AS n FROM s GROUP BY 1, 2) counts
        GROUP BY channel) channels),
    'byTemplate', (SELECT coalesce(jsonb_object_agg(template, n), '{}') FROM (
        SELECT template, count(*) AS n FROM s WHERE template IS NOT NULL GROUP BY 1) templates),
    'days', (SELECT coalesce(jsonb_agg(jsonb_build_object('day', day, 'channel', channel,
            'sent', sent, 'delivered', delivered, 'failed', failed, 'bounced', bounced,
            'complained', complained) ORDER BY day, channel), '[]') FROM (
        SELECT day, channel, count(*) FILTER (WHERE accepted) AS sent,
            count(*) FILTER (WHERE status IN ('delivered', 'read', 'complained')) AS delivered,
            count(*) FILTER (WHERE status IN ('failed', 'bounced')) AS failed,
            count(*) FILTER (WHERE status = 'bounced') AS bounced,
            count(*) FILTER (WHERE status = 'complained') AS complained
        FROM s GROUP BY 1, 2) days))"#;

/// The parameters `RECORD`, `SCHEDULE` and `KEEP_BATCH` share ($1 to $3): each record with the
/// rank of its status, which Postgres compares to move forward; the answers kept for replays;
/// the audit lines (each a JSON object already).
pub(super) struct Recorded {
    messages: String,
    answers: String,
    audit: String,
}

impl Recorded {
    pub(super) fn new(
        messages: &[MessageRecord],
        audit: &[String],
        answers: &[(&Claim, &StoredAnswer)],
    ) -> Result<Self, Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Ranked<'r> {
            #[serde(flatten)]
            record: &'r MessageRecord,
            status_rank: u8,
            /// Each recipient's (one left out of a send has its own status).
            recipient_ranks: Vec<u8>,
        }
        #[derive(Serialize)]
        struct Answer<'r> {
            scope: &'r str,
            key: &'r str,
            status: u16,
            body: &'r str,
        }
        let ranked: Vec<Ranked> = messages
            .iter()
            .map(|record| Ranked {
                record,
                status_rank: record.status.rank(),
                recipient_ranks: record.recipients.iter().map(|r| r.status.rank()).collect(),
            })
            .collect();
        let answers: Vec<Answer> = answers
            .iter()
            .map(|(claim, answer)| Answer {
                scope: &claim.scope,
                key: &claim.key,
                status: answer.status,
                body: &answer.body,
            })
            .collect();
        Ok(Self {
            messages: serde_json::to_string(&ranked).map_err(unavailable)?,
            answers: serde_json::to_string(&answers).map_err(unavailable)?,
            audit: format!("[{}]", audit.join(",")),
        })
    }

    pub(super) fn params(&self) -> Vec<Param<'_>> {
        vec![
            (&self.messages, Type::TEXT),
            (&self.answers, Type::TEXT),
            (&self.audit, Type::TEXT),
        ]
    }
}

impl MessageLog for PostgresStore {
    fn record<'a>(
        &'a self,
        messages: &'a [MessageRecord],
        audit: &'a [String],
        answers: &'a [(&'a Claim, &'a StoredAnswer)],
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let record = Recorded::new(messages, audit, answers)?;
            self.query(RECORD, &record.params()).await.map(drop)
        })
    }

    fn message<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<MessageView>, Error>> {
        Box::pin(async move { self.json(MESSAGE, &[(&id, Type::TEXT)]).await })
    }

    fn messages<'a>(
        &'a self,
        filter: &'a MessageFilter,
    ) -> BoxFuture<'a, Result<MessagePage, Error>> {
        Box::pin(async move {
            let channel = filter.channel.map(|c| c.as_str());
            let template = filter.template.map(|t| t.as_str());
            let status = filter.status.map(|s| s.as_str());
            let category = filter.category.map(|c| c.as_str());
            let error_code = filter.error_code.map(|c| c.as_str());
            let since = rfc3339(filter.since);
            let until = rfc3339(filter.until);
            let after = rfc3339(filter.cursor.as_ref().map(|c| c.created_at));
            let after_id = filter.cursor.as_ref().map(|c| c.id.as_str());
            let limit = i64::from(filter.limit) + 1;
            let statement = match filter.recipient_hash {
                Some(_) => RECIPIENT_MESSAGES,
                None => MESSAGES,
            };
            let rows = self
                .query(
                    statement,
                    &[
                        (&channel, Type::TEXT),
                        (&status, Type::TEXT),
                        (&template, Type::TEXT),
                        (&filter.recipient_hash, Type::TEXT),
                        (&since, Type::TEXT),
                        (&until, Type::TEXT),
                        (&after, Type::TEXT),
                        (&after_id, Type::TEXT),
                        (&limit, Type::INT8),
                        (&filter.batch, Type::TEXT),
                        (&category, Type::TEXT),
                        (&filter.ever_failed, Type::BOOL),
                        (&error_code, Type::TEXT),
                        (&filter.idempotency_key, Type::TEXT),
                        (&filter.provider_message_id, Type::TEXT),
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
            Ok(page(views, filter.limit))
        })
    }

    fn stats<'a>(
        &'a self,
        since: Option<OffsetDateTime>,
        until: Option<OffsetDateTime>,
        zone: &'a str,
    ) -> BoxFuture<'a, Result<Stats, Error>> {
        Box::pin(async move {
            let since = rfc3339(since);
            let until = rfc3339(until);
            let stats: Option<Stats> = self
                .json(
                    STATS,
                    &[
                        (&since, Type::TEXT),
                        (&until, Type::TEXT),
                        (&zone, Type::TEXT),
                    ],
                )
                .await?;
            Ok(stats.unwrap_or_default())
        })
    }
}
