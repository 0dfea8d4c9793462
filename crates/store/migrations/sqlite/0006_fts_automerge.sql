-- The transcript index (FTS5, trigram) gets a segment per committed batch that carries
-- transcripts, and by default merges four segments of a level into the next as soon as
-- there are four: with a Tanma batch every few batches, those merges made a Tanma batch's
-- commit several times the cost of the others (store_bench, session 10, per-stage
-- timers: the writer's commit 3.3 µs per record with 4, 2.7 with 8, 2.2 with 16 and 4 KB
-- FTS pages). Merging sixteen at a time rewrites each entry fewer times; a search reads
-- a few more segments (4-character search, first page, 1 M records: 54.6 / 58.0 / 98.3 ms
-- vs 83.5 / 88.7 / 89.6 ms with 4).
INSERT INTO calls_fts (calls_fts, rank) VALUES ('automerge', 16);
