#!/usr/bin/env bash
# TSBS cpu-only, Timestore next to ClickHouse, VictoriaMetrics, InfluxDB and DuckDB, in one run:
#   bench/tsbs/run_all.sh [--hosts 100] [--duration 1d] [--queries 10] [--runs 1]
#                         [--seed 123] [--float] [--reference] [--python-reference]
#                         [--systems timestore,clickhouse,victoriametrics,influxdb,duckdb]
#                         [--out DIR] [--smoke]
# Generates the data (CSV and line protocol, as the peers need) and the query instances
# once with build/timestore-tsbs, runs Timestore (build/timestore serve on a free
# loopback port with a temporary storage root, then `timestore-tsbs run`, which
# generates the same rows and instances from the same flags, loads, flushes, compacts
# and queries) and each peer (bench/peers/<system>.sh; DuckDB is embedded, timed
# in-process, from npm @duckdb/node-api in tests/node), and writes
#   DIR/<date>-<hosts>h-<duration>[-float].md   the side-by-side table with ratios and
#                                               whether the checksums agree per type
#   DIR/<date>-<hosts>h-<duration>[-float].svg  the chart (gnuplot)
# DIR defaults to bench/results. --reference adds the expected checksums
# (`timestore-tsbs reference`), --python-reference those of bench/peers/tsbs_peer.py
# computed from the CSV (a second implementation; slow beyond a few million rows).
# --smoke: 4 hosts x 1 h, seed 1, 2 instances per type, Timestore only, with both
# references; the report goes to the temporary directory (printed; KEEP=1 keeps it)
# unless --out is given; exit 1 when a checksum differs.
# Exit status: 0 when every system ran and every checksum agrees, 1 otherwise (the
# report is written either way), 2 on bad usage.
# Environment: BUILD_DIR (build), NO_BUILD=1 (do not build missing binaries),
# CONNECTIONS (2) and BATCH_ROWS (10000) for every loader, TIMESTORE_TSBS_RUN_ARGS
# (more arguments for `timestore-tsbs run`), SETTLE_TIMEOUT (peers), DUCKDB_THREADS (2),
# KEEP=1 keeps the work directory; TIMESTORE_LP_LOAD=0 skips Timestore's second load (the
# same rows through InfluxDB line protocol, reported beside the NDJSON load);
# TIMESTORE_* variables reach the Timestore server.
set -euo pipefail
# Loopback benchmarks send no tokens (docs/api.md, "Authentication").
export TIMESTORE_AUTH=${TIMESTORE_AUTH:-none}
# Engine query times, not the query result cache's (repeated instances would hit it).
export TIMESTORE_QUERY_CACHE_ENABLED=${TIMESTORE_QUERY_CACHE_ENABLED:-false}
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
HOSTS=100; DURATION=1d; QUERIES=10; RUNS=1; SEED=""; FLOAT=0; REFERENCE=0; PYREF=0; SMOKE=0
SYSTEMS=timestore,clickhouse,victoriametrics,influxdb,duckdb
OUT_DIR=""
ARGS_TEXT="$*"
usage() { sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --hosts) HOSTS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --queries) QUERIES=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --systems) SYSTEMS=$2; shift 2 ;;
    --out) OUT_DIR=$2; shift 2 ;;
    --float) FLOAT=1; shift ;;
    --reference) REFERENCE=1; shift ;;
    --python-reference) PYREF=1; shift ;;
    --smoke) SMOKE=1; shift ;;
    -h|--help) usage ;;
    *) echo "unknown argument $1" >&2; usage ;;
  esac
done
if [ "$SMOKE" = 1 ]; then
  # Seed 1: every type answers rows at this size (timestore-tsbs run --smoke does the same).
  HOSTS=4; DURATION=1h; QUERIES=2; SYSTEMS=timestore; REFERENCE=1; PYREF=1; SEED=${SEED:-1}
fi
SEED=${SEED:-123}
CONNECTIONS=${CONNECTIONS:-2}; BATCH_ROWS=${BATCH_ROWS:-10000}
export CONNECTIONS BATCH_ROWS
for s in ${SYSTEMS//,/ }; do
  case "$s" in timestore|clickhouse|victoriametrics|influxdb|duckdb) ;;
    *) echo "unknown system $s" >&2; exit 2 ;; esac
