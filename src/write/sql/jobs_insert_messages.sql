-- The batch's messages, with their folded text ($8, `search::fold`) and search keys (V19): $9
-- every message's keys one after the other, $10 and $11 each message's start and end in it
-- (1-based, inclusive; an empty range for a message without keys).
INSERT INTO messages (application_id, chat_number, number, body, created_at, updated_at, sender, search_text,
                      search_keys)
SELECT a, c, n, b, ca, ua, s, f, ($9::int4[])[k:l]
FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::timestamptz[],
            $6::timestamptz[], $7::text[], $8::text[], $10::int4[], $11::int4[]) AS u(a, c, n, b, ca, ua, s, f, k, l)
