-- Several assessments in one database (each year's, each county's, the city's): every
-- record belongs to one assessment, named by its id (the config's `id`). Township ids are
-- per assessment, so the same township code may exist in two counties and observations and
-- revisions (keyed by township id) need no column of their own.
--
-- Records written before this migration belong to no assessment (assessment ''); the first
-- assessment of their year to open the database claims them (ClaimLegacy). Tokens valid in
-- every assessment have assessment '*'.
--
-- Run with foreign keys off (as every migration is) so that townships can be rebuilt under
-- the observations that reference it; the ids are kept.

CREATE TABLE townships_new (
    id         INTEGER PRIMARY KEY,
    assessment TEXT NOT NULL DEFAULT '',
    code       TEXT NOT NULL,
    UNIQUE (assessment, code)
);
INSERT INTO townships_new (id, assessment, code) SELECT id, '', code FROM townships;
DROP TABLE townships;
ALTER TABLE townships_new RENAME TO townships;

ALTER TABLE batches ADD COLUMN assessment TEXT NOT NULL DEFAULT '';
CREATE INDEX batches_assessment ON batches (assessment, id);

CREATE TABLE period_locks_new (
    assessment TEXT    NOT NULL DEFAULT '',
    period     INTEGER NOT NULL,
    locked_at  TEXT    NOT NULL, -- RFC 3339, UTC
    locked_by  TEXT    NOT NULL,
    PRIMARY KEY (assessment, period)
);
INSERT INTO period_locks_new (assessment, period, locked_at, locked_by) SELECT '', period, locked_at, locked_by FROM period_locks;
DROP TABLE period_locks;
ALTER TABLE period_locks_new RENAME TO period_locks;

ALTER TABLE lock_events ADD COLUMN assessment TEXT NOT NULL DEFAULT '';

ALTER TABLE alerts ADD COLUMN assessment TEXT NOT NULL DEFAULT '';
DROP INDEX alerts_firing;
DROP INDEX alerts_resolved_at;
CREATE UNIQUE INDEX alerts_firing ON alerts (assessment, alert, township, indicator) WHERE resolved_at IS NULL;
CREATE INDEX alerts_resolved_at ON alerts (assessment, resolved_at);

CREATE TABLE notifications_new (
    assessment TEXT NOT NULL DEFAULT '',
    channel    TEXT NOT NULL, -- the webhook's name
    kind       TEXT NOT NULL, -- reminders | rankings | …
    key        TEXT NOT NULL, -- the occasion, e.g. the period YYYY-MM
    sent_at    TEXT NOT NULL, -- RFC 3339, UTC
    PRIMARY KEY (assessment, channel, kind, key)
);
INSERT INTO notifications_new (assessment, channel, kind, key, sent_at) SELECT '', channel, kind, key, sent_at FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_new RENAME TO notifications;

ALTER TABLE tokens ADD COLUMN assessment TEXT NOT NULL DEFAULT '';
