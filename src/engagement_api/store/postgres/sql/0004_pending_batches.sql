-- Batches claimed but not yet finished, when the counters live in another store (a ClickHouse
-- cluster, ENGAGEMENT_API_COUNTERS_URL): each row holds the batch's folded deltas (Arrow IPC)
-- until every shard has them, and the batch ID its counter rows carry (random, chosen at the
-- claim: a resend writes the same rows); then the row moves to `batches`. See docs/scaling.md.
CREATE TABLE pending_batches (
    key        text PRIMARY KEY,
    checksum   text NOT NULL,
    events     bigint NOT NULL,
    size       bigint NOT NULL,
    claimed_at bigint NOT NULL,                 -- Unix seconds
    batch_id   bigint NOT NULL,
    deltas     bytea NOT NULL
);

-- Posts sharing a video, found from any of them (per-video totals read beside ClickHouse).
CREATE INDEX posts_video ON posts (video_key) WHERE video_key IS NOT NULL;
