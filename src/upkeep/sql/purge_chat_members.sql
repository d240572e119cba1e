-- A deleted chat's members and read positions (its inboxes stopped listing it when its counter
-- went, with the delete).
DELETE FROM chat_members WHERE application_id = $1 AND (chat_number, member) IN (
    SELECT chat_number, member FROM chat_members WHERE application_id = $1 AND chat_number = $3 LIMIT $2)
