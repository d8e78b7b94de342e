-- The dashboard (issue 13): admin keys, one-time sign-in links, sessions, the key that signs
-- session cookies, and a log of refused ingest batches. Secrets are kept as SHA-256 digests.
CREATE TABLE admin_keys (
    key_hash   TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,            -- Unix seconds, UTC
    revoked    INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- A Post owner's sign-in link: usable once (used_at set), until expires_at.
CREATE TABLE dashboard_links (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL,            -- signed, as users.id
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) WITHOUT ROWID;
CREATE INDEX dashboard_links_expiry ON dashboard_links (expires_at);

-- A signed-in browser: an operator (admin_key_hash) or a Post owner (user_id).
CREATE TABLE dashboard_sessions (
    session_hash   TEXT PRIMARY KEY,
    role           TEXT NOT NULL,           -- operator | owner
    user_id        INTEGER,
    admin_key_hash TEXT,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX dashboard_sessions_expiry ON dashboard_sessions (expires_at);
CREATE INDEX dashboard_sessions_admin_key ON dashboard_sessions (admin_key_hash);

-- One row: the secret that signs session cookies and CSRF tokens, made on first use (unless
-- ENGAGEMENT_API_SESSION_SECRET is set), so that every server process signs alike.
CREATE TABLE dashboard_secret (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    secret TEXT NOT NULL
);

-- Ingest batches refused over HTTP for bad lines (the ledger keeps only applied batches).
CREATE TABLE ingest_rejections (
    at    INTEGER NOT NULL,                 -- Unix seconds, UTC
    kind  TEXT NOT NULL,                    -- users | tweets | events
    lines INTEGER NOT NULL,                 -- bad lines in the batch
    size  INTEGER NOT NULL                  -- bytes
);
CREATE INDEX ingest_rejections_at ON ingest_rejections (at);
CREATE INDEX batches_applied_at ON batches (applied_at);
