-- The notification API's first schema: idempotency keys, the message log with its recipients
-- and delivery events, and the rate limits every instance shares. Applied by the functions on
-- first use (under an advisory lock), or ahead of a deploy with `psql -f` (README, "Database").

CREATE TABLE notify_limits (
    key text PRIMARY KEY,
    -- GCRA's theoretical arrival time: the key is over its limit while this is more than one
    -- period ahead of now.
    tat timestamptz NOT NULL
);

CREATE TABLE notify_idempotency (
    scope text NOT NULL,
    key text NOT NULL,
    request_hash text NOT NULL,
    -- The first answer, once there is one; NULL while its request runs.
    status smallint,
    body text,
    lease_until timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE TABLE notify_messages (
    id text PRIMARY KEY,
    channel text NOT NULL,
    template text,
    provider text NOT NULL,
    provider_message_id text,
    status text NOT NULL,
    status_rank smallint NOT NULL,
    error_code text,
    caller text NOT NULL,
    request_id text NOT NULL,
    idempotency_key text,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX notify_messages_newest ON notify_messages (created_at DESC, id DESC);
CREATE INDEX notify_messages_provider_id ON notify_messages (provider_message_id)
    WHERE provider_message_id IS NOT NULL;

CREATE TABLE notify_recipients (
    message_id text NOT NULL REFERENCES notify_messages (id) ON DELETE CASCADE,
    position smallint NOT NULL,
    masked text NOT NULL,
    hash text NOT NULL,
    status text NOT NULL,
    status_rank smallint NOT NULL,
    PRIMARY KEY (message_id, position)
);
CREATE INDEX notify_recipients_hash ON notify_recipients (hash);

CREATE TABLE notify_events (
    id text PRIMARY KEY,
    -- NULL for a report about a message this log does not hold (an orphan), kept all the same.
    message_id text REFERENCES notify_messages (id) ON DELETE CASCADE,
    provider text NOT NULL,
    provider_message_id text NOT NULL,
    type text NOT NULL,
    recipient_hash text,
    time text NOT NULL,
    error_code text,
    retryable boolean,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notify_events_message ON notify_events (message_id, received_at);

-- Admission of one send request, atomically: the caller's rate (group 0), then the
-- idempotency key, then each channel's recipient caps (groups 1 and up, each all or nothing).
-- Returns what the service needs to go on or refuse; see src/store/mod.rs, `Admission`.
CREATE FUNCTION notify_admit(p_limits jsonb, p_claim jsonb) RETURNS jsonb
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
        WHERE key IN (SELECT l.key FROM jsonb_to_recordset(p_limits) AS l(key text))
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
    UPDATE notify_limits n SET tat = greatest(n.tat, now_) + make_interval(secs => l.interval_us / 1e6)
        FROM jsonb_to_recordset(p_limits) AS l(key text, interval_us bigint, grp int)
        WHERE n.key = l.key AND l.grp = 0;

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
    UPDATE notify_limits n SET tat = greatest(n.tat, now_) + make_interval(secs => l.interval_us / 1e6)
        FROM jsonb_to_recordset(p_limits) AS l(key text, interval_us bigint, grp int)
        WHERE n.key = l.key AND l.grp <> 0 AND NOT (l.grp = ANY (refused_groups));

    -- A request refused on every channel it asked for sent nothing: its key is not kept.
    IF claim_state = 'claimed' AND (SELECT count(DISTINCT g) FROM unnest(refused_groups) g
                                    WHERE g <> 0) >= (p_claim->>'channels')::int THEN
        DELETE FROM notify_idempotency WHERE scope = p_claim->>'scope' AND key = p_claim->>'key';
        claim_state := 'none';
    END IF;
    RETURN jsonb_build_object('refused', refused, 'claim', claim_state);
END;
$$;
