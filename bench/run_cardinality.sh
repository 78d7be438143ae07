#!/usr/bin/env bash
# High cardinality: TSBS cpu-only rows from many hosts over a short span (1,000,000
# hosts x 30 s = 3,000,000 rows, 3 rows per series) next to the usual 100 hosts x 1 day,
# each loaded with no settings through a fresh server (`timestore-tsbs run
# --no-settings`: loaded, flushed, compacted, then queried). Prints one markdown table:
# ingest rows/s, bytes per value of the whole storage root, the server's peak memory,
# and the latency of lastpoint (the newest row of every series) and of single-series
# queries.
#   bench/run_cardinality.sh [hosts=1000000] [duration=30s] [queries=5]
# Environment: BUILD_DIR (build), TYPES (the query types), TIMESTORE_* reach the servers (for example
# TIMESTORE_MEMTABLE_MAX_BYTES bounds the memory of the load).
set -euo pipefail
# Loopback benchmarks send no tokens (docs/api.md, "Authentication").
export TIMESTORE_AUTH=${TIMESTORE_AUTH:-none}
# Engine query times, not the query result cache's (repeated instances would hit it).
export TIMESTORE_QUERY_CACHE_ENABLED=${TIMESTORE_QUERY_CACHE_ENABLED:-false}
cd "$(dirname "$0")/.."
HOSTS=${1:-1000000}; DURATION=${2:-30s}; QUERIES=${3:-5}
BUILD_DIR=${BUILD_DIR:-build}
[ -x "$BUILD_DIR/timestore" ] && [ -x "$BUILD_DIR/timestore-tsbs" ] ||
  ./scripts/build.sh timestore timestore-tsbs >&2
work=$(mktemp -d /tmp/timestore-cardinality-XXXXXX)
pid=""
cleanup() { [ -z "$pid" ] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }; rm -rf "$work"; }
trap cleanup EXIT

# run NAME HOSTS DURATION: one fresh server, one load and query run; appends a JSON line.
run() {
  local name=$1 hosts=$2 duration=$3 root="$work/$1"
  mkdir -p "$root"
  TIMESTORE_LOG_LEVEL=warn "$BUILD_DIR/timestore" serve --host 127.0.0.1 --port 0 \
    --port-file "$work/$name.port" --storage-root "$root/data" > "$work/$name.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 200); do [ -s "$work/$name.port" ] && break; sleep 0.05; done
  local port; port=$(cat "$work/$name.port")
  for _ in $(seq 1 200); do curl -sf "127.0.0.1:$port/ready" > /dev/null && break; sleep 0.05; done
  "$BUILD_DIR/timestore-tsbs" run --port "$port" --hosts "$hosts" --duration "$duration" \
    --no-settings --queries-per-type "$QUERIES" \
    --types "${TYPES:-lastpoint,single-groupby-1-1-1,single-groupby-5-1-1,cpu-max-all-1}" \
    --json-out "$work/$name.jsonl" > /dev/null 2> "$work/$name.err" ||
    { tail -5 "$work/$name.err" >&2; exit 1; }
  local hwm; hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  local detail; detail=$(curl -sf "127.0.0.1:$port/admin/datasets/cpu")
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  local root_bytes; root_bytes=$(du -sb "$root/data" | cut -f1)
  python3 - "$name" "$work/$name.jsonl" "$hwm" "$root_bytes" "$detail" >> "$work/results.jsonl" <<'PY'
import json, sys
name, path, hwm_kb, root_bytes, detail = sys.argv[1:6]
lines = [json.loads(l) for l in open(path) if l.startswith("{")]
load = next(l for l in lines if l.get("phase") == "load")
q = {l["type"]: l for l in lines if "type" in l}
settings = json.loads(detail)["settings"]
print(json.dumps({"name": name, "rows": load["rows"], "hosts": load["hosts"],
                  "rows_per_sec": load["rows_per_sec"],
                  "root_bpv": int(root_bytes) / (load["rows"] * 10),
                  "peak_rss_mib": int(hwm_kb) / 1024, "series_key": settings.get("seriesKey"),
                  "queries": {t: q[t]["p50_ms"] for t in q}}))
PY
}

run baseline 100 1d
run many "$HOSTS" "$DURATION"

python3 - "$work/results.jsonl" <<'PY'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
cols = ["rows", "series (hosts)", "ingest rows/s", "bytes/value (whole root)", "peak RSS MiB",
        "series key"] + [f"{t} p50 ms" for t in r[0]["queries"]]
print("| metric | " + " | ".join(x["name"] for x in r) + " |")
print("| --- | " + " | ".join("---:" for _ in r) + " |")
def row(label, f):
    print(f"| {label} | " + " | ".join(f(x) for x in r) + " |")
row("rows", lambda x: f"{x['rows']:,}")
row("series (hosts)", lambda x: f"{x['hosts']:,}")
row("ingest rows/s", lambda x: f"{x['rows_per_sec']:,.0f}")
row("bytes/value, whole root", lambda x: f"{x['root_bpv']:.3f}")
row("peak server RSS MiB", lambda x: f"{x['peak_rss_mib']:.0f}")
row("inferred series key", lambda x: ", ".join(x["series_key"] or []) or "none")
for t in r[0]["queries"]:
    row(f"{t} p50 ms", lambda x, t=t: f"{x['queries'].get(t, float('nan')):.2f}")
PY
