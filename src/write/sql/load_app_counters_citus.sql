-- On Citus: the bulk loader's application ($1, its id) gets its counters' row, at zero, as
-- `application_create_citus` (V21) gives every new application.
INSERT INTO app_counters (application_id) VALUES ($1)
