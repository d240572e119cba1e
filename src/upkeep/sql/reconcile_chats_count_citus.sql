-- Corrects application $1's chats_count by its drift $2 (`reconcile_chats_drift_citus.sql`).
-- Adding the drift keeps any increment committed since.
UPDATE applications SET chats_count = chats_count + $2::bigint WHERE id = $1
