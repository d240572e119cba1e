-- $1 new webhook event ids, in order (the sequence is the coordinator's own).
SELECT nextval('webhook_event_ids') FROM generate_series(1, $1::int)
