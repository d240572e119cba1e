-- The bulk loader's application: named $1, dated $2, with a fresh token and its counters at zero
-- (as `application_create.sql` leaves them). Its id and token.
INSERT INTO applications (token, name, created_at, updated_at)
VALUES (gen_random_uuid(), $1, $2, $2)
RETURNING id, token
