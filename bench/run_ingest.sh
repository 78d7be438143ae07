#!/usr/bin/env bash
# Runs the ingest benchmark N times, each against a fresh server with an empty
# storage root, and prints each run's JSON line plus the median and best rows/s.
#   bench/run_ingest.sh [runs=5] [format=ndjson] [connections=2] [hosts=100] [duration=1d]
# Needs build/timestore and build/timestore-ingest-bench (./scripts/build.sh).
set -euo pipefail
# Loopback benchmarks send no tokens (docs/api.md, "Authentication").
export TIMESTORE_AUTH=${TIMESTORE_AUTH:-none}
cd "$(dirname "$0")/.."
RUNS=${1:-5}; FORMAT=${2:-ndjson}; CONNS=${3:-2}; HOSTS=${4:-100}; DURATION=${5:-1d}
PORT=${PORT:-4391}
results=()
for i in $(seq 1 "$RUNS"); do
  dir=$(mktemp -d /tmp/timestore-bench-XXXXXX)
  TIMESTORE_WAL_SYNC=${TIMESTORE_WAL_SYNC:-always} TIMESTORE_LOG_LEVEL=warn \
    ./build/timestore serve --port "$PORT" --storage-root "$dir/data" > "$dir/log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do curl -sf "localhost:$PORT/ready" > /dev/null && break; sleep 0.05; done
  line=$(./build/timestore-ingest-bench --port "$PORT" --hosts "$HOSTS" --duration "$DURATION" \
           --format "$FORMAT" --connections "$CONNS" 2>/dev/null | tail -1)
  kill "$pid"; wait "$pid" || true
  rm -rf "$dir"
  echo "$line"
  results+=("$(echo "$line" | python3 -c 'import json,sys; print(json.load(sys.stdin)["rows_per_sec"])')")
done
printf '%s\n' "${results[@]}" | sort -n | python3 -c '
import sys; v=[float(x) for x in sys.stdin]; v.sort()
print("rows/s median %.0f best %.0f worst %.0f over %d runs" % (v[len(v)//2], v[-1], v[0], len(v)))'
