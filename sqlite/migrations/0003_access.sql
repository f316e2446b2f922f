-- Access control: API tokens (stored hashed) and months locked once their bulletin is out.

-- A token is shown once when created; only its SHA-256 is kept, with a short prefix so a
-- list can tell tokens apart. A township token writes its own township's figures only
-- (township holds its code); an admin token has township '' and writes everything.
CREATE TABLE tokens (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,            -- who: written as the actor of every batch it sends
    township   TEXT    NOT NULL DEFAULT '', -- township code; '' for an admin token
    admin      INTEGER NOT NULL DEFAULT 0,
    prefix     TEXT    NOT NULL,            -- the token's first characters, for listing
    hash       TEXT    NOT NULL UNIQUE,     -- hex SHA-256 of the whole token
    created_at TEXT    NOT NULL,            -- RFC 3339, UTC
    created_by TEXT    NOT NULL,
    revoked_at TEXT,                        -- RFC 3339, UTC; NULL while valid
    CHECK ((admin = 1 AND township = '') OR (admin = 0 AND township <> ''))
);

-- A locked month (period as YYYYMM) refuses every batch that would write to it.
CREATE TABLE period_locks (
    period    INTEGER PRIMARY KEY,
    locked_at TEXT NOT NULL, -- RFC 3339, UTC
    locked_by TEXT NOT NULL
);

-- Every lock and unlock, for the audit trail.
CREATE TABLE lock_events (
    id     INTEGER PRIMARY KEY,
    period INTEGER NOT NULL,
    action TEXT    NOT NULL, -- lock | unlock
    actor  TEXT    NOT NULL,
    at     TEXT    NOT NULL  -- RFC 3339, UTC
);
