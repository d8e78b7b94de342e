-- The dashboard (issue 13): admin keys, one-time sign-in links, sessions, the key that signs
-- session cookies, and a log of refused ingest batches. Secrets are kept as SHA-256 digests.
CREATE TABLE admin_keys (
    key_hash   text PRIMARY KEY,
    created_at bigint NOT NULL,            -- Unix seconds, UTC
    revoked    boolean NOT NULL DEFAULT false
);

-- A Post owner's sign-in link: usable once (used_at set), until expires_at.
CREATE TABLE dashboard_links (
    token_hash text PRIMARY KEY,
    user_id    bigint NOT NULL,            -- signed, as users.id
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL,
    used_at    bigint
);
CREATE INDEX dashboard_links_expiry ON dashboard_links (expires_at);

-- A signed-in browser: an operator (admin_key_hash) or a Post owner (user_id).
CREATE TABLE dashboard_sessions (
    session_hash   text PRIMARY KEY,
    role           text NOT NULL,           -- operator | owner
    user_id        bigint,
    admin_key_hash text,
    created_at     bigint NOT NULL,
    expires_at     bigint NOT NULL
);
CREATE INDEX dashboard_sessions_expiry ON dashboard_sessions (expires_at);
CREATE INDEX dashboard_sessions_admin_key ON dashboard_sessions (admin_key_hash);

-- One row: the secret that signs session cookies and CSRF tokens, made on first use (unless
-- ENGAGEMENT_API_SESSION_SECRET is set), so that every server process signs alike.
CREATE TABLE dashboard_secret (
    id     integer PRIMARY KEY CHECK (id = 1),
    secret text NOT NULL
);

-- Ingest batches refused over HTTP for bad lines (the ledger keeps only applied batches).
CREATE TABLE ingest_rejections (
    at    bigint NOT NULL,                 -- Unix seconds, UTC
    kind  text NOT NULL,                    -- users | tweets | events
    lines bigint NOT NULL,                 -- bad lines in the batch
    size  bigint NOT NULL                  -- bytes
);
CREATE INDEX ingest_rejections_at ON ingest_rejections (at);
CREATE INDEX batches_applied_at ON batches (applied_at);
