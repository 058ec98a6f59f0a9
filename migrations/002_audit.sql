-- The audit trail, kept: every send attempt, delivery event and refused webhook, appended as
-- the JSON line the function also writes to stdout (never an address, a number, a body or a
-- secret). Append-only: no code path updates it, and only retention deletes from it; the
-- README ("Audit trail") gives the grants that let the functions' role insert and read only.

CREATE TABLE notify_audit (
    id bigserial PRIMARY KEY,
    time timestamptz NOT NULL DEFAULT clock_timestamp(),
    event text NOT NULL,
    line jsonb NOT NULL
);
CREATE INDEX notify_audit_time ON notify_audit (time, id);
