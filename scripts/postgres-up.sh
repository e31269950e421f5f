#!/bin/bash
# Starts a throwaway PostgreSQL 15 on a temporary directory and a free loopback port, with one
# database `mistrive` owned by user `mistrive` (password authentication over TCP).
# Prints shell-sourceable lines (PG_DIR, MISTRIVE_POSTGRES_URL) and writes them to $PG_DIR/env.
# Stop it with: scripts/postgres-down.sh "$PG_DIR"
# Knobs: PG_DIR (default: a new temporary directory), PG_PORT (default: a free port), PG_BIN.
set -euo pipefail
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
[ -x "$PG_BIN/initdb" ] || { echo "PostgreSQL server programs not found (install the postgresql package)" >&2; exit 1; }
D=${PG_DIR:-$(mktemp -d /tmp/mistrive-pg.XXXXXX)}
PORT=${PG_PORT:-$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')}
PASSWORD=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
mkdir -p "$D/data"
# The server refuses to run as root: as root, it runs as the postgres user.
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown -R postgres "$D"
printf '%s\n' "$PASSWORD" > "$D/pwfile"
[ "$(id -u)" = 0 ] && chown postgres "$D/pwfile"
as_owner "$PG_BIN/initdb" -D "$D/data" -U mistrive --pwfile="$D/pwfile" --auth-local=trust --auth-host=scram-sha-256 \
  -E UTF8 --no-locale >"$D/initdb.log" 2>&1 || { cat "$D/initdb.log" >&2; exit 1; }
rm -f "$D/pwfile"
# Throwaway: durability is not wanted, speed is. Many test registries connect at once.
as_owner "$PG_BIN/pg_ctl" -D "$D/data" -l "$D/server.log" -w -o "-k $D -p $PORT -c listen_addresses=127.0.0.1 \
  -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400 \
  -c shared_buffers=128MB -c max_pred_locks_per_transaction=256" start >/dev/null \
  || { cat "$D/server.log" >&2; exit 1; }
as_owner "$PG_BIN/psql" -h "$D" -p "$PORT" -U mistrive -d postgres -qc 'CREATE DATABASE mistrive' >/dev/null
URL="postgres://mistrive:$PASSWORD@127.0.0.1:$PORT/mistrive"
{ echo "PG_DIR=$D"; echo "PG_PORT=$PORT"; echo "MISTRIVE_POSTGRES_URL=$URL"; } | tee "$D/env"
