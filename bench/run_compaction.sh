#!/usr/bin/env bash
# Compaction benchmark: TSBS cpu-only data with late rows, loaded twice through a fresh
# server with many small seals, once with background compaction off and once on.
#   bench/run_compaction.sh [hosts=100] [duration=3d] [late_fraction=0.05] [late_max=2h]
# Per run it prints ingest rows/s, segments per partition, segment bytes, compaction and
# seal bytes written (write amplification = compaction / seal bytes) and query p50s; the
# compaction-off run measures the queries before and after POST /admin/datasets/cpu/compact.
# A table follows, then one JSON line per run (bench/README.md).
#
# Environment: BUILD_DIR (build), PORT (4396), SEAL_MAX_ROWS (100000), CONNECTIONS (2),
# QUERY_RUNS (15), SETTLE_SECONDS (3: compaction counters unchanged this long = settled),
# SETTLE_TIMEOUT (600), START_GRACE (30, see below), KEEP=1 keeps the storage roots and
# logs. TIMESTORE_* variables reach the server (e.g. TIMESTORE_COMPACTION_QUIET (10s here),
# _CONCURRENCY, _MIN_SEGMENTS, _MAX_BYTES_PER_SEC); TIMESTORE_WAL_SYNC defaults to always.
set -euo pipefail
# Loopback benchmarks send no tokens (docs/api.md, "Authentication").
export TIMESTORE_AUTH=${TIMESTORE_AUTH:-none}
# Repeated queries over sealed data: time the engine, not the result cache.
export TIMESTORE_QUERY_CACHE_ENABLED=${TIMESTORE_QUERY_CACHE_ENABLED:-false}
cd "$(dirname "$0")/.."
HOSTS=${1:-100}; DURATION=${2:-3d}; LATE_FRACTION=${3:-0.05}; LATE_MAX=${4:-2h}
BUILD_DIR=${BUILD_DIR:-build}
PORT=${PORT:-4396}
SEAL_MAX_ROWS=${SEAL_MAX_ROWS:-100000}
CONNECTIONS=${CONNECTIONS:-2}
QUERY_RUNS=${QUERY_RUNS:-15}
SETTLE_SECONDS=${SETTLE_SECONDS:-3}
SETTLE_TIMEOUT=${SETTLE_TIMEOUT:-600}
SERVER=$BUILD_DIR/timestore
BENCH=$BUILD_DIR/timestore-ingest-bench
for b in "$SERVER" "$BENCH"; do
  [ -x "$b" ] || { echo "missing $b: build timestore and timestore-ingest-bench" >&2; exit 2; }
done

