-- kpimon's schema on PostgreSQL: the same tables, columns and meaning as the SQLite
-- backend's after all its migrations (sqlite/migrations), written directly in their final
-- form. Kept to what PostgreSQL 12 accepts (see docs/postgres.md).
--
-- Times are timestamptz (microseconds; the SQLite backend keeps RFC 3339 text). Codes and
-- other text that is sorted are COLLATE "C", so that orders are bytewise as in SQLite and
-- in Go whatever the database's locale. Periods are integers YYYYMM; townships and
-- indicators are small integer ids so the hot table's primary key stays compact. Every
-- record belongs to one assessment, named by its id; township ids are per assessment, so
-- observations and revisions (keyed by township id) need no column of their own.
--
-- There is no leases table: a lease is a session-level advisory lock (see lease.go).

-- A batch: one accepted file, upload or API call, for the audit trail. Ids come from one
-- sequence; within an assessment they grow in commit order, because a batch takes its id
-- while holding the assessment's advisory lock.
CREATE TABLE batches (
    id             BIGSERIAL PRIMARY KEY,
    assessment     TEXT COLLATE "C" NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    actor          TEXT        NOT NULL, -- who ingested it: a token's name, or the OS user on the CLI
    source         TEXT        NOT NULL, -- file names, or "api"
    sha256         TEXT        NOT NULL, -- digest of the bytes received
    rows_total     INTEGER     NOT NULL,
    rows_new       INTEGER     NOT NULL,
    rows_corrected INTEGER     NOT NULL
);
CREATE INDEX batches_assessment ON batches (assessment, id);

CREATE TABLE townships (
    id         SERIAL PRIMARY KEY,
    assessment TEXT COLLATE "C" NOT NULL,
    code       TEXT COLLATE "C" NOT NULL,
    UNIQUE (assessment, code)
);

-- Indicator codes are shared by every assessment: the township id already says which
-- assessment a figure belongs to.
CREATE TABLE indicators (
    id   SERIAL PRIMARY KEY,
    code TEXT COLLATE "C" NOT NULL UNIQUE
);

-- The current value of each township × indicator × period. For ratios, value holds the
-- numerator and denominator the denominator; for every other kind denominator is NULL.
--
-- township_id, indicator_id and batch_id name rows of townships, indicators and batches,
-- but are not declared as foreign keys: PostgreSQL checks a foreign key row by row (a
-- trigger and a row lock per reference), which made a first load of a million figures take
-- 40 s instead of 6. The writer adds the codes and the batch, in the same transaction,
-- before the figures that name them, and nothing deletes those rows. (revisions, written
-- a few rows at a time, keeps its foreign keys.)
CREATE TABLE observations (
    township_id  INTEGER          NOT NULL,
    indicator_id INTEGER          NOT NULL,
    period       INTEGER          NOT NULL,
    value        DOUBLE PRECISION NOT NULL,
    denominator  DOUBLE PRECISION,
    batch_id     BIGINT           NOT NULL,
    PRIMARY KEY (township_id, indicator_id, period)
);
-- What changed since batch N (ChangedSince), and which batches still hold a current value
-- (LastReport), without reading every figure.
CREATE INDEX observations_batch ON observations (batch_id);

-- Values that were replaced by a correction: what it was, which batch wrote it and which
-- batch replaced it. The current value plus these rows is the full history of a key.
CREATE TABLE revisions (
    id            BIGSERIAL PRIMARY KEY,
    township_id   INTEGER          NOT NULL REFERENCES townships (id),
    indicator_id  INTEGER          NOT NULL REFERENCES indicators (id),
    period        INTEGER          NOT NULL,
    value         DOUBLE PRECISION NOT NULL,
    denominator   DOUBLE PRECISION,
    batch_id      BIGINT           NOT NULL REFERENCES batches (id),
    superseded_by BIGINT           NOT NULL REFERENCES batches (id)
);
CREATE INDEX revisions_key ON revisions (township_id, indicator_id, period);

