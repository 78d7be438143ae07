#!/usr/bin/env bash
# Tiering benchmark: TSBS cpu-only data loaded once, all days but the last moved to S3
# (s3rver behind tests/tiering/s3_proxy.py), and four TSBS query types over the cold days
# in five modes: local (before tiering), remote with a warm block cache and with the cache
# off (a server restarted with TIMESTORE_CACHE_MAX_BYTES=0), each remote mode with 0 and
# with --latency-ms of latency injected before every object request.
#
#   bench/run_tiering.sh [--hosts 100] [--duration 3d] [--queries 10] [--runs 5]
#                        [--latency-ms 20] [--seed 123] [--types a,b,...] [--out FILE]
#
# The same rows are also loaded into `cpu_local`, never tiered: every measured query on the
# tiered dataset runs next to the same query on that copy (a paired baseline; this VM's
# p50s drift by up to 20% within a minute). Per type and mode: p50/p95 latency, the ratio
# to the copy, object requests per query, bytes fetched vs bytes of the blocks needed, and
# the answers' checksum (identical in every mode). JSON lines on stdout (one per type x
# mode), the Markdown report in FILE (default bench/results/<UTC date>-tiering.md, the
# command at its top), progress on stderr.
# Everything runs under a fresh temporary directory (KEEP=1 keeps it) on 127.0.0.1 and is
# stopped from an EXIT trap. Environment: BUILD_DIR (build), BUILD_LOCK
# (/tmp/ts-build.lock: held while the binaries are copied), TIERING_PROXY_NAGLE=1 (the
# proxy without TCP_NODELAY, see bench/tiering_report.py); TIMESTORE_* variables reach
# the servers. bench/README.md describes the benchmark and how to read it.
set -euo pipefail
# Loopback benchmarks send no tokens (docs/api.md, "Authentication").
export TIMESTORE_AUTH=${TIMESTORE_AUTH:-none}
# Engine query times, not the query result cache's (repeated instances would hit it).
export TIMESTORE_QUERY_CACHE_ENABLED=${TIMESTORE_QUERY_CACHE_ENABLED:-false}
cd "$(dirname "$0")/.."
invocation="bench/run_tiering.sh${*:+ $*}"

HOSTS=100; DURATION=3d; QUERIES=10; RUNS=5; LATENCY_MS=20; SEED=123
TYPES=single-groupby-1-1-1,cpu-max-all-8,double-groupby-all,lastpoint
OUT=""
usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --hosts) HOSTS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --queries) QUERIES=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --latency-ms) LATENCY_MS=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --types) TYPES=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "unknown argument $1" >&2; usage ;;
  esac
done
if ! [[ "$DURATION" =~ ^([0-9]+)d$ ]] || [ "${BASH_REMATCH[1]}" -lt 2 ]; then
  echo "--duration must be whole days, at least 2d (all but the last day go cold)" >&2; exit 2
fi
DAYS=${BASH_REMATCH[1]}
COLD_DAYS=$((DAYS - 1))
DATA_START=1451606400                       # 2016-01-01T00:00:00Z, the TSBS data start
COLD_END=$((DATA_START + COLD_DAYS * 86400)) # partitions ending at or before this go cold
for n in "$HOSTS" "$QUERIES" "$RUNS" "$LATENCY_MS" "$SEED"; do
  [[ "$n" =~ ^[0-9]+$ ]] || { echo "not a number: $n" >&2; exit 2; }
done
if [ "$QUERIES" -lt 1 ] || [ "$RUNS" -lt 1 ] || [ "$HOSTS" -lt 1 ]; then
  echo "--hosts, --queries and --runs must be at least 1" >&2; exit 2
fi
OUT=${OUT:-bench/results/$(date -u +%F)-tiering.md}

BUILD_DIR=${BUILD_DIR:-build}
PY=/usr/bin/python3
HELPER=bench/tiering_report.py
for b in "$BUILD_DIR/timestore" "$BUILD_DIR/timestore-tsbs"; do
  [ -x "$b" ] || { echo "missing $b: build timestore and timestore-tsbs" >&2; exit 2; }
done
"$PY" -c 'import botocore, xxhash' 2>/dev/null ||
  { echo "$PY needs botocore and xxhash (python3-botocore, python3-xxhash)" >&2; exit 2; }
[ -x tests/node/node_modules/.bin/s3rver ] ||
  { echo "missing tests/node/node_modules/.bin/s3rver (npm install in tests/node)" >&2; exit 2; }

