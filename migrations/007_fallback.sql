-- Fallback (issue 26): a message sent instead of an earlier channel's, which could not reach the
-- patient, names it; the original finds its fallback through the index.
ALTER TABLE notify_messages ADD COLUMN fallback_of text;
CREATE INDEX notify_messages_fallback_of ON notify_messages (fallback_of)
    WHERE fallback_of IS NOT NULL;
