-- The records of sends (their messages replacing any under the same ids, their recipients, the
-- answers kept for their keys' replays, and their audit lines) as a function, so that each
-- session plans its statement once (PL/pgSQL keeps the plan) instead of on every send.
-- `p_messages` is an array of records with each status's rank; `p_answers` an array of
-- {scope, key, status, body}, one per key whose answer is kept; `p_audit` an array of lines.
CREATE OR REPLACE FUNCTION notify_record(p_messages jsonb, p_answers jsonb, p_audit jsonb)
    RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    answer record;
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
    )
    INSERT INTO notify_audit (event, line)
    SELECT l->>'event', l FROM jsonb_array_elements(p_audit) AS l;
    -- One key at a time, by its index: joined to the set, the planner (which takes a set
    -- function for 100 rows) could scan the whole table.
    FOR answer IN SELECT * FROM jsonb_to_recordset(p_answers)
            AS a(scope text, key text, status smallint, body text)
    LOOP
        UPDATE notify_idempotency SET status = answer.status, body = answer.body
            WHERE scope = answer.scope AND key = answer.key;
    END LOOP;
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

-- Admission's limits, each row found by its key's index: `IN (SELECT ... FROM
-- jsonb_to_recordset(...))` and `UPDATE ... FROM jsonb_to_recordset(...)` let the planner, which
-- takes a set function for 100 rows, scan the whole limits table on every send once it held a
-- few thousand patients' rows (about 1 ms a send at 5,000 rows, measured). Otherwise as in 001.
CREATE OR REPLACE FUNCTION notify_admit(p_limits jsonb, p_claim jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    now_ timestamptz := clock_timestamp();
    lim record;
    current_tat timestamptz;
    refused jsonb := '[]';
    refused_groups int[] := '{}';
    claim_row notify_idempotency;
    claim_state text := 'none';
BEGIN
    -- Every key this request counts against exists and is locked, in one order, so that two
    -- requests never deadlock and each sees the other's count.
    INSERT INTO notify_limits (key, tat)
        SELECT DISTINCT l.key, '-infinity'::timestamptz
        FROM jsonb_to_recordset(p_limits) AS l(key text)
        ORDER BY 1
        ON CONFLICT (key) DO NOTHING;
    PERFORM 1 FROM notify_limits
        WHERE key = ANY (ARRAY(SELECT l.key FROM jsonb_to_recordset(p_limits) AS l(key text)))
        ORDER BY key FOR UPDATE;

    -- Which groups are over their limit: a group is refused if any of its keys is.
    FOR lim IN SELECT * FROM jsonb_to_recordset(p_limits)
            AS l(key text, interval_us bigint, period_us bigint, grp int)
    LOOP
        SELECT greatest(tat, now_) INTO current_tat FROM notify_limits WHERE key = lim.key;
        IF current_tat + make_interval(secs => lim.interval_us / 1e6)
                - make_interval(secs => lim.period_us / 1e6) > now_ THEN
            refused_groups := array_append(refused_groups, lim.grp);
            refused := refused || jsonb_build_object(
                'group', lim.grp,
                'retryMs', ceil(extract(epoch FROM (current_tat
                    + make_interval(secs => lim.interval_us / 1e6)
                    - make_interval(secs => lim.period_us / 1e6) - now_)) * 1000));
        END IF;
    END LOOP;
    IF 0 = ANY (refused_groups) THEN
        RETURN jsonb_build_object('refused', refused, 'claim', 'none');
    END IF;

    -- The caller may go on: count it.
    FOR lim IN SELECT DISTINCT ON (l.key) * FROM jsonb_to_recordset(p_limits)
            AS l(key text, interval_us bigint, period_us bigint, grp int) WHERE l.grp = 0
    LOOP
        UPDATE notify_limits SET tat = greatest(tat, now_) + make_interval(secs => lim.interval_us / 1e6)
            WHERE key = lim.key;
    END LOOP;

    IF p_claim IS NOT NULL THEN
        DELETE FROM notify_idempotency
            WHERE scope = p_claim->>'scope' AND key = p_claim->>'key' AND expires_at <= now_;
        INSERT INTO notify_idempotency (scope, key, request_hash, lease_until, expires_at)
            VALUES (p_claim->>'scope', p_claim->>'key', p_claim->>'requestHash',
                    now_ + make_interval(secs => (p_claim->>'leaseMs')::bigint / 1e3),
                    now_ + make_interval(secs => (p_claim->>'ttlMs')::bigint / 1e3))
            ON CONFLICT (scope, key) DO NOTHING;
        IF FOUND THEN
            claim_state := 'claimed';
        ELSE
            SELECT * INTO claim_row FROM notify_idempotency
                WHERE scope = p_claim->>'scope' AND key = p_claim->>'key';
            IF claim_row.request_hash <> p_claim->>'requestHash' THEN
                RETURN jsonb_build_object('refused', '[]'::jsonb, 'claim', 'reused');
            ELSIF claim_row.status IS NOT NULL THEN
                RETURN jsonb_build_object('refused', '[]'::jsonb, 'claim', 'replay',
                    'status', claim_row.status, 'body', claim_row.body);
            ELSIF claim_row.lease_until > now_ THEN
                RETURN jsonb_build_object('refused', '[]'::jsonb, 'claim', 'inProgress',
                    'retryMs', ceil(extract(epoch FROM (claim_row.lease_until - now_)) * 1000));
            ELSE
                RETURN jsonb_build_object('refused', '[]'::jsonb, 'claim', 'abandoned');
            END IF;
        END IF;
    END IF;

    -- Each channel whose recipients are all under their caps counts them.
    FOR lim IN SELECT DISTINCT ON (l.key) * FROM jsonb_to_recordset(p_limits)
            AS l(key text, interval_us bigint, period_us bigint, grp int)
            WHERE l.grp <> 0 AND NOT (l.grp = ANY (refused_groups))
    LOOP
        UPDATE notify_limits SET tat = greatest(tat, now_) + make_interval(secs => lim.interval_us / 1e6)
            WHERE key = lim.key;
    END LOOP;

    -- A request refused on every channel it asked for sent nothing: its key is not kept.
    IF claim_state = 'claimed' AND (SELECT count(DISTINCT g) FROM unnest(refused_groups) g
                                    WHERE g <> 0) >= (p_claim->>'channels')::int THEN
        DELETE FROM notify_idempotency WHERE scope = p_claim->>'scope' AND key = p_claim->>'key';
        claim_state := 'none';
    END IF;
    RETURN jsonb_build_object('refused', refused, 'claim', claim_state);
END;
$$;
