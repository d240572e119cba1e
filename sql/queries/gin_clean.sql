-- Merges the pending list of one index ($2) into the index, unless another instance is merging
-- it (a transaction-scoped advisory lock keyed by $1 plus the index's oid): pages merged, or -1
-- when skipped.
SELECT CASE WHEN pg_try_advisory_xact_lock($1::bigint + $2::oid::bigint)
            THEN gin_clean_pending_list($2::oid::regclass)
            ELSE -1 END::bigint