work=$(mktemp -d /tmp/timestore-compaction-XXXXXX)
pid=""
server_log=""
cleanup() {
  local rc=$?
  if [ "$rc" != 0 ] && [ -n "$server_log" ] && [ -s "$server_log" ]; then
    echo "server log ($server_log), last lines:" >&2; tail -20 "$server_log" >&2
  fi
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
base="http://127.0.0.1:$PORT"

# The HTTP/JSON side: settle polling, manifest and metrics summaries, queries, the report.
helper="$work/compaction_helper.py"
cat > "$helper" <<'PY'
import http.client, json, math, statistics, sys, time

TAGS = ["hostname", "region", "datacenter", "rack", "os", "arch", "team", "service",
        "service_version", "service_environment"]
FIELDS = ["usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
          "usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"]
# Counters that move while compaction works (any of them changing = not settled).
COMPACTION_METRICS = ["timestore_compaction_runs_total", "timestore_compaction_bytes_read_total",
                      "timestore_compaction_bytes_written_total"]
START_S = 1451606400  # 2016-01-01T00:00:00Z, the generator's default --start

def log(msg):
    print(msg, file=sys.stderr, flush=True)

class Client:
    def __init__(self, port):
        self.port = port
        self.conn = None

    def request(self, method, path, body=None, timeout=3600):
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
            try:
                data = None if body is None else (body if isinstance(body, str) else json.dumps(body))
                self.conn.request(method, path, body=data,
                                  headers={"Content-Type": "application/json"} if data else {})
                resp = self.conn.getresponse()
                return resp.status, resp.read().decode("utf-8", "replace")
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise

    def json(self, method, path, body=None):
        status, text = self.request(method, path, body)
        try:
            return status, json.loads(text)
        except ValueError:
            return status, {"raw": text[:500]}

def metrics(client):
    """Prometheus text → {name: value summed over label sets}. Missing names read as 0."""
    try:
        status, text = client.request("GET", "/metrics", timeout=30)
    except (http.client.HTTPException, OSError) as e:
        log(f"warning: GET /metrics failed: {e}")
        return {}
    if status != 200:
        log(f"warning: GET /metrics answered {status}")
        return {}
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        parts = line.rsplit(None, 1)
        if len(parts) != 2:
            continue
        name = parts[0].split("{", 1)[0].strip()
        try:
            out[name] = out.get(name, 0.0) + float(parts[1])
        except ValueError:
            pass
    return out

def m(ms, name):
    return ms.get(name, 0.0)

def settle(client, settle_s, timeout_s, min_wait_s, grace_s):
    """Waits until the compaction counters and the segment count have not changed for
    settle_s, at least min_wait_s after the start, or timeout_s. With grace_s > 0 the
    quiet time counts only once they have moved, or grace_s has passed without a move
    (a compaction that waits for a quiet period may not have started yet)."""
    t0 = time.monotonic()
    def key():
        ms = metrics(client)
        return tuple(m(ms, n) for n in COMPACTION_METRICS + ["timestore_segments"])
    last = key()
    last_change = t0
    moved = False
    while True:
        time.sleep(0.25)
        now = time.monotonic()
        cur = key()
        if cur != last:
            last, last_change, moved = cur, now, True
        started = moved or now - t0 >= grace_s
        if started and now - last_change >= settle_s and now - t0 >= min_wait_s:
            return {"settled": True, "seconds": round(now - t0, 3), "moved": moved}
        if now - t0 >= timeout_s:
            log(f"warning: compaction not settled after {timeout_s} s; measuring anyway")
            return {"settled": False, "seconds": round(now - t0, 3), "moved": moved}

def storage(client):
    """Segments per partition and bytes from the manifest, counters from /metrics."""
    status, man = client.json("GET", "/admin/datasets/cpu/manifest")
    if status != 200:
        raise SystemExit(f"GET /admin/datasets/cpu/manifest answered {status}: {man}")
    per_partition, levels, seg_bytes, rows_per_segment = [], {}, 0, []
    for p in man.get("partitions") or []:
        segs = p.get("segments") or []
        per_partition.append(len(segs))
        for s in segs:
            seg_bytes += int(s.get("bytes") or 0)
            rows_per_segment.append(int(s.get("rows") or 0))
            lv = str(s.get("level", 0))
            levels[lv] = levels.get(lv, 0) + 1
    ms = metrics(client)
    written = m(ms, "timestore_compaction_bytes_written_total")
    sealed = m(ms, "timestore_seal_bytes_written_total")
    def spread(v):
        return {"min": min(v) if v else 0, "median": statistics.median(v) if v else 0,
                "max": max(v) if v else 0}
    return {
        "partitions": len(per_partition),
        "segments": sum(per_partition),
        "segments_per_partition": spread(per_partition),
        "rows_per_segment": spread(rows_per_segment),
        "segment_levels": dict(sorted(levels.items())),
        "segment_bytes": seg_bytes,
        "segment_rows": sum(rows_per_segment),
        "hot_rows": man.get("hotRows"),
        "compaction_runs": int(m(ms, "timestore_compaction_runs_total")),
        "compaction_bytes_read": int(m(ms, "timestore_compaction_bytes_read_total")),
        "compaction_bytes_written": int(written),
        "seal_bytes_written": int(sealed),
        "write_amplification": round(written / sealed, 4) if sealed else None,
        "compaction_metrics_present": "timestore_compaction_runs_total" in ms,
    }

def rfc3339(s):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(s))

def parse_duration_s(s):
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    for u in sorted(units, key=len, reverse=True):
        if s.endswith(u) and s[:-len(u)].isdigit():
            return int(s[:-len(u)]) * units[u]
    return int(s)