done
log() { echo "[run_all] $*" >&2; }

BUILD_DIR=${BUILD_DIR:-build}
TSBS=$BUILD_DIR/timestore-tsbs
SERVER=$BUILD_DIR/timestore
if [ ! -x "$TSBS" ] || { [[ ",$SYSTEMS," == *,timestore,* ]] && [ ! -x "$SERVER" ]; }; then
  if [ "${NO_BUILD:-0}" = 1 ]; then echo "missing $TSBS or $SERVER (NO_BUILD=1)" >&2; exit 2; fi
  log "building timestore and timestore-tsbs"
  ./scripts/build.sh timestore timestore-tsbs >&2
fi

# Debian packages of the harness itself (the peers install their own).
pkgs=(python3 python3-xxhash curl gnuplot-nox)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
      { apt-get update -q >&2 && apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; }
  else
    log "warning: missing ${missing[*]} (not root); the chart or checksums may be unavailable"
  fi
fi

work=$(mktemp -d /tmp/tsbs-run-XXXXXX)
ts_pid=""
stop_timestore() {
  [ -n "$ts_pid" ] || return 0
  kill -TERM "$ts_pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$ts_pid" 2>/dev/null || break; sleep 0.3; done
  kill -KILL "$ts_pid" 2>/dev/null || true
  wait "$ts_pid" 2>/dev/null || true
  ts_pid=""
}
cleanup() {
  local rc=$?
  stop_timestore
  if [ "${KEEP:-0}" = 1 ]; then log "kept $work"; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- data and queries, once -------------------------------------------------------
# Data flags; `queries` takes no --float (values do not change the instances).
qgen=(--hosts "$HOSTS" --duration "$DURATION" --seed "$SEED")
gen=("${qgen[@]}")
[ "$FLOAT" = 1 ] && gen+=(--float)
declare -A need=()
for s in ${SYSTEMS//,/ }; do
  case "$s" in
    clickhouse|duckdb) need[csv]=1 ;;
    victoriametrics|influxdb) need[influx]=1 ;;
  esac
done
[ "$PYREF" = 1 ] && need[csv]=1
for fmt in "${!need[@]}"; do
  log "generating $fmt: ${gen[*]}"
  "$TSBS" generate "${gen[@]}" --format "$fmt" --out "$work/cpu.$fmt" >&2
done
"$TSBS" queries "${qgen[@]}" --count "$QUERIES" > "$work/queries.jsonl"
log "$(wc -l < "$work/queries.jsonl") query instances"

failed=()
versions=()

