-- Merges the pending list of one index ($2) into the index and records the merge with its
-- partition's rows written ($3), unless another instance is merging it (a transaction-scoped
-- advisory lock keyed by $1 plus the index's oid): pages merged, or -1 when skipped.
WITH locked AS (
    SELECT pg_try_advisory_xact_lock($1::bigint + $2::oid::bigint) AS ok
), merged AS (
    SELECT gin_clean_pending_list($2::oid::regclass) AS pages FROM locked WHERE ok
), recorded AS (
    INSERT INTO gin_merges (index_oid, written, merged_at)
    SELECT $2::oid, $3::bigint, now() FROM merged
    ON CONFLICT (index_oid) DO UPDATE SET written = excluded.written, merged_at = excluded.merged_at
)
SELECT coalesce((SELECT pages FROM merged), -1)::bigint
