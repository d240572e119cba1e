DELETE FROM jobs WHERE (application_id, id) IN (SELECT * FROM unnest($1::bigint[], $2::bigint[]))
