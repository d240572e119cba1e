-- Phrases are matched with LIKE instead of a regular expression (which cost ~15 µs per candidate
-- row and made a phrase of two common words take ~400 ms on a 1M-message chat). For that, every
-- run of whitespace in the searchable text becomes one space, so that a phrase's words joined by
-- single spaces are a substring of any message that has them separated by any whitespace.
-- "Whitespace" is Unicode's White_Space property, listed explicitly so the result does not depend
-- on the server's locale; it is what the service splits a phrase's words on (Rust's
-- `char::is_whitespace`).
CREATE FUNCTION chat_search_text(text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT regexp_replace(public.chat_fold($1),
                                '[\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+',
                                ' ', 'g') $$;

-- A LIKE pattern that finds `term` anywhere in searchable text; LIKE's own characters are literal.
CREATE OR REPLACE FUNCTION chat_infix_pattern(term text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT '%' || replace(replace(replace(public.chat_search_text(term), '\', '\\'), '%', '\%'), '_', '\_') || '%' $$;

DROP FUNCTION chat_phrase_regex(text);

-- Rewrites the table once (ACCESS EXCLUSIVE for its duration) and rebuilds the trigram index.
DROP INDEX messages_search_trgm;
ALTER TABLE messages DROP COLUMN search_text;
ALTER TABLE messages ADD COLUMN search_text text GENERATED ALWAYS AS (chat_search_text(body)) STORED;
CREATE INDEX messages_search_trgm ON messages
    USING gin (application_id, chat_number, search_text gin_trgm_ops)
    WITH (fastupdate = on, gin_pending_list_limit = 8192);
