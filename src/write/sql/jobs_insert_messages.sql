INSERT INTO messages (application_id, chat_number, number, body, created_at, updated_at, sender)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::timestamptz[],
                     $6::timestamptz[], $7::text[])
