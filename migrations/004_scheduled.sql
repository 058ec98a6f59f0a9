-- Scheduled sends: the request to send later, sealed by the application (AES-256-GCM under
-- NOTIFY_STORE_KEY: the database never holds it in the clear), until the dispatcher sends it
-- or it is cancelled; then its content is deleted and only the row's state is kept.

CREATE TABLE notify_scheduled (
    id text PRIMARY KEY,
    route text NOT NULL,
    send_at timestamptz NOT NULL,
    -- scheduled -> sending (leased to one dispatcher) -> sent; or cancelled; or unknown, when
    -- the dispatcher that was sending it stopped (it is never sent a second time).
    state text NOT NULL CHECK (state IN ('scheduled', 'sending', 'sent', 'cancelled', 'unknown')),
    content bytea,
    caller text NOT NULL,
    request_id text NOT NULL,
    -- The log's message of each channel it sends on.
    email_id text,
    sms_id text,
    lease_until timestamptz,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK ((content IS NULL) = (state IN ('sent', 'cancelled', 'unknown')))
);
CREATE INDEX notify_scheduled_due ON notify_scheduled (send_at) WHERE state = 'scheduled';
CREATE INDEX notify_scheduled_sending ON notify_scheduled (lease_until) WHERE state = 'sending';
CREATE INDEX notify_scheduled_email ON notify_scheduled (email_id);
CREATE INDEX notify_scheduled_sms ON notify_scheduled (sms_id);