def queries(hosts, duration_s):
    """TSBS-style queries placed at 40% of the data's time span (so inside it for any
    duration of a day or more), on the minute."""
    t = START_S + int(duration_s * 0.4) // 60 * 60
    host = f"host_{min(7, hosts - 1)}"
    eight = [f"host_{i * hosts // 8}" for i in range(8)] if hosts >= 8 else \
            [f"host_{i}" for i in range(hosts)]
    def rng(h):
        return {"start": rfc3339(t), "end": rfc3339(t + h * 3600)}
    return {
        # TSBS single-groupby-1-1-1: max of one field, one host, 1 hour, per minute.
        "single-groupby-1-1-1": {
            "timeRange": rng(1),
            "filters": [{"column": "hostname", "op": "eq", "value": host}],
            "downsample": {"intervalUnit": "minute",
                           "aggregations": [{"fn": "max", "column": "usage_user"}]}},
        # TSBS double-groupby-all: avg of all ten fields, all hosts, 12 hours, per hour
        # and host.
        "double-groupby-all": {
            "timeRange": rng(12),
            "downsample": {"intervalUnit": "hour", "groupBy": ["hostname"],
                           "aggregations": [{"fn": "avg", "column": f} for f in FIELDS]},
            "limit": 1000000},
        # TSBS cpu-max-all-8: max of all ten fields, eight hosts, 8 hours, per hour.
        "cpu-max-all-8": {
            "timeRange": rng(8),
            "filters": [{"column": "hostname", "op": "in", "value": eight}],
            "downsample": {"intervalUnit": "hour",
                           "aggregations": [{"fn": "max", "column": f} for f in FIELDS]},
            "limit": 1000000},
    }

def run_queries(client, hosts, duration_s, runs):
    out, answers = {}, {}
    for name, q in queries(hosts, duration_s).items():
        body = json.dumps(q)
        times, last = [], None
        for _ in range(runs):
            t0 = time.perf_counter()
            status, text = client.request("POST", "/datasets/cpu/query", body)
            times.append((time.perf_counter() - t0) * 1000)
            if status != 200:
                raise SystemExit(f"query {name} answered {status}: {text[:500]}")
            last = text
        res = json.loads(last)
        times.sort()
        stats = res.get("stats") or {}
        out[name] = {"p50_ms": round(statistics.median(times), 3),
                     "min_ms": round(times[0], 3), "rows": len(res.get("rows") or []),
                     "segments_scanned": stats.get("segmentsScanned"),
                     "bytes_read": stats.get("bytesRead")}
        answers[name] = res.get("rows")
    return out, answers

def same_rows(a, b):
    """Equal answers; doubles to 1e-9 relative (sums follow the storage order)."""
    if isinstance(a, float) or isinstance(b, float):
        if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
            return False
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_rows(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_rows(a[k], b[k]) for k in a)
    return a == b

def cmd_create(port):
    c = Client(port)
    schema = {"fields": [{"name": "timestamp", "type": "timestamp"}] +
              [{"name": t, "type": "string"} for t in TAGS] +
              [{"name": f, "type": "double"} for f in FIELDS]}
    status, ans = c.json("POST", "/datasets/cpu/ingest", {"schema": schema, "records": []})
    if status != 200:
        raise SystemExit(f"creating dataset cpu answered {status}: {ans}")
    status, ans = c.json("PUT", "/admin/datasets/cpu/settings", {"segmentBy": ["hostname"]})
    if status != 200:
        raise SystemExit(f"PUT /admin/datasets/cpu/settings answered {status}: {ans}")

def cmd_measure(port, mode, ingest_file, out_file, hosts, duration, late_fraction, late_max,
                seal_max_rows, runs, settle_s, timeout_s, min_wait_s, grace_s):
    c = Client(port)
    ingest = json.loads(open(ingest_file).read().strip().splitlines()[-1])
    r = {"bench": "compaction", "compaction": mode == "on", "hosts": hosts,
         "duration": duration, "late_fraction": late_fraction, "late_max": late_max,
         "seal_max_rows": seal_max_rows,
         "rows": ingest.get("rows"), "late_rows": ingest.get("late_rows"),
         "ingest_rows_per_sec": ingest.get("rows_per_sec"),
         "ingest_ack_p99_ms": ingest.get("ack_p99_ms"),
         "ingest_failures": ingest.get("failures")}
    t0 = time.monotonic()
    status, ans = c.json("POST", "/admin/datasets/cpu/flush")
    if status != 200:
        raise SystemExit(f"POST /admin/datasets/cpu/flush answered {status}: {ans}")
    r["flush_seconds"] = round(time.monotonic() - t0, 3)
    log(f"[{mode}] flushed; waiting for compaction to settle")
    r["settle"] = settle(c, settle_s, timeout_s, min_wait_s, grace_s)
    r.update(storage(c))
    log(f"[{mode}] {r['segments']} segments in {r['partitions']} partitions; queries")
    r["queries"], answers = run_queries(c, hosts, parse_duration_s(duration), runs)
    if mode == "off":
        t0 = time.monotonic()
        status, ans = c.json("POST", "/admin/datasets/cpu/compact")
        seconds = round(time.monotonic() - t0, 3)
        print(f"[off] POST /admin/datasets/cpu/compact → {status} in {seconds} s: "
              f"{json.dumps(ans)[:2000]}", flush=True)
        after = {"status": status, "seconds": seconds, "answer": ans}
        after.update(storage(c))
        after["queries"], answers_after = run_queries(c, hosts, parse_duration_s(duration), runs)
        after["answers_match"] = all(same_rows(answers[k], answers_after[k]) for k in answers)
        r["after_compact"] = after
    json.dump({"result": r, "answers": answers}, open(out_file, "w"))

