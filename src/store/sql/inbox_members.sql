-- A page of reader $2's inbox in application $1, from its memberships: its chats below the
-- cursor ($3 activity, NULL for none; $4 chat number) by activity, latest first, at most $5.
-- Deleted chats have no counter and are not listed (their member rows go with their purge).
SELECT cc.chat_number, cc.last_activity_at, m.last_read
FROM chat_members m
JOIN chat_counters cc ON cc.application_id = m.application_id AND cc.chat_number = m.chat_number
WHERE m.application_id = $1 AND m.member = $2
  AND (coalesce(cc.last_activity_at, '-infinity'::timestamptz), cc.chat_number)
      < (coalesce($3::timestamptz, '-infinity'::timestamptz), $4::bigint)
ORDER BY coalesce(cc.last_activity_at, '-infinity'::timestamptz) DESC, cc.chat_number DESC
LIMIT $5
