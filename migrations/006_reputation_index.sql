-- The reputation guard counts hard bounces and complaints received over 24 hours and 7 days,
-- every minute (the dispatcher). Without this index each count read every event of the table;
-- with it, only the bounces and complaints of the window (a small share of all events).
CREATE INDEX notify_events_reputation ON notify_events (received_at)
    WHERE type IN ('bounced', 'complained');
