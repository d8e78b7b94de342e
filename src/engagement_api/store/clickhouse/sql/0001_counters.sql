-- The counters on a ClickHouse cluster (docs/scaling.md). Created ON CLUSTER: shard-local
-- replicated tables (ZooKeeper path by the {shard} macro, replica by {replica}) and Distributed
-- tables over them, sharded by a hash of the Post ID. $database and $cluster come from the
-- counters URL (checked to be plain names). Every statement is idempotent (IF NOT EXISTS), so a
-- migration cut short is simply run again.
--
-- Summed columns: n (the count) and rows (1 per row written), so that a merge never deletes a
-- key whose count sums to 0 (SummingMergeTree drops rows whose summed columns are all 0): a
-- zeroed hour stays a row, as on the other backends. batch identifies the batch a row came from:
-- two batches with equal deltas are different blocks, and the same batch sent again is the
-- same block, counted once by the replicated tables' insert deduplication.
-- Reads always sum(n) ... GROUP BY: merges happen whenever they happen.

CREATE TABLE IF NOT EXISTS $database.hourly_local ON CLUSTER $cluster (
    post_id UInt64,
    metric  UInt16,
    hour    UInt32,
    n       Int64,
    rows    UInt64,
    batch   UInt64
) ENGINE = ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/$database/hourly', '{replica}', (n, rows))
PARTITION BY intDiv(hour, 720)
ORDER BY (post_id, metric, hour)
SETTINGS replicated_deduplication_window = 100000;

CREATE TABLE IF NOT EXISTS $database.hourly ON CLUSTER $cluster AS $database.hourly_local
ENGINE = Distributed($cluster, $database, hourly_local, cityHash64(post_id));

CREATE TABLE IF NOT EXISTS $database.totals_local ON CLUSTER $cluster (
    post_id UInt64,
    metric  UInt16,
    n       Int64,
    rows    UInt64,
    batch   UInt64
) ENGINE = ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/$database/totals', '{replica}', (n, rows))
ORDER BY (post_id, metric)
SETTINGS replicated_deduplication_window = 100000;

CREATE TABLE IF NOT EXISTS $database.totals ON CLUSTER $cluster AS $database.totals_local
ENGINE = Distributed($cluster, $database, totals_local, cityHash64(post_id));
