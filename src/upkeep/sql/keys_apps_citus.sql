-- `keys_unkeyed.sql` on Citus, first step: up to $1 applications with messages without search
-- keys, read from every shard without locks (through the partial index that holds only those);
-- each is then filled on its own shard (`keys_unkeyed_citus.sql`, `keys_fill_citus.sql`).
SELECT DISTINCT application_id FROM messages WHERE search_keys IS NULL LIMIT $1
