#!/usr/bin/python3
"""TSBS cpu-only against a peer system: load, size, queries, canonical checksums.

Shared by bench/peers/{clickhouse,victoriametrics,influxdb}.sh (which install, start and
stop the peer), bench/peers/duckdb.sh (DuckDB embedded: this script starts
duckdb_peer.mjs, a Node.js child process, and stops it) and by bench/tsbs/run_all.sh.
Standard library plus python3-xxhash (Debian); run it with /usr/bin/python3 so Debian's
modules are found.

  tsbs_peer.py run --system clickhouse|victoriametrics|influxdb|duckdb --port P --data FILE
               --queries FILE [--runs R] [--data-dir DIR] [--connections C]
               [--batch-rows N] [--digests FILE]
  tsbs_peer.py reference --data CSV --queries FILE [--digests FILE]
  tsbs_peer.py compare OUT.jsonl OUT2.jsonl ...   (exit 1 when checksums differ)
  tsbs_peer.py checksum-selftest

`run` prints JSON lines on stdout, the same shape as `timestore-tsbs run`:
  {"system":S,"phase":"load","rows":…,"rows_per_sec":…,"bytes_per_value":<after
   compaction>,"bytes_per_value_before_compact":<after load>,…}
  {"system":S,"type":T,"queries":n,"p50_ms":…,"p95_ms":…,"max_ms":…,"rows":…,
   "checksum":"<hex>",…}
Progress and warnings go to stderr. bench/README.md documents every mapping below.
"""

import argparse
import bisect
import http.client
import json
import math
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse

try:
    import xxhash
except ImportError:  # pragma: no cover - reported clearly, the scripts install it
    sys.exit("tsbs_peer.py needs python3-xxhash (apt-get install python3-xxhash) and "
             "Debian's /usr/bin/python3")

FIELDS = ["usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
          "usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"]
TAGS = ["hostname", "region", "datacenter", "rack", "os", "arch", "team", "service",
        "service_version", "service_environment"]
NS = 1_000_000_000
MS_NS = 1_000_000
THRESHOLD_FIELD = "usage_user"  # high-cpu: usage_user > threshold (TSBS)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# Canonical checksum (shared definition with timestore-tsbs; bench/README.md).
# --------------------------------------------------------------------------------------

def fmt_value(v):
    if v is None:
        return "null"
    return "%.4f" % (float(v) + 0.0)


def canonical_text(rows):
    """rows: iterable of (t_seconds:int, group:str, values:list). One line per row,
    `<t>|<group>|<v1>,<v2>,…`, sorted by bytes, each line followed by "\\n"
    (so an empty result is the empty string)."""
    lines = ["%d|%s|%s" % (t, g, ",".join(fmt_value(v) for v in vals)) for t, g, vals in rows]
    lines.sort(key=lambda s: s.encode("utf-8"))
    return "".join(line + "\n" for line in lines)


def instance_digest(rows):
    return xxhash.xxh3_64_hexdigest(canonical_text(rows).encode("utf-8"))


def type_checksum(digests):
    return xxhash.xxh3_64_hexdigest("".join(d + "\n" for d in digests).encode("ascii"))


# --------------------------------------------------------------------------------------
# Queries
# --------------------------------------------------------------------------------------

_DUR = {"ns": 1, "us": 1000, "ms": MS_NS, "s": NS, "m": 60 * NS, "h": 3600 * NS,
        "d": 86400 * NS, "w": 7 * 86400 * NS}


def parse_duration_ns(s):
    if s is None:
        return None
    if isinstance(s, (int, float)):
        return int(s) * NS
    m = re.fullmatch(r"(\d+)(ns|us|ms|s|m|h|d|w)?", s.strip())
    if not m:
        raise ValueError("bad duration %r" % s)
    return int(m.group(1)) * _DUR[m.group(2) or "s"]


