-- Rate limits (spec §8): requests per app, endpoint and calendar minute (UTC). One row per
-- (app, endpoint, minute), incremented atomically; older minutes are pruned as new ones start.
-- Unlogged: a counter of the current minute is not worth a WAL record (after a crash the table
-- is empty, which lets at most one extra minute's worth through).
CREATE UNLOGGED TABLE rate_counts (
    consumer_key text NOT NULL,
    endpoint     text NOT NULL,             -- totals | 28hr | historical
    minute       bigint NOT NULL,           -- minutes since the Unix epoch, UTC
    count        bigint NOT NULL,
    PRIMARY KEY (consumer_key, endpoint, minute)
);

-- Usage (spec §8): the distinct users an app acted for, per calendar month (UTC).
CREATE TABLE usage_users (
    consumer_key text NOT NULL,
    month        text NOT NULL,             -- YYYY-MM
    user_id      bigint NOT NULL,
    PRIMARY KEY (consumer_key, month, user_id)
);
