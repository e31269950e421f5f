#!/bin/bash
# Stops a PostgreSQL started by postgres-up.sh and removes its directory.
set -euo pipefail
D=${1:?usage: postgres-down.sh PG_DIR}
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ -f "$D/data/postmaster.pid" ] && as_owner "$PG_BIN/pg_ctl" -D "$D/data" -m immediate -w stop >/dev/null
rm -rf "$D"
