-- huadan PostgreSQL schema, version 4: cheaper bulk writes (issue #11). Server CPU per
-- inserted row measured with `INSERT … SELECT` of 100,000 realistic rows.
--
-- * Rows stay inline up to a page: a record with a transcript is a little over the
--   default 2 KB TOAST threshold, and PostgreSQL then tried to pglz-compress its
--   already compressed body (and moved it out of line) on every such insert: ~2 µs of
--   server CPU per row on average over all rows. Applies to rows written from now on.
-- * Fewer indexes to maintain on every insert, as in the SQLite schema (0003 there):
--   `calls_started (started_at, id)` is folded into a covering index. With `id` right
--   after `started_at` it serves newest-first keyset pages, their cursor and
--   time-range counts, stats and rollups (index-only).
-- * The two agent btrees (`agent_id, started_at` and `agent_name`, together ~3.5 µs
--   of server CPU per inserted row, inserting at scattered places) become one GIN
--   index over both columns (~1.2 µs; GIN batches new entries in its pending list).
--   The agent filter reads `ARRAY[agent_id, agent_name] @> ARRAY[$agent]`, which this
--   index serves; scanning the covering index with a filter instead would fetch every
--   row of the range from the heap (PostgreSQL filters a plain index scan after the
--   fetch): fine for a busy agent, slow for a rare one.
ALTER TABLE calls SET (toast_tuple_target = 8160);
DROP INDEX IF EXISTS calls_started;
DROP INDEX IF EXISTS calls_agent_started;
DROP INDEX IF EXISTS calls_agent_name;
CREATE INDEX IF NOT EXISTS calls_range_cover
    ON calls (started_at, id, source, provider, direction, disposition, talk_seconds, agent_id, agent_name);
CREATE INDEX IF NOT EXISTS calls_agents ON calls USING gin ((ARRAY[agent_id, agent_name]));
