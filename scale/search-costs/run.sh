#!/bin/bash
# What search indexing costs per message written (BENCHMARKS.md, "Issue 14: what search indexing
# costs"): migrates a fresh database NAME with the release binary, runs SETUP_SQL (drop or add
# search structures), then inserts 100,000 lines of BODIES (a text file, one message per line)
# as messages in batches of 500 over 100 chats, merging GIN pending lists every 10 batches and at
# the end, and prints rows/s and the search indexes' size. POST_SQL runs after the bodies are
# staged (KEYS=1 stages `chat_word_hashes(body)` too and inserts it as `search_keys`).
#
#   PGHOST=127.0.0.1 PGPORT=5499 PGUSER=postgres PGPASSWORD=... \
#     scale/search-costs/run.sh NAME BODIES SETUP_SQL [POST_SQL]
#
# Needs a PostgreSQL 15 server whose user may create databases, and `cargo build --release`.
set -e
root=$(cd "$(dirname "$0")/../.." && pwd)
P="psql -q -v ON_ERROR_STOP=1"
KCOL=""; KTGT=""; [ -n "$KEYS" ] && KCOL=", keys" && KTGT=", search_keys"
name=$1; bodies=$2; setup=$3
db=exp_$name
$P -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
"${CARGO_TARGET_DIR:-$root/target}/release/chat-system" migrate --database-url "postgres://$PGUSER:$PGPASSWORD@$PGHOST:$PGPORT/$db" >/dev/null 2>&1
$P -d $db -f "$(dirname "$0")/words.sql"
$P -d $db -c "$setup"
$P -d $db -c "CREATE UNLOGGED TABLE staging (i int, body text)" -c "\copy staging (body) from '$bodies'" -c "UPDATE staging s SET i = t.rn FROM (SELECT ctid c, row_number() over () rn FROM staging) t WHERE s.ctid = t.c" -c "CREATE INDEX ON staging(i)" -c "VACUUM ANALYZE staging" -c "CHECKPOINT"
[ -n "$4" ] && $P -d $db -c "$4"
$P -d $db -c "CHECKPOINT"
[ -n "$KEYS" ] && $P -d $db -c "ALTER TABLE staging ADD COLUMN keys int4[]" -c "UPDATE staging SET keys = chat_word_hashes(body)" -c "ALTER TABLE messages ADD COLUMN IF NOT EXISTS search_keys int4[]" -c "VACUUM ANALYZE staging" >/dev/null
{
for b in $(seq 0 199); do
  lo=$((b*500)); hi=$((lo+500))
  echo "INSERT INTO messages (application_id, chat_number, number, body, created_at, updated_at$KTGT) SELECT 1, 1 + i % 100, 1 + i / 100, body, now(), now()$KCOL FROM staging WHERE i > $lo AND i <= $hi;"
  if [ $((b % 10)) = 9 ]; then echo "SELECT count(gin_clean_pending_list(c.oid)) FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'gin' AND c.relkind = 'i' \\g /dev/null"; fi
done
echo "SELECT count(gin_clean_pending_list(c.oid)) FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'gin' AND c.relkind = 'i' \\g /dev/null"
} > /tmp/load_$name.sql
start=$(date +%s.%N)
$P -d $db -f /tmp/load_$name.sql >/dev/null
end=$(date +%s.%N)
size=$($P -d $db -Atc "SELECT pg_size_pretty(sum(pg_relation_size(c.oid))) FROM pg_class c WHERE c.relkind='i' AND c.relname LIKE 'messages%' AND c.relname NOT LIKE '%pkey%'")
echo "$name $(echo "100000 / ($end - $start)" | bc) rows/s  search-index size $size"
