-- Stores the keys of messages ($1 application ids, $2 chat numbers, $3 numbers): $4 every
-- message's keys one after the other, $5 and $6 each message's range in it (as the workers'
-- insert, `jobs_insert_messages.sql`).
UPDATE messages m SET search_keys = ($4::int4[])[u.f:u.t]
FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $5::int4[], $6::int4[]) AS u(a, c, n, f, t)
WHERE m.application_id = u.a AND m.chat_number = u.c AND m.number = u.n
