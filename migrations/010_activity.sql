-- The activity page: a message's story reads the audit lines that name it (its scheduling,
-- its send attempts, the replays of its send), found by the message's id; and the log's
-- filters on the idempotency key and the latest error code stay quick on a large log.
CREATE INDEX notify_audit_message ON notify_audit ((line->>'id'))
    WHERE event IN ('send_attempt', 'send_scheduled', 'idempotent_replay');
CREATE INDEX notify_messages_idempotency_key ON notify_messages (idempotency_key)
    WHERE idempotency_key IS NOT NULL;