work=$(mktemp -d /tmp/timestore-tiering-XXXXXX)
spid=""; ppid_=""; server_log=""
cleanup() {
  local rc=$?
  if [ "$rc" != 0 ] && [ -n "$server_log" ] && [ -s "$server_log" ]; then
    echo "server log ($server_log), last lines:" >&2; tail -20 "$server_log" >&2
  fi
  if [ -n "$spid" ]; then kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true; fi
  # SIGTERM: the proxy kills its s3rver, then exits.
  if [ -n "$ppid_" ]; then kill "$ppid_" 2>/dev/null || true; wait "$ppid_" 2>/dev/null || true; fi
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Private copies of the binaries: a rebuild during the run cannot swap them.
mkdir -p "$work/bin"
if command -v flock > /dev/null; then
  flock "${BUILD_LOCK:-/tmp/ts-build.lock}" cp "$BUILD_DIR/timestore" "$BUILD_DIR/timestore-tsbs" "$work/bin/"
else
  cp "$BUILD_DIR/timestore" "$BUILD_DIR/timestore-tsbs" "$work/bin/"
fi
SERVER=$work/bin/timestore
TSBS=$work/bin/timestore-tsbs

wait_file() {  # wait_file FILE PID WHAT: until FILE is non-empty, at most 60 s
  for _ in $(seq 1 600); do
    [ -s "$1" ] && return 0
    kill -0 "$2" 2>/dev/null || { echo "$3 exited" >&2; return 1; }
    sleep 0.1
  done
  echo "$3 did not start within 60 s" >&2; return 1
}

echo "starting s3rver behind tests/tiering/s3_proxy.py" >&2
"$PY" "$HELPER" proxy --s3rver-dir "$work/s3" --bucket bench --port 0 \
  --port-file "$work/s3.port" > "$work/proxy.log" 2>&1 &
ppid_=$!
wait_file "$work/s3.port" "$ppid_" "the S3 proxy" || { cat "$work/proxy.log" >&2; exit 1; }
S3_PORT=$(cat "$work/s3.port")
curl -sf "http://127.0.0.1:$S3_PORT/__proxy__/health" > /dev/null

start_server() {  # start_server NAME [VAR=VALUE...]: sets spid, port
  local name=$1; shift
  server_log="$work/$name.log"
  rm -f "$work/$name.port"
  env TIMESTORE_LOG_LEVEL="${TIMESTORE_LOG_LEVEL:-warn}" \
    TIMESTORE_STORAGE_DRIVER=s3 TIMESTORE_S3_BUCKET=bench \
    TIMESTORE_S3_ENDPOINT="http://127.0.0.1:$S3_PORT" TIMESTORE_S3_FORCE_PATH_STYLE=true \
    TIMESTORE_S3_ACCESS_KEY_ID=S3RVER TIMESTORE_S3_SECRET_ACCESS_KEY=S3RVER \
    TIMESTORE_S3_REGION=us-east-1 "$@" \
    "$SERVER" serve --host 127.0.0.1 --port 0 --port-file "$work/$name.port" \
    --storage-root "$work/root" > "$server_log" 2>&1 &
  spid=$!
  wait_file "$work/$name.port" "$spid" "the server" || exit 1
  port=$(cat "$work/$name.port")
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$port/ready" > /dev/null && return 0
    kill -0 "$spid" 2>/dev/null || { echo "the server exited" >&2; exit 1; }
    sleep 0.1
  done
  echo "the server was not ready within 60 s" >&2; exit 1
}
stop_server() {
  kill "$spid"; wait "$spid" || true; spid=""
}
measure() {  # measure MODE LATENCY_MS
  echo "[$1] $QUERIES instances x ($RUNS runs + 1 unmeasured) per type, ${2} ms per object request" >&2
  "$PY" "$HELPER" measure --port "$port" --proxy-port "$S3_PORT" --mode "$1" \
    --latency-ms "$2" --runs "$RUNS" --queries "$work/queries.jsonl" --out "$work/mode-$1.json"
  # A second opinion: timestore-tsbs run (C++ client, each instance once) on the same
  # instances, its own checksums.
  "$TSBS" run --skip-load --port "$port" --hosts "$HOSTS" --duration "${COLD_DAYS}d" \
    --seed "$SEED" --types "$TYPES" --queries-per-type "$QUERIES" \
    --json-out "$work/harness-$1.jsonl" > /dev/null 2> "$work/harness-$1.err" ||
    { cat "$work/harness-$1.err" >&2; exit 1; }
}

# 1. Server with the block cache on; load, flush, compact (timestore-tsbs run does all
# three) into `cpu`, then the same rows into `cpu_local`, pinned to local storage: the
# paired baseline every mode measures next to `cpu` (bench/tiering_report.py).
start_server cache-on
for ds in cpu cpu_local; do
  echo "loading $HOSTS hosts x $DURATION into $ds (timestore-tsbs run: segmentBy hostname, flush, compact)" >&2
  "$TSBS" run --port "$port" --dataset "$ds" --hosts "$HOSTS" --duration "$DURATION" \
    --seed "$SEED" --types single-groupby-1-1-1 --queries-per-type 1 \
    --json-out "$work/load-$ds.jsonl" > /dev/null 2> "$work/load-$ds.err" ||
    { cat "$work/load-$ds.err" >&2; exit 1; }
  echo "  $(head -1 "$work/load-$ds.jsonl")" >&2
done
cp "$work/load-cpu.jsonl" "$work/load.jsonl"
curl -sf -XPUT "http://127.0.0.1:$port/admin/datasets/cpu_local/storage-target" \
  -d '{"storageTargetId":"local"}' > /dev/null

# The instances: those of a data set of the cold days only (the same rows: the data is
# generated in time order), so every window lies in the cold partitions.
"$TSBS" queries --hosts "$HOSTS" --duration "${COLD_DAYS}d" --seed "$SEED" --count "$QUERIES" \
  --types "$TYPES" --out "$work/queries.jsonl"
"$TSBS" reference --hosts "$HOSTS" --duration "${COLD_DAYS}d" --seed "$SEED" \
  --count "$QUERIES" --types "$TYPES" > "$work/reference.jsonl"

# 2. All local.
measure local 0

# 3. Tier the cold days of `cpu`: its manifest must show COLD_DAYS remote partitions and
# 1 local (and cpu_local's all local).
"$PY" "$HELPER" tier --port "$port" --cold-end "$COLD_END" --expect-remote "$COLD_DAYS" \
  --expect-local 1 --out "$work/tier.json"

# 4. Warm cache (the unmeasured pass fills it), without and with latency.
measure remote-warm 0
measure remote-warm-latency "$LATENCY_MS"
stop_server

# 5. Cold cache: the same storage root, the cache off.
start_server cache-off TIMESTORE_CACHE_MAX_BYTES=0
measure remote-cold 0
measure remote-cold-latency "$LATENCY_MS"
stop_server

# 6. Report.
# TIMESTORE_* settings given to the run belong to the command (never secrets).
env_prefix=$(env | grep -E '^TIMESTORE_[A-Z0-9_]+=' | grep -vE 'SECRET|TOKEN|KEY|PASSWORD|CONNECTION_STRING' |
  sort | sed -E "s/=(.*)/='\\1'/" | tr '\n' ' ' || true)
[ "${TIERING_PROXY_NAGLE:-0}" = 1 ] && env_prefix="TIERING_PROXY_NAGLE=1 $env_prefix"
[ "$BUILD_DIR" != build ] && env_prefix="BUILD_DIR=$BUILD_DIR $env_prefix"
s3rver_version=$("$PY" -c 'import json; print(json.load(open("tests/node/node_modules/s3rver/package.json"))["version"])' 2>/dev/null || echo "?")
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null || true)
COMMAND="${env_prefix}${invocation}" HOSTS=$HOSTS DURATION=$DURATION COLD_DAYS=$COLD_DAYS \
QUERIES=$QUERIES RUNS=$RUNS LATENCY_MS=$LATENCY_MS SEED=$SEED S3RVER=$s3rver_version \
BUILD_TYPE=${build_type:-unknown} "$PY" - "$work/meta.json" <<'PY'
import json, os, sys, time
e = os.environ
notes = []
if e.get("TIERING_PROXY_NAGLE") == "1":
    notes.append("TIERING_PROXY_NAGLE=1: the proxy ran without TCP_NODELAY")
json.dump({"command": e["COMMAND"], "hosts": int(e["HOSTS"]), "duration": e["DURATION"],
           "cold_days": int(e["COLD_DAYS"]), "queries": int(e["QUERIES"]),
           "runs": int(e["RUNS"]), "latency_ms": int(e["LATENCY_MS"]), "seed": int(e["SEED"]),
           "date": time.strftime("%Y-%m-%d", time.gmtime()), "cpus": os.cpu_count(),
           "build": e["BUILD_TYPE"], "s3rver": e["S3RVER"],
           "merge_gap": e.get("TIMESTORE_REMOTE_MERGE_GAP", "16KiB (default)"),
           "cache_max_bytes": e.get("TIMESTORE_CACHE_MAX_BYTES", "1GiB, the default"),
           "notes": notes}, open(sys.argv[1], "w"))
PY
mkdir -p "$(dirname "$OUT")"
"$PY" "$HELPER" report --dir "$work" --md "$OUT"
echo "wrote $OUT" >&2
