-- Users and Posts (the catalog)
CREATE TABLE users (
    id        INTEGER PRIMARY KEY,          -- unsigned 64-bit ID mapped onto signed (ids.to_signed)
    handle    TEXT NOT NULL,
    handle_lc TEXT NOT NULL UNIQUE
);

CREATE TABLE posts (
    id         INTEGER PRIMARY KEY,
    author_id  INTEGER NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,            -- Unix seconds, UTC
    protected  INTEGER NOT NULL DEFAULT 0,
    deleted    INTEGER NOT NULL DEFAULT 0,
    video_key  TEXT                         -- the Post's first video media_key, if any
);
CREATE INDEX posts_author ON posts (author_id);

CREATE TABLE post_media (
    post_id   INTEGER NOT NULL REFERENCES posts (id),
    position  INTEGER NOT NULL,
    media_key TEXT NOT NULL,
    type      TEXT NOT NULL,
    PRIMARY KEY (post_id, position)
) WITHOUT ROWID;

-- Counts (the counter store)
CREATE TABLE counts_hourly (
    post_id INTEGER NOT NULL,
    metric  INTEGER NOT NULL,               -- contract.metrics code
    hour    INTEGER NOT NULL,               -- hours since the Unix epoch, UTC
    count   INTEGER NOT NULL,
    PRIMARY KEY (post_id, metric, hour)
) WITHOUT ROWID;

CREATE TABLE counts_total (
    post_id INTEGER NOT NULL,
    metric  INTEGER NOT NULL,
    count   INTEGER NOT NULL,
    PRIMARY KEY (post_id, metric)
) WITHOUT ROWID;

CREATE TABLE video_totals (
    media_key TEXT PRIMARY KEY,
    views     INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE batches (
    key        TEXT PRIMARY KEY,
    checksum   TEXT NOT NULL,
    events     INTEGER NOT NULL,
    size       INTEGER NOT NULL,
    applied_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Credentials
CREATE TABLE apps (
    consumer_key    TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    consumer_secret TEXT NOT NULL,
    bearer_hash     TEXT NOT NULL UNIQUE,
    enabled         INTEGER NOT NULL DEFAULT 1,
    rate_limit      INTEGER NOT NULL,
    created_at      INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE access_tokens (
    token        TEXT PRIMARY KEY,
    secret       TEXT NOT NULL,
    consumer_key TEXT NOT NULL REFERENCES apps (consumer_key),
    user_id      INTEGER NOT NULL,
    revoked      INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE ingest_keys (
    key_hash   TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE oauth_nonces (
    consumer_key TEXT NOT NULL,
    nonce        TEXT NOT NULL,
    ts           INTEGER NOT NULL,
    PRIMARY KEY (consumer_key, nonce)
) WITHOUT ROWID;
CREATE INDEX oauth_nonces_ts ON oauth_nonces (ts);
