-- Hourly counts keyed by one integer, the table's rowid: SQLite's fastest key (no record
-- comparison, two values bound per row on ingest). A Post's counts are one contiguous key
-- range per metric, in hour order:
--     key = seq << 32 | metric << 26 | (hour + 2^25)
-- seq: the Post's number in this file (post_keys, 1, 2, ... in order of first load, < 2^31);
-- metric: contract.metrics code (< 64); hour: hours since the Unix epoch, UTC, within
-- +-2^25 (years 1970 +- 3800).
CREATE TABLE post_keys (
    seq     INTEGER PRIMARY KEY,
    post_id INTEGER NOT NULL UNIQUE
);
INSERT INTO post_keys (post_id) SELECT id FROM posts ORDER BY id;

CREATE TABLE counts_hourly_packed (
    key   INTEGER PRIMARY KEY,
    count INTEGER NOT NULL
);
INSERT INTO counts_hourly_packed (key, count)
    SELECT (k.seq << 32) | (h.metric << 26) | (h.hour + 33554432), h.count
    FROM counts_hourly h JOIN post_keys k ON k.post_id = h.post_id
    ORDER BY 1;
DROP TABLE counts_hourly;
ALTER TABLE counts_hourly_packed RENAME TO counts_hourly;
