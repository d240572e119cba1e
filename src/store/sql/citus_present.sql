-- Whether the database has the citus extension (`flavours`: some migrations take another form
-- there).
SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')
