-- The rows every send updates stay on their page (heap-only tuple updates, no index touched):
-- a limit's `tat` is no longer indexed (the daily sweep reads the small table whole), and the
-- limits and idempotency keys keep room on each page for their next version. The fill factor
-- applies to pages written from now on.
DROP INDEX IF EXISTS notify_limits_tat;
ALTER TABLE notify_limits SET (fillfactor = 70);
ALTER TABLE notify_idempotency SET (fillfactor = 80);
