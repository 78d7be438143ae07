#!/usr/bin/env bash
# Loads TSBS cpu-only data through a fresh server with segmentBy=hostname,
# seals it, and prints the on-disk bytes per value (segment files only: the
# WAL is deleted once sealed) and a few query latencies.
#   bench/run_storage.sh [hosts=100] [duration=1d] [segment_by=hostname]
# FLUSH=0 skips the seal, so the queries run over the rows held in memory.
set -euo pipefail
# Loopback benchmarks send no tokens (docs/api.md, "Authentication").
export TIMESTORE_AUTH=${TIMESTORE_AUTH:-none}
# Repeated queries over sealed data: time the engine, not the result cache.
export TIMESTORE_QUERY_CACHE_ENABLED=${TIMESTORE_QUERY_CACHE_ENABLED:-false}
cd "$(dirname "$0")/.."
HOSTS=${1:-100}; DURATION=${2:-1d}; SEGMENT_BY=${3:-hostname}
PORT=${PORT:-4394}
dir=$(mktemp -d /tmp/timestore-storage-XXXXXX)
TIMESTORE_LOG_LEVEL=warn ./build/timestore serve --port "$PORT" --storage-root "$dir/data" \
  > "$dir/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do curl -sf "localhost:$PORT/ready" > /dev/null && break; sleep 0.05; done
base="http://127.0.0.1:$PORT"
curl -sf -XPOST "$base/datasets/cpu/ingest" -d '{"schema":{"fields":[{"name":"timestamp","type":"timestamp"},{"name":"hostname","type":"string"}]},"records":[]}' > /dev/null
if [ -n "$SEGMENT_BY" ]; then
  curl -sf -XPUT "$base/admin/datasets/cpu/settings" -d "{\"segmentBy\":[\"$SEGMENT_BY\"]}" > /dev/null
fi
./build/timestore-ingest-bench --port "$PORT" --hosts "$HOSTS" --duration "$DURATION" \
  --format ndjson --connections 2 2>/dev/null | tail -1 > "$dir/ingest.json"
if [ "${FLUSH:-1}" != 0 ]; then
curl -sf -XPOST "$base/admin/datasets/cpu/flush" > "$dir/flush.json"
python3 - "$dir" <<'PY'
import json, os, sys
d = sys.argv[1]
ingest = json.load(open(os.path.join(d, "ingest.json")))
seg = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(os.path.join(d, "data", "datasets")) for f in fs)
values = ingest["values"]
print(json.dumps({"bench": "storage", "rows": ingest["rows"], "values": values,
                  "segment_bytes": seg, "bytes_per_value": round(seg / values, 4)}))
PY
fi
q1='{"timeRange":{"start":"2016-01-01T08:13:00Z","end":"2016-01-01T09:13:00Z"},"filters":[{"column":"hostname","op":"eq","value":"host_7"}],"downsample":{"intervalUnit":"minute","aggregations":[{"fn":"max","column":"usage_user"}]}}'
q2='{"timeRange":{"start":"2016-01-01T03:27:00Z","end":"2016-01-01T15:27:00Z"},"downsample":{"intervalUnit":"hour","groupBy":["hostname"],"aggregations":[{"fn":"avg","column":"usage_user"}]},"limit":100000}'
for name in q1 q2; do
  q=${!name}
  for _ in $(seq 1 15); do
    curl -s -o /dev/null -w '%{time_total}\n' -XPOST "$base/datasets/cpu/query" -d "$q"
  done | sort -n | awk -v n="$name" '{a[NR]=$1} END {printf "{\"bench\":\"query\",\"query\":\"%s\",\"p50_ms\":%.3f}\n", n, a[int(NR/2)+1]*1000}'
done