def ceil_div(a, b):
    return -((-a) // b)


class Query:
    """One query instance. kind: 'lastpoint', 'raw' (rows, optional threshold) or
    'bucket' (aggregate per epoch-aligned bucket, optional limit = latest N buckets)."""

    def __init__(self, d):
        self.raw_json = d
        self.type = d["type"]
        self.hosts = list(d.get("hosts") or [])
        self.fields = list(d.get("fields") or [])
        self.start = int(d["start"])
        self.end = int(d["end"])
        self.bucket = parse_duration_ns(d.get("bucket"))
        self.agg = d.get("agg")
        self.group_by_host = bool(d.get("groupByHost"))
        self.threshold = d.get("threshold")
        self.limit = d.get("limit")
        if self.type.startswith("lastpoint"):
            self.kind = "lastpoint"
        elif self.bucket is None:
            self.kind = "raw"
        else:
            self.kind = "bucket"
            if self.agg not in ("max", "min", "avg"):
                raise ValueError("%s: unsupported agg %r" % (self.type, self.agg))
            if not self.fields:
                raise ValueError("%s: bucketed query without fields" % self.type)
            if self.limit is not None and self.group_by_host:
                raise ValueError("%s: limit with groupByHost is not supported" % self.type)
        for f in self.fields:
            if f not in FIELDS:
                raise ValueError("%s: unknown field %r" % (self.type, f))

    @property
    def out_fields(self):
        """Value columns of a result row, in checksum order."""
        return FIELDS if self.kind in ("lastpoint", "raw") else self.fields

    def group_of(self, host):
        if self.kind == "bucket" and not self.group_by_host:
            return ""
        return host


def load_queries(path):
    """Query instances grouped by type, types in order of first appearance."""
    by_type = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                q = Query(json.loads(line))
            except (ValueError, KeyError) as e:
                raise SystemExit("%s:%d: %s" % (path, n, e))
            by_type.setdefault(q.type, []).append(q)
    return by_type


# --------------------------------------------------------------------------------------
# Reference evaluator (Python, from the CSV file): the semantics every system must match.
# --------------------------------------------------------------------------------------

class Reference:
    """Rows per host, sorted by time, so a window is two bisections per host."""

    def __init__(self, csv_path):
        self.ts = {}    # host -> [ts_ns] sorted
        self.vals = {}  # host -> [[10 floats]] in the same order
        rows = {}
        with open(csv_path) as f:
            header = f.readline().strip().split(",")
            it = header.index("timestamp_ns")
            ih = header.index("hostname")
            ifs = [header.index(x) for x in FIELDS]
            for line in f:
                p = line.rstrip("\n").split(",")
                if len(p) < len(header):
                    continue
                rows.setdefault(p[ih], []).append((int(p[it]), [float(p[i]) for i in ifs]))
        for h, rs in rows.items():
            rs.sort(key=lambda r: r[0])
            self.ts[h] = [r[0] for r in rs]
            self.vals[h] = [r[1] for r in rs]

    def select(self, q):
        """(ts_ns, host, values) of q's hosts in [start, end)."""
        for h in (q.hosts or sorted(self.ts)):
            ts = self.ts.get(h)
            if not ts:
                continue
            i, j = bisect.bisect_left(ts, q.start), bisect.bisect_left(ts, q.end)
            vals = self.vals[h]
            for k in range(i, j):
                yield ts[k], h, vals[k]

    def evaluate(self, q):
        if q.kind == "lastpoint":
            last = {}
            for r in self.select(q):
                last[r[1]] = r  # rows come in time order per host
            return [(r[0] // NS, r[1], r[2]) for r in last.values()]
        if q.kind == "raw":
            iu = FIELDS.index(THRESHOLD_FIELD)
            return [(r[0] // NS, r[1], r[2]) for r in self.select(q)
                    if q.threshold is None or r[2][iu] > q.threshold]
        idx = [FIELDS.index(f) for f in q.fields]
        acc = {}
        for ts, host, vals in self.select(q):
            key = (ts // q.bucket * q.bucket, q.group_of(host))
            acc.setdefault(key, []).append([vals[i] for i in idx])
        out = []
        for (b, g), vs in acc.items():
            cols = list(zip(*vs))
            if q.agg == "max":
                v = [max(c) for c in cols]
            elif q.agg == "min":
                v = [min(c) for c in cols]
            else:
                v = [sum(c) / len(c) for c in cols]
            out.append((b // NS, g, v))
        if q.limit is not None:
            keep = set(sorted({r[0] for r in out}, reverse=True)[:int(q.limit)])
            out = [r for r in out if r[0] in keep]
        return out


# --------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------

class Http:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1:port."""

    def __init__(self, port, timeout=600):
        self.port = port
        self.timeout = timeout
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                       timeout=self.timeout)
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                resp = self.conn.getresponse()
                data = resp.read()
                if resp.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return resp.status, data
            except (http.client.HTTPException, OSError):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                if attempt:
                    raise

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def form(params):
    return urllib.parse.urlencode(params).encode()


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def disk_bytes(path, exclude=()):
    """Bytes a directory tree holds: per regular file min(size, allocated blocks), so
    preallocated sparse files (InfluxDB's series file) count what they hold and small
    files are not rounded up to a filesystem block."""
    total = 0
    for root, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if os.path.join(root, d) not in exclude]
        for name in files:
            try:
                st = os.lstat(os.path.join(root, name))
            except OSError:
                continue  # removed while walking (merges)
            if os.path.isfile(os.path.join(root, name)) and not os.path.islink(
                    os.path.join(root, name)):
                total += min(st.st_size, st.st_blocks * 512)
    return total


def wait_until(pred, timeout, what, interval=0.5):
    """Polls pred() until true or timeout seconds; returns (ok, seconds)."""
    t0 = time.monotonic()
    while True:
        if pred():
            return True, time.monotonic() - t0
        if time.monotonic() - t0 >= timeout:
            log("warning: %s not reached after %.0f s; measuring anyway" % (what, timeout))
            return False, time.monotonic() - t0
        time.sleep(interval)


def read_batches(path, batch_rows, skip_header):
    """The file's data lines in bodies of batch_rows lines (built before timing)."""
    batches, cur, rows = [], [], 0
    with open(path, "rb") as f:
        if skip_header:
            f.readline()
        for line in f:
            if not line.strip():
                continue
            if not line.endswith(b"\n"):
                line += b"\n"
            cur.append(line)
            rows += 1
            if len(cur) == batch_rows:
                batches.append(b"".join(cur))
                cur = []
    if cur:
        batches.append(b"".join(cur))
    return batches, rows


def send_batches(port, path, batches, connections, headers=None, ok=(200, 204)):
    """POSTs every batch over `connections` keep-alive connections; returns seconds
    from the first request to the last answer. Any non-2xx answer aborts."""
    lock = threading.Lock()
    state = {"next": 0, "error": None}

    def worker():
        h = Http(port)
        try:
            while True:
                with lock:
                    i = state["next"]
                    if i >= len(batches) or state["error"]:
                        return
                    state["next"] = i + 1
                try:
                    status, body = h.request("POST", path, batches[i], headers)
                except (http.client.HTTPException, OSError) as e:
                    status, body = 0, str(e).encode()
                if status not in ok:
                    with lock:
                        state["error"] = state["error"] or "batch %d: HTTP %d %s" % (
                            i, status, body[:300].decode("utf-8", "replace"))
                    return
        finally:
            h.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - t0
    if state["error"]:
        raise SystemExit("load failed: " + state["error"])
    return seconds


# --------------------------------------------------------------------------------------
# ClickHouse 18.16 (HTTP interface, SQL)
# --------------------------------------------------------------------------------------

CH_TAG_COLS = ", ".join("%s String" % t for t in TAGS)
CH_FIELD_COLS = ", ".join("%s Float64" % f for f in FIELDS)


def ch_quote(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


class ClickHouse:
    name = "clickhouse"
    data_format = "csv"

    def __init__(self, port, data_dir):
        self.port = port
        self.data_dir = data_dir
        self.http = Http(port)

    def sql(self, q, body=None, settings=None, check=True):
        params = dict(settings or {})
        if body is None:
            status, data = self.http.request(
                "POST", "/" + ("?" + urllib.parse.urlencode(params) if params else ""), q.encode())
        else:
            params["query"] = q
            status, data = self.http.request("POST", "/?" + urllib.parse.urlencode(params), body)
        if not check:
            return status, data.decode("utf-8", "replace")
        if status != 200:
            raise SystemExit("ClickHouse %d for %s: %s" % (
                status, q[:200], data[:500].decode("utf-8", "replace")))
        return data.decode()

    def setup(self):
        # cpu: what is stored. cpu_in (Null engine) + cpu_mv: the CSV's nanosecond
        # timestamps become DateTime (seconds) inside the server as rows arrive.
        self.sql("CREATE TABLE cpu (created_at DateTime, %s, %s) ENGINE = MergeTree() "
                 "PARTITION BY toYYYYMM(created_at) ORDER BY (hostname, created_at)"
                 % (CH_TAG_COLS, CH_FIELD_COLS))
        self.sql("CREATE TABLE cpu_in (timestamp_ns UInt64, %s, %s) ENGINE = Null"
                 % (CH_TAG_COLS, CH_FIELD_COLS))
        self.sql("CREATE MATERIALIZED VIEW cpu_mv TO cpu AS SELECT "
                 "toDateTime(intDiv(timestamp_ns, 1000000000)) AS created_at, %s, %s FROM cpu_in"
                 % (", ".join(TAGS), ", ".join(FIELDS)))

    def load(self, path, batch_rows, connections):
        self.setup()
        batches, rows = read_batches(path, batch_rows, skip_header=True)
        log("clickhouse: loading %d rows in %d batches over %d connections"
            % (rows, len(batches), connections))
        seconds = send_batches(self.port, "/?" + urllib.parse.urlencode(
            {"query": "INSERT INTO cpu_in FORMAT CSV"}), batches, connections, ok=(200,))
        return rows, seconds

    def stored_rows(self):
        return int(self.sql("SELECT count() FROM cpu").strip())

    def table_bytes(self):
        return int(self.sql("SELECT sum(bytes_on_disk) FROM system.parts "
                            "WHERE active AND database = currentDatabase() AND table = 'cpu'")
                   .strip() or 0)

    def after_load(self, rows):
        return {"bytes": self.table_bytes(), "parts": self.parts()}

    def parts(self):
        return int(self.sql("SELECT count() FROM system.parts WHERE active AND "
                            "database = currentDatabase() AND table = 'cpu'").strip())

    def parts_per_partition(self):
        out = {}
        for line in self.sql("SELECT partition_id, count() FROM system.parts WHERE active AND "
                             "database = currentDatabase() AND table = 'cpu' "
                             "GROUP BY partition_id FORMAT TabSeparated").splitlines():
            pid, n = line.split("\t")
            out[pid] = int(n)
        return out

    def merges_running(self):
        return int(self.sql("SELECT count() FROM system.merges WHERE "
                            "database = currentDatabase() AND table = 'cpu'").strip())

    def compact(self, rows):
        """OPTIMIZE TABLE cpu PARTITION ID … FINAL per partition until each holds one
        part. A plain OPTIMIZE … FINAL silently does nothing while background merges
        hold some of the parts, so: wait for them, ask with optimize_throw_if_noop=1,
        retry (bounded by SETTLE_TIMEOUT)."""
        t0 = time.monotonic()
        timeout = float(os.environ.get("SETTLE_TIMEOUT", 600))
        attempts = 0
        while True:
            wait_until(lambda: self.merges_running() == 0, timeout, "ClickHouse merges")
            todo = [p for p, n in self.parts_per_partition().items() if n > 1]
            if not todo and attempts:
                break
            # FINAL also rewrites a partition that is one part already (first pass).
            for pid in (todo or list(self.parts_per_partition())):
                attempts += 1
                status, text = self.sql("OPTIMIZE TABLE cpu PARTITION ID '%s' FINAL" % pid,
                                        settings={"optimize_throw_if_noop": 1}, check=False)
                if status != 200:
                    log("clickhouse: OPTIMIZE partition %s: %s; retrying" % (pid, text[:200]))
                    time.sleep(1)
            if time.monotonic() - t0 > timeout:
                log("warning: ClickHouse partitions not merged to one part after %.0f s" % timeout)
                break
        return {"bytes": self.table_bytes(), "parts": self.parts(),
                "seconds": round(time.monotonic() - t0, 3), "optimize_requests": attempts}

    # -- queries ------------------------------------------------------------------
    @staticmethod
    def where(q, extra=None):
        # DateTime holds whole seconds; rows are on whole seconds, so ts_ns >= start_ns
        # <=> created_at >= ceil(start_ns / 1e9) (same for the exclusive end).
        c = ["created_at >= toDateTime(%d)" % ceil_div(q.start, NS),
             "created_at < toDateTime(%d)" % ceil_div(q.end, NS)]
        if q.hosts:
            c.append("hostname IN (%s)" % ", ".join(ch_quote(h) for h in q.hosts))
        if extra:
            c.append(extra)
        return " AND ".join(c)

    def translate(self, q):
        if q.kind == "lastpoint":
            cols = ", ".join("argMax(%s, created_at)" % f for f in FIELDS)
            return ("SELECT toUInt32(max(created_at)), hostname, %s FROM cpu WHERE %s "
                    "GROUP BY hostname FORMAT TabSeparated" % (cols, self.where(q)))
        if q.kind == "raw":
            extra = None if q.threshold is None else "%s > %r" % (
                THRESHOLD_FIELD, float(q.threshold))
            return ("SELECT toUInt32(created_at), hostname, %s FROM cpu WHERE %s "
                    "FORMAT TabSeparated" % (", ".join(FIELDS), self.where(q, extra)))
        b = q.bucket // NS
        if q.bucket % NS:
            raise ValueError("bucket must be whole seconds")
        bexpr = {60: "toStartOfMinute(created_at)", 3600: "toStartOfHour(created_at)"}.get(
            b, "toDateTime(intDiv(toUInt32(created_at), %d) * %d)" % (b, b))
        aggs = ", ".join("%s(%s)" % (q.agg, f) for f in q.fields)
        host_col = "hostname" if q.group_by_host else "''"
        group = "t, hostname" if q.group_by_host else "t"
        tail = "" if q.limit is None else " ORDER BY t DESC LIMIT %d" % int(q.limit)
        return ("SELECT toUInt32(%s) AS t, %s, %s FROM cpu WHERE %s GROUP BY %s%s "
                "FORMAT TabSeparated" % (bexpr, host_col, aggs, self.where(q), group, tail))

    def prepare(self, q):
        return self.translate(q)

    def execute(self, prepared):
        t0 = time.perf_counter()
        text = self.sql(prepared)
        return time.perf_counter() - t0, text

    def parse(self, q, text):
        rows = []
        for line in text.splitlines():
            if not line:
                continue
            p = line.split("\t")
            rows.append((int(p[0]), p[1], [parse_num(x) for x in p[2:]]))
        return rows


def parse_num(s):
    if s in ("\\N", "null", "NULL"):
        return None
    return float(s)


# --------------------------------------------------------------------------------------
# InfluxDB 1.6 (HTTP /write line protocol, InfluxQL)
# --------------------------------------------------------------------------------------

INFLUX_DB = "benchmark"


def iq_quote(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Influx:
    name = "influxdb"
    data_format = "influx"

    def __init__(self, port, data_dir):
        self.port = port
        self.data_dir = data_dir
        self.http = Http(port)
        self.settle_timeout = float(os.environ.get("SETTLE_TIMEOUT", 600))

    def influxql(self, q, db=True, method="GET"):
        params = {"q": q, "epoch": "ns"}
        if db:
            params["db"] = INFLUX_DB
        if method == "POST":
            status, data = self.http.request("POST", "/query", form(params), FORM)
        else:
            status, data = self.http.request("GET", "/query?" + urllib.parse.urlencode(params))
        if status != 200:
            raise SystemExit("InfluxDB %d for %s: %s" % (status, q[:200], data[:500]))
        d = json.loads(data)
        for r in d.get("results", []):
            if "error" in r:
                raise SystemExit("InfluxDB error for %s: %s" % (q[:200], r["error"]))
        return d

    def load(self, path, batch_rows, connections):
        self.influxql("CREATE DATABASE %s" % INFLUX_DB, db=False, method="POST")
        batches, rows = read_batches(path, batch_rows, skip_header=False)
        log("influxdb: loading %d rows in %d batches over %d connections"
            % (rows, len(batches), connections))
        seconds = send_batches(self.port, "/write?db=%s&precision=ns" % INFLUX_DB, batches,
                               connections, ok=(204,))
        return rows, seconds

    def stored_rows(self):
        d = self.influxql("SELECT count(usage_user) FROM cpu")
        s = d["results"][0].get("series") or []
        return int(s[0]["values"][0][1]) if s else 0

    def db_bytes(self):
        return (disk_bytes(os.path.join(self.data_dir, "data", INFLUX_DB)) +
                disk_bytes(os.path.join(self.data_dir, "wal", INFLUX_DB)))

    def engine_stats(self):
        status, data = self.http.request("GET", "/debug/vars")
        if status != 200:
            return {}
        out = {}
        for v in json.loads(data).values():
            if not isinstance(v, dict) or v.get("name") not in (
                    "tsm1_engine", "tsm1_cache", "tsm1_filestore", "tsm1_wal"):
                continue
            if (v.get("tags") or {}).get("database") != INFLUX_DB:
                continue
            sid = v["tags"].get("id")
            out.setdefault(sid, {}).update(
                {"%s.%s" % (v["name"], k): x for k, x in (v.get("values") or {}).items()})
        return out

    def after_load(self, rows):
        return {"bytes": self.db_bytes()}

    def compact(self, rows):
        """Waits for the cache snapshot and the full compaction (the generated config
        makes a shard cold after 5 s / 10 s without writes): every shard with no
        active compaction, empty cache and WAL, and its TSM files unchanged for 5 s
        when each shard is one file (20 s otherwise); at least 15 s after the load."""
        t0 = time.monotonic()
        last = {"key": None, "since": time.monotonic()}

        def settled():
            st = self.engine_stats()
            if not st:
                return False
            key = []
            for sid, s in sorted(st.items()):
                active = sum(x for k, x in s.items() if k.endswith("Active"))
                files = s.get("tsm1_filestore.numFiles", 0)
                full = s.get("tsm1_engine.tsmFullCompactions", 0)
                if active or s.get("tsm1_cache.memBytes", 0) or \
                        s.get("tsm1_wal.oldSegmentsDiskBytes", 0) or \
                        s.get("tsm1_wal.currentSegmentDiskBytes", 0) or \
                        (files > 1 and not full):
                    last["key"] = None
                    return False
                key.append((sid, files, s.get("tsm1_filestore.diskBytes", 0)))
            now = time.monotonic()
            if key != last["key"]:
                last["key"], last["since"] = key, now
                return False
            # One TSM file per shard: fully compacted. Several: the planner may still
            # compact them, so they must stay unchanged longer.
            need = 5 if all(k[1] <= 1 for k in key) else 20
            return now - last["since"] >= need and now - t0 >= 15

        ok, secs = wait_until(settled, self.settle_timeout, "InfluxDB full compaction", 1.0)
        return {"bytes": self.db_bytes(), "settled": ok, "seconds": round(secs, 3)}

    # -- queries ------------------------------------------------------------------
    @staticmethod
    def where(q, extra=None):
        c = ["time >= %d" % q.start, "time < %d" % q.end]
        if q.hosts:
            c.append("(" + " OR ".join("hostname = %s" % iq_quote(h) for h in q.hosts) + ")")
        if extra:
            c.append(extra)
        return " AND ".join(c)

    def translate(self, q):
        if q.kind == "lastpoint":
            return ("SELECT %s FROM cpu WHERE %s GROUP BY hostname ORDER BY time DESC LIMIT 1"
                    % (", ".join(FIELDS), self.where(q)))
        if q.kind == "raw":
            extra = None if q.threshold is None else "%s > %r" % (
                THRESHOLD_FIELD, float(q.threshold))
            return "SELECT %s FROM cpu WHERE %s GROUP BY hostname" % (
                ", ".join(FIELDS), self.where(q, extra))
        fn = {"max": "max", "min": "min", "avg": "mean"}[q.agg]
        aggs = ", ".join("%s(%s)" % (fn, f) for f in q.fields)
        group = "time(%ds)%s" % (q.bucket // NS, ", hostname" if q.group_by_host else "")
        if q.bucket % NS:
            raise ValueError("bucket must be whole seconds")
        tail = "" if q.limit is None else " ORDER BY time DESC LIMIT %d" % int(q.limit)
        return "SELECT %s FROM cpu WHERE %s GROUP BY %s fill(none)%s" % (
            aggs, self.where(q), group, tail)

    def prepare(self, q):
        return "/query?" + urllib.parse.urlencode({"db": INFLUX_DB, "epoch": "ns",
                                                   "q": self.translate(q)})

    def execute(self, prepared):
        t0 = time.perf_counter()
        status, data = self.http.request("GET", prepared)
        elapsed = time.perf_counter() - t0
        if status != 200:
            raise SystemExit("InfluxDB %d: %s" % (status, data[:500]))
        return elapsed, data

    def parse(self, q, data):
        d = json.loads(data)
        rows = []
        for r in d.get("results", []):
            if "error" in r:
                raise SystemExit("InfluxDB error: %s" % r["error"])
            for s in r.get("series") or []:
                host = (s.get("tags") or {}).get("hostname", "")
                for v in s["values"]:
                    rows.append((int(v[0]) // NS, q.group_of(host), list(v[1:])))
        return rows


# --------------------------------------------------------------------------------------
# VictoriaMetrics 1.79 (influx line protocol on /write, MetricsQL)
# --------------------------------------------------------------------------------------

def mq_quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def re_alt(values):
    return "|".join(re.sub(r"([\\.+*?()\[\]{}|^$])", r"\\\1", v) for v in values)


class VictoriaMetrics:
    name = "victoriametrics"
    data_format = "influx"
    MAX_POINTS = 10000  # points per series per query_range (VM's limit is 30000)

    def __init__(self, port, data_dir):
        self.port = port
        self.data_dir = data_dir
        self.http = Http(port)
        self.settle_timeout = float(os.environ.get("SETTLE_TIMEOUT", 600))
        self.interval_ms = parse_duration_ns(os.environ.get("TSBS_INTERVAL", "10s")) // MS_NS

    def metrics(self):
        status, data = self.http.request("GET", "/metrics")
        out = {}
        for line in data.decode().splitlines():
            if line.startswith("#") or " " not in line:
                continue
            k, v = line.rsplit(" ", 1)
            try:
                out[k] = float(v)
            except ValueError:
                pass
        return out

    def load(self, path, batch_rows, connections):
        batches, rows = read_batches(path, batch_rows, skip_header=False)
        log("victoriametrics: loading %d rows in %d batches over %d connections"
            % (rows, len(batches), connections))
        seconds = send_batches(self.port, "/write", batches, connections, ok=(204, 200))
        return rows, seconds

    def stored_values(self):
        m = self.metrics()
        return int(m.get('vm_rows{type="storage/small"}', 0) +
                   m.get('vm_rows{type="storage/big"}', 0))

    def stored_rows(self):
        return self.stored_values() // len(FIELDS)

    def db_bytes(self):
        return disk_bytes(self.data_dir, exclude=(os.path.join(self.data_dir, "cache"),))

    def after_load(self, rows):
        """Acked rows are buffered in memory; they reach searchable parts on disk about a
        second later (force_flush asks for it now). Waits until all values are stored
        and nothing is pending, then until the directory size is steady for 3 s."""
        t0 = time.monotonic()
        self.http.request("GET", "/internal/force_flush")

        def stored():
            m = self.metrics()
            return (self.stored_values() >= rows * len(FIELDS) and
                    m.get('vm_pending_rows{type="storage"}', 1) == 0 and
                    m.get('vm_pending_rows{type="indexdb"}', 1) == 0)
        ok1, _ = wait_until(stored, self.settle_timeout, "VictoriaMetrics storing all values")
        visible_s = time.monotonic() - t0

        # Searchable parts live in memory first (vm_data_size_bytes counts them) and
        # reach disk some seconds later: wait until the part files hold at least that.
        def on_disk():
            m = self.metrics()
            want = (m.get('vm_data_size_bytes{type="storage/small"}', 0) +
                    m.get('vm_data_size_bytes{type="storage/big"}', 0))
            have = sum(disk_bytes(os.path.join(self.data_dir, "data", d))
                       for d in ("small", "big"))
            return have >= want > 0
        ok2, _ = wait_until(on_disk, self.settle_timeout, "VictoriaMetrics parts on disk")
        ok3, _ = self.wait_steady()
        return {"bytes": self.db_bytes(), "visible_after_s": round(visible_s, 3),
                "on_disk_after_s": round(time.monotonic() - t0, 3),
                "settled": ok1 and ok2 and ok3}

    def wait_steady(self, need_s=3.0):
        last = {"size": None, "since": time.monotonic()}

        def steady():
            m = self.metrics()
            active = sum(v for k, v in m.items() if k.startswith("vm_active_merges"))
            size = self.db_bytes()
            now = time.monotonic()
            if active or size != last["size"]:
                last["size"], last["since"] = size, now
                return False
            return now - last["since"] >= need_s
        return wait_until(steady, self.settle_timeout, "VictoriaMetrics steady size")

    def compact(self, rows):
        t0 = time.monotonic()
        status, data = self.http.request("GET", "/internal/force_merge")
        if status != 200:
            log("warning: force_merge answered %d %s" % (status, data[:200]))
        time.sleep(1.0)
        ok, _ = self.wait_steady(5.0)
        return {"bytes": self.db_bytes(), "settled": ok,
                "seconds": round(time.monotonic() - t0, 3)}

    # -- queries ------------------------------------------------------------------
    @staticmethod
    def selector(hosts, fields):
        m = []
        if len(fields) == 1:
            m.append("__name__=%s" % mq_quote("cpu_" + fields[0]))
        else:
            m.append("__name__=~%s" % mq_quote("cpu_(%s)" % re_alt(fields)))
        if len(hosts) == 1:
            m.append("hostname=%s" % mq_quote(hosts[0]))
        elif hosts:
            m.append("hostname=~%s" % mq_quote(re_alt(hosts)))
        return "{%s}" % ",".join(m)

    def bucket_expr(self, q, window_ms, offset_ms):
        """Aggregate of q.fields over the rollup window (t+offset-window, t+offset]."""
        sel = "%s[%dms]%s" % (self.selector(q.hosts, q.fields), window_ms,
                              " offset %dms" % offset_ms if offset_ms else "")
        by = "__name__, hostname" if q.group_by_host else "__name__"
        if q.agg == "avg":
            if not q.group_by_host:
                raise ValueError("pooled avg is not supported for VictoriaMetrics")
            # One series per host and field (TSBS tags are fixed per host).
            return "avg_over_time(%s) keep_metric_names" % sel
        return "%s by (%s) (%s_over_time(%s) keep_metric_names)" % (q.agg, by, q.agg, sel)

    def plan_buckets(self, q, s, e):
        """Requests covering buckets of [s, e) (ms): a partial first and last bucket
        as instant queries with an exact window, full buckets as one query_range at
        bucket starts with window B and offset -(B-1) ms, i.e. [b, b+B). Returns
        [(kind, params, label_ms or None)]."""
        B = q.bucket // MS_NS
        reqs = []
        if s >= e:
            return reqs
        b0 = s // B * B
        bl = (e - 1) // B * B
        if b0 == bl:
            return [("query", {"query": self.bucket_expr(q, e - s, 0), "time": ms_s(e - 1)}, b0)]
        full_start, full_end = b0, bl
        if s > b0:
            reqs.append(("query", {"query": self.bucket_expr(q, b0 + B - s, 0),
                                   "time": ms_s(b0 + B - 1)}, b0))
            full_start = b0 + B
        if e < bl + B:
            tail = ("query", {"query": self.bucket_expr(q, e - bl, 0), "time": ms_s(e - 1)}, bl)
            full_end = bl - B
        else:
            tail = None
        expr = self.bucket_expr(q, B, -(B - 1))
        t = full_start
        while t <= full_end:
            chunk_end = min(full_end, t + (self.MAX_POINTS - 1) * B)
            reqs.append(("query_range", {"query": expr, "start": ms_s(t),
                                         "end": ms_s(chunk_end), "step": "%dms" % B}, None))
            t = chunk_end + B
        if tail:
            reqs.append(tail)
        return reqs

    def prepare(self, q):
        s = ceil_div(q.start, MS_NS)
        e = ceil_div(q.end, MS_NS)
        if q.kind == "lastpoint":
            w = max(e - s, 1)
            sel = self.selector(q.hosts, FIELDS)
            tsel = self.selector(q.hosts, [THRESHOLD_FIELD])
            return [("query", {"query": "last_over_time(%s[%dms]) keep_metric_names" % (sel, w),
                               "time": ms_s(e - 1)}, None),
                    ("query", {"query": "tlast_over_time(%s[%dms])" % (tsel, w),
                               "time": ms_s(e - 1)}, "ts")]
        if q.kind == "raw":
            # Raw rows on the data's grid: at each grid time t the sample at exactly t
            # (window (t-1ms, t]).
            g = self.interval_ms
            first, last = ceil_div(s, g) * g, (e - 1) // g * g
            sel = self.selector(q.hosts, FIELDS)
            tsel = self.selector(q.hosts, [THRESHOLD_FIELD])
            if q.threshold is None:
                expr = "last_over_time(%s[1ms]) keep_metric_names" % sel
            else:
                expr = ("last_over_time(%s[1ms]) keep_metric_names and on(hostname) "
                        "(last_over_time(%s[1ms]) > %r)" % (sel, tsel, float(q.threshold)))
            reqs = []
            t = first
            while t <= last:
                chunk_end = min(last, t + (self.MAX_POINTS - 1) * g)
                reqs.append(("query_range", {"query": expr, "start": ms_s(t),
                                             "end": ms_s(chunk_end), "step": "%dms" % g}, None))
                t = chunk_end + g
            return reqs
        if q.limit is not None:
            # Latest N buckets: first only the last N bucket windows; if all N have data
            # they are the answer, else the whole range (below, in execute()).
            B = q.bucket // MS_NS
            n = int(q.limit)
            short_s = max(s, ((e - 1) // B - (n - 1)) * B)
            return {"limit": n, "short": self.plan_buckets(q, short_s, e),
                    "full": self.plan_buckets(q, s, e)}
        return self.plan_buckets(q, s, e)

    def run_requests(self, reqs):
        elapsed, out = 0.0, []
        for kind, params, label in reqs:
            body = form(params)
            t0 = time.perf_counter()
            status, data = self.http.request("POST", "/api/v1/" + kind, body, FORM)
            elapsed += time.perf_counter() - t0
            if status != 200:
                raise SystemExit("VictoriaMetrics %d for %s: %s" % (
                    status, params["query"][:200], data[:500]))
            out.append((kind, label, data))
        return elapsed, out

    def execute(self, prepared):
        if isinstance(prepared, dict):
            el, out = self.run_requests(prepared["short"])
            if len({t for t, _, _ in self.bucket_points(out)}) >= prepared["limit"]:
                return el, ("limit", prepared["limit"], out)
            el2, out = self.run_requests(prepared["full"])
            return el + el2, ("limit", prepared["limit"], out)
        return self.run_requests(prepared)

    @staticmethod
    def bucket_points(out):
        """(t_ms, series metric, value) of bucket query answers."""
        pts = []
        for kind, label, data in out:
            d = json.loads(data)
            for r in d["data"]["result"]:
                if kind == "query":
                    pts.append((label, r["metric"], r["value"][1]))
                else:
                    for ts, v in r["values"]:
                        pts.append((int(round(float(ts) * 1000)), r["metric"], v))
        return pts

    def parse(self, q, answer):
        limit = None
        if isinstance(answer, tuple) and answer and answer[0] == "limit":
            _, limit, answer = answer
        if q.kind == "lastpoint":
            vals, ts = {}, {}
            for kind, label, data in answer:
                for r in json.loads(data)["data"]["result"]:
                    host = r["metric"].get("hostname", "")
                    if label == "ts":
                        ts[host] = int(round(float(r["value"][1]) * 1000))
                    else:
                        f = r["metric"].get("__name__", "")[4:]
                        vals.setdefault(host, {})[f] = float(r["value"][1])
            return [(ts.get(h, 0) // 1000, h, [v.get(f) for f in FIELDS])
                    for h, v in vals.items()]
        if q.kind == "raw":
            acc = {}
            for kind, label, data in answer:
                for r in json.loads(data)["data"]["result"]:
                    host = r["metric"].get("hostname", "")
                    f = r["metric"].get("__name__", "")[4:]
                    for t, v in r["values"]:
                        key = (int(round(float(t) * 1000)) // 1000, host)
                        acc.setdefault(key, {})[f] = float(v)
            return [(t, h, [v.get(f) for f in FIELDS]) for (t, h), v in acc.items()]
        acc = {}
        for t_ms, metric, v in self.bucket_points(answer):
            g = q.group_of(metric.get("hostname", ""))
            f = metric.get("__name__", "")[4:]
            acc.setdefault((t_ms // 1000, g), {})[f] = float(v)
        rows = [(t, g, [v.get(f) for f in q.fields]) for (t, g), v in acc.items()]
        if limit is not None:
            keep = set(sorted({r[0] for r in rows}, reverse=True)[:limit])
            rows = [r for r in rows if r[0] in keep]
        return rows


def ms_s(ms):
    """Milliseconds → the seconds string VictoriaMetrics reads exactly."""
    return "%d.%03d" % (ms // 1000, ms % 1000)


# --------------------------------------------------------------------------------------
# DuckDB (embedded, npm @duckdb/node-api, through bench/peers/duckdb_peer.mjs)
# --------------------------------------------------------------------------------------

def duck_quote(s):
    return "'" + s.replace("'", "''") + "'"


class DuckDB:
    """DuckDB runs inside a Node.js child process (duckdb_peer.mjs) that executes one SQL
    statement per request on stdin and times it in-process: no server, no network round
    trip. The database is a file in data_dir; every answer row comes back as JSON and is
    reduced to the canonical checksum here, as for the other peers."""
    name = "duckdb"
    data_format = "csv"

    def __init__(self, port, data_dir):
        del port  # embedded: no port
        os.makedirs(data_dir, exist_ok=True)
        self.data_dir = data_dir
        self.db_path = os.path.join(data_dir, "tsbs.duckdb")
        self.threads = int(os.environ.get("DUCKDB_THREADS", 2))
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "duckdb_peer.mjs")
        self.proc = subprocess.Popen(
            [os.environ.get("NODE", "node"), script, "--db", self.db_path,
             "--threads", str(self.threads)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.info = self.call({"op": "hello"})
        if self.info.get("threads") != self.threads:
            raise SystemExit("duckdb: threads = %r, asked for %d"
                             % (self.info.get("threads"), self.threads))
        log("duckdb: DuckDB %s (@duckdb/node-api %s), threads %d, database %s"
            % (self.info["duckdb_version"], self.info["node_api_version"],
               self.info["threads"], self.db_path))

    def call(self, cmd):
        try:
            self.proc.stdin.write((json.dumps(cmd) + "\n").encode())
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        except OSError as e:
            line = b""
            log("duckdb: %s" % e)
        if not line:
            raise SystemExit("duckdb: duckdb_peer.mjs exited (status %r)" % self.proc.poll())
        d = json.loads(line)
        if "error" in d:
            raise SystemExit("DuckDB error for %s: %s" % (
                (cmd.get("sql") or cmd.get("op"))[:300], d["error"]))
        return d

    def sql(self, q):
        return self.call({"op": "query", "sql": q})["rows"]

    def close(self):
        if self.proc.poll() is None:
            try:
                self.call({"op": "close"})
            except SystemExit:
                pass
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def load(self, path, batch_rows, connections):
        """One statement: read_csv of the whole file, nanoseconds → TIMESTAMP
        (microseconds), sorted by (hostname, ts): CREATE TABLE … AS SELECT … ORDER BY.
        batch_rows and connections do not apply (the load line says so)."""
        del batch_rows, connections
        with open(path, "rb") as f:
            header = f.readline().decode().strip().split(",")
            rows = sum(1 for line in f if line.strip())
        types = {"timestamp_ns": "BIGINT"}
        types.update({x: "DOUBLE" for x in FIELDS})
        cols = ", ".join("%s: %s" % (duck_quote(c), duck_quote(types.get(c, "VARCHAR")))
                         for c in header)
        self.load_sql = (
            "CREATE TABLE cpu AS SELECT make_timestamp(timestamp_ns // 1000) AS ts, %s, %s "
            "FROM read_csv(%s, header = true, delim = ',', quote = '', columns = {%s}) "
            "ORDER BY hostname, ts" % (", ".join(TAGS), ", ".join(FIELDS),
                                       duck_quote(os.path.abspath(path)), cols))
        log("duckdb: loading %d rows: %s" % (rows, self.load_sql))
        ms = self.call({"op": "exec", "sql": self.load_sql})["ms"]
        return rows, ms / 1000.0

    def load_info(self):
        """Members of the load line that differ from the HTTP peers'."""
        return {"connections": None, "batch_rows": None, "threads": self.threads,
                "in_process": True, "duckdb_version": self.info["duckdb_version"],
                "node_api_version": self.info["node_api_version"],
                "load_method": "read_csv -> CREATE TABLE cpu AS SELECT ... ORDER BY hostname, ts"}

    def stored_rows(self):
        return int(self.sql("SELECT count(*) FROM cpu")[0][0])

    def file_bytes(self):
        total = {}
        for suffix in ("", ".wal"):
            try:
                st = os.stat(self.db_path + suffix)
                total[suffix] = min(st.st_size, st.st_blocks * 512)
            except FileNotFoundError:
                total[suffix] = 0
        return total[""], total[".wal"]

    def after_load(self, rows):
        db, wal = self.file_bytes()
        return {"bytes": db + wal, "wal_bytes": wal}

    def compact(self, rows):
        """CHECKPOINT: the WAL into the database file; the size is the file's then."""
        ms = self.call({"op": "exec", "sql": "CHECKPOINT"})["ms"]
        db, wal = self.file_bytes()
        return {"bytes": db + wal, "wal_bytes": wal, "seconds": round(ms / 1000.0, 3),
                "method": "CHECKPOINT"}

    # -- queries ------------------------------------------------------------------
    @staticmethod
    def where(q, extra=None):
        # TIMESTAMP holds microseconds; rows are on whole microseconds, so ts_ns >=
        # start_ns <=> ts >= ceil(start_ns / 1000) µs (same for the exclusive end).
        c = ["ts >= make_timestamp(%d)" % ceil_div(q.start, 1000),
             "ts < make_timestamp(%d)" % ceil_div(q.end, 1000)]
        if q.hosts:
            c.append("hostname IN (%s)" % ", ".join(duck_quote(h) for h in q.hosts))
        if extra:
            c.append(extra)
        return " AND ".join(c)

    def translate(self, q):
        secs = "epoch_us(%s) // 1000000"
        if q.kind == "lastpoint":
            cols = ", ".join("arg_max(%s, ts)" % f for f in FIELDS)
            return ("SELECT %s, hostname, %s FROM cpu WHERE %s GROUP BY hostname"
                    % (secs % "max(ts)", cols, self.where(q)))
        if q.kind == "raw":
            extra = None if q.threshold is None else "%s > %r" % (
                THRESHOLD_FIELD, float(q.threshold))
            return ("SELECT %s, hostname, %s FROM cpu WHERE %s"
                    % (secs % "ts", ", ".join(FIELDS), self.where(q, extra)))
        if q.bucket % 1000:
            raise ValueError("bucket must be whole microseconds")
        b = q.bucket // 1000
        bexpr = {60 * 10**6: "date_trunc('minute', ts)", 3600 * 10**6: "date_trunc('hour', ts)"}.get(
            b, "time_bucket(INTERVAL %d MICROSECONDS, ts, TIMESTAMP '1970-01-01')" % b)
        aggs = ", ".join("%s(%s)" % (q.agg, f) for f in q.fields)
        host_col = "hostname" if q.group_by_host else "''"
        group = "t, hostname" if q.group_by_host else "t"
        tail = "" if q.limit is None else " ORDER BY t DESC LIMIT %d" % int(q.limit)
        return ("SELECT %s AS t, %s, %s FROM cpu WHERE %s GROUP BY %s%s"
                % (secs % bexpr, host_col, aggs, self.where(q), group, tail))

    def prepare(self, q):
        return self.translate(q)

    def execute(self, prepared):
        d = self.call({"op": "query", "sql": prepared})
        return d["ms"] / 1000.0, d["rows"]

    def parse(self, q, rows):
        return [(int(r[0]), r[1], [None if v is None else float(v) for v in r[2:]])
                for r in rows]


SYSTEMS = {c.name: c for c in (ClickHouse, Influx, VictoriaMetrics, DuckDB)}


# --------------------------------------------------------------------------------------
# Running queries
# --------------------------------------------------------------------------------------

def percentile(values, p):
    """Nearest-rank percentile."""
    if not values:
        return None
    v = sorted(values)
    return v[max(0, math.ceil(p / 100.0 * len(v)) - 1)]


def run_queries(system, by_type, runs, digests_out=None, dump_dir=None):
    for qtype, instances in by_type.items():
        lat, digests, total_rows, unstable = [], [], 0, 0
        for i, q in enumerate(instances):
            prepared = system.prepare(q)
            first = None
            for r in range(runs):
                elapsed, answer = system.execute(prepared)
                lat.append(elapsed * 1000.0)
                rows = system.parse(q, answer)
                d = instance_digest(rows)
                if first is None:
                    first = d
                    digests.append(d)
                    total_rows += len(rows)
                    if digests_out:
                        digests_out.write(json.dumps({"system": system.name, "type": qtype,
                                                      "i": i, "rows": len(rows),
                                                      "digest": d}) + "\n")
                    if dump_dir:
                        with open(os.path.join(dump_dir, "%s.%s.%d.txt" % (
                                system.name, qtype, i)), "w") as f:
                            f.write(canonical_text(rows))
                elif d != first:
                    unstable += 1
        line = {"system": system.name, "type": qtype,
                "p50_ms": round(percentile(lat, 50), 3), "p95_ms": round(percentile(lat, 95), 3),
                "max_ms": round(max(lat), 3), "rows": total_rows,
                "checksum": type_checksum(digests), "queries": len(instances), "runs": runs}
        if unstable:
            line["unstable_answers"] = unstable
            log("warning: %s %s: %d repeated runs answered differently"
                % (system.name, qtype, unstable))
        print(json.dumps(line), flush=True)


class ReferenceSystem:
    name = "reference"

    def __init__(self, csv_path):
        self.ref = Reference(csv_path)

    def prepare(self, q):
        return q

    def execute(self, q):
        t0 = time.perf_counter()
        rows = self.ref.evaluate(q)
        return time.perf_counter() - t0, rows

    def parse(self, q, rows):
        return rows


def cmd_run(a):
    system = SYSTEMS[a.system](a.port, a.data_dir)
    try:
        run_system(a, system)
    finally:
        if hasattr(system, "close"):  # DuckDB: its Node.js process
            system.close()


def run_system(a, system):
    by_type = load_queries(a.queries) if a.queries else {}
    rows, seconds = system.load(a.data, a.batch_rows, a.connections)
    log("%s: %d rows acked in %.2f s (%.0f rows/s)" % (a.system, rows, seconds, rows / seconds))
    after = system.after_load(rows)
    stored = system.stored_rows()
    if stored != rows:
        log("warning: %s stores %d rows, %d were loaded" % (a.system, stored, rows))
    comp = system.compact(rows) if not a.no_compact else {"bytes": None}
    values = rows * len(FIELDS)

    def per_value(b):
        return round(b / values, 4) if values and b is not None else None
    # Same members as timestore-tsbs run's load line: bytes_per_value is after
    # compaction, bytes_per_value_before_compact right after the load.
    line = {"system": a.system, "phase": "load", "rows": rows, "stored_rows": stored,
            "values": values, "seconds": round(seconds, 3),
            "rows_per_sec": round(rows / seconds, 1),
            "bytes_per_value": per_value(comp["bytes"] if comp["bytes"] is not None
                                         else after["bytes"]),
            "bytes_per_value_before_compact": per_value(after["bytes"]),
            "bytes_after_load": after["bytes"], "bytes_compacted": comp["bytes"],
            "connections": a.connections, "batch_rows": a.batch_rows}
    for k, v in after.items():
        if k != "bytes":
            line["after_load_" + k] = v
    for k, v in comp.items():
        if k != "bytes":
            line["compaction_" + k] = v
    if hasattr(system, "load_info"):
        line.update(system.load_info())
    print(json.dumps(line), flush=True)
    digests_out = open(a.digests, "w") if a.digests else None
    try:
        run_queries(system, by_type, a.runs, digests_out, a.dump)
    finally:
        if digests_out:
            digests_out.close()


def cmd_reference(a):
    run_queries(ReferenceSystem(a.data), load_queries(a.queries), 1,
                open(a.digests, "w") if a.digests else None, a.dump)


def read_results(paths):
    """JSON lines of several runs → (load lines by system, {type: {system: line}})."""
    loads, queries = {}, {}
    for path in paths:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                try:
                    d = json.loads(line)
                except ValueError:
                    continue
                if "system" not in d:
                    continue
                if d.get("phase") == "load":
                    loads[d["system"]] = d
                elif "type" in d and "checksum" in d:
                    queries.setdefault(d["type"], {})[d["system"]] = d
    return loads, queries


def agreement(by_system):
    """'agree' when every system has the same checksum, else the groups, e.g.
    'clickhouse=influxdb ≠ victoriametrics'."""
    groups = {}
    for sysname, d in by_system.items():
        groups.setdefault(d["checksum"], []).append(sysname)
    if len(groups) <= 1:
        return True, "agree"
    parts = sorted(("=".join(sorted(v)) for v in groups.values()), key=lambda x: (-x.count("="), x))
    return False, " ≠ ".join(parts)


def cmd_compare(a):
    _, queries = read_results(a.files)
    bad = 0
    for qtype, by_system in queries.items():
        ok, text = agreement(by_system)
        if len(by_system) < 2:
            text = "only " + ", ".join(by_system)
        bad += not ok
        print("%-28s %s" % (qtype, text))
    print("%d query types, %d disagree" % (len(queries), bad))
    sys.exit(1 if bad else 0)


def cmd_add_root_bytes(a):
    """Adds the bytes of a Timestore storage root (measured as the peers' directories)
    to the load line of `timestore-tsbs run`'s output, as storage_root_bytes and
    storage_root_bytes_per_value; nothing else of the line changes."""
    root_bytes = disk_bytes(a.root)
    with open(a.results) as f:
        lines = f.read().splitlines()
    out = []
    for line in lines:
        try:
            d = json.loads(line)
        except ValueError:
            out.append(line)
            continue
        if d.get("phase") == "load":
            values = (d.get("rows") or 0) * len(FIELDS)
            d["storage_root_bytes"] = root_bytes
            d["storage_root_bytes_per_value"] = round(root_bytes / values, 4) if values else None
            line = json.dumps(d)
        out.append(line)
    with open(a.results, "w") as f:
        f.write("\n".join(out) + "\n")


def cmd_selftest(_):
    # Known answers of the canonical format (xxh3-64 of the exact bytes).
    assert fmt_value(-0.0) == "0.0000" and fmt_value(None) == "null"
    assert canonical_text([]) == ""
    rows = [(60, "", [1.0, 2.5]), (0, "", [100.0, -0.0])]
    assert canonical_text(rows) == "0||100.0000,0.0000\n60||1.0000,2.5000\n"
    assert instance_digest([]) == xxhash.xxh3_64_hexdigest(b"") == "2d06800538d394c2"
    assert type_checksum([]) == "2d06800538d394c2"
    # The checked example of timestore-tsbs (bench/README.md, tests/bench/tsbs_test.cc).
    ex = [(1451606460, "host_1", [None, 0.123456]), (1451606400, "", [58, -0.0]),
          (1451606400, "host_0", [99.99995, -1.5]), (1451606400, "host_10", [1e-9, 100])]
    assert instance_digest(ex) == "ef8200f8045dbc65", instance_digest(ex)
    assert type_checksum([instance_digest(ex), instance_digest([])]) == "5b65fc1d2d9c3502"
    print("checksum self-test passed")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="load, measure and query a running peer")
    r.add_argument("--system", required=True, choices=sorted(SYSTEMS))
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--data", required=True, help="CSV (clickhouse, duckdb) or line protocol")
    r.add_argument("--queries", help="query JSON lines")
    r.add_argument("--runs", type=int, default=1, help="runs of each query instance")
    r.add_argument("--data-dir", default=".", help="the peer's data directory (sizes)")
    r.add_argument("--connections", type=int, default=int(os.environ.get("CONNECTIONS", 2)))
    r.add_argument("--batch-rows", type=int, default=int(os.environ.get("BATCH_ROWS", 10000)))
    r.add_argument("--no-compact", action="store_true")
    r.add_argument("--digests", help="write per-instance digests (JSON lines) here")
    r.add_argument("--dump", help="write each instance's canonical text into this dir")
    r.set_defaults(func=cmd_run)
    f = sub.add_parser("reference", help="answers computed in Python from the CSV")
    f.add_argument("--data", required=True)
    f.add_argument("--queries", required=True)
    f.add_argument("--digests")
    f.add_argument("--dump")
    f.set_defaults(func=cmd_reference)
    c = sub.add_parser("compare", help="do the checksums of these runs agree, per type")
    c.add_argument("files", nargs="+", help="JSON-line outputs of run/reference")
    c.set_defaults(func=cmd_compare)
    t = sub.add_parser("add-root-bytes", help="add a storage root's bytes to a "
                       "timestore-tsbs run load line")
    t.add_argument("--root", required=True)
    t.add_argument("--results", required=True)
    t.set_defaults(func=cmd_add_root_bytes)
    s = sub.add_parser("checksum-selftest")
    s.set_defaults(func=cmd_selftest)
    a = p.parse_args()
    a.func(a)


if __name__ == "__main__":
    main()
