-- On Citus: `member_join.sql`'s insert, after `member_counter_citus.sql` in the same transaction.
INSERT INTO chat_members (application_id, chat_number, member) VALUES ($1, $2, $3)
ON CONFLICT (application_id, chat_number, member) DO UPDATE SET last_read = chat_members.last_read
RETURNING last_read, joined_at, xmax = 0 AS inserted
