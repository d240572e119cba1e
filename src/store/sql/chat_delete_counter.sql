-- First step of a chat delete: removing the counter row makes every later message creation in
-- this chat find nothing (and waits for the ones in flight), so no job can appear behind us.
-- $1: the application's id; nothing when it is gone.
DELETE FROM chat_counters cc
USING applications a
WHERE a.id = $1 AND cc.application_id = $1 AND cc.chat_number = $2
RETURNING cc.application_id
