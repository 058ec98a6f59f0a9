-- Batches (issue 26): a delivery event of a batch's message carries its batch (`batch_id` in
-- the event's data), in the outbox (what the dispatcher forwards and GET /api/events serves)
-- and in the answer (what the first attempt forwards). The rest is 003's function as it was.
DROP FUNCTION notify_apply_event(jsonb, text, smallint, jsonb, boolean, int);
CREATE FUNCTION notify_apply_event(p_payload jsonb, p_status text, p_rank smallint,
                                   p_audit jsonb, p_forward boolean, p_lease_ms int)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    e jsonb := p_payload->'data';
    now_ timestamptz;
    message text;
    batch text;
    claimed boolean := false;
BEGIN
    -- One writer at a time, and each statement below sees what the previous writer committed:
    -- sequence numbers follow commit order, so a reader of /api/events that has seen an event
    -- has seen every event before it, and the copy and order checks see every earlier event.
    PERFORM pg_advisory_xact_lock(7310016);
    IF EXISTS (SELECT 1 FROM notify_events WHERE id = e->>'id') THEN
        RETURN jsonb_build_object('fate', 'copy');
    END IF;
    now_ := clock_timestamp();
    SELECT id, batch_id INTO message, batch FROM notify_messages
        WHERE provider = e->>'provider' AND provider_message_id = e->>'provider_message_id'
        ORDER BY created_at DESC LIMIT 1;
    IF batch IS NOT NULL THEN
        p_payload := jsonb_set(p_payload, '{data,batch_id}', to_jsonb(batch));
    END IF;
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
    RETURN jsonb_build_object('fate', CASE WHEN claimed THEN 'claimed' ELSE 'kept' END,
        'batchId', batch);
END;
$$;
