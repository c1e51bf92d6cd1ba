-- The embedded state store's tables (worker.state.sqlite).
-- Rows with an `expires` column are read only while it is in the future, and deleted by
-- `SQLiteStore.purge` (off the hot path) through the index on it.
CREATE TABLE IF NOT EXISTS done (id TEXT PRIMARY KEY, expires REAL NOT NULL);
CREATE INDEX IF NOT EXISTS done_expires ON done (expires);
CREATE TABLE IF NOT EXISTS content (hash TEXT PRIMARY KEY, id TEXT NOT NULL, expires REAL NOT NULL);
CREATE INDEX IF NOT EXISTS content_expires ON content (expires);
CREATE TABLE IF NOT EXISTS nd_band (band TEXT PRIMARY KEY, id TEXT NOT NULL, expires REAL NOT NULL);
CREATE INDEX IF NOT EXISTS nd_band_expires ON nd_band (expires);
CREATE TABLE IF NOT EXISTS nd_sketch (id TEXT PRIMARY KEY, sketch BLOB NOT NULL, expires REAL NOT NULL);
CREATE INDEX IF NOT EXISTS nd_sketch_expires ON nd_sketch (expires);

-- A feed's entry memory: 8-byte digests of entry keys (codec.entry_digest, as a signed integer)
-- numbered by `seq` in the order they were first seen; each feed keeps its last `keep`, and
-- the whole memory expires `entry_ttl_s` after the feed's last parse.  The layout before it,
-- `entries (feed, key)` without order, is read and moved over a feed at a time.
CREATE TABLE IF NOT EXISTS entry_feeds (id INTEGER PRIMARY KEY, feed TEXT NOT NULL UNIQUE,
                                        seq INTEGER NOT NULL, expires REAL NOT NULL);
CREATE INDEX IF NOT EXISTS entry_feeds_expires ON entry_feeds (expires);
CREATE TABLE IF NOT EXISTS entry_keys (feed INTEGER NOT NULL, digest INTEGER NOT NULL, seq INTEGER NOT NULL,
                                       PRIMARY KEY (feed, digest)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entry_keys_seq ON entry_keys (feed, seq);

CREATE TABLE IF NOT EXISTS feeds (url TEXT PRIMARY KEY, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (key TEXT PRIMARY KEY, position TEXT NOT NULL, expires REAL NOT NULL);
CREATE INDEX IF NOT EXISTS checkpoints_expires ON checkpoints (expires);
CREATE TABLE IF NOT EXISTS chrome (source TEXT NOT NULL, fp TEXT NOT NULL, n INTEGER NOT NULL,
                                   expires REAL NOT NULL, PRIMARY KEY (source, fp));
CREATE INDEX IF NOT EXISTS chrome_expires ON chrome (expires);
CREATE TABLE IF NOT EXISTS due (url TEXT PRIMARY KEY, next_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS due_next ON due (next_at);
CREATE TABLE IF NOT EXISTS dead (id TEXT PRIMARY KEY, at TEXT NOT NULL, reason TEXT, stage TEXT,
                                 source TEXT, payload TEXT);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, n INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires REAL NOT NULL);
CREATE INDEX IF NOT EXISTS cache_expires ON cache (expires);
-- `expires`: when the bucket is full again, which is the same as no row.
CREATE TABLE IF NOT EXISTS buckets (name TEXT PRIMARY KEY, tokens REAL NOT NULL, ts REAL NOT NULL,
                                    expires REAL NOT NULL);
CREATE INDEX IF NOT EXISTS buckets_expires ON buckets (expires);
CREATE TABLE IF NOT EXISTS ledger (id TEXT PRIMARY KEY, queue TEXT NOT NULL, at REAL NOT NULL,
                                   message TEXT NOT NULL, suspect REAL);
CREATE INDEX IF NOT EXISTS ledger_at ON ledger (queue, at);
-- Per-minute counts of named events (the status page's charts), purged past two hours on each write.
CREATE TABLE IF NOT EXISTS timeline (name TEXT NOT NULL, minute INTEGER NOT NULL, n INTEGER NOT NULL,
                                     PRIMARY KEY (name, minute)) WITHOUT ROWID;

-- `slots` holds each host's theoretical arrival time (worker.state.slots), the same as no row once
-- passed; `parked` the deferred fetches, `due` being their slot time, or their lease's end once claimed.
CREATE TABLE IF NOT EXISTS slots (name TEXT PRIMARY KEY, tat REAL NOT NULL);
CREATE INDEX IF NOT EXISTS slots_tat ON slots (tat);
CREATE TABLE IF NOT EXISTS parked (id TEXT PRIMARY KEY, due REAL NOT NULL, at REAL NOT NULL,
                                   payload TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS parked_due ON parked (due);
-- The last heartbeat of each member of a group (`health`'s workers); each write drops the silent ones.
CREATE TABLE IF NOT EXISTS heartbeats (grp TEXT NOT NULL, member TEXT NOT NULL, at REAL NOT NULL,
                                       PRIMARY KEY (grp, member)) WITHOUT ROWID;
-- The sources in trouble, for the status page (`sources_page`) without reading every feed's state:
-- partial indexes, so they hold the disabled and failing feeds only.
CREATE INDEX IF NOT EXISTS feeds_disabled ON feeds (url) WHERE json_extract(state, '$.disabled') IS NOT NULL;
CREATE INDEX IF NOT EXISTS feeds_failing ON feeds (json_extract(state, '$.errors'))
    WHERE json_extract(state, '$.errors') > 0;
