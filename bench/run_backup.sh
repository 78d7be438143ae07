#!/usr/bin/env bash
# Backup and restore throughput: loads TSBS cpu-only data through a fresh server
# (segmentBy=hostname), seals it, then times a full backup to a local directory, a second
# backup of the unchanged root (incremental: uploads nothing), a third after one more
# batch, and an offline restore of the newest (checksums plus `verify` of the new root).
#   bench/run_backup.sh [hosts=100] [duration=1d]
# Prints a Markdown table (rows, bytes, seconds as the job measured them and as the CLI
# waited, MB/s and rows/s per step) on stdout.
set -euo pipefail
# Loopback benchmarks send no tokens (docs/api.md, "Authentication").
export TIMESTORE_AUTH=${TIMESTORE_AUTH:-none}
cd "$(dirname "$0")/.."
HOSTS=${1:-100}; DURATION=${2:-1d}
PORT=${PORT:-4395}
dir=$(mktemp -d /tmp/timestore-backup-XXXXXX)
TIMESTORE_LOG_LEVEL=warn ./build/timestore serve --port "$PORT" --storage-root "$dir/data" \
  > "$dir/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do curl -sf "localhost:$PORT/ready" > /dev/null && break; sleep 0.05; done
base="http://127.0.0.1:$PORT"
curl -sf -XPOST "$base/datasets/cpu/ingest" -d '{"schema":{"fields":[{"name":"timestamp","type":"timestamp"},{"name":"hostname","type":"string"}]},"records":[]}' > /dev/null
curl -sf -XPUT "$base/admin/datasets/cpu/settings" -d '{"segmentBy":["hostname"]}' > /dev/null
./build/timestore-ingest-bench --port "$PORT" --hosts "$HOSTS" --duration "$DURATION" \
  --format ndjson --connections 2 2>/dev/null | tail -1 > "$dir/ingest.json"
curl -sf -XPOST "$base/admin/datasets/cpu/flush" > /dev/null

timed() {  # timed NAME CMD...: runs CMD, keeps its last stdout line in $dir/NAME.json
  local name=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  "$@" | tail -1 > "$dir/$name.json"
  t1=$(date +%s.%N)
  echo "$t0 $t1" > "$dir/$name.time"
}
timed full ./build/timestore backup --server "$base" --to "$dir/backups"
timed unchanged ./build/timestore backup --server "$base" --to "$dir/backups"
curl -sf -XPOST "$base/datasets/cpu/ingest" -H 'Content-Type: application/x-ndjson' --data-binary \
  '{"timestamp":"2030-01-01T00:00:00Z","hostname":"late","usage_user":1}' > /dev/null
timed incremental ./build/timestore backup --server "$base" --to "$dir/backups"
timed restore ./build/timestore restore --from "$dir/backups" --to "$dir/restored/data"

python3 - "$dir" "$HOSTS" "$DURATION" <<'PY'
import json, sys
d, hosts, duration = sys.argv[1:4]
def load(name):
    t0, t1 = map(float, open(f"{d}/{name}.time").read().split())
    j = json.loads(open(f"{d}/{name}.json").read())
    return j.get("result", j), t1 - t0
print(f"`bench/run_backup.sh {hosts} {duration}` (local directory, one 2-core VM)\n")
print("| step | rows | segments | bytes written | seconds (job) | seconds (CLI) | MB/s | rows/s |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for name in ["full", "unchanged", "incremental", "restore"]:
    r, wall = load(name)
    secs = r["seconds"]  # measured by the job itself; the CLI adds its 200 ms polls
    written = r.get("bytesUploaded", r.get("bytes", 0))
    print(f"| {name} | {r['rows']:,} | {r['segments']} | {written:,} | {secs:.3f} | {wall:.2f} | "
          f"{written / secs / 1e6:.1f} | {r['rows'] / secs:,.0f} |")
PY
