//! The statements of the Postgres store, one round trip each. Times cross as RFC 3339 text and
//! come back in the log's one format (UTC, microseconds), so both stores answer the same JSON.

pub(super) const ADMIT: &str = "SELECT notify_admit($1::jsonb, $2::jsonb)";

/// The messages of a send (replacing a scheduled one's record under the same id), their
/// recipients, the answer kept for replays, and the audit lines: `RECORD` and `SCHEDULE` share it.
macro_rules! record {
    () => {
        r#"
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
    ON CONFLICT (id) DO UPDATE SET provider = excluded.provider,
        provider_message_id = excluded.provider_message_id, status = excluded.status,
        status_rank = excluded.status_rank, error_code = excluded.error_code,
        updated_at = excluded.created_at
), recipients AS (
    INSERT INTO notify_recipients (message_id, position, masked, hash, status, status_rank)
    SELECT i.id, r.n - 1, r.masked, r.hash, i.status, i."statusRank"
    FROM input i,
        ROWS FROM (jsonb_to_recordset(i.recipients) AS (masked text, hash text))
        WITH ORDINALITY AS r(masked, hash, n)
    ON CONFLICT (message_id, position) DO UPDATE SET status = excluded.status,
        status_rank = excluded.status_rank
), answer AS (
    UPDATE notify_idempotency SET status = $4, body = $5 WHERE scope = $2 AND key = $3
), audit AS (
    INSERT INTO notify_audit (event, line)
    SELECT l->>'event', l FROM jsonb_array_elements($6::jsonb) AS l
)"#
    };
}

pub(super) const RECORD: &str = concat!(record!(), "\nSELECT 1");

/// A send kept for later: its messages (status `scheduled`) as `RECORD` writes them, and the
/// sealed request.
pub(super) const SCHEDULE: &str = concat!(
    record!(),
    r#", scheduled AS (
    INSERT INTO notify_scheduled (id, route, send_at, state, content, caller, request_id,
        email_id, sms_id)
    VALUES ($7, $8, $9::timestamptz, 'scheduled', $10, $11, $12, $13, $14)
)
SELECT 1"#
);

/// Leases up to $1 due sends for $2 ms; first, sends whose dispatcher stopped mid-way are
/// marked unknown (never sent twice), their messages failed as of unknown outcome.
pub(super) const DUE_SENDS: &str = r#"
WITH lapsed AS (
    UPDATE notify_scheduled SET state = 'unknown', content = NULL, lease_until = NULL,
        updated_at = clock_timestamp()
    WHERE state = 'sending' AND lease_until < clock_timestamp()
    RETURNING email_id, sms_id
), unknown AS (
    UPDATE notify_messages SET status = 'failed', status_rank = 3,
        error_code = 'provider_timeout', updated_at = clock_timestamp()
    WHERE status = 'scheduled' AND id IN (SELECT email_id FROM lapsed UNION SELECT sms_id FROM lapsed)
), unknown_recipients AS (
    UPDATE notify_recipients SET status = 'failed', status_rank = 3
    WHERE status = 'scheduled'
      AND message_id IN (SELECT email_id FROM lapsed UNION SELECT sms_id FROM lapsed)
), due AS (
    SELECT id FROM notify_scheduled
    WHERE state = 'scheduled' AND send_at <= clock_timestamp()
    ORDER BY send_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
)
UPDATE notify_scheduled s SET state = 'sending', updated_at = clock_timestamp(),
    lease_until = clock_timestamp() + make_interval(secs => $2 / 1e3)
FROM due WHERE s.id = due.id
RETURNING s.id, s.route, (extract(epoch FROM s.send_at) * 1000000)::int8, s.content, s.caller,
    s.request_id, s.email_id, s.sms_id"#;

pub(super) const SENT: &str = r#"
UPDATE notify_scheduled SET state = 'sent', content = NULL, lease_until = NULL,
    updated_at = clock_timestamp()
WHERE id = $1 AND state = 'sending'"#;

/// Moves ($2 set) or cancels ($2 NULL) the scheduled send $1 (or the one a message $1 is of),
/// only while it is scheduled; answers its id, its state before, whether it changed and its
/// time now.
pub(super) const CHANGE: &str = r#"
WITH target AS (
    SELECT id, state, send_at FROM notify_scheduled
    WHERE id = $1 OR email_id = $1 OR sms_id = $1
    LIMIT 1
    FOR UPDATE
), moved AS (
    UPDATE notify_scheduled s SET send_at = $2::timestamptz, updated_at = clock_timestamp()
    FROM target t WHERE s.id = t.id AND t.state = 'scheduled' AND $2::text IS NOT NULL
    RETURNING s.id
), cancelled AS (
    UPDATE notify_scheduled s SET state = 'cancelled', content = NULL, lease_until = NULL,
        updated_at = clock_timestamp()
    FROM target t WHERE s.id = t.id AND t.state = 'scheduled' AND $2::text IS NULL
    RETURNING s.email_id, s.sms_id
), messages AS (
    UPDATE notify_messages SET status = 'cancelled', status_rank = 6,
        updated_at = clock_timestamp()
    WHERE id IN (SELECT email_id FROM cancelled UNION SELECT sms_id FROM cancelled)
), recipients AS (
    UPDATE notify_recipients SET status = 'cancelled', status_rank = 6
    WHERE message_id IN (SELECT email_id FROM cancelled UNION SELECT sms_id FROM cancelled)
)
SELECT (SELECT id FROM target), (SELECT state FROM target),
    (SELECT count(*) FROM moved) + (SELECT count(*) FROM cancelled)"#;

