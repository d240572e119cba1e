-- The batch's messages, with their search keys (V19): $8 every message's keys one after the
-- other, $9 and $10 where each message's start and end in it (1-based, inclusive; an empty
-- range for a message without keys; 0 and 0: not computed, NULL).
INSERT INTO messages (application_id, chat_number, number, body, created_at, updated_at, sender, search_keys)
SELECT a, c, n, b, ca, ua, s, CASE WHEN f > 0 THEN ($8::int4[])[f:t] END
FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::timestamptz[],
            $6::timestamptz[], $7::text[], $9::int4[], $10::int4[]) AS u(a, c, n, b, ca, ua, s, f, t)
