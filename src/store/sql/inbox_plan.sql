-- How to read reader $2's inbox in the application $1 (its id), pages of $3 chats: from the
-- reader's memberships (one join per membership), or by walking the application's chats by
-- activity and probing membership (about $3 × chats / memberships probes). The walk is chosen
-- when the reader's memberships reach sqrt($3 × chats), where the two cost the same; they are
-- counted up to that (an index-only scan of at most that many entries).
-- The application's id, and true to walk. No row: unknown application.
SELECT a.id,
       (SELECT count(*) FROM (SELECT 1 FROM chat_members m
                               WHERE m.application_id = $1 AND m.member = $2
                               LIMIT k.n) x) >= k.n
FROM applications a,
     LATERAL (SELECT greatest(1, ceil(sqrt($3::bigint * greatest(a.chats_count, 1))))::bigint AS n) k
WHERE a.id = $1
