-- `keys_fill.sql` within application $1, for Citus (one shard): stores the keys of its messages
-- ($2 chat numbers, $3 numbers): $4 every message's keys one after the other, $5 and $6 each
-- message's range in it. The ranges are cut in a subquery: Citus 13.2 crashes (the coordinator
-- restarts) planning an UPDATE whose SET slices a parameter (`($4::int4[])[u.f:u.t]`) without
-- its values, as PostgreSQL does after five executions to weigh a generic plan.
UPDATE messages m SET search_keys = u.keys
FROM (SELECT c, n, ($4::int4[])[f:t] AS keys
        FROM unnest($2::bigint[], $3::bigint[], $5::int4[], $6::int4[]) AS u(c, n, f, t)) u
WHERE m.application_id = $1 AND m.chat_number = u.c AND m.number = u.n
