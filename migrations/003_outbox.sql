-- The events outbox and the dispatcher. Each delivery event keeps the JSON it is forwarded as
-- (and served as by GET /api/events), its place in one global order (seq), and, when it is
-- meant for NOTIFY_EVENTS_URL, where its forwarding stands: pending (with the next attempt's
-- time and the lease of whoever is attempting it), delivered or failed.

ALTER TABLE notify_events
    ADD COLUMN seq bigserial,
    ADD COLUMN payload jsonb,
    ADD COLUMN forward text CHECK (forward IN ('pending', 'delivered', 'failed')),
    ADD COLUMN attempts smallint NOT NULL DEFAULT 0,
    ADD COLUMN next_attempt_at timestamptz,
    ADD COLUMN lease_until timestamptz,
    ADD COLUMN last_error text;
CREATE UNIQUE INDEX notify_events_seq ON notify_events (seq);
CREATE INDEX notify_events_due ON notify_events (next_attempt_at) WHERE forward = 'pending';
CREATE INDEX notify_events_waiting ON notify_events (provider, provider_message_id, seq)
    WHERE forward = 'pending';
CREATE INDEX notify_events_failed ON notify_events (forward) WHERE forward = 'failed';
CREATE INDEX notify_events_orphans ON notify_events (received_at) WHERE message_id IS NULL;
CREATE INDEX notify_idempotency_expiry ON notify_idempotency (expires_at);
CREATE INDEX notify_limits_tat ON notify_limits (tat);

-- The last dispatch: one row.
CREATE TABLE notify_dispatch (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    last_at timestamptz NOT NULL,
    last jsonb NOT NULL
);

-- Keeps a delivery event once, moves its message and recipient forward (never back), appends
-- its audit line and, when it is to be forwarded, queues it. Answers 'copy' for a report kept
-- already, 'claimed' when the caller may make the first attempt now (no earlier event of the
-- same message is waiting, so the order holds), 'kept' otherwise.
CREATE FUNCTION notify_apply_event(p_payload jsonb, p_status text, p_rank smallint,
                                   p_audit jsonb, p_forward boolean, p_lease_ms int)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    e jsonb := p_payload->'data';
    now_ timestamptz;
    message text;
    claimed boolean := false;
BEGIN
    -- One writer at a time, and each statement below sees what the previous writer committed:
    -- sequence numbers follow commit order, so a reader of /api/events that has seen an event
    -- has seen every event before it, and the copy and order checks see every earlier event.
    PERFORM pg_advisory_xact_lock(7310016);
    IF EXISTS (SELECT 1 FROM notify_events WHERE id = e->>'id') THEN
        RETURN 'copy';
    END IF;
    now_ := clock_timestamp();
    SELECT id INTO message FROM notify_messages
        WHERE provider = e->>'provider' AND provider_message_id = e->>'provider_message_id'
        ORDER BY created_at DESC LIMIT 1;
    IF p_forward THEN
        claimed := NOT EXISTS (SELECT 1 FROM notify_events
            WHERE provider = e->>'provider' AND provider_message_id = e->>'provider_message_id'
              AND forward = 'pending');
    END IF;
    INSERT INTO notify_events (id, message_id, provider, provider_message_id, type,
        recipient_hash, time, error_code, retryable, payload, forward, next_attempt_at,
        lease_until)
    VALUES (e->>'id', message, e->>'provider', e->>'provider_message_id', p_status,
        e->>'recipient_hash', e->>'time', e->>'error_code', (e->>'retryable')::boolean,
        p_payload, CASE WHEN p_forward THEN 'pending' END,
        CASE WHEN p_forward THEN now_ END,
        CASE WHEN claimed THEN now_ + make_interval(secs => p_lease_ms / 1e3) END);
    IF message IS NOT NULL AND p_rank > 0 THEN
        UPDATE notify_messages SET status = p_status, status_rank = p_rank, updated_at = now_
            WHERE id = message AND status_rank < p_rank;
        UPDATE notify_recipients SET status = p_status, status_rank = p_rank
            WHERE message_id = message AND hash = e->>'recipient_hash' AND status_rank < p_rank;
    END IF;
    INSERT INTO notify_audit (event, line) VALUES ('delivery_event', p_audit);
    RETURN CASE WHEN claimed THEN 'claimed' ELSE 'kept' END;
END;
$$;

-- Retention of the audit trail, the one way rows leave it: a role given EXECUTE on this (and
-- only INSERT and SELECT on the table) can expire rows older than the date it passes, and
-- cannot change or delete any other (README, "Audit trail").
CREATE FUNCTION notify_expire_audit(p_before timestamptz, p_max int) RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH gone AS (
        DELETE FROM notify_audit WHERE id IN (
            SELECT id FROM notify_audit WHERE time < p_before ORDER BY id LIMIT p_max)
        RETURNING 1)
    SELECT count(*) FROM gone
$$;
REVOKE ALL ON FUNCTION notify_expire_audit(timestamptz, int) FROM PUBLIC;
