-- Batches (issue 26): a day's reminders in one call. The batch is kept with its size and who
-- sent it; its messages and its items' sealed sends name it; the pacer keeps, per provider
-- rate, the earliest time its next batch send may start (shared by every instance).

CREATE TABLE notify_batches (
    id text PRIMARY KEY,
    caller text NOT NULL,
    request_id text NOT NULL,
    items integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX notify_batches_created ON notify_batches (created_at);

ALTER TABLE notify_messages ADD COLUMN batch_id text;
CREATE INDEX notify_messages_batch ON notify_messages (batch_id, created_at DESC, id DESC)
    WHERE batch_id IS NOT NULL;

ALTER TABLE notify_scheduled ADD COLUMN batch_id text;
CREATE INDEX notify_scheduled_batch_due ON notify_scheduled (batch_id, send_at)
    WHERE state = 'scheduled' AND batch_id IS NOT NULL;

CREATE TABLE notify_pace (
    key text PRIMARY KEY,
    next_at timestamptz NOT NULL
);
