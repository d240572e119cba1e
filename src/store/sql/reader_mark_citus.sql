-- On Citus: `reader_mark.sql`'s insert, after `member_counter_citus.sql` in the same transaction
-- found $4 no greater than the chat's last message number.
INSERT INTO chat_members (application_id, chat_number, member, last_read) VALUES ($1, $2, $3, $4)
ON CONFLICT (application_id, chat_number, member)
    DO UPDATE SET last_read = greatest(chat_members.last_read, EXCLUDED.last_read)
RETURNING last_read
