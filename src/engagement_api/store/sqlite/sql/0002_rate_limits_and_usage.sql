-- Rate limits (spec §8): requests per app, endpoint and calendar minute (UTC). One row per
-- (app, endpoint, minute), incremented atomically; older minutes are pruned as new ones start.
CREATE TABLE rate_counts (
    consumer_key TEXT NOT NULL,
    endpoint     TEXT NOT NULL,             -- totals | 28hr | historical
    minute       INTEGER NOT NULL,          -- minutes since the Unix epoch, UTC
    count        INTEGER NOT NULL,
    PRIMARY KEY (consumer_key, endpoint, minute)
) WITHOUT ROWID;

-- Usage (spec §8): the distinct users an app acted for, per calendar month (UTC).
CREATE TABLE usage_users (
    consumer_key TEXT NOT NULL,
    month        TEXT NOT NULL,             -- YYYY-MM
    user_id      INTEGER NOT NULL,
    PRIMARY KEY (consumer_key, month, user_id)
) WITHOUT ROWID;
