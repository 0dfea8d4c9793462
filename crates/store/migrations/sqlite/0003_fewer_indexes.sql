-- Fewer indexes to maintain on every insert (they cost more insert time than anything
-- else in SQLite).
--
-- * `calls_started (started_at, id)` is folded into the covering index: with `id`
--   right after `started_at`, `calls_range_cover` serves newest-first keyset pages and
--   their cursor (`(started_at, id) < (?, ?)`) as well as range aggregates.
-- * The two agent indexes go: rows are appended in time order, but an index keyed by
--   agent inserts at a couple of hundred scattered places, splitting and rebalancing
--   pages on nearly every batch (together they cost as much as the rest of an insert
--   in SQLite). Instead `agent_id` and `agent_name` are in the covering index: an agent
--   filter scans that index newest first (the first page of a busy agent stops after a
--   few thousand entries), and `stats --by agent` reads the index instead of the table.
DROP INDEX IF EXISTS calls_started;
DROP INDEX IF EXISTS calls_agent_started;
DROP INDEX IF EXISTS calls_agent_name;
DROP INDEX IF EXISTS calls_range_cover;
CREATE INDEX calls_range_cover
    ON calls (started_at, id, source, provider, direction, disposition, talk_seconds, agent_id, agent_name);
