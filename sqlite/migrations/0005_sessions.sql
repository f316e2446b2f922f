-- Login sessions, upload previews and leases live in the database, so that several servers
-- share them: a session started through one server is valid on every server, a preview made
-- through one confirms through another, and one server at a time sends messages.

-- A login session of the upload pages: the cookie holds a random id, the database its
-- SHA-256 only. Revoking the token ends its sessions (the lookup joins the token).
CREATE TABLE sessions (
    hash       TEXT    PRIMARY KEY,
    token_id   INTEGER NOT NULL REFERENCES tokens (id),
    created_at TEXT    NOT NULL, -- RFC 3339, UTC
    expires_at TEXT    NOT NULL  -- RFC 3339, UTC
);
CREATE INDEX sessions_token ON sessions (token_id);

-- An upload awaiting confirmation, bound to the token whose session made it.
CREATE TABLE previews (
    id         TEXT    PRIMARY KEY,
    token_id   INTEGER NOT NULL,
    created_at TEXT    NOT NULL, -- RFC 3339, UTC
    expires_at TEXT    NOT NULL, -- RFC 3339, UTC
    data       BLOB    NOT NULL
);
CREATE INDEX previews_token ON previews (token_id, created_at);

-- A lease held by one server for a while (the one that sends messages).
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at TEXT NOT NULL -- RFC 3339, UTC
);
