INSERT INTO chats (application_id, number, created_at, updated_at)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[], $4::timestamptz[])
