-- The records of sends (their messages replacing any under the same ids, their recipients, the
-- answers kept for their keys' replays, and their audit lines) as a function, so that each
-- session plans its statement once (PL/pgSQL keeps the plan) instead of on every send.
-- `p_messages` is an array of records with each status's rank; `p_answers` an array of
-- {scope, key, status, body}, one per key whose answer is kept; `p_audit` an array of lines.
CREATE OR REPLACE FUNCTION notify_record(p_messages jsonb, p_answers jsonb, p_audit jsonb)
    RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    WITH input AS (
        SELECT * FROM jsonb_to_recordset(p_messages) AS m(
            id text, channel text, template text, provider text, "providerMessageId" text,
            status text, "statusRank" smallint, "errorCode" text, category text, reason text, "consentOnFile" boolean,
            "fallbackOf" text, "batchId" text, caller text, "requestId" text,
            "idempotencyKey" text, "createdAt" timestamptz, recipients jsonb, "recipientRanks" jsonb)
    ), messages AS (
        INSERT INTO notify_messages (id, channel, template, provider, provider_message_id, status,
            status_rank, error_code, category, reason, consent_on_file, fallback_of, batch_id, caller,
            request_id, idempotency_key, created_at, updated_at)
        SELECT id, channel, template, provider, "providerMessageId", status, "statusRank",
            "errorCode", category, reason, "consentOnFile", "fallbackOf", "batchId", caller, "requestId",
            "idempotencyKey", "createdAt", "createdAt"
        FROM input
        ON CONFLICT (id) DO UPDATE SET provider = excluded.provider,
            provider_message_id = excluded.provider_message_id, status = excluded.status,
            status_rank = excluded.status_rank, error_code = excluded.error_code,
            category = coalesce(excluded.category, notify_messages.category),
            reason = excluded.reason, consent_on_file = excluded.consent_on_file,
            fallback_of = coalesce(excluded.fallback_of, notify_messages.fallback_of),
            batch_id = coalesce(excluded.batch_id, notify_messages.batch_id),
            updated_at = excluded.created_at
    ), recipients AS (
        INSERT INTO notify_recipients (message_id, position, masked, hash, status, status_rank)
        SELECT i.id, r.n - 1, r.masked, r.hash, r.status, (i."recipientRanks"->>(r.n - 1)::int)::smallint
        FROM input i,
            ROWS FROM (jsonb_to_recordset(i.recipients) AS (masked text, hash text, status text))
            WITH ORDINALITY AS r(masked, hash, status, n)
        ON CONFLICT (message_id, position) DO UPDATE SET status = excluded.status,
            status_rank = excluded.status_rank
    ), answers AS (
        UPDATE notify_idempotency i SET status = a.status, body = a.body
        FROM jsonb_to_recordset(p_answers) AS a(scope text, key text, status smallint, body text)
        WHERE i.scope = a.scope AND i.key = a.key
    )
    INSERT INTO notify_audit (event, line)
    SELECT l->>'event', l FROM jsonb_array_elements(p_audit) AS l;
END
$$;

-- The patients' choices and consent that admission reads, in PL/pgSQL too: as a SQL function it
-- was planned again on every send (about 0.2 ms of the database's time each, measured).
CREATE OR REPLACE FUNCTION notify_chosen(p_recipients jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN jsonb_build_object(
        'choices', coalesce((
            SELECT jsonb_agg(DISTINCT jsonb_build_object('channel', p.channel,
                'recipientHash', p.recipient_hash, 'masked', p.masked, 'category', p.category,
                'enabled', p.enabled, 'source', p.source,
                'updatedAt', notify_time_json(p.updated_at)))
            FROM jsonb_to_recordset(p_recipients) AS r(channel text, hash text, category text)
            CROSS JOIN LATERAL (SELECT * FROM notify_preferences p
                WHERE p.recipient_hash = r.hash AND p.channel = r.channel
                  AND (r.category IS NULL OR p.category = r.category) OFFSET 0) p), '[]'::jsonb),
        'consent', coalesce((
            SELECT jsonb_agg(jsonb_build_object('recipientHash', c.recipient_hash,
                'masked', c.masked, 'at', notify_time_json(c.at), 'source', c.source,
                'textVersion', c.text_version, 'recordedAt', notify_time_json(c.recorded_at)))
            FROM jsonb_to_recordset(p_recipients) AS r(channel text, hash text)
            CROSS JOIN LATERAL (SELECT * FROM notify_consent c
                WHERE c.recipient_hash = r.hash AND r.channel = 'sms' OFFSET 0) c), '[]'::jsonb));
END
$$;
