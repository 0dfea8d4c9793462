-- huadan PostgreSQL schema, version 2: several workers sharing the sync work.
--
-- Times here are the database server's clock in Unix milliseconds (or microseconds
-- where named `_us`), so that every worker compares leases against one clock.

-- Per source: its current run ("generation"), planned once for the whole fleet. The
-- row is also the source's lock: planning, and every window's finishing transaction
-- (which merges the source's sync state), take it FOR UPDATE.
CREATE TABLE fleet_runs (
    source       TEXT COLLATE "C" PRIMARY KEY CHECK (length(source) > 0),
    generation   BIGINT  NOT NULL,
    planned_by   TEXT    NOT NULL,
    planned_at   BIGINT  NOT NULL,
    range_start  BIGINT  NOT NULL,
    range_end    BIGINT  NOT NULL,
    advance      BOOLEAN NOT NULL,
    context      TEXT    NOT NULL,            -- engine JSON (open windows at plan time)
    finished_at  BIGINT                       -- NULL while windows are unfinished
);

-- The windows of each source's current generation, each with its own lease:
-- claimed with SELECT … FOR UPDATE SKIP LOCKED; `fence` grows on every claim, and a
-- commit is accepted only from the holder of the current fence before `lease_until`.
CREATE TABLE work_windows (
    id           BIGSERIAL PRIMARY KEY,
    source       TEXT COLLATE "C" NOT NULL,
    generation   BIGINT  NOT NULL,
    seq          INTEGER NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('main', 'revisit')),
    start_ms     BIGINT  NOT NULL,
    end_ms       BIGINT  NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'todo' CHECK (status IN ('todo', 'claimed', 'done', 'failed')),
    owner        TEXT,
    fence        BIGINT  NOT NULL DEFAULT 0,
    lease_until  BIGINT,
    attempts     INTEGER NOT NULL DEFAULT 0,
    outcome      TEXT,                        -- engine JSON: pending and failed pieces
    UNIQUE (source, generation, seq)
);

-- Every lease ever granted, for diagnostics and the fleet test's "never two holders
-- at once" check. `ended_at` is set on finish or release; a lease that expired ends
-- at its last `lease_until`.
CREATE TABLE lease_audit (
    id           BIGSERIAL PRIMARY KEY,
    source       TEXT COLLATE "C" NOT NULL,
    generation   BIGINT  NOT NULL,
    seq          INTEGER NOT NULL,
    start_ms     BIGINT  NOT NULL,
    end_ms       BIGINT  NOT NULL,
    owner        TEXT    NOT NULL,
    fence        BIGINT  NOT NULL,
    claimed_at   BIGINT  NOT NULL,
    lease_until  BIGINT  NOT NULL,
    ended_at     BIGINT,
    how          TEXT    NOT NULL DEFAULT 'held'
);
CREATE INDEX lease_audit_window ON lease_audit (source, generation, seq);

-- A source's fleet-wide request pacing: the earliest start of its next request
-- (server microseconds). Workers reserve a few consecutive slots at a time with one
-- atomic UPDATE … RETURNING, so the fleet's requests are spaced as one process's are.
CREATE TABLE quota_slots (
    source   TEXT COLLATE "C" PRIMARY KEY,
    next_us  BIGINT NOT NULL
);
