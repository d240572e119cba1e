-- A job failed: try it again later, with exponential backoff (capped at 5 minutes).
UPDATE jobs SET attempts = attempts + 1, last_error = $3,
       run_at = CASE WHEN ready_at IS NULL
                     THEN now() + least(interval '300 seconds', interval '200 milliseconds' * (2 ^ attempts))
                     ELSE run_at END,
       ready_at = CASE WHEN ready_at IS NOT NULL
                       THEN now() + least(interval '300 seconds', interval '200 milliseconds' * (2 ^ attempts))
                  END
WHERE application_id = $1 AND id = $2
RETURNING attempts
