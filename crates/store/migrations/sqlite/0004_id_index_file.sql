-- Record ids are indexed in a file of their own (`PATH-ids`, 1 KB pages; see
-- src/sqlite/ids.rs): ids are random, and a random-order index in this file (16 KB
-- pages) dirtied one 16 KB page per new record, most of what a write cost. The
-- `UNIQUE` on `calls.id` (an index SQLite cannot drop) goes with a rebuild of the
-- table; `seq` values are kept, so bodies, transcripts and the FTS index still match.
-- Uniqueness of ids is kept by the store's write path, which looks every id up
-- (through the id index) before it inserts.

CREATE TABLE calls_new (
    seq            INTEGER PRIMARY KEY,
    id             TEXT    NOT NULL CHECK (length(id) > 0),
    source         TEXT    NOT NULL CHECK (length(source) > 0),
    provider       TEXT    NOT NULL,
    started_at     INTEGER NOT NULL,          -- Unix milliseconds, UTC
    direction      TEXT    NOT NULL,
    disposition    TEXT    NOT NULL,
    agent_id       TEXT,
    agent_name     TEXT,
    caller_number  TEXT,
    callee_number  TEXT,
    talk_seconds   INTEGER,
    content_hash   BLOB    NOT NULL,          -- XXH3-128 of the stored body (change detection only)
    synced_at      INTEGER NOT NULL           -- Unix milliseconds, UTC
);
INSERT INTO calls_new (seq, id, source, provider, started_at, direction, disposition, agent_id, agent_name,
                       caller_number, callee_number, talk_seconds, content_hash, synced_at)
    SELECT seq, id, source, provider, started_at, direction, disposition, agent_id, agent_name,
           caller_number, callee_number, talk_seconds, content_hash, synced_at
    FROM calls ORDER BY seq;
DROP TABLE calls;
ALTER TABLE calls_new RENAME TO calls;
CREATE INDEX calls_source_started ON calls (source, started_at, id);
CREATE INDEX calls_range_cover
    ON calls (started_at, id, source, provider, direction, disposition, talk_seconds, agent_id, agent_name);
