-- The embedded state store's tables (worker.state.sqlite).
CREATE TABLE IF NOT EXISTS done (id TEXT PRIMARY KEY, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS content (hash TEXT PRIMARY KEY, id TEXT NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS nd_band (band TEXT PRIMARY KEY, id TEXT NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS nd_sketch (id TEXT PRIMARY KEY, sketch BLOB NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS entries (feed TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (feed, key));
CREATE TABLE IF NOT EXISTS feeds (url TEXT PRIMARY KEY, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (key TEXT PRIMARY KEY, position TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chrome (source TEXT NOT NULL, fp TEXT NOT NULL, n INTEGER NOT NULL,
                                   PRIMARY KEY (source, fp));
CREATE TABLE IF NOT EXISTS due (url TEXT PRIMARY KEY, next_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS due_next ON due (next_at);
CREATE TABLE IF NOT EXISTS dead (id TEXT PRIMARY KEY, at TEXT NOT NULL, reason TEXT, stage TEXT,
                                 source TEXT, payload TEXT);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, n INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS buckets (name TEXT PRIMARY KEY, tokens REAL NOT NULL, ts REAL NOT NULL);
CREATE TABLE IF NOT EXISTS ledger (id TEXT PRIMARY KEY, queue TEXT NOT NULL, at REAL NOT NULL,
                                   message TEXT NOT NULL, suspect REAL);
CREATE INDEX IF NOT EXISTS ledger_at ON ledger (queue, at);
-- Per-minute counts of named events (the status page's charts), purged past two hours on each write.
CREATE TABLE IF NOT EXISTS timeline (name TEXT NOT NULL, minute INTEGER NOT NULL, n INTEGER NOT NULL,
                                     PRIMARY KEY (name, minute)) WITHOUT ROWID;

-- `slots` holds each host's theoretical arrival time (worker.state.slots); `parked` the deferred fetches,
-- `due` being their slot time, or their lease's end once claimed.
CREATE TABLE IF NOT EXISTS slots (name TEXT PRIMARY KEY, tat REAL NOT NULL);
CREATE TABLE IF NOT EXISTS parked (id TEXT PRIMARY KEY, due REAL NOT NULL, at REAL NOT NULL,
                                   payload TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS parked_due ON parked (due);