# --- Timestore --------------------------------------------------------------------
run_timestore() {
  local root="$work/timestore-root" portfile="$work/timestore.port" port t0
  mkdir -p "$root"
  "$SERVER" serve --host 127.0.0.1 --port 0 --port-file "$portfile" --storage-root "$root" \
    > "$work/timestore-server.log" 2>&1 &
  ts_pid=$!
  t0=$SECONDS
  while [ ! -s "$portfile" ]; do
    kill -0 "$ts_pid" 2>/dev/null || { tail -20 "$work/timestore-server.log" >&2; return 1; }
    [ $((SECONDS - t0)) -lt 60 ] || { log "timestore did not start in 60 s"; return 1; }
    sleep 0.2
  done
  port=$(cat "$portfile")
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/health" && break
    sleep 0.2
  done
  log "timestore on 127.0.0.1:$port (storage $root)"
  # Same rows and the same first QUERIES instances per type as the files above: run
  # generates them from the same flags. It loads, flushes, compacts and queries.
  local run_args=(--port "$port" "${gen[@]}" --queries-per-type "$QUERIES"
                  --connections "$CONNECTIONS" --batch-rows "$BATCH_ROWS")
  # shellcheck disable=SC2206
  [ -z "${TIMESTORE_TSBS_RUN_ARGS:-}" ] || run_args+=(${TIMESTORE_TSBS_RUN_ARGS})
  [ "$RUNS" = 1 ] || log "note: timestore-tsbs run sends each instance once (--runs $RUNS applies to the peers)"
  if ! "$TSBS" run "${run_args[@]}" > "$work/timestore.out" 2> "$work/timestore-run.log"; then
    log "timestore-tsbs run failed:"; tail -20 "$work/timestore-run.log" >&2
    grep '^{' "$work/timestore.out" | grep '"system"' > "$work/timestore.jsonl" || true
    return 1
  fi
  cat "$work/timestore-run.log" >&2
  grep '^{' "$work/timestore.out" | grep '"system"' > "$work/timestore.jsonl" || true
  [ -s "$work/timestore.jsonl" ] || { log "timestore-tsbs run printed no JSON line"; return 1; }
  $PY bench/peers/tsbs_peer.py add-root-bytes --root "$root" --results "$work/timestore.jsonl"
  stop_timestore
  # The same rows once more through InfluxDB line protocol (POST /write), load only,
  # on a fresh storage root: the report shows both load rates.
  [ "${TIMESTORE_LP_LOAD:-1}" = 1 ] || return 0
  root="$work/timestore-lp-root"; portfile="$work/timestore-lp.port"
  mkdir -p "$root"
  "$SERVER" serve --host 127.0.0.1 --port 0 --port-file "$portfile" --storage-root "$root" \
    > "$work/timestore-lp-server.log" 2>&1 &
  ts_pid=$!
  t0=$SECONDS
  while [ ! -s "$portfile" ]; do
    kill -0 "$ts_pid" 2>/dev/null || { tail -20 "$work/timestore-lp-server.log" >&2; return 1; }
    [ $((SECONDS - t0)) -lt 60 ] || { log "timestore did not start in 60 s"; return 1; }
    sleep 0.2
  done
  port=$(cat "$portfile")
  run_args[1]=$port
  if ! "$TSBS" run "${run_args[@]}" --format influx --dataset tsbs_cpu \
      > "$work/timestore-lp.out" 2> "$work/timestore-lp-run.log"; then
    log "timestore-tsbs run --format influx failed:"; tail -20 "$work/timestore-lp-run.log" >&2
    return 1
  fi
  grep '^{' "$work/timestore-lp.out" | grep '"phase":"load"' >> "$work/timestore.jsonl" || true
  stop_timestore
  # The rows stored through line protocol answer every query as those sent as NDJSON.
  if ! $PY - "$work/timestore.out" "$work/timestore-lp.out" <<'PYEOF'
import json, sys
def sums(path):
    out = {}
    for line in open(path):
        if line.startswith("{") and '"checksum"' in line:
            d = json.loads(line); out[d["type"]] = d["checksum"]
    return out
a, b = sums(sys.argv[1]), sums(sys.argv[2])
bad = [t for t in a if a[t] != b.get(t)]
print("line protocol load: %d query types, checksums %s" % (len(a), "differ: " + ", ".join(bad) if bad else "equal to the NDJSON load's"), file=sys.stderr)
sys.exit(1 if bad or not a else 0)
PYEOF
  then
    return 1
  fi
}

# --- the run ----------------------------------------------------------------------
for s in ${SYSTEMS//,/ }; do
  log "=== $s"
  case "$s" in
    timestore)
      versions+=("\"timestore\": \"$("$SERVER" --version 2>/dev/null | head -1)\"")
      run_timestore || { failed+=(timestore); stop_timestore; } ;;
    clickhouse|victoriametrics|influxdb|duckdb)
      case "$s" in
        clickhouse) data="$work/cpu.csv"; pkg=clickhouse-server ;;
        victoriametrics) data="$work/cpu.influx"; pkg=victoria-metrics ;;
        influxdb) data="$work/cpu.influx"; pkg=influxdb ;;
        duckdb) data="$work/cpu.csv"; pkg="" ;;
      esac
      if bench/peers/"$s".sh --data "$data" --queries "$work/queries.jsonl" --runs "$RUNS" \
          > "$work/$s.jsonl" 2> "$work/$s.log"; then
        :
      else
        log "$s failed; last lines of its log:"; tail -15 "$work/$s.log" >&2
        failed+=("$s")
      fi
      if [ "$s" = duckdb ]; then  # the library's version and the npm package's
        versions+=("\"$s\": \"$(node bench/peers/duckdb_peer.mjs --version 2>/dev/null)\"")
      else
        versions+=("\"$s\": \"$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null)\"")
      fi ;;
  esac
