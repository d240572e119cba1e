DELETE FROM rate_limits WHERE window_start < now() - interval '2 minutes'
