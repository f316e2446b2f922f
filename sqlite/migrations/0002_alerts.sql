-- The alert lifecycle with wall-clock times, and what was sent where.
--
-- An alert's identity is (alert, township, indicator). While it holds, one row has
-- resolved_at NULL (the partial unique index makes that the only one); when it stops
-- holding, that row gets its resolved_at and stays as history. If the same condition holds
-- again later, a new row starts. Codes are stored as text: alerts are few.

CREATE TABLE alerts (
    id           INTEGER PRIMARY KEY,
    alert        TEXT    NOT NULL, -- behind_pace, below_threshold, ceiling_breached, missing_report, veto
    township     TEXT    NOT NULL, -- township code
    indicator    TEXT    NOT NULL, -- indicator code
    severity     TEXT    NOT NULL, -- warning | critical, the latest seen
    period       INTEGER NOT NULL, -- YYYYMM of the latest evaluation in which it held
    active_since INTEGER NOT NULL, -- YYYYMM: first month of its unbroken run, as kpi counts it
    summary      TEXT    NOT NULL, -- the latest one-sentence Chinese summary
    started_at   TEXT    NOT NULL, -- RFC 3339, UTC: when kpimon first saw it hold
    updated_at   TEXT    NOT NULL, -- RFC 3339, UTC: when its severity, summary or period last changed
    resolved_at  TEXT              -- RFC 3339, UTC: when it stopped holding; NULL while firing
);

CREATE UNIQUE INDEX alerts_firing ON alerts (alert, township, indicator) WHERE resolved_at IS NULL;
CREATE INDEX alerts_resolved_at ON alerts (resolved_at);

-- Messages sent once per occasion (a reminder per period, a ranking per period), per
-- channel, so a restart or the next timer tick does not send them again.
CREATE TABLE notifications (
    channel TEXT NOT NULL, -- the webhook's name
    kind    TEXT NOT NULL, -- reminders | rankings
    key     TEXT NOT NULL, -- the occasion, e.g. the period YYYY-MM
    sent_at TEXT NOT NULL, -- RFC 3339, UTC
    PRIMARY KEY (channel, kind, key)
);