-- The alert lifecycle. An alert's identity is (assessment, alert, township, indicator).
-- While it holds, one row has resolved_at NULL (the partial unique index makes that the
-- only one); when it stops holding, that row gets its resolved_at and stays as history.
CREATE TABLE alerts (
    id           BIGSERIAL PRIMARY KEY,
    assessment   TEXT COLLATE "C" NOT NULL,
    alert        TEXT COLLATE "C" NOT NULL, -- behind_pace, below_threshold, ceiling_breached, missing_report, veto
    township     TEXT COLLATE "C" NOT NULL, -- township code
    indicator    TEXT COLLATE "C" NOT NULL, -- indicator code
    severity     TEXT        NOT NULL,      -- warning | critical, the latest seen
    period       INTEGER     NOT NULL,      -- YYYYMM of the latest evaluation in which it held
    active_since INTEGER     NOT NULL,      -- YYYYMM: first month of its unbroken run
    summary      TEXT        NOT NULL,      -- the latest one-sentence Chinese summary
    started_at   TIMESTAMPTZ NOT NULL,      -- when kpimon first saw it hold
    updated_at   TIMESTAMPTZ NOT NULL,      -- when its severity, summary or period last changed
    resolved_at  TIMESTAMPTZ                -- when it stopped holding; NULL while firing
);
CREATE UNIQUE INDEX alerts_firing ON alerts (assessment, alert, township, indicator) WHERE resolved_at IS NULL;
CREATE INDEX alerts_resolved_at ON alerts (assessment, resolved_at);

-- Messages sent once per occasion (a reminder per period, a ranking per period), per
-- channel, so a restart or another server does not send them again.
CREATE TABLE notifications (
    assessment TEXT COLLATE "C" NOT NULL,
    channel    TEXT COLLATE "C" NOT NULL, -- the webhook's name
    kind       TEXT COLLATE "C" NOT NULL, -- reminders | rankings | …
    key        TEXT COLLATE "C" NOT NULL, -- the occasion, e.g. the period YYYY-MM
    sent_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (assessment, channel, kind, key)
);

-- API tokens: only the SHA-256 of a token is kept, with a short prefix for listing. A
-- township token writes its own township's figures only; an admin token has township ''.
-- assessment is '*' for a token valid in every assessment.
CREATE TABLE tokens (
    id         BIGSERIAL PRIMARY KEY,
    assessment TEXT COLLATE "C" NOT NULL,
    name       TEXT        NOT NULL,            -- written as the actor of every batch it sends
    township   TEXT COLLATE "C" NOT NULL DEFAULT '',
    admin      BOOLEAN     NOT NULL DEFAULT FALSE,
    prefix     TEXT        NOT NULL,            -- the token's first characters, for listing
    hash       TEXT        NOT NULL UNIQUE,     -- hex SHA-256 of the whole token
    created_at TIMESTAMPTZ NOT NULL,
    created_by TEXT        NOT NULL,
    revoked_at TIMESTAMPTZ,                     -- NULL while valid
    CHECK ((admin AND township = '') OR (NOT admin AND township <> ''))
);

-- A locked month refuses every batch that would change its figures.
CREATE TABLE period_locks (
    assessment TEXT COLLATE "C" NOT NULL,
    period     INTEGER     NOT NULL,
    locked_at  TIMESTAMPTZ NOT NULL,
    locked_by  TEXT        NOT NULL,
    PRIMARY KEY (assessment, period)
);

-- Every lock and unlock, for the audit trail.
CREATE TABLE lock_events (
    id         BIGSERIAL PRIMARY KEY,
    assessment TEXT COLLATE "C" NOT NULL,
    period     INTEGER     NOT NULL,
    action     TEXT        NOT NULL, -- lock | unlock
    actor      TEXT        NOT NULL,
    at         TIMESTAMPTZ NOT NULL
);

-- A login session of the upload pages: the cookie holds a random id, the database its
-- SHA-256 only. Revoking the token ends its sessions.
CREATE TABLE sessions (
    hash       TEXT        PRIMARY KEY,
    token_id   BIGINT      NOT NULL REFERENCES tokens (id),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_token ON sessions (token_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- One-time login links (a township chair opens one on her phone and is logged in, with no
-- token to type). Only the link's SHA-256 is kept; a link works once, until it expires, and
-- while its token is valid (revoking the token revokes its links).
CREATE TABLE login_links (
    hash       TEXT        PRIMARY KEY,
    token_id   BIGINT      NOT NULL REFERENCES tokens (id),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ              -- NULL until used
);
CREATE INDEX login_links_token ON login_links (token_id);

-- An upload awaiting confirmation, bound to the token whose session made it, so that a
-- preview made through one server confirms through another.
CREATE TABLE previews (
    id         TEXT COLLATE "C" PRIMARY KEY,
    token_id   BIGINT      NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    data       BYTEA       NOT NULL
);
CREATE INDEX previews_token ON previews (token_id, created_at);
