-- Reader $3 joins chat $2 of the application $1 (its id) (again: nothing changes). The chat's
-- counter is read FOR KEY SHARE: a chat delete (which deletes the counter first) either waits
-- for this join and its purge then removes the row, or commits first and nothing is inserted.
-- Creations are not held up (their FOR NO KEY UPDATE does not conflict with it). A member's
-- row is returned as stored (the no-op update locks it and returns it); `inserted` tells a new
-- member from an earlier one.
-- No row: unknown application. `chat` false: unknown chat.
WITH app AS (
    SELECT id FROM applications WHERE id = $1
), counter AS (
    SELECT cc.application_id, cc.chat_number FROM chat_counters cc, app
    WHERE cc.application_id = $1 AND cc.chat_number = $2
    FOR KEY SHARE OF cc
), joined AS (
    INSERT INTO chat_members (application_id, chat_number, member)
    SELECT application_id, chat_number, $3 FROM counter
    ON CONFLICT (application_id, chat_number, member) DO UPDATE SET last_read = chat_members.last_read
    RETURNING last_read, joined_at, xmax = 0 AS inserted
)
SELECT EXISTS (SELECT 1 FROM counter) AS chat, j.last_read, j.joined_at, j.inserted
FROM app LEFT JOIN joined j ON true
