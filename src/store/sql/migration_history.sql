-- Every applied migration, as refinery recorded it.
SELECT version, name, checksum FROM refinery_schema_history
