-- Phrases of common words in a big chat: the trigram index narrows "onlftts anscmleou" down to
-- the ~14,000 messages holding both words, to find the ~700 where they are adjacent (~100 ms).
-- This index keys every message by its adjacent word pairs, each as the last 3 characters of a
-- word and the first 3 of the next, hashed to an int4: a message matching a phrase has every
-- pair of the phrase's adjacent words of 3+ characters (its first word may end, and its last
-- word begin, inside a word of the message: 3 characters each side of the gap are what both
-- share). The hash is cut to 2^16 values: collisions add a few candidates, which the phrase's
-- LIKE then drops, and in exchange each key has enough rows for its posting list to compress
-- (with full hashes nearly every key had one row, ~20 bytes of entry each, and the index
-- outgrew the table; with 2^20 values it was still 0.42× the table). The same phrase: ~1,000
-- candidates for its 670 hits, 2–3 ms (7–12 ms from a cold cache). An expression index: nothing more is stored in the table.
CREATE OR REPLACE FUNCTION chat_pairs(searchable text) RETURNS int4[]
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
    AS $$
DECLARE
    words text[] := string_to_array(searchable, ' ');
    pairs int4[] := '{}';
BEGIN
    FOR i IN 1 .. coalesce(array_length(words, 1), 0) - 1 LOOP
        IF length(words[i]) >= 3 AND length(words[i + 1]) >= 3 THEN
            pairs := pairs || (hashtext(right(words[i], 3) || ' ' || left(words[i + 1], 3)) & 65535);
        END IF;
    END LOOP;
    RETURN pairs;
END
$$;

-- No chat key columns, unlike the other search indexes: a pair key is selective on its own (the
-- planner never combined it with the chat key), and each key column would add an entry per
-- message to the write path. Messages of other chats in the same partition are filtered out on
-- the heap.
CREATE INDEX IF NOT EXISTS messages_search_pairs ON messages
    USING gin (chat_pairs(search_text))
    WITH (fastupdate = on, gin_pending_list_limit = 8192);
