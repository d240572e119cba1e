-- The same page as `inbox_members.sql`, for a reader in many chats: walks the application's
-- chats by activity (index `chat_counters_activity`) and keeps the reader's (one probe of
-- `chat_members`' key each), stopping at $5. The probe is a lateral subquery kept apart
-- (OFFSET 0) so that the plan cannot turn into the other one: the reader's memberships joined to
-- their chats and sorted, all of them read before the first row.
SELECT cc.chat_number, cc.last_activity_at, m.last_read
FROM chat_counters cc
CROSS JOIN LATERAL (
    SELECT m.last_read FROM chat_members m
    WHERE m.application_id = cc.application_id AND m.chat_number = cc.chat_number AND m.member = $2
    OFFSET 0
) m
WHERE cc.application_id = $1
  AND (coalesce(cc.last_activity_at, '-infinity'::timestamptz), cc.chat_number)
      < (coalesce($3::timestamptz, '-infinity'::timestamptz), $4::bigint)
ORDER BY coalesce(cc.last_activity_at, '-infinity'::timestamptz) DESC, cc.chat_number DESC
LIMIT $5
