-- The contract step of V14: `search_vector` (a generated `tsvector` of every message, computed by
-- `to_tsvector` on every insert) indexed nothing since V14 dropped its full-text index, and the
-- previous release (the one V14–V17 shipped with) no longer reads it. Dropping it takes the
-- computation and the stored column off every message written. A catalog change (no rewrite),
-- under a brief exclusive lock on each partition.
--
-- Through EXECUTE, one statement per string, for Citus (see V14).
DO $$ BEGIN EXECUTE 'ALTER TABLE messages DROP COLUMN IF EXISTS search_vector'; END $$;
