-- Corrects each application's chats_count by the drift seen in one snapshot.
UPDATE applications a SET chats_count = a.chats_count + d.drift
FROM (
    SELECT a2.id, coalesce(c.n, 0) - a2.chats_count AS drift
    FROM applications a2
    LEFT JOIN (SELECT application_id, count(*) AS n FROM chats GROUP BY application_id) c
      ON c.application_id = a2.id
    WHERE coalesce(c.n, 0) <> a2.chats_count
) d
WHERE a.id = d.id
