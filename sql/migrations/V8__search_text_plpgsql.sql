-- The same function as in V5, in PL/pgSQL instead of SQL: nothing stored changes (the stored
-- `search_text` values and the indexes stay valid, no rewrite).
--
-- Why: `search_text` is a generated column, and PostgreSQL prepares a partition's generated
-- column expressions each time a statement first writes to that partition, inlining a SQL
-- function (parsing its text) every time. A worker's lot of messages touches most of the 32
-- partitions, so every worker insert re-parsed this function ~20 times: 0.07 ms per partition
-- touched (14 rows into 14 partitions took 1.76 ms against 0.85 ms into one, generated columns
-- and no indexes). A PL/pgSQL function is compiled once per connection: 0.025 ms per partition
-- (1.21 ms against 0.91 ms), for ~4 µs more per row.
CREATE OR REPLACE FUNCTION chat_search_text(text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$
BEGIN
    RETURN regexp_replace(public.chat_fold($1),
                          '[\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+',
                          ' ', 'g');
END
$$;
