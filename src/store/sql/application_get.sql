SELECT token, name, chats_count, created_at, updated_at, id FROM applications WHERE token = $1
