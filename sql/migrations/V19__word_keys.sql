-- Search by word keys and a term dictionary (issue 14): the trigram GIN over every message and
-- the word-pair GIN are replaced by one GIN over a small array of keys per message, and a
-- dictionary of each application's words with a trigram index of its own.
--
-- `messages.search_keys`: computed by the service (`search::keys`) from the folded text when it
-- writes the message: for every word (a maximal run of letters and digits; a word longer than
-- 40 characters as overlapping pieces of 40 every 20) a 32-bit hash of the application, the
-- chat and the word, and for every two adjacent whitespace-separated words of 3+ characters one
-- of their 3 characters either side of the gap (the pairs V6 indexed, for phrases). Scoped by
-- chat, so a key's posting list holds one chat's messages. NULL = not computed yet: rows written
-- before this release, by the previous release during an upgrade, or edited (the keys of the
-- old text would be wrong; the edit sets them NULL); the service's key filler
-- (`upkeep::keys`) computes them in the background, and until then a search reads those rows
-- through `messages_unkeyed` and checks their text.
--
-- `search_words`: each application's words (the same words and pieces), added by whoever
-- computes keys, in the same transaction. A search term of 3+ characters is expanded to the
-- words that contain it (the trigram index), a 1–2 character one to the words it starts (the
-- primary key, in byte order), then to their keys in the chat. Scoped by application, so on
-- Citus it is distributed with the rest, never a replicated table written on every new word.
--
-- Each statement through EXECUTE, one per string (see V14), sequential on Citus (see V17).
DO $$
BEGIN
    PERFORM set_config('citus.multi_shard_modify_mode', 'sequential', true);
    EXECUTE 'ALTER TABLE messages ADD COLUMN search_keys int4[]';
    EXECUTE 'CREATE INDEX messages_search_keys ON messages USING gin (search_keys) '
            'WITH (fastupdate = on, gin_pending_list_limit = 8192)';
    EXECUTE 'CREATE INDEX messages_unkeyed ON messages (application_id, chat_number, number) '
            'WHERE search_keys IS NULL';
    -- What the keys replace: their maintenance was most of a message's write cost (BENCHMARKS.md,
    -- "Worker write rates"). The previous release's searches stay correct without them (its
    -- conditions are checked on the text), slower for rare terms while both run side by side.
    EXECUTE 'DROP INDEX IF EXISTS messages_search_trgm';
    EXECUTE 'DROP INDEX IF EXISTS messages_search_pairs';
END
$$;

CREATE TABLE search_words (
    application_id bigint NOT NULL,
    word           text COLLATE "C" NOT NULL,
    PRIMARY KEY (application_id, word)
);
-- Few inserts once an application's vocabulary has settled, many lookups: no pending list.
CREATE INDEX search_words_trgm ON search_words USING gin (application_id, word gin_trgm_ops)
    WITH (fastupdate = off);

-- An edit by the previous release (which does not know `search_keys`) leaves the keys of the old
-- text: a body changed with its keys unchanged gets NULL keys (recomputed by the filler). This
-- release's edits set them NULL themselves, so it does not need the trigger. Not created on
-- Citus (triggers on distributed tables are off by default there; a Citus cluster upgrades with
-- this release's statements only).
CREATE FUNCTION messages_keys_stale() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    NEW.search_keys := NULL;
    RETURN NEW;
END
$$;

DO $citus$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        IF citus_is_coordinator()
           AND NOT EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'search_words'::regclass) THEN
            PERFORM create_distributed_table('search_words', 'application_id', colocate_with => 'chat_counters');
            PERFORM truncate_local_data_after_distributing_table('search_words');
        END IF;
        RETURN;
    END IF;
    EXECUTE 'CREATE TRIGGER messages_keys_stale BEFORE UPDATE OF body ON messages FOR EACH ROW '
            'WHEN (NEW.body IS DISTINCT FROM OLD.body AND NEW.search_keys IS NOT DISTINCT FROM OLD.search_keys) '
            'EXECUTE FUNCTION messages_keys_stale()';
END
$citus$;
