SELECT EXISTS (SELECT 1 FROM applications WHERE token = $1)
