-- The suppression list: recipients (their keyed hash, never the address or number) not to be
-- sent to on a channel, for every category (scope NULL) or one; lifted entries stay on
-- record. At most one entry per recipient, channel and scope is in force.

CREATE TABLE notify_suppressions (
    id text PRIMARY KEY,
    channel text NOT NULL,
    recipient_hash text NOT NULL,
    masked text NOT NULL,
    scope text,
    reason text NOT NULL,
    source text NOT NULL,
    inferred boolean NOT NULL DEFAULT false,
    message_id text,
    created_at timestamptz NOT NULL,
    lifted_at timestamptz
);
-- What each message is about, and why one was not sent (a suppression's reason).
ALTER TABLE notify_messages ADD COLUMN category text, ADD COLUMN reason text;

CREATE UNIQUE INDEX notify_suppressions_in_force
    ON notify_suppressions (recipient_hash, channel, coalesce(scope, ''))
    WHERE lifted_at IS NULL;
CREATE INDEX notify_suppressions_newest ON notify_suppressions (created_at DESC, id DESC);

-- An entry as the store reads it (src/store/suppression.rs, `Suppression`).
CREATE FUNCTION notify_suppression_json(s notify_suppressions) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('id', s.id, 'channel', s.channel,
        'recipientHash', s.recipient_hash, 'masked', s.masked, 'scope', s.scope,
        'reason', s.reason, 'source', s.source, 'inferred', s.inferred,
        'messageId', s.message_id,
        'createdAt', to_char(s.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        'liftedAt', to_char(s.lifted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
$$;

-- Admission with the suppression list read in the same statement: what the two-argument
-- admission answers and, when the request may go on, the entries in force that stop one of
-- its reaches (p_reach: [{channel, hash, category}]). The two-argument form stays for
-- instances of the previous release during a deploy.
CREATE FUNCTION notify_admit(p_limits jsonb, p_claim jsonb, p_reach jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    answer jsonb := notify_admit(p_limits, p_claim);
BEGIN
    IF answer->>'claim' IN ('none', 'claimed')
            AND NOT answer->'refused' @> '[{"group": 0}]'
            AND jsonb_array_length(p_reach) > 0 THEN
        answer := answer || jsonb_build_object('suppressed', coalesce((
            SELECT jsonb_agg(DISTINCT notify_suppression_json(s))
            FROM notify_suppressions s
            JOIN jsonb_to_recordset(p_reach) AS r(channel text, hash text, category text)
              ON s.recipient_hash = r.hash AND s.channel = r.channel
             AND (s.scope IS NULL OR s.scope = r.category)
            WHERE s.lifted_at IS NULL), '[]'::jsonb));
    END IF;
    RETURN answer;
END;
$$;
