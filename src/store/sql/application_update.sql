UPDATE applications SET name = $2, updated_at = now() WHERE token = $1
RETURNING token, name, chats_count, created_at, updated_at, id
