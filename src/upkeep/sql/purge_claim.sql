SELECT id, application_id, chat_number FROM purges ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED
