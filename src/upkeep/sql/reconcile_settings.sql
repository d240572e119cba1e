-- Whole-table counts: sequential scans allowed (the service's connections disable them) and no
-- statement timeout, for this transaction only.
SET LOCAL statement_timeout = 0;
SET LOCAL enable_seqscan = on;
