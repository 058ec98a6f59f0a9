-- Reaching each patient only the way they can and want to be reached: the suppression list,
-- patients' choices per category and channel, SMS consent, all read by admission.
--
-- The suppression list: recipients (their keyed hash, never the address or number) not to be
-- sent to on a channel, for every category (scope NULL) or one; lifted entries stay on
-- record. At most one entry per recipient, channel and scope is in force.

-- The reputation guard as last measured (one row): its state and the counts behind it.
CREATE TABLE notify_reputation (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    state text NOT NULL,
    measured jsonb NOT NULL,
    changed_at timestamptz NOT NULL
);

-- Keeps a practice event (a suppression added or lifted, a preference changed, the reputation
-- guard's new state) in the events' one order and outbox, as `notify_apply_event` keeps a
-- delivery event (the same lock, so sequence numbers follow commit order): no message, its own
-- stream. 'copy' for an id kept already, 'kept' otherwise.
CREATE FUNCTION notify_keep_event(p_id text, p_type text, p_payload jsonb, p_forward boolean)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    now_ timestamptz;
BEGIN
    PERFORM pg_advisory_xact_lock(7310016);
    IF EXISTS (SELECT 1 FROM notify_events WHERE id = p_id) THEN
        RETURN 'copy';
    END IF;
    now_ := clock_timestamp();
    INSERT INTO notify_events (id, message_id, provider, provider_message_id, type, time, payload,
        forward, next_attempt_at)
    VALUES (p_id, NULL, 'notify', p_id, p_type, p_payload->>'timestamp', p_payload,
        CASE WHEN p_forward THEN 'pending' END, CASE WHEN p_forward THEN now_ END);
    RETURN 'kept';
END;
$$;

-- A time as the store reads it: RFC 3339 in UTC with microseconds.
CREATE FUNCTION notify_time_json(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;

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
-- What each message is about, why one was not sent (a suppression's reason or the rule that
-- declined it), and for a billing text whether consent was on file.
ALTER TABLE notify_messages ADD COLUMN category text, ADD COLUMN reason text,
    ADD COLUMN consent_on_file boolean;

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
        'createdAt', notify_time_json(s.created_at), 'liftedAt', notify_time_json(s.lifted_at))
$$;

-- Patients' choices: per recipient (keyed hash), channel and category, on or off.
CREATE TABLE notify_preferences (
    recipient_hash text NOT NULL,
    channel text NOT NULL,
    category text NOT NULL,
    enabled boolean NOT NULL,
    masked text NOT NULL,
    source text NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (recipient_hash, channel, category)
);

-- A phone's consent to texts: when, where, and the wording agreed to.
CREATE TABLE notify_consent (
    recipient_hash text PRIMARY KEY,
    masked text NOT NULL,
    at timestamptz NOT NULL,
    source text NOT NULL,
    text_version text NOT NULL,
    recorded_at timestamptz NOT NULL
);

-- Each recipient is looked up by its key (LATERAL, with OFFSET 0 so that the planner keeps it a
-- nested loop of index lookups rather than a hash join over the whole table): admission stays
-- as fast with ten thousand suppressions and choices as with none.
-- What the store reads of choices and consent (src/store/preferences.rs, `Chosen`) for
-- p_recipients: [{channel, hash, category?}] (with a category, only that category's choice).
CREATE FUNCTION notify_chosen(p_recipients jsonb) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
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
                WHERE c.recipient_hash = r.hash AND r.channel = 'sms' OFFSET 0) c), '[]'::jsonb))
$$;

-- Admission with the suppression list read in the same statement: what the two-argument
-- admission answers and, when the request may go on, the entries in force that stop one of
-- its reaches (p_reach: [{channel, hash, category}]), and the patients' choices for those
-- categories with the phones' consent (`chosen`), and whether the reputation guard holds
-- (`held`). The two-argument form stays for
-- instances of the previous release during a deploy.
CREATE FUNCTION notify_admit(p_limits jsonb, p_claim jsonb, p_reach jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    answer jsonb := notify_admit(p_limits, p_claim);
BEGIN
    IF answer->>'claim' IN ('none', 'claimed') AND NOT answer->'refused' @> '[{"group": 0}]' THEN
        answer := answer || jsonb_build_object('held',
            coalesce((SELECT g.state = 'held' FROM notify_reputation g), false));
        IF jsonb_array_length(p_reach) > 0 THEN
            answer := answer || jsonb_build_object('suppressed', coalesce((
                SELECT jsonb_agg(DISTINCT notify_suppression_json(s))
                FROM jsonb_to_recordset(p_reach) AS r(channel text, hash text, category text)
                CROSS JOIN LATERAL (SELECT * FROM notify_suppressions s
                    WHERE s.recipient_hash = r.hash AND s.channel = r.channel
                      AND (s.scope IS NULL OR s.scope = r.category) AND s.lifted_at IS NULL
                    OFFSET 0) s),
                '[]'::jsonb),
                'chosen', notify_chosen((SELECT coalesce(jsonb_agg(r.value), '[]'::jsonb)
                    FROM jsonb_array_elements(p_reach) AS r(value)
                    WHERE r.value->>'category' IS NOT NULL OR r.value->>'channel' = 'sms')));
        END IF;
    END IF;
    RETURN answer;
END;
$$;