def fmt_int(v):
    return "—" if v is None else f"{int(v):,}"

def cmd_report(*files):
    runs = [json.load(open(f)) for f in files]
    res = {("on" if x["result"]["compaction"] else "off"): x for x in runs}
    cols = []  # (title, storage/query dict, run result)
    if "off" in res:
        r = res["off"]["result"]
        cols.append(("off", r, r))
        if "after_compact" in r:
            cols.append(("off + compact", r["after_compact"], r))
    if "on" in res:
        r = res["on"]["result"]
        cols.append(("on (background)", r, r))
    any_r = cols[0][2]
    print()
    print(f"compaction benchmark: {any_r['hosts']} hosts x {any_r['duration']}, "
          f"{any_r['rows']:,} rows, late {any_r['late_fraction']} up to {any_r['late_max']} "
          f"({fmt_int(any_r['late_rows'])} rows), seal every {any_r['seal_max_rows']:,} rows")
    w = 22
    def row(label, vals):
        print(f"  {label:<36}" + "".join(f"{v:>{w}}" for v in vals))
    row("", [c[0] for c in cols])
    row("ingest rows/s", [fmt_int(c[2]["ingest_rows_per_sec"]) if c[1] is c[2] else "" for c in cols])
    row("settled after (s)", [f"{c[1]['settle']['seconds']}{'' if c[1]['settle']['settled'] else ' (timeout)'}"
                              if "settle" in c[1] else "" for c in cols])
    row("partitions", [fmt_int(c[1]["partitions"]) for c in cols])
    row("segments", [fmt_int(c[1]["segments"]) for c in cols])
    row("segments/partition min/med/max",
        ["{min}/{median:g}/{max}".format(**c[1]["segments_per_partition"]) for c in cols])
    row("rows/segment min/med/max",
        ["{min}/{median:g}/{max}".format(**c[1]["rows_per_segment"]) for c in cols])
    row("segment bytes", [fmt_int(c[1]["segment_bytes"]) for c in cols])
    row("compaction runs", [fmt_int(c[1]["compaction_runs"]) for c in cols])
    row("compaction bytes read", [fmt_int(c[1]["compaction_bytes_read"]) for c in cols])
    row("compaction bytes written", [fmt_int(c[1]["compaction_bytes_written"]) for c in cols])
    row("seal bytes written", [fmt_int(c[1]["seal_bytes_written"]) for c in cols])
    row("write amplification", ["—" if c[1]["write_amplification"] is None
                                else f"{c[1]['write_amplification']:.3f}" for c in cols])
    for q in cols[0][1]["queries"]:
        row(f"p50 ms {q}", [f"{c[1]['queries'][q]['p50_ms']:.2f}" for c in cols])
    for q in cols[0][1]["queries"]:
        row(f"segments scanned {q}",
            [fmt_int(c[1]["queries"][q]["segments_scanned"]) for c in cols])
    notes = []
    if "off" in res and "after_compact" in res["off"]["result"]:
        a = res["off"]["result"]["after_compact"]
        if a["status"] != 200:
            notes.append(f"POST /admin/datasets/cpu/compact answered {a['status']}: the "
                         "'off + compact' column is the uncompacted data measured again")
        notes.append("answers before/after POST compact " +
                     ("match" if a["answers_match"] else "DIFFER"))
    if "off" in res and "on" in res:
        same = all(same_rows(res["off"]["answers"][k], res["on"]["answers"][k])
                   for k in res["off"]["answers"])
        notes.append("answers compaction off/on " + ("match" if same else "DIFFER"))
    if any(not c[1]["compaction_metrics_present"] for c in cols):
        notes.append("the server exposes no timestore_compaction_* metrics (read as 0)")
    for n in notes:
        print(f"  note: {n}")
    for x in runs:
        print(json.dumps(x["result"]))

