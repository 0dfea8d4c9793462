-- huadan PostgreSQL schema, version 1: the same model as the SQLite schema.
--
-- One `calls` row per record: the core fields as indexed columns (pages, counts and
-- stats scan only these), the full record as a compressed body (`record`, the same
-- bytes the SQLite backend stores: `Z` + Snappy(JSON), `synced_at` left out) and the
-- transcript text for search. Ids and sources compare byte-wise (COLLATE "C"), as in
-- SQLite, so the keyset order (started_at DESC, id DESC) is the same on both backends.

CREATE TABLE calls (
    id             TEXT COLLATE "C" PRIMARY KEY CHECK (length(id) > 0),
    source         TEXT COLLATE "C" NOT NULL CHECK (length(source) > 0),
    provider       TEXT   NOT NULL,
    started_at     BIGINT NOT NULL,           -- Unix milliseconds, UTC
    direction      TEXT   NOT NULL,
    disposition    TEXT   NOT NULL,
    agent_id       TEXT COLLATE "C",
    agent_name     TEXT COLLATE "C",
    caller_number  TEXT COLLATE "C",
    callee_number  TEXT COLLATE "C",
    talk_seconds   BIGINT,
    content_hash   BYTEA  NOT NULL,           -- XXH3-128 of the record JSON (change detection only)
    synced_at      BIGINT NOT NULL,           -- Unix milliseconds, UTC
    record         BYTEA  NOT NULL,
    transcript     TEXT                       -- sentences joined by newlines, when any
);

-- Newest-first keyset pagination, time-range filters.
CREATE INDEX calls_started ON calls (started_at, id);
-- The common "one source over a time range" page.
CREATE INDEX calls_source_started ON calls (source, started_at, id);
CREATE INDEX calls_agent_started ON calls (agent_id, started_at);
CREATE INDEX calls_agent_name ON calls (agent_name);

-- One row per source: the engine's SyncState as JSON, with the fields people query.
CREATE TABLE sync_state (
    source        TEXT COLLATE "C" PRIMARY KEY CHECK (length(source) > 0),
    state         TEXT   NOT NULL,
    checkpoint    BIGINT,                     -- Unix milliseconds, UTC
    last_success  BIGINT,                     -- Unix milliseconds, UTC
    last_error    TEXT,
    updated_at    BIGINT NOT NULL             -- Unix milliseconds, UTC
);

-- Small key/value facts the tools keep in the store (e.g. `huadan copy` progress).
CREATE TABLE store_meta (
    key         TEXT COLLATE "C" PRIMARY KEY,
    value       TEXT   NOT NULL,
    updated_at  BIGINT NOT NULL               -- Unix milliseconds, UTC
);
