-- Deletes finished windows, the previous release's token-keyed ones (`rate_limits`) included.
WITH legacy AS (
    DELETE FROM rate_limits WHERE window_start < now() - interval '2 minutes'
)
DELETE FROM app_rate_limits WHERE window_start < now() - interval '2 minutes'
