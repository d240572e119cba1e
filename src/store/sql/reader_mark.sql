-- Reader $3 has read chat $2 (application $1, its id) up to message $4: joins the chat if needed
-- and moves its read position forward, never back (`greatest`). The counter is read FOR KEY
-- SHARE, as `member_join.sql` does; a position above the chat's last message number is refused.
-- No row: unknown application. `last_number` NULL: unknown chat. `last_read` NULL: refused
-- (above `last_number`); else the position stored.
WITH app AS (
    SELECT id FROM applications WHERE id = $1
), counter AS (
    SELECT cc.application_id, cc.chat_number, cc.last_message_number FROM chat_counters cc, app
    WHERE cc.application_id = $1 AND cc.chat_number = $2
    FOR KEY SHARE OF cc
), marked AS (
    INSERT INTO chat_members (application_id, chat_number, member, last_read)
    SELECT application_id, chat_number, $3, $4 FROM counter WHERE $4 <= last_message_number
    ON CONFLICT (application_id, chat_number, member)
        DO UPDATE SET last_read = greatest(chat_members.last_read, EXCLUDED.last_read)
    RETURNING last_read
)
SELECT (SELECT last_message_number FROM counter) AS last_number, (SELECT last_read FROM marked) AS last_read
FROM app