if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "create":
        cmd_create(int(args[0]))
    elif cmd == "measure":
        (port, mode, ingest_file, out_file, hosts, duration, late_fraction, late_max,
         seal_max_rows, runs, settle_s, timeout_s, min_wait_s, grace_s) = args
        cmd_measure(int(port), mode, ingest_file, out_file, int(hosts), duration,
                    float(late_fraction), late_max, int(seal_max_rows), int(runs),
                    float(settle_s), float(timeout_s), float(min_wait_s), float(grace_s))
    elif cmd == "report":
        cmd_report(*args)
    else:
        raise SystemExit(f"unknown command {cmd}")
PY

# With compaction on, the counters count as settled only after they have moved once after
# the flush or START_GRACE seconds have passed (a compaction that waits for a quiet period,
# TIMESTORE_COMPACTION_QUIET (10s here), may not have started yet), and never before the quiet
# period plus SETTLE_SECONDS.
START_GRACE=${START_GRACE:-30}
export TIMESTORE_COMPACTION_QUIET=${TIMESTORE_COMPACTION_QUIET:-10s}
quiet_s=$(python3 -c "
import re,sys
m=re.fullmatch(r'(\d+)(ms|s|m|h|d|w)?', '$TIMESTORE_COMPACTION_QUIET')
u={'ms':0.001,'s':1,'m':60,'h':3600,'d':86400,'w':604800,None:1}
print(int(m.group(1))*u[m.group(2)] if m else 0)")

outs=()
for mode in off on; do
  enabled=false; [ "$mode" = on ] && enabled=true
  dir="$work/$mode"; mkdir -p "$dir"; server_log="$dir/server.log"
  echo "[$mode] TIMESTORE_COMPACTION_ENABLED=$enabled: starting the server" >&2
  if curl -s -o /dev/null "$base/health"; then
    echo "something already listens on port $PORT; set PORT" >&2; exit 1
  fi
  TIMESTORE_WAL_SYNC=${TIMESTORE_WAL_SYNC:-always} TIMESTORE_LOG_LEVEL=${TIMESTORE_LOG_LEVEL:-warn} \
    TIMESTORE_COMPACTION_ENABLED=$enabled TIMESTORE_SEAL_MAX_ROWS=$SEAL_MAX_ROWS \
    "$SERVER" serve --port "$PORT" --storage-root "$dir/data" > "$dir/server.log" 2>&1 &
  pid=$!
  ready=0
  for _ in $(seq 1 200); do
    curl -sf "$base/ready" > /dev/null && { ready=1; break; }
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if [ "$ready" != 1 ]; then
    echo "[$mode] server not ready" >&2; exit 1
  fi
  python3 "$helper" create "$PORT"
  echo "[$mode] loading $HOSTS hosts x $DURATION, late $LATE_FRACTION up to $LATE_MAX" >&2
  if ! "$BENCH" --port "$PORT" --hosts "$HOSTS" --duration "$DURATION" --format ndjson \
      --connections "$CONNECTIONS" --late-fraction "$LATE_FRACTION" --late-max "$LATE_MAX" \
      > "$dir/ingest.out" 2> "$dir/ingest.err"; then
    echo "[$mode] ingest failed:" >&2; cat "$dir/ingest.err" >&2; tail -1 "$dir/ingest.out" >&2
    exit 1
  fi
  min_wait=$SETTLE_SECONDS; grace=0
  if [ "$mode" = on ]; then
    min_wait=$(python3 -c "print($quiet_s + $SETTLE_SECONDS)"); grace=$START_GRACE
  fi
  python3 "$helper" measure "$PORT" "$mode" "$dir/ingest.out" "$dir/result.json" "$HOSTS" \
    "$DURATION" "$LATE_FRACTION" "$LATE_MAX" "$SEAL_MAX_ROWS" "$QUERY_RUNS" \
    "$SETTLE_SECONDS" "$SETTLE_TIMEOUT" "$min_wait" "$grace"
  outs+=("$dir/result.json")
  kill "$pid"; wait "$pid" || true; pid=""
done
python3 "$helper" report "${outs[@]}"
