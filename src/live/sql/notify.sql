-- Sends each payload of $2 as one NOTIFY on channel $1 (the outbox's lines, packed), in one
-- round trip.
SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p
