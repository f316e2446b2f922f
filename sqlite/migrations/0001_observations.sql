-- Reported figures and their revision history.
-- Periods are stored as integers YYYYMM; townships and indicators by small integer ids so
-- the primary key of the hot table stays compact. Portable SQL: PostgreSQL takes the same
-- statements with BIGSERIAL for INTEGER PRIMARY KEY.

CREATE TABLE batches (
    id             INTEGER PRIMARY KEY,
    created_at     TEXT    NOT NULL, -- RFC 3339, UTC
    actor          TEXT    NOT NULL, -- who ingested it: a token's name, or the OS user on the CLI
    source         TEXT    NOT NULL, -- file names, or "api"
    sha256         TEXT    NOT NULL, -- digest of the bytes received
    rows_total     INTEGER NOT NULL,
    rows_new       INTEGER NOT NULL,
    rows_corrected INTEGER NOT NULL
);

CREATE TABLE townships (
    id   INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE
);

CREATE TABLE indicators (
    id   INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE
);

-- The current value of each township × indicator × period. For ratios, value holds the
-- numerator and denominator the denominator; for every other kind denominator is NULL.
CREATE TABLE observations (
    township_id  INTEGER NOT NULL REFERENCES townships (id),
    indicator_id INTEGER NOT NULL REFERENCES indicators (id),
    period       INTEGER NOT NULL,
    value        REAL    NOT NULL,
    denominator  REAL,
    batch_id     INTEGER NOT NULL REFERENCES batches (id),
    PRIMARY KEY (township_id, indicator_id, period)
);

-- Values that were replaced by a correction: what it was, which batch wrote it and which
-- batch replaced it. The current value plus these rows is the full history of a key.
CREATE TABLE revisions (
    id            INTEGER PRIMARY KEY,
    township_id   INTEGER NOT NULL REFERENCES townships (id),
    indicator_id  INTEGER NOT NULL REFERENCES indicators (id),
    period        INTEGER NOT NULL,
    value         REAL    NOT NULL,
    denominator   REAL,
    batch_id      INTEGER NOT NULL REFERENCES batches (id),
    superseded_by INTEGER NOT NULL REFERENCES batches (id)
);

CREATE INDEX revisions_key ON revisions (township_id, indicator_id, period);
