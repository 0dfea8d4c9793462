-- Compression dictionaries for record bodies (see src/packing.rs and
-- src/sqlite/dicts.rs). A store trains one per provider from its own records once it
-- holds enough of them; bodies written afterwards start with `E` + the dictionary's id
-- and can only be read with it, so a row here is never deleted or changed.
CREATE TABLE body_dicts (
    id         INTEGER PRIMARY KEY,       -- XXH3-64 of `dict` (as a signed 64-bit integer)
    provider   TEXT    NOT NULL,
    dict       BLOB    NOT NULL,
    samples    INTEGER NOT NULL,          -- records it was trained on
    created_at INTEGER NOT NULL           -- Unix milliseconds, UTC
);
