//! The statements of the Postgres store, one round trip each. Times cross as RFC 3339 text and
//! come back in the log's one format (UTC, microseconds), so both stores answer the same JSON.

pub(super) const ADMIT: &str = "SELECT notify_admit($1::jsonb, $2::jsonb)";

/// The messages of a send, their recipients and, with a key, the answer kept for replays.
pub(super) const RECORD: &str = r#"
WITH input AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS m(
        id text, channel text, template text, provider text, "providerMessageId" text,
        status text, "statusRank" smallint, "errorCode" text, caller text, "requestId" text,
        "idempotencyKey" text, "createdAt" timestamptz, recipients jsonb)
), messages AS (
    INSERT INTO notify_messages (id, channel, template, provider, provider_message_id, status,
        status_rank, error_code, caller, request_id, idempotency_key, created_at, updated_at)
    SELECT id, channel, template, provider, "providerMessageId", status, "statusRank",
        "errorCode", caller, "requestId", "idempotencyKey", "createdAt", "createdAt"
    FROM input
), recipients AS (
    INSERT INTO notify_recipients (message_id, position, masked, hash, status, status_rank)
    SELECT i.id, r.n - 1, r.masked, r.hash, i.status, i."statusRank"
    FROM input i,
        ROWS FROM (jsonb_to_recordset(i.recipients) AS (masked text, hash text))
        WITH ORDINALITY AS r(masked, hash, n)
), answer AS (
    UPDATE notify_idempotency SET status = $4, body = $5 WHERE scope = $2 AND key = $3
), audit AS (
    INSERT INTO notify_audit (event, line)
    SELECT l->>'event', l FROM jsonb_array_elements($6::jsonb) AS l
)
SELECT 1"#;

/// A delivery event, kept once per id (with its audit line), moving its message and recipient
/// forward only.
pub(super) const APPLY_EVENT: &str = r#"
WITH message AS (
    SELECT id FROM notify_messages WHERE provider = $2 AND provider_message_id = $3
    ORDER BY created_at DESC LIMIT 1
), event AS (
    INSERT INTO notify_events (id, message_id, provider, provider_message_id, type,
        recipient_hash, time, error_code, retryable)
    VALUES ($1, (SELECT id FROM message), $2, $3, $4, $6, $7, $8, $9)
    ON CONFLICT (id) DO NOTHING
    RETURNING message_id
), status AS (
    UPDATE notify_messages SET status = $4, status_rank = $5, updated_at = clock_timestamp()
    WHERE id = (SELECT message_id FROM event) AND status_rank < $5
), recipient AS (
    UPDATE notify_recipients SET status = $4, status_rank = $5
    WHERE message_id = (SELECT message_id FROM event) AND hash = $6 AND status_rank < $5
), audit AS (
    INSERT INTO notify_audit (event, line) SELECT 'delivery_event', $10::jsonb FROM event
)
SELECT count(*) FROM event"#;

pub(super) const APPEND_AUDIT: &str =
    "INSERT INTO notify_audit (event, line) VALUES ($1::jsonb->>'event', $1::jsonb)";

/// Oldest first, after the cursor ($3), at most $4 lines.
pub(super) const AUDIT: &str = r#"
SELECT id, line::text FROM notify_audit
WHERE ($1::text IS NULL OR time >= $1::timestamptz)
  AND ($2::text IS NULL OR time < $2::timestamptz)
  AND ($3::int8 IS NULL OR id > $3)
ORDER BY id
LIMIT $4"#;

/// A message as JSON (see `MessageView`), `m` being its row.
macro_rules! view {
    () => {
        r#"jsonb_build_object(
    'id', m.id, 'channel', m.channel, 'template', m.template, 'provider', m.provider,
    'providerMessageId', m.provider_message_id, 'status', m.status, 'errorCode', m.error_code,
    'caller', m.caller, 'requestId', m.request_id, 'idempotencyKey', m.idempotency_key,
    'createdAt', to_char(m.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    'updatedAt', to_char(m.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    'recipients', (SELECT coalesce(jsonb_agg(jsonb_build_object(
            'masked', r.masked, 'hash', r.hash, 'status', r.status) ORDER BY r.position), '[]')
        FROM notify_recipients r WHERE r.message_id = m.id))"#
    };
}

pub(super) const MESSAGE: &str = concat!(
    "SELECT ",
    view!(),
    r#" || jsonb_build_object('events', (SELECT coalesce(jsonb_agg(jsonb_build_object(
        'type', e.type, 'time', e.time, 'errorCode', e.error_code, 'retryable', e.retryable)
        ORDER BY e.received_at, e.id), '[]') FROM notify_events e WHERE e.message_id = m.id))
FROM notify_messages m WHERE m.id = $1 OR m.provider_message_id = $1
ORDER BY m.id = $1 DESC, m.created_at DESC LIMIT 1"#
);

/// Newest first, after the cursor ($7, $8), at most $9 rows.
pub(super) const MESSAGES: &str = concat!(
    "SELECT ",
    view!(),
    r#"
FROM notify_messages m
WHERE ($1::text IS NULL OR m.channel = $1)
  AND ($2::text IS NULL OR m.status = $2)
  AND ($3::text IS NULL OR m.template = $3)
  AND ($4::text IS NULL OR EXISTS (
        SELECT 1 FROM notify_recipients r WHERE r.message_id = m.id AND r.hash = $4))
  AND ($5::text IS NULL OR m.created_at >= $5::timestamptz)
  AND ($6::text IS NULL OR m.created_at < $6::timestamptz)
  AND ($7::text IS NULL OR (m.created_at, m.id) < ($7::timestamptz, $8))
ORDER BY m.created_at DESC, m.id DESC
LIMIT $9"#
);

pub(super) const STATS: &str = r#"
WITH s AS (
    SELECT channel, status, template FROM notify_messages
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
        SELECT template, count(*) AS n FROM s WHERE template IS NOT NULL GROUP BY 1) templates))"#;
