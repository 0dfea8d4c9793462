-- Compression dictionaries for record bodies (see src/packing.rs, src/dicts.rs and
-- src/postgres/dicts.rs), as in the SQLite store. A store trains one per provider from
-- its own records once it has written enough of them; bodies written afterwards start
-- with `E` + the dictionary's id and can only be read with it, so a row here is never
-- deleted or changed. Workers sharing the database use one another's dictionaries.
CREATE TABLE body_dicts (
    id         BIGINT PRIMARY KEY,        -- XXH3-64 of `dict` (as a signed 64-bit integer)
    provider   TEXT   NOT NULL,
    dict       BYTEA  NOT NULL,
    samples    INTEGER NOT NULL,          -- records it was trained on (0: copied from another store)
    created_at BIGINT NOT NULL            -- Unix milliseconds, UTC
);
