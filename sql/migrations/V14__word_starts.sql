-- Short terms (1–2 characters) match the start of every word a reader sees, from the folded
-- searchable text (`search_text`) instead of PostgreSQL's full-text parser (issue 14).
--
-- The parser kept URLs, hosts, e-mail addresses and paths as single tokens, which the
-- `chat_simple` configuration then dropped (or, mapped, would only start where the URL starts):
-- `h` and `ht` did not find "http://www.example.org/x", nor `ex` the "example" inside it; words
-- longer than 2,047 characters were left out of the vector altogether. A word start is now the
-- start of the text or any point after a character that is not a letter or digit, the same rule
-- as pg_trgm's words and the service's highlighter (`search::fold`).
--
-- A regular expression that finds `term` (folded as the searchable text is) where a word
-- starts; every character of the term is literal, punctuation included ("#1" matches where "#1"
-- begins a word: after a space, a bracket, or at the start).
CREATE FUNCTION chat_word_start(term text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT '(^|[^[:alnum:]])'
                 || regexp_replace(public.chat_search_text(term), '([^[:alnum:][:space:]])', '\\\1', 'g') $$;

-- The full-text index served only short terms; they are found through the trigram index now
-- (its words start where these do: pg_trgm pads every word's start, so a word starting with the
-- term holds the term's leading trigrams). Dropping it takes one index's maintenance off every
-- message written. The `search_vector` column it indexed stays for now: the previous release
-- reads it (its short terms still match, by walking the chat instead of through the index, while
-- both run side by side during an upgrade). The release after this one drops the column.
--
-- On Citus, DDL on a distributed table is forwarded to the workers as the statement's text, and
-- refinery sends a migration as one string of many statements, which Citus cannot forward
-- ("cannot insert multiple commands into a prepared statement"): such DDL runs through EXECUTE,
-- one statement per string.
DO $$ BEGIN EXECUTE 'DROP INDEX IF EXISTS messages_search_fts'; END $$;
