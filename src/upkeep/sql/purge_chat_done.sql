DELETE FROM purges WHERE application_id = $1 AND id = $2
