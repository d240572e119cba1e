-- When each search index's pending list was last merged, and how many rows its partition had
-- had written by then: shared by every instance's cleaner, so that with any number of instances
-- an index is merged once per lot of GIN_MERGE_ROWS rows (a cleaner keeping this in memory would
-- merge N times as often with N instances, in lots N times smaller, which cost per row is what
-- the lots are for). Keyed by the partition index's oid; rows of dropped indexes are ignored.
CREATE TABLE gin_merges (
    index_oid oid         PRIMARY KEY,
    written   bigint      NOT NULL,
    merged_at timestamptz NOT NULL
);

-- V7 keeps vacuums from truncating the job table; its TOAST table (long bodies) too.
ALTER TABLE jobs SET (toast.vacuum_truncate = off);
