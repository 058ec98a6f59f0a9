//! The Postgres store's batches: kept in one statement with their messages and sends, counted
//! by status, cancelled while they wait.

use std::collections::BTreeMap;

use base64::Engine;
use serde::Serialize;
use time::OffsetDateTime;
use tokio_postgres::types::{Json, ToSql, Type};

use super::log::{Recorded, record};
use super::{PostgresStore, rfc3339};
use crate::error::Error;
use crate::names::MessageStatus;
use crate::store::{
    BatchRecord, BatchView, Batches, Claim, MessageRecord, ScheduledSend, StoredAnswer, unavailable,
};
use crate::support::BoxFuture;

/// A batch: its messages as `RECORD` writes them, the sealed sends of its items ($4, their
/// content base64), and the batch itself ($5 to $9).
const KEEP_BATCH: &str = concat!(
    r#"WITH sends AS (
    INSERT INTO notify_scheduled (id, route, send_at, state, content, caller, request_id,
        email_id, sms_id, batch_id)
    SELECT s.id, s.route, s."sendAt", 'scheduled', decode(s.content, 'base64'), s.caller,
        s."requestId", s."emailId", s."smsId", $5
    FROM jsonb_to_recordset($4::jsonb) AS s(id text, route text, "sendAt" timestamptz,
        content text, caller text, "requestId" text, "emailId" text, "smsId" text)
), batch AS (
    INSERT INTO notify_batches (id, caller, request_id, items, created_at)
    VALUES ($5, $6, $7, $8, $9::timestamptz)
)
SELECT "#,
    record!()
);

const BATCH: &str = r#"
SELECT b.id, b.caller, b.items, (extract(epoch FROM b.created_at) * 1000000)::int8,
    (SELECT coalesce(jsonb_object_agg(status, n), '{}') FROM (
        SELECT status, count(*) AS n FROM notify_messages WHERE batch_id = b.id GROUP BY 1) c)
FROM notify_batches b WHERE b.id = $1"#;

/// Cancels the batch $1's sends still waiting, their messages then cancelled ($2, ranked $3);
/// answers whether the batch exists and how many were cancelled.
const CANCEL_BATCH: &str = r#"
WITH cancelled AS (
    UPDATE notify_scheduled SET state = 'cancelled', content = NULL, lease_until = NULL,
        updated_at = clock_timestamp()
    WHERE batch_id = $1 AND state = 'scheduled'
    RETURNING email_id, sms_id
), messages AS (
    UPDATE notify_messages SET status = $2, status_rank = $3, updated_at = clock_timestamp()
    WHERE id IN (SELECT email_id FROM cancelled UNION SELECT sms_id FROM cancelled)
), recipients AS (
    UPDATE notify_recipients SET status = $2, status_rank = $3
    WHERE message_id IN (SELECT email_id FROM cancelled UNION SELECT sms_id FROM cancelled)
)
SELECT EXISTS (SELECT 1 FROM notify_batches WHERE id = $1), (SELECT count(*) FROM cancelled)"#;

const CANCELLED: MessageStatus = MessageStatus::Cancelled;

/// One send of a batch as `KEEP_BATCH` reads it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SendRow<'a> {
    id: &'a str,
    route: &'a str,
    send_at: Option<String>,
    content: String,
    caller: String,
    request_id: &'a str,
    email_id: Option<&'a str>,
    sms_id: Option<&'a str>,
}

impl Batches for PostgresStore {
    fn keep_batch<'a>(
        &'a self,
        batch: &'a BatchRecord,
        sends: &'a [ScheduledSend],
        messages: &'a [MessageRecord],
        audit: &'a [String],
        answer: Option<(&'a Claim, &'a StoredAnswer)>,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let record = Recorded::new(messages, audit, answer.as_slice())?;
            let base64 = base64::engine::general_purpose::STANDARD;
            let rows: Vec<SendRow> = sends
                .iter()
                .map(|send| SendRow {
                    id: &send.id,
                    route: send.route.as_str(),
                    send_at: rfc3339(Some(send.send_at)),
                    content: base64.encode(&send.content),
                    caller: send.caller.to_string(),
                    request_id: &send.request_id,
                    email_id: send.email_id.as_deref(),
                    sms_id: send.sms_id.as_deref(),
                })
                .collect();
            let rows = serde_json::to_string(&rows).map_err(unavailable)?;
            let items = batch.items as i32;
            let created_at = rfc3339(Some(batch.created_at));
            let mut params = record.params();
            params.extend_from_slice(&[
                (&rows as &(dyn ToSql + Sync), Type::TEXT),
                (&batch.id, Type::TEXT),
                (&batch.caller, Type::TEXT),
                (&batch.request_id, Type::TEXT),
                (&items, Type::INT4),
                (&created_at, Type::TEXT),
            ]);
            self.query(KEEP_BATCH, &params).await.map(drop)
        })
    }

    fn batch<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<BatchView>, Error>> {
        Box::pin(async move {
            let rows = self
                .query(BATCH, &[(&id as &(dyn ToSql + Sync), Type::TEXT)])
                .await?;
            let Some(row) = rows.first() else {
                return Ok(None);
            };
            let items: i32 = row.try_get(2).map_err(unavailable)?;
            let micros: i64 = row.try_get(3).map_err(unavailable)?;
            let Json(counts): Json<BTreeMap<String, u64>> = row.try_get(4).map_err(unavailable)?;
            Ok(Some(BatchView {
                id: row.try_get(0).map_err(unavailable)?,
                caller: row.try_get(1).map_err(unavailable)?,
                items: items as u32,
                created_at: OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
                    .map_err(unavailable)?,
                counts,
            }))
        })
    }

    fn cancel_batch<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<u64>, Error>> {
        Box::pin(async move {
            let rows = self
                .query(
                    CANCEL_BATCH,
                    &[
                        (&id as &(dyn ToSql + Sync), Type::TEXT),
                        (&CANCELLED.as_str(), Type::TEXT),
                        (&i16::from(CANCELLED.rank()), Type::INT2),
                    ],
                )
                .await?;
            let row = rows
                .first()
                .ok_or_else(|| unavailable("no answer to a batch's cancelling"))?;
            let exists: bool = row.try_get(0).map_err(unavailable)?;
            let cancelled: i64 = row.try_get(1).map_err(unavailable)?;
            Ok(exists.then_some(cancelled as u64))
        })
    }
}
