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
    content_hash   BLOB    NOT NULL,          -- SHA-256 (first 16 bytes) of the stored body
    synced_at      INTEGER NOT NULL           -- Unix milliseconds, UTC
);

-- Newest-first keyset pagination, time-range filters.
CREATE INDEX calls_started ON calls (started_at, id);
-- The common "one source over a time range" page.
CREATE INDEX calls_source_started ON calls (source, started_at, id);
CREATE INDEX calls_provider_started ON calls (provider, started_at, id);
CREATE INDEX calls_agent_started ON calls (agent_id, started_at);
CREATE INDEX calls_agent_name ON calls (agent_name);
CREATE INDEX calls_disposition_started ON calls (disposition, started_at);
CREATE INDEX calls_caller ON calls (caller_number);
CREATE INDEX calls_callee ON calls (callee_number);

-- The whole record as JSON (with `synced_at` left out: it lives in `calls`).
CREATE TABLE call_bodies (
    seq     INTEGER PRIMARY KEY,
    record  TEXT NOT NULL
);

-- Transcript text of the records that have one (sentences joined by newlines).
CREATE TABLE call_transcripts (
    seq   INTEGER PRIMARY KEY,
    text  TEXT NOT NULL
);

-- Transcript search: trigram tokens match any substring of three characters or more,
-- Chinese included. Kept in step with `call_transcripts` by the triggers below.
CREATE VIRTUAL TABLE calls_fts USING fts5(
    text,
    content = 'call_transcripts',
    content_rowid = 'seq',
    tokenize = 'trigram'
);

CREATE TRIGGER call_transcripts_ai AFTER INSERT ON call_transcripts BEGIN
    INSERT INTO calls_fts (rowid, text) VALUES (new.seq, new.text);
END;
CREATE TRIGGER call_transcripts_ad AFTER DELETE ON call_transcripts BEGIN
    INSERT INTO calls_fts (calls_fts, rowid, text) VALUES ('delete', old.seq, old.text);
END;
CREATE TRIGGER call_transcripts_au AFTER UPDATE ON call_transcripts BEGIN
    INSERT INTO calls_fts (calls_fts, rowid, text) VALUES ('delete', old.seq, old.text);
    INSERT INTO calls_fts (rowid, text) VALUES (new.seq, new.text);
END;

-- One row per source: the engine's SyncState as JSON, with the fields people query.
CREATE TABLE sync_state (
    source        TEXT PRIMARY KEY CHECK (length(source) > 0),
    state         TEXT    NOT NULL,
    checkpoint    INTEGER,                    -- Unix milliseconds, UTC
    last_success  INTEGER,                    -- Unix milliseconds, UTC
    last_error    TEXT,
    updated_at    INTEGER NOT NULL            -- Unix milliseconds, UTC
);
