-- Candidate: words of the folded text (maximal runs of letters/digits), distinct.
CREATE OR REPLACE FUNCTION chat_words(body text) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    RETURN ARRAY(SELECT DISTINCT w FROM regexp_split_to_table(public.chat_fold(body), '[^[:alnum:]]+') w WHERE w <> '' AND length(w) <= 64);
END $$;
CREATE OR REPLACE FUNCTION chat_word_hashes(body text) RETURNS int4[]
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    RETURN ARRAY(SELECT DISTINCT hashtext(w) FROM regexp_split_to_table(public.chat_fold(body), '[^[:alnum:]]+') w WHERE w <> '' AND length(w) <= 64);
END $$;
