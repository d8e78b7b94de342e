-- Rate-limit counts, OAuth nonces and monthly usage live in the metering file beside the store
-- (store/sqlite/metering.py): written on the read road, they neither wait for an fsync nor
-- queue behind a batch being applied. Before this runs, SqliteStore.migrate has copied every
-- usage row into the metering file (a copy that may be repeated: it inserts or ignores).
DROP TABLE rate_counts;
DROP TABLE oauth_nonces;
DROP TABLE usage_users;
