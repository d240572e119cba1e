-- What reader $4 sees of chats $2 of application $1 (read up to $3, one position per chat; NULL:
-- the reader's stored one, 0 when it is not a member), in
-- one snapshot, in the order given: the chat (written or queued), its latest message that is not
-- deleted (written or queued; its body cut to 100 characters), and its unread messages: those
-- numbered above the position and not sent by the reader, queued ones included, counted up to
-- $5 in each table (the count stops there: bounded work per chat). A message is either queued
-- or written in any snapshot (the worker deletes the job and writes the row in one
-- transaction), never both. A chat deleted meanwhile has no row.
SELECT c.chat_number, ch.messages_count, ch.created_at, ch.updated_at,
       lm.number, lm.sender, lm.preview, lm.created_at,
       least((SELECT count(*) FROM (
                  SELECT 1 FROM messages
                  WHERE application_id = $1 AND chat_number = c.chat_number
                    AND number > c.last_read AND sender IS DISTINCT FROM $4
                  LIMIT $5) w)
             + (SELECT count(*) FROM (
                  SELECT 1 FROM jobs
                  WHERE application_id = $1 AND chat_number = c.chat_number
                    AND message_number > c.last_read AND sender IS DISTINCT FROM $4
                  LIMIT $5) q), $5) AS unread,
       c.last_read
FROM (SELECT u.chat_number, u.ord,
             coalesce(u.last_read,
                      (SELECT m.last_read FROM chat_members m
                        WHERE m.application_id = $1 AND m.chat_number = u.chat_number AND m.member = $4),
                      0) AS last_read
      FROM unnest($2::bigint[], $3::bigint[]) WITH ORDINALITY AS u(chat_number, last_read, ord)) c
JOIN LATERAL (
    (SELECT messages_count, created_at, updated_at
       FROM chats WHERE application_id = $1 AND number = c.chat_number)
    UNION ALL
    (SELECT 0::bigint, created_at, updated_at
       FROM jobs WHERE application_id = $1 AND chat_number = c.chat_number AND message_number IS NULL)
    LIMIT 1
) ch ON true
LEFT JOIN LATERAL (
    (SELECT number, sender, left(body, 100) AS preview, created_at
       FROM messages WHERE application_id = $1 AND chat_number = c.chat_number
      ORDER BY number DESC LIMIT 1)
    UNION ALL
    (SELECT message_number, sender, left(body, 100), created_at
       FROM jobs WHERE application_id = $1 AND chat_number = c.chat_number AND message_number IS NOT NULL
      ORDER BY message_number DESC LIMIT 1)
    ORDER BY 1 DESC LIMIT 1
) lm ON true
-- Nothing once the application is gone (its id may still be cached; its rows go with the purge).
WHERE EXISTS (SELECT 1 FROM applications a WHERE a.id = $1)
ORDER BY c.ord
