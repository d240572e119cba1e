-- Search: PostgreSQL full-text search for words and word prefixes, trigrams for substrings.

CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gin;

-- Lower-cased and accent-free, the same on every server whatever its locale (ICU's root
-- collation lower-cases all of Unicode). Immutable so that it can be stored and indexed.
CREATE FUNCTION chat_fold(text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, $1) COLLATE "und-x-icu") $$;

-- Words, accent-free and lower-cased, no stemming: matches are about what the text says.
CREATE TEXT SEARCH CONFIGURATION chat_simple (COPY = pg_catalog.simple);
ALTER TEXT SEARCH CONFIGURATION chat_simple
    ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part
    WITH public.unaccent, pg_catalog.simple;

-- A LIKE pattern that finds `term` anywhere in folded text; LIKE's own characters are literal.
CREATE FUNCTION chat_infix_pattern(term text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT '%' || replace(replace(replace(chat_fold(term), '\', '\\'), '%', '\%'), '_', '\_') || '%' $$;

-- A regular expression that finds the words of `phrase` in order, separated by any whitespace;
-- every character of the phrase is literal.
CREATE FUNCTION chat_phrase_regex(phrase text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT regexp_replace(
                    regexp_replace(btrim(chat_fold(phrase)), '([^[:alnum:][:space:]])', '\\\1', 'g'),
                    '[[:space:]]+', '[[:space:]]+', 'g') $$;

-- Words starting with `term`: a tsquery built from the term as one quoted lexeme with the prefix
-- flag, so tsquery syntax in the term is plain text.
CREATE FUNCTION chat_prefix_query(term text) RETURNS tsquery
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT to_tsquery('public.chat_simple',
                            '''' || replace(replace(term, '\', '\\'), '''', '''''') || ''':*') $$;

ALTER TABLE messages
    ADD COLUMN search_text text GENERATED ALWAYS AS (chat_fold(body)) STORED,
    ADD COLUMN search_vector tsvector
        GENERATED ALWAYS AS (to_tsvector('public.chat_simple'::regconfig, body)) STORED;

-- The chat key leads both indexes (btree_gin), so a search reads only its own chat's entries.
-- Inserts go to the GIN pending list (cheap to append); the service's pending-list cleaner merges
-- it every second in its own connection, so workers never stall on a merge. The limit only
-- matters if the cleaner stops: then inserters merge it themselves, 8 MB at a time.
CREATE INDEX messages_search_trgm ON messages
    USING gin (application_id, chat_number, search_text gin_trgm_ops)
    WITH (fastupdate = on, gin_pending_list_limit = 8192);
CREATE INDEX messages_search_fts ON messages
    USING gin (application_id, chat_number, search_vector)
    WITH (fastupdate = on, gin_pending_list_limit = 8192);

-- Chat sizes vary by orders of magnitude; per-(application, chat) statistics let the planner
-- know a big chat from a small one.
CREATE STATISTICS messages_chat_stats (mcv, ndistinct) ON application_id, chat_number FROM messages;
