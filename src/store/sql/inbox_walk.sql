-- The same page as `inbox_members.sql`, for a reader in many chats: walks the application's
-- chats by activity slot (index `chat_counters_activity`; a slot is 5 seconds of activity, V17),
-- sorting each slot's chats by their exact activity as it goes (an incremental sort), and keeps
-- the reader's (one probe of `chat_members`' key each), stopping at $5: it reads the chats of
-- the slots it needs, not the application's. The slot is a function of the activity, so this
-- order is `inbox_members.sql`'s. The probe is a lateral subquery kept apart (OFFSET 0) so that
-- the plan cannot turn into the other one: the reader's memberships joined to their chats and
-- sorted, all of them read before the first row.
SELECT cc.chat_number, cc.last_activity_at, m.last_read
FROM chat_counters cc
CROSS JOIN LATERAL (
    SELECT m.last_read FROM chat_members m
    WHERE m.application_id = cc.application_id AND m.chat_number = cc.chat_number AND m.member = $2
    OFFSET 0
) m
WHERE cc.application_id = $1
  AND coalesce(cc.activity_slot, -1) <= coalesce(activity_slot($3::timestamptz), -1)
  AND (coalesce(cc.last_activity_at, '-infinity'::timestamptz), cc.chat_number)
      < (coalesce($3::timestamptz, '-infinity'::timestamptz), $4::bigint)
ORDER BY coalesce(cc.activity_slot, -1) DESC,
         coalesce(cc.last_activity_at, '-infinity'::timestamptz) DESC, cc.chat_number DESC
LIMIT $5
