-- The folded text of a plain body left unstored (issue 14): `messages.search_text` NULL where it
-- would be the body lower-cased in ASCII (an ASCII body with single spaces: most messages; the
-- searches read `lower(body COLLATE "C")` there). A copy of every message's text was a fifth of
-- the search structures' size and part of each write (BENCHMARKS.md).
--
-- Nothing here changes a row or a column: this release writes NULL only once no release before
-- V20 is connected (`store::releases`: those read the column as it is), and the service's
-- searches read both kinds. What changes is V19's insert trigger, which filled a NULL folded
-- text (the release before V19 wrote none): it now fires only for a row written without keys
-- too, as that release's are (this release writes keys with every message, an empty array for
-- a message without words). The edit trigger likewise fires only when the keys are unchanged
-- as well (this release's edits set them NULL; the release before V19 left them). Not on Citus:
-- V19 created neither there.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        RETURN;
    END IF;
    EXECUTE 'DROP TRIGGER IF EXISTS messages_search_text_inserted ON messages';
    EXECUTE 'CREATE TRIGGER messages_search_text_inserted BEFORE INSERT ON messages FOR EACH ROW '
            'WHEN (NEW.search_text IS NULL AND NEW.search_keys IS NULL) EXECUTE FUNCTION messages_search_text()';
    EXECUTE 'DROP TRIGGER IF EXISTS messages_search_text_edited ON messages';
    EXECUTE 'CREATE TRIGGER messages_search_text_edited BEFORE UPDATE OF body ON messages FOR EACH ROW '
            'WHEN (NEW.body IS DISTINCT FROM OLD.body AND NEW.search_text IS NOT DISTINCT FROM OLD.search_text '
            'AND NEW.search_keys IS NOT DISTINCT FROM OLD.search_keys) '
            'EXECUTE FUNCTION messages_search_text()';
END
$$;