done
if [ "$REFERENCE" = 1 ]; then
  log "=== reference checksums (timestore-tsbs reference)"
  "$TSBS" reference "${gen[@]}" --count "$QUERIES" > "$work/reference.jsonl"
fi
if [ "$PYREF" = 1 ]; then
  log "=== reference checksums (tsbs_peer.py reference, Python)"
  $PY bench/peers/tsbs_peer.py reference --data "$work/cpu.csv" --queries "$work/queries.jsonl" \
    | sed 's/"system": "reference"/"system": "python-reference"/' > "$work/python-reference.jsonl"
fi

# --- report -----------------------------------------------------------------------
date_s=$(date -u +%Y-%m-%d)
name="$date_s-${HOSTS}h-$DURATION"
[ "$FLOAT" = 1 ] && name+="-float"
if [ -z "$OUT_DIR" ]; then
  if [ "$SMOKE" = 1 ]; then OUT_DIR="$work"; else OUT_DIR=bench/results; fi
fi
mkdir -p "$OUT_DIR"
rows=$({ grep -h '"phase"' "$work"/*.jsonl 2>/dev/null || true; } | $PY -c '
import json, sys
for l in sys.stdin:
    d = json.loads(l)
    if d.get("rows"): print(d["rows"]); break' || true)
cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//' || true)
mem=$(free -g | awk '/^Mem:/ {print $2}')
failed_json=$(printf '"%s",' "${failed[@]+"${failed[@]}"}"); failed_json="[${failed_json%,}]"
[ "$failed_json" = '[""]' ] && failed_json="[]"
versions_json=$(IFS=,; echo "{${versions[*]+"${versions[*]}"}}")
cat > "$work/meta.json" <<EOF
{"command": "${TIMESTORE_TSBS_RUN_ARGS:+TIMESTORE_TSBS_RUN_ARGS=\"$TIMESTORE_TSBS_RUN_ARGS\" }bench/tsbs/run_all.sh $ARGS_TEXT", "date": "$date_s",
 "machine": "$(nproc) cores ($cpu), ${mem} GiB, Linux $(uname -r)",
 "hosts": $HOSTS, "duration": "$DURATION", "seed": $SEED, "queries": $QUERIES, "runs": $RUNS,
 "rows": "${rows:-?}", "values": "$([ -n "$rows" ] && echo $((rows * 10)) || echo '?')",
 "value_kind": "$([ "$FLOAT" = 1 ] && echo full-precision float || echo integer)",
 "versions": $versions_json, "failed": $failed_json}
EOF
ref_args=()
[ "$REFERENCE" = 1 ] && ref_args+=(--reference "$work/reference.jsonl")
[ "$PYREF" = 1 ] && ref_args+=(--reference "$work/python-reference.jsonl")
$PY bench/tsbs/report.py --dir "$work" --systems "$SYSTEMS" --meta "$work/meta.json" \
  --md "$OUT_DIR/$name.md" --svg "$OUT_DIR/$name.svg" "${ref_args[@]}" > "$work/report.json"
where="$OUT_DIR/$name.md, chart: $OUT_DIR/$name.svg"
if [ "$OUT_DIR" = "$work" ] && [ "${KEEP:-0}" != 1 ]; then where+=" (removed at exit; KEEP=1 keeps them)"; fi
log "report: $where"
sed -n '/^| metric/,/^$/p' "$OUT_DIR/$name.md"

status=0
if [ ${#failed[@]} -gt 0 ]; then log "FAILED: ${failed[*]}"; status=1; fi
outs=()
for s in ${SYSTEMS//,/ }; do [ -s "$work/$s.jsonl" ] && outs+=("$work/$s.jsonl"); done
[ "$REFERENCE" = 1 ] && outs+=("$work/reference.jsonl")
[ "$PYREF" = 1 ] && outs+=("$work/python-reference.jsonl")
if [ ${#outs[@]} -ge 2 ]; then
  if ! $PY bench/peers/tsbs_peer.py compare "${outs[@]}" > "$work/compare.txt"; then
    log "CHECKSUMS DIFFER:"; grep -v "agree$" "$work/compare.txt" >&2 || true
    status=1
  fi
fi
exit "$status"
