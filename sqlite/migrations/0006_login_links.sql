-- One-time login links (a township chair opens one on her phone and is logged in, with no
-- token to type). Only the link's SHA-256 is kept; a link works once, until it expires, and
-- while its token is valid (revoking the token revokes its links).
CREATE TABLE login_links (
    hash       TEXT    PRIMARY KEY,
    token_id   INTEGER NOT NULL REFERENCES tokens (id),
    created_at TEXT    NOT NULL, -- RFC 3339, UTC
    expires_at TEXT    NOT NULL, -- RFC 3339, UTC
    used_at    TEXT              -- RFC 3339, UTC; NULL until used
);
CREATE INDEX login_links_token ON login_links (token_id);
