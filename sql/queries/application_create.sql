INSERT INTO applications (token, name) VALUES ($1, $2)
RETURNING token, name, chats_count, created_at, updated_at
