#!/usr/bin/env bash
# The query result cache on a dashboard-like repeat of the TSBS query mix:
# starts a server on a fresh storage root, loads the TSBS cpu data set, seals
# it (POST /admin/datasets/cpu/flush), then runs timestore-query-cache-bench:
# `rounds` refreshes of every query instance; round 1 misses, later rounds hit.
# Prints p50/p99 of misses and hits per query type and a JSON line of the
# totals (last on stdout), and the server's timestore_result_cache_* metrics on stderr.
#
#   bench/run_query_cache.sh [hosts] [duration] [per-type] [rounds]   (default 100 1d 20 10)
#
# Server settings can be added as usual (TIMESTORE_QUERY_CACHE_MAX_BYTES=...).
set -euo pipefail
export TIMESTORE_AUTH=${TIMESTORE_AUTH:-none}  # loopback, no tokens
HOSTS=${1:-100}
DURATION=${2:-1d}
PER_TYPE=${3:-20}
ROUNDS=${4:-10}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="$ROOT/build"
BIN=${TIMESTORE_BIN:-$BUILD/timestore}
DATA=$(mktemp -d /tmp/timestore-qcache-XXXXXX)
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
"$BIN" serve --storage-root "$DATA" --port "$PORT" --log-level warn &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$PORT/ready" >/dev/null && break
  sleep 0.1
done
"$BUILD/timestore-tsbs" run --port "$PORT" --dataset cpu --hosts "$HOSTS" \
  --duration "$DURATION" --load-only
curl -sf -X POST "http://127.0.0.1:$PORT/admin/datasets/cpu/flush" >/dev/null
echo "server $(git -C "$ROOT" rev-parse --short HEAD), $(nproc) cores; latencies in ms" >&2
status=0
"$BUILD/timestore-query-cache-bench" --port "$PORT" --dataset cpu --hosts "$HOSTS" \
  --duration "$DURATION" --per-type "$PER_TYPE" --rounds "$ROUNDS" || status=$?
curl -sf "http://127.0.0.1:$PORT/metrics" | grep '^timestore_result_cache_' >&2 || true
exit "$status"
