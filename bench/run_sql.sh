#!/usr/bin/env bash
# SQL over the PostgreSQL wire protocol next to the JSON query API on the TSBS
# queries: starts a server (HTTP and pgwire on free ports) on a fresh storage
# root, loads the TSBS cpu data set, runs timestore-sql-bench, stops the server.
#
#   bench/run_sql.sh [hosts] [duration] [per-type] [rounds]     (default 100 1d 20 5)
set -euo pipefail
# Loopback benchmarks send no tokens (docs/api.md, "Authentication").
export TIMESTORE_AUTH=${TIMESTORE_AUTH:-none}
# Engine query times, not the query result cache's (repeated instances would hit it).
export TIMESTORE_QUERY_CACHE_ENABLED=${TIMESTORE_QUERY_CACHE_ENABLED:-false}
HOSTS=${1:-100}
DURATION=${2:-1d}
PER_TYPE=${3:-20}
ROUNDS=${4:-5}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="$ROOT/build"
DATA=$(mktemp -d /tmp/timestore-sqlbench-XXXXXX)
HTTP_PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
PG_PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
TIMESTORE_PG_PORT=$PG_PORT "$BUILD/timestore" serve --storage-root "$DATA" --port "$HTTP_PORT" \
  --log-level warn &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$HTTP_PORT/ready" >/dev/null && break
  sleep 0.1
done
"$BUILD/timestore-tsbs" run --port "$HTTP_PORT" --dataset cpu --hosts "$HOSTS" \
  --duration "$DURATION" --load-only
"$BUILD/timestore-sql-bench" --http-port "$HTTP_PORT" --pg-port "$PG_PORT" --dataset cpu \
  --hosts "$HOSTS" --duration "$DURATION" --per-type "$PER_TYPE" --rounds "$ROUNDS"