/// A delivery event, kept once (see `notify_apply_event` in migrations/003_outbox.sql).
pub(super) const APPLY_EVENT: &str =
    "SELECT notify_apply_event($1::jsonb, $2, $3, $4::jsonb, $5, $6)";

/// Leases at most $1 events due for an attempt, for $2 ms: only the first waiting event of
/// each message (so a message's events go out in order), skipping what another dispatcher holds.
pub(super) const DUE_EVENTS: &str = r#"
WITH due AS (
    SELECT e.id FROM notify_events e
    WHERE e.forward = 'pending' AND e.next_attempt_at <= clock_timestamp()
      AND (e.lease_until IS NULL OR e.lease_until <= clock_timestamp())
      AND NOT EXISTS (
        SELECT 1 FROM notify_events p
        WHERE p.forward = 'pending' AND p.provider = e.provider
          AND p.provider_message_id = e.provider_message_id AND p.seq < e.seq)
    ORDER BY e.seq
    LIMIT $1
    FOR UPDATE SKIP LOCKED
)
UPDATE notify_events e
SET lease_until = clock_timestamp() + make_interval(secs => $2 / 1e3)
FROM due WHERE e.id = due.id
RETURNING e.id, e.payload::text, e.attempts"#;

/// Each attempt's outcome: delivered, failed, or pending again from its next time. An attempt
/// counts once: of two that raced (a lease ran out mid-attempt), the first to settle does.
pub(super) const SETTLE: &str = r#"
UPDATE notify_events e
SET forward = s.forward, next_attempt_at = s."nextAt", attempts = e.attempts + 1,
    lease_until = NULL, last_error = s.error
FROM jsonb_to_recordset($1::jsonb)
    AS s(id text, attempts smallint, forward text, "nextAt" timestamptz, error text)
WHERE e.id = s.id AND e.forward = 'pending' AND e.attempts = s.attempts"#;

/// Events in order after the one named $1 (which comes first, to tell that it exists), at most
/// $2 rows.
pub(super) const EVENTS: &str = r#"
SELECT id, payload FROM notify_events
WHERE payload IS NOT NULL
  AND ($1::text IS NULL OR seq >= (SELECT seq FROM notify_events WHERE id = $1))
ORDER BY seq
LIMIT $2"#;

/// Retention, bounded to $1 rows a table: expired idempotency keys, limit rows idle a day
/// (their limits have long recovered), messages (with their recipients and events) and orphan
/// events older than $2, audit lines older than $3; and the dispatch stamped with its summary.
pub(super) const SWEEP: &str = r#"
WITH keys AS (
    DELETE FROM notify_idempotency WHERE ctid IN (
        SELECT ctid FROM notify_idempotency WHERE expires_at < clock_timestamp() LIMIT $1)
    RETURNING 1
), limits AS (
    DELETE FROM notify_limits WHERE ctid IN (
        SELECT ctid FROM notify_limits WHERE tat < clock_timestamp() - interval '1 day'
        LIMIT $1)
    RETURNING 1
), messages AS (
    DELETE FROM notify_messages WHERE id IN (
        SELECT id FROM notify_messages WHERE created_at < $2::timestamptz
        ORDER BY created_at LIMIT $1)
    RETURNING 1
), orphans AS (
    DELETE FROM notify_events WHERE id IN (
        SELECT id FROM notify_events WHERE message_id IS NULL AND received_at < $2::timestamptz
        LIMIT $1)
    RETURNING 1
), scheduled AS (
    DELETE FROM notify_scheduled WHERE id IN (
        SELECT id FROM notify_scheduled
        WHERE state IN ('sent', 'cancelled', 'unknown') AND updated_at < $2::timestamptz
        LIMIT $1)
), audit AS (
    SELECT notify_expire_audit($3::timestamptz, $1::int) AS n
), stamp AS (
    INSERT INTO notify_dispatch (id, last_at, last) VALUES (true, clock_timestamp(), $4::jsonb)
    ON CONFLICT (id) DO UPDATE SET last_at = excluded.last_at, last = excluded.last
)
SELECT jsonb_build_object(
    'idempotencyKeys', (SELECT count(*) FROM keys),
    'limits', (SELECT count(*) FROM limits),
    'messages', (SELECT count(*) FROM messages),
    'orphanEvents', (SELECT count(*) FROM orphans),
    'auditLines', (SELECT n FROM audit))"#;

/// Health's view of the outbox and of scheduled sends: counts and times, never contents.
pub(super) const QUEUES: &str = r#"
SELECT jsonb_build_object(
    'outbox', (SELECT jsonb_build_object(
        'waiting', count(*) FILTER (WHERE forward = 'pending'),
        'oldestWaitingSeconds', floor(extract(epoch FROM
            clock_timestamp() - min(received_at) FILTER (WHERE forward = 'pending'))),
        'failed', count(*) FILTER (WHERE forward = 'failed'),
        'lastDispatchAt', (SELECT to_char(last_at AT TIME ZONE 'UTC',
            'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') FROM notify_dispatch))
        FROM notify_events WHERE forward IN ('pending', 'failed')),
    'scheduled', (SELECT jsonb_build_object(
        'waiting', count(*),
        'nextDueAt', to_char(min(send_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
        FROM notify_scheduled WHERE state = 'scheduled'))"#;

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
