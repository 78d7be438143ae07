#!/usr/bin/env bash
# Parquet export cost: loads TSBS cpu-only data through a fresh server (segmentBy=hostname),
# seals it, exports the dataset through the admin route (the job's own seconds, and the
# server's peak RSS before and after) and offline with `timestore export --storage-root`
# on the stopped root (wall time and max RSS from /usr/bin/time), and checks both wrote
# the same bytes.
#   bench/run_export.sh [hosts=100] [duration=1d]
# Prints a Markdown table on stdout.
set -euo pipefail
# Loopback benchmarks send no tokens (docs/api.md, "Authentication").
export TIMESTORE_AUTH=${TIMESTORE_AUTH:-none}
cd "$(dirname "$0")/.."
HOSTS=${1:-100}; DURATION=${2:-1d}
PORT=${PORT:-4397}
dir=$(mktemp -d /tmp/timestore-export-XXXXXX)
# Private copies of the binaries: a rebuild during the run cannot swap them.
mkdir -p "$dir/bin"
flock "${BUILD_LOCK:-/tmp/ts-build.lock}" cp build/timestore build/timestore-ingest-bench "$dir/bin/"
TS=$dir/bin/timestore
TIMESTORE_LOG_LEVEL=warn "$TS" serve --port "$PORT" --storage-root "$dir/data" \
  > "$dir/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do curl -sf "localhost:$PORT/ready" > /dev/null && break; sleep 0.05; done
base="http://127.0.0.1:$PORT"
curl -sf -XPOST "$base/datasets/cpu/ingest" -d '{"schema":{"fields":[{"name":"timestamp","type":"timestamp"},{"name":"hostname","type":"string"}]},"records":[]}' > /dev/null
curl -sf -XPUT "$base/admin/datasets/cpu/settings" -d '{"segmentBy":["hostname"]}' > /dev/null
"$dir/bin/timestore-ingest-bench" --port "$PORT" --hosts "$HOSTS" --duration "$DURATION" \
  --format ndjson --connections 2 2>/dev/null | tail -1 > "$dir/ingest.json"
curl -sf -XPOST "$base/admin/datasets/cpu/flush" > /dev/null
rss() { awk '/VmHWM/ {print $2}' "/proc/$pid/status"; }
rss_before=$(rss)
"$TS" export --server "$base" --dataset cpu --out "$dir/route" | tail -1 \
  > "$dir/route.json"
rss_after=$(rss)
kill "$pid"; wait "$pid" 2>/dev/null || true
/usr/bin/time -f "%e %M" -o "$dir/time.txt" "$TS" export --storage-root "$dir/data" \
  --dataset cpu --out "$dir/offline" | tail -1 > "$dir/offline.json"
same=yes
(cd "$dir/route" && find . -name '*.parquet' | sort | xargs md5sum) > "$dir/route.md5"
(cd "$dir/offline" && find . -name '*.parquet' | sort | xargs md5sum) > "$dir/offline.md5"
cmp -s "$dir/route.md5" "$dir/offline.md5" || same=no
python3 - "$dir" "$HOSTS" "$DURATION" "$rss_before" "$rss_after" "$same" <<'PY'
import json, sys
d, hosts, duration, before, after, same = sys.argv[1:7]
route = json.load(open(f"{d}/route.json"))
route = route.get("result", route)
off = json.load(open(f"{d}/offline.json"))
wall, maxrss = open(f"{d}/time.txt").read().split()
print(f"`bench/run_export.sh {hosts} {duration}` (zstd, one 2-core VM)\n")
print("| how | rows | files | Parquet bytes | seconds | memory |")
print("| --- | ---: | ---: | ---: | ---: | --- |")
print(f"| `POST /admin/datasets/cpu/export` (the job's seconds) | {route['rows']:,} | "
      f"{len(route['files'])} | {route['bytes']:,} | {route['seconds']:.2f} | "
      f"server peak RSS {int(before)//1024} MB before, {int(after)//1024} MB after |")
print(f"| `timestore export --storage-root` (wall, opening the root included) | {off['rows']:,} | "
      f"{len(off['files'])} | {off['bytes']:,} | {float(wall):.2f} | max RSS {int(maxrss)//1024} MB |")
print(f"\nSame bytes from both: {same}.")
PY
