-- Application $1's chats_count drift, seen in one snapshot of the node that holds its chats
-- (the applications table is copied to every node): none when it has none or is gone.
SELECT (SELECT count(*) FROM chats c WHERE c.application_id = $1) - a.chats_count
FROM applications a
WHERE a.id = $1
