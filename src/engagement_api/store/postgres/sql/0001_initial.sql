-- The same tables as sql/sqlite/0001_initial.sql. IDs are unsigned 64-bit values mapped onto
-- bigint (ids.to_signed); times are Unix seconds (bigint), as on SQLite, so both backends round
-- them the same way. The whole file runs in one transaction.

-- Users and Posts (the catalog)
CREATE TABLE users (
    id        bigint PRIMARY KEY,
    handle    text NOT NULL,
    handle_lc text NOT NULL UNIQUE
);

CREATE TABLE posts (
    id         bigint PRIMARY KEY,
    author_id  bigint NOT NULL REFERENCES users (id),
    created_at bigint NOT NULL,
    protected  boolean NOT NULL DEFAULT false,
    deleted    boolean NOT NULL DEFAULT false,
    video_key  text                          -- the Post's first video media_key, if any
);
CREATE INDEX posts_author ON posts (author_id);

CREATE TABLE post_media (
    post_id   bigint NOT NULL REFERENCES posts (id),
    position  integer NOT NULL,
    media_key text NOT NULL,
    type      text NOT NULL,
    PRIMARY KEY (post_id, position)
);

-- Counts (the counter store). counts_hourly is partitioned by hour; partitions of 720 hours
-- (30 days) named counts_hourly_p<N> (hours N*720 to (N+1)*720) are created on demand by the
-- store and dropped whole by prune.
CREATE TABLE counts_hourly (
    post_id bigint NOT NULL,
    metric  integer NOT NULL,                -- contract.metrics code
    hour    integer NOT NULL,                -- hours since the Unix epoch, UTC
    count   bigint NOT NULL,
    PRIMARY KEY (post_id, metric, hour)
) PARTITION BY RANGE (hour);

CREATE TABLE counts_total (
    post_id bigint NOT NULL,
    metric  integer NOT NULL,
    count   bigint NOT NULL,
    PRIMARY KEY (post_id, metric)
);

CREATE TABLE video_totals (
    media_key text PRIMARY KEY,
    views     bigint NOT NULL
);

CREATE TABLE batches (
    key        text PRIMARY KEY,
    checksum   text NOT NULL,
    events     bigint NOT NULL,
    size       bigint NOT NULL,
    applied_at bigint NOT NULL
);

-- Credentials
CREATE TABLE apps (
    consumer_key    text PRIMARY KEY,
    name            text NOT NULL,
    consumer_secret text NOT NULL,
    bearer_hash     text NOT NULL UNIQUE,
    enabled         boolean NOT NULL DEFAULT true,
    rate_limit      bigint NOT NULL,
    created_at      bigint NOT NULL
);

CREATE TABLE access_tokens (
    token        text PRIMARY KEY,
    secret       text NOT NULL,
    consumer_key text NOT NULL REFERENCES apps (consumer_key),
    user_id      bigint NOT NULL,
    revoked      boolean NOT NULL DEFAULT false,
    created_at   bigint NOT NULL
);

CREATE TABLE ingest_keys (
    key_hash   text PRIMARY KEY,
    created_at bigint NOT NULL
);

CREATE TABLE oauth_nonces (
    consumer_key text NOT NULL,
    nonce        text NOT NULL,
    ts           bigint NOT NULL,
    PRIMARY KEY (consumer_key, nonce)
);
CREATE INDEX oauth_nonces_ts ON oauth_nonces (ts);
