-- huadan PostgreSQL schema, version 3: a larger pending list for the transcript
-- trigram index.
--
-- A GIN index takes new entries into a pending list and merges the list into the index
-- when it outgrows `gin_pending_list_limit` (4 MB by default). Bulk upserts of records
-- with transcripts filled the default list every few thousand records, and merging a
-- small list often cost about a third of the upsert's server time; merging a 16 MB list
-- a quarter as often is cheaper per entry. Searches read the pending list linearly, so
-- the list is kept to 16 MB (autovacuum also merges it). The index itself is created
-- after the migrations, only where `pg_trgm` is available, with the same setting.
DO $$
BEGIN
    IF to_regclass('calls_transcript_trgm') IS NOT NULL THEN
        ALTER INDEX calls_transcript_trgm SET (gin_pending_list_limit = 16384);
    END IF;
END
$$;
