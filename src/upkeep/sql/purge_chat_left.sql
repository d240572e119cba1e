-- Whether anything of the chat is left, in one snapshot (see `purge_app_left.sql`). The chat
-- delete removed its counter, its jobs (after any worker batch holding them committed) and its
-- row, so only the purge's own tables can hold rows; checked all the same.
SELECT EXISTS (SELECT 1 FROM chat_counters WHERE application_id = $1 AND chat_number = $2)
    OR EXISTS (SELECT 1 FROM jobs WHERE application_id = $1 AND chat_number = $2)
    OR EXISTS (SELECT 1 FROM dead_jobs WHERE application_id = $1 AND chat_number = $2)
    OR EXISTS (SELECT 1 FROM messages WHERE application_id = $1 AND chat_number = $2)
    OR EXISTS (SELECT 1 FROM chats WHERE application_id = $1 AND number = $2)
    OR EXISTS (SELECT 1 FROM chat_members WHERE application_id = $1 AND chat_number = $2)
