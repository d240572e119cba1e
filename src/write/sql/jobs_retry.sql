-- A job failed: try it again later, with exponential backoff (capped at 5 minutes).
UPDATE jobs SET attempts = attempts + 1, last_error = $3,
       run_at = now() + least(interval '300 seconds', interval '200 milliseconds' * (2 ^ attempts))
WHERE application_id = $1 AND id = $2
RETURNING attempts
