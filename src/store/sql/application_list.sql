SELECT token, name, chats_count, created_at, updated_at, id
FROM applications
ORDER BY created_at, id
OFFSET $1 LIMIT $2
