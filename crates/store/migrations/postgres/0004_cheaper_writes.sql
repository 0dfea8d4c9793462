-- huadan PostgreSQL schema, version 4: cheaper bulk writes (issue #11).
--
-- * Rows stay inline up to a page: a record with a transcript is a little over the
--   default 2 KB TOAST threshold, and PostgreSQL then tried to pglz-compress its
--   already compressed body on every insert (measured: ~2 µs of server CPU per row, a
--   fifth of it wasted on rows that do not shrink). Applies to rows written from now on.
-- * Fewer indexes to maintain on every insert, as in the SQLite schema (0003 there):
--   `calls_started (started_at, id)` and the two agent indexes are folded into one
--   covering index. With `id` right after `started_at` it serves newest-first keyset
--   pages, their cursor and time-range counts and stats (index-only); an agent filter
--   scans it newest first, checking `agent_id` / `agent_name` in the index. Measured:
--   the three indexes cost ~6.5 µs of server CPU per inserted row, the covering one
--   ~3.3 µs.
ALTER TABLE calls SET (toast_tuple_target = 8160);
DROP INDEX IF EXISTS calls_started;
DROP INDEX IF EXISTS calls_agent_started;
DROP INDEX IF EXISTS calls_agent_name;
CREATE INDEX IF NOT EXISTS calls_range_cover
    ON calls (started_at, id, source, provider, direction, disposition, talk_seconds, agent_id, agent_name);
