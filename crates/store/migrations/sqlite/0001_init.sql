-- huadan SQLite schema, version 1.
--
-- `calls` is deliberately narrow: the core fields as indexed columns, so that pages,
-- counts and stats scan little. The full record (including `raw`) lives in
-- `call_bodies`, transcript text in `call_transcripts` (indexed by FTS5, trigram).
-- All three share the row number `seq`.

CREATE TABLE calls (
    seq            INTEGER PRIMARY KEY,
    id             TEXT    NOT NULL UNIQUE CHECK (length(id) > 0),
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

-- Newest-first keyset pagination, time-range filters.
CREATE INDEX calls_started ON calls (started_at, id);
-- The common "one source over a time range" page.
CREATE INDEX calls_source_started ON calls (source, started_at, id);
CREATE INDEX calls_agent_started ON calls (agent_id, started_at);
CREATE INDEX calls_agent_name ON calls (agent_name);

-- The whole record as JSON (with `synced_at` left out: it lives in `calls`), stored
-- Snappy-compressed behind a `Z` tag byte (plain JSON bodies are read too).
CREATE TABLE call_bodies (
    seq     INTEGER PRIMARY KEY,
    record  BLOB NOT NULL
);

-- Transcript text of the records that have one (sentences joined by newlines).
CREATE TABLE call_transcripts (
    seq   INTEGER PRIMARY KEY,
    text  TEXT NOT NULL
);

-- Transcript search: trigram tokens match any substring of three characters or more,
-- Chinese included. Kept in step with `call_transcripts` by the store's write path in
-- the same transaction (not by triggers: a trigger makes every statement open a
-- savepoint, and FTS5 flushes a tiny index segment at every savepoint).
CREATE VIRTUAL TABLE calls_fts USING fts5(
    text,
    content = 'call_transcripts',
    content_rowid = 'seq',
    tokenize = 'trigram'
);

-- One row per source: the engine's SyncState as JSON, with the fields people query.
CREATE TABLE sync_state (
    source        TEXT PRIMARY KEY CHECK (length(source) > 0),
    state         TEXT    NOT NULL,
    checkpoint    INTEGER,                    -- Unix milliseconds, UTC
    last_success  INTEGER,                    -- Unix milliseconds, UTC
    last_error    TEXT,
    updated_at    INTEGER NOT NULL            -- Unix milliseconds, UTC
);
