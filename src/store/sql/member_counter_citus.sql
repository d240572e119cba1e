-- On Citus (`citus_edits`): the first step of `member_join.sql` and `reader_mark.sql`, alone
-- (Citus reads a locking CTE's rows back wrongly when it splits a statement, FINDINGS.md §4
-- rule 7): the chat's last message number, its counter read FOR KEY SHARE as they do. No row:
-- unknown application ($1, its id); NULL: unknown chat.
SELECT (SELECT cc.last_message_number FROM chat_counters cc
         WHERE cc.application_id = $1 AND cc.chat_number = $2
         FOR KEY SHARE)
FROM applications a WHERE a.id = $1
