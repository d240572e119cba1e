-- A job failed: try it again later, with exponential backoff (capped at 5 minutes). $4 is now
-- (seconds since the epoch, by the service's clock): Citus refuses now() combined with a column
-- in an UPDATE of a distributed table, and `to_timestamp(float8)` is immutable.
UPDATE jobs SET attempts = attempts + 1, last_error = $3,
       run_at = CASE WHEN ready_at IS NULL
                     THEN to_timestamp($4::float8 + least(300, 0.2 * (2 ^ attempts)))
                     ELSE run_at END,
       ready_at = CASE WHEN ready_at IS NOT NULL
                       THEN to_timestamp($4::float8 + least(300, 0.2 * (2 ^ attempts)))
                  END
WHERE application_id = $1 AND id = $2
RETURNING attempts
