-- The indexes of `messages` a migration created on the parent only (`CREATE INDEX ... ON ONLY`,
-- not valid until every partition has its own attached), with each partition that has none yet
-- attached: the parent index, its definition, the partition, and the name its index takes.
SELECT parent.relname::text, pg_get_indexdef(pi.indexrelid), part.relname::text,
       parent.relname || '_' || part.relname
FROM pg_index pi
JOIN pg_class parent ON parent.oid = pi.indexrelid AND parent.relkind = 'I'
JOIN pg_inherits p ON p.inhparent = pi.indrelid
JOIN pg_class part ON part.oid = p.inhrelid
WHERE pi.indrelid = 'messages'::regclass AND NOT pi.indisvalid
  AND NOT EXISTS (SELECT 1 FROM pg_inherits ci JOIN pg_index cx ON cx.indexrelid = ci.inhrelid
                  WHERE ci.inhparent = pi.indexrelid AND cx.indrelid = p.inhrelid)
ORDER BY 1, 3
