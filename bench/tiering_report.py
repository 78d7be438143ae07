#!/usr/bin/python3
"""The HTTP side of bench/run_tiering.sh (bench/README.md, "bench/run_tiering.sh").

Subcommands (Debian's /usr/bin/python3: botocore for the proxy, xxhash for checksums):

  proxy ARGS...   tests/tiering/s3_proxy.py, unchanged but for TCP_NODELAY on the sockets
                  it accepts (TIERING_PROXY_NAGLE=1: as it is); the same arguments
  tier            PUT coldAfter, POST enforce-retention, check both manifests
  measure         one mode: every query instance once unmeasured, then --runs measured
                  runs, each query of the tiered dataset interleaved with the same query
                  on the never-tiered copy; per-query latency, stats and digests; /metrics
                  and proxy counter deltas per type
  report          JSON lines on stdout, the Markdown report to --md

Why TCP_NODELAY: s3_proxy.py answers with two writes (headers, then body). On a kept-alive
connection, once TCP's quick-ACK start is over, the body waits for the client's delayed
ACK of the headers: about 40 ms per object request on Linux with 0 ms injected. The
benchmark measures Timestore, not that (bench/README.md).

Why the copy: on this shared 2-core VM, p50s of one unchanged workload measured a minute
apart differ by up to 20%, as much as the 1.2x target. So each mode also measures the same
instances on `cpu_local` (the same rows, kept local), alternating query by query; the
ratio to that copy is paired (same moment, same machine state). In the local mode both
datasets are local: that ratio is the noise floor of the method.
"""

import http.client
import json
import os
import statistics
import sys
import time

QUERY_LIMIT = 1_000_000  # bench/tsbs/timestore_client.cc kQueryLimit
NS = 1_000_000_000
DATASET, CONTROL = "cpu", "cpu_local"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---- proxy ----

def cmd_proxy(args):
    here = os.path.dirname(os.path.abspath(__file__))
    proxy_dir = os.path.join(here, "..", "tests", "tiering")
    sys.path.insert(0, proxy_dir)
    sys.dont_write_bytecode = True  # leave no __pycache__ in tests/tiering
    import s3_proxy  # the module itself: its flags, checks and control API
    if os.environ.get("TIERING_PROXY_NAGLE", "0") != "1":
        s3_proxy.Handler.disable_nagle_algorithm = True  # StreamRequestHandler: TCP_NODELAY
    sys.argv = [os.path.join(proxy_dir, "s3_proxy.py")] + args
    s3_proxy.main()


# ---- HTTP ----

class Client:
    def __init__(self, port, timeout=600):
        self.port, self.timeout, self.conn = port, timeout, None

    def request(self, method, path, body=None):
        if body is not None and not isinstance(body, bytes):
            body = (body if isinstance(body, str) else json.dumps(body)).encode()
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                       timeout=self.timeout)
            try:
                # A bytes body: http.client sends head and body in one send().
                self.conn.request(method, path, body=body,
                                  headers={"Content-Type": "application/json"} if body else {})
                resp = self.conn.getresponse()
                return resp.status, resp.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise

    def json(self, method, path, body=None):
        status, raw = self.request(method, path, body)
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, {"raw": raw[:500].decode("utf-8", "replace")}


def metrics(client):
    """Prometheus text -> {name: value summed over label sets}."""
    status, raw = client.request("GET", "/metrics")
    if status != 200:
        raise SystemExit(f"GET /metrics answered {status}")
    out = {}
    for line in raw.decode().splitlines():
        if not line or line.startswith("#"):
            continue
        parts = line.rsplit(None, 1)
        if len(parts) == 2:
            name = parts[0].split("{", 1)[0].strip()
            try:
                out[name] = out.get(name, 0.0) + float(parts[1])
            except ValueError:
                pass
    return out


def proxy_stats(proxy):
    status, st = proxy.json("GET", "/__proxy__/stats")
    if status != 200:
        raise SystemExit(f"GET /__proxy__/stats answered {status}")
    return st


# ---- TSBS queries: the body of bench/tsbs/timestore_client.cc, the checksum of checksum.cc ----

def query_body(q):
    body = {"timeRange": {"start": q["start"], "end": q["end"]}}
    filters = []
    if len(q["hosts"]) == 1:
        filters.append({"column": "hostname", "op": "eq", "value": q["hosts"][0]})
    elif q["hosts"]:
        filters.append({"column": "hostname", "op": "in", "value": q["hosts"]})
    if q.get("threshold") is not None:
        filters.append({"column": "usage_user", "op": "gt", "value": q["threshold"]})
    if filters:
        body["filters"] = filters
    if q["type"].startswith("high-cpu"):
        body["columns"] = ["hostname"] + q["fields"]
    elif q["type"] == "lastpoint":
        aggs = [{"fn": "max", "column": "timestamp", "alias": "last_time"}]
        aggs += [{"fn": "last", "column": f, "alias": f} for f in q["fields"]]
        body["downsample"] = {"groupBy": ["hostname"], "aggregations": aggs}
    else:
        ds = {"intervalUnit": "minute" if q["bucket"] == "1m" else "hour"}
        if q["groupByHost"]:
            ds["groupBy"] = ["hostname"]
        fn = "avg" if q["agg"] == "avg" else "max"
        ds["aggregations"] = [{"fn": fn, "column": f, "alias": f} for f in q["fields"]]
        body["downsample"] = ds
    if q.get("limit"):
        body["order"], body["limit"] = "desc", q["limit"]
    else:
        body["limit"] = QUERY_LIMIT
    body["timestampFormat"] = "epoch_ns"
    return json.dumps(body, separators=(",", ":")).encode()


def instance_digest(q, answer):
    import xxhash
    time_key = "last_time" if q["type"] == "lastpoint" else "timestamp"
    lines = []
    for row in answer["rows"]:
        g = row["hostname"] if q["groupByHost"] else ""
        vals = ",".join("null" if row.get(f) is None else "%.4f" % (row[f] + 0.0)
                        for f in q["fields"])
        lines.append(f"{row[time_key] // NS}|{g}|{vals}")
    lines.sort()
    return xxhash.xxh3_64_hexdigest("".join(l + "\n" for l in lines).encode())


def type_checksum(digests):
    import xxhash
    return xxhash.xxh3_64_hexdigest("".join(d + "\n" for d in digests).encode())


# ---- tier ----

def manifest_parts(c, dataset):
    status, man = c.json("GET", f"/admin/datasets/{dataset}/manifest")
    if status != 200:
        raise SystemExit(f"GET /admin/datasets/{dataset}/manifest answered {status}: {man}")
    return [{"start": p["start"], "tiers": sorted({s["tier"] for s in p["segments"]}),
             "segments": len(p["segments"]),
             "levels": [s.get("level", 0) for s in p["segments"]],
             "bytes": sum(int(s["bytes"]) for s in p["segments"]),
             "rows": sum(int(s["rows"]) for s in p["segments"])} for p in man["partitions"]]


def cmd_tier(port, cold_end, expect_remote, expect_local, out):
    c = Client(port)
    # Cold: partitions ending at or before now - coldAfter. Half a day of slack either side
    # of cold_end: the first expect_remote days go, the next one stays.
    cold_after = int(time.time()) - cold_end - 43200
    status, ans = c.json("PUT", f"/admin/datasets/{DATASET}/retention", {"coldAfter": cold_after})
    if status != 200:
        raise SystemExit(f"PUT retention answered {status}: {ans}")
    t0 = time.monotonic()
    status, enforce = c.json("POST", f"/admin/datasets/{DATASET}/enforce-retention")
    seconds = time.monotonic() - t0
    if status != 200:
        raise SystemExit(f"POST enforce-retention answered {status}: {enforce}")
    parts = manifest_parts(c, DATASET)
    control = manifest_parts(c, CONTROL)
    remote = [p for p in parts if p["tiers"] == ["remote"]]
    local = [p for p in parts if p["tiers"] == ["local"]]
    json.dump({"cold_after_s": cold_after, "enforce_seconds": round(seconds, 3),
               "tiering": enforce.get("tiering"), "partitions": parts,
               "control_partitions": control}, open(out, "w"))
    log(f"tiering: coldAfter {cold_after} s; {len(remote)} partitions remote "
        f"({', '.join(p['start'][:10] for p in remote)}), {len(local)} local "
        f"({', '.join(p['start'][:10] for p in local)}); enforce-retention took {seconds:.2f} s")
    if len(remote) != expect_remote or len(local) != expect_local or \
            len(remote) + len(local) != len(parts):
        raise SystemExit(f"expected {expect_remote} remote and {expect_local} local "
                         f"partitions, the manifest has {json.dumps(parts)}")
    if any(p["tiers"] != ["local"] for p in control):
        raise SystemExit(f"{CONTROL} is not all local: {json.dumps(control)}")


# ---- measure ----

STAT_KEYS = ["bytesRead", "remoteBytesRead", "remoteRequests", "cacheHits", "cacheMisses",
             "segmentsRemote", "segmentsScanned", "elapsedMs"]
METRIC_KEYS = {"block_bytes": "timestore_query_block_bytes_total",
               "remote_requests": "timestore_query_remote_requests_total",
               "remote_bytes": "timestore_query_remote_bytes_total",
               "cache_hits": "timestore_query_cache_hits_total",
               "cache_misses": "timestore_query_cache_misses_total"}


def run_one(c, dataset, q, body):
    t0 = time.perf_counter()
    status, raw = c.request("POST", f"/datasets/{dataset}/query?precision=ns", body)
    ms = (time.perf_counter() - t0) * 1000  # sent -> whole answer read; parsing is after
    if status != 200:
        raise SystemExit(f"{dataset}: query {q['type']} answered {status}: {raw[:500]!r}\n"
                         f"query: {body.decode()}")
    ans = json.loads(raw)
    st = ans.get("stats") or {}
    return {"ms": ms, "rows": len(ans["rows"]), "digest": instance_digest(q, ans),
            **{k: st.get(k) for k in STAT_KEYS}}


def cmd_measure(port, proxy_port, mode, latency_ms, runs, queries_file, out):
    c, proxy = Client(port), Client(proxy_port, timeout=30)
    status, ans = proxy.json("POST", "/__proxy__/faults", {"latency_ms": latency_ms})
    if status != 200:
        raise SystemExit(f"POST /__proxy__/faults answered {status}: {ans}")
    queries = [json.loads(l) for l in open(queries_file) if l.strip()]
    types = list(dict.fromkeys(q["type"] for q in queries))
    result = {"mode": mode, "latency_ms": latency_ms, "runs": runs, "types": {}}
    for t in types:
        qs = [q for q in queries if q["type"] == t]
        bodies = [query_body(q) for q in qs]
        # Unmeasured pass: fills the cache (warm modes), opens connections, pages in files.
        warm = [run_one(c, DATASET, q, b) for q, b in zip(qs, bodies)]
        warm_ctl = [run_one(c, CONTROL, q, b) for q, b in zip(qs, bodies)]
        m0, p0 = metrics(c), proxy_stats(proxy)
        main = [[None] * len(qs) for _ in range(runs)]
        ctl = [[None] * len(qs) for _ in range(runs)]
        for r in range(runs):
            for i, (q, b) in enumerate(zip(qs, bodies)):
                first_main = (r + i) % 2 == 0  # alternate which of the pair goes first
                if first_main:
                    main[r][i] = run_one(c, DATASET, q, b)
                ctl[r][i] = run_one(c, CONTROL, q, b)
                if not first_main:
                    main[r][i] = run_one(c, DATASET, q, b)
        m1, p1 = metrics(c), proxy_stats(proxy)
        digests = [{warm[i]["digest"], warm_ctl[i]["digest"]} |
                   {main[r][i]["digest"] for r in range(runs)} |
                   {ctl[r][i]["digest"] for r in range(runs)} for i in range(len(qs))]
        result["types"][t] = {
            "instances": [{"hosts": q["hosts"], "start": q["start"], "end": q["end"],
                           "runs": [main[r][i] for r in range(runs)],
                           "control": [ctl[r][i] for r in range(runs)], "warm": warm[i]}
                          for i, q in enumerate(qs)],
            "checksum": type_checksum([main[0][i]["digest"] for i in range(len(qs))]),
            "control_checksum": type_checksum([ctl[0][i]["digest"] for i in range(len(qs))]),
            "unstable": sum(1 for d in digests if len(d) > 1),
            "metrics_delta": {k: m1.get(v, 0) - m0.get(v, 0) for k, v in METRIC_KEYS.items()},
            "proxy_delta": {k: p1.get(k, 0) - p0.get(k, 0)
                            for k in set(p0) | set(p1) if k != "connections"},
        }
        lat = [x["ms"] for row in main for x in row]
        lat_c = [x["ms"] for row in ctl for x in row]
        log(f"[{mode}] {t}: p50 {statistics.median(lat):.2f} ms (local copy "
            f"{statistics.median(lat_c):.2f} ms), "
            f"{sum(x['remoteRequests'] or 0 for row in main for x in row) / len(lat):.2f} "
            f"GETs/query, checksum {result['types'][t]['checksum']}")
    json.dump(result, open(out, "w"))


# ---- report ----

def nearest_rank(sorted_v, p):
    """As timestore-tsbs: the ceil(p * n)-th smallest."""
    k = max(1, -(-int(p * 1000) * len(sorted_v) // 1000))
    return sorted_v[min(len(sorted_v), k) - 1]


def summarize(tr):
    samples = [r for inst in tr["instances"] for r in inst["runs"]]
    ctl = [r for inst in tr["instances"] for r in inst["control"]]
    lat, lat_c = sorted(r["ms"] for r in samples), sorted(r["ms"] for r in ctl)
    # Pairs: one query on the tiered dataset and the same one on the copy, back to back.
    pairs = [(a["ms"], b["ms"]) for inst in tr["instances"]
             for a, b in zip(inst["runs"], inst["control"])]
    n, ni = len(samples), len(tr["instances"])

    def total(k, rows=samples):
        return sum(r[k] or 0 for r in rows)
    block, remote = total("bytesRead"), total("remoteBytesRead")
    return {
        "samples": n,
        "p50_ms": statistics.median(lat), "p95_ms": nearest_rank(lat, 0.95), "max_ms": lat[-1],
        "control_p50_ms": statistics.median(lat_c),
        "pair_ratio": statistics.median(a / b for a, b in pairs),
        "pair_diff_ms": statistics.median(a - b for a, b in pairs),
        "exec_p50_ms": statistics.median(r["elapsedMs"] or 0 for r in samples),
        "requests_per_query": total("remoteRequests") / n,
        "requests_max": max(r["remoteRequests"] or 0 for r in samples),
        "remote_bytes_per_query": remote / n, "block_bytes_per_query": block / n,
        "fetched_over_needed": remote / block if block and remote else None,
        "block_reads_per_query": (total("cacheHits") + total("cacheMisses")) / n,
        "cache_hits_per_query": total("cacheHits") / n,
        "segments_remote_per_query": total("segmentsRemote") / n,
        "warmup_requests_per_query": sum(i["warm"]["remoteRequests"] or 0
                                         for i in tr["instances"]) / ni,
        "warmup_remote_bytes_per_query": sum(i["warm"]["remoteBytesRead"] or 0
                                             for i in tr["instances"]) / ni,
        "rows": sum(inst["runs"][0]["rows"] for inst in tr["instances"]),
        "checksum": tr["checksum"], "control_checksum": tr["control_checksum"],
        "unstable": tr["unstable"],
        # The measured passes of both datasets: what /metrics and the proxy saw meanwhile.
        "answers": {"requests": total("remoteRequests") + total("remoteRequests", ctl),
                    "remote_bytes": remote + total("remoteBytesRead", ctl),
                    "block_bytes": block + total("bytesRead", ctl)},
        "metrics": tr["metrics_delta"],
        "proxy_gets": tr["proxy_delta"].get("requests.GET", 0),
        "proxy_requests": tr["proxy_delta"].get("requests", 0),
        "proxy_bytes_out": tr["proxy_delta"].get("bytes_out", 0),
    }


def f_ms(v):
    return "—" if v is None else (f"{v:.2f}" if abs(v) < 100 else f"{v:.0f}")


def f_diff(v):
    return ("+" if v >= 0 else "−") + f_ms(abs(v))


def cmd_report(d, md_path):
    meta = json.load(open(os.path.join(d, "meta.json")))
    load = json.loads(open(os.path.join(d, "load.jsonl")).readline())
    tier = json.load(open(os.path.join(d, "tier.json")))
    reference = {}
    if os.path.exists(os.path.join(d, "reference.jsonl")):
        for l in open(os.path.join(d, "reference.jsonl")):
            x = json.loads(l)
            reference[x["type"]] = x
    lat = meta["latency_ms"]
    modes = [("local", "local", 0), ("remote-warm", "warm cache", 0),
             ("remote-warm-latency", f"warm cache +{lat} ms", lat),
             ("remote-cold", "cold cache", 0),
             ("remote-cold-latency", f"cold cache +{lat} ms", lat)]
    res = {m: json.load(open(os.path.join(d, f"mode-{m}.json"))) for m, _, _ in modes}
    harness = {}  # (mode, type) -> the line of timestore-tsbs run --skip-load
    for m, _, _ in modes:
        for l in open(os.path.join(d, f"harness-{m}.jsonl")):
            x = json.loads(l)
            if "type" in x:
                harness[(m, x["type"])] = x
    types = list(res["local"]["types"])
    S = {(m, t): summarize(res[m]["types"][t]) for m, _, _ in modes for t in types}

    def paired(m, t):
        return S[(m, t)]["pair_ratio"]

    def seq(m, t):
        return S[(m, t)]["p50_ms"] / S[("local", t)]["p50_ms"]

    # JSON lines: one per type x mode.
    lines = []
    for t in types:
        for m, _, injected in modes:
            x = S[(m, t)]
            lines.append({
                "bench": "tiering", "type": t, "mode": m,
                "cache": {"local": None, "remote-warm": "warm", "remote-warm-latency": "warm",
                          "remote-cold": "off", "remote-cold-latency": "off"}[m],
                "latency_ms": injected, "hosts": meta["hosts"], "duration": meta["duration"],
                "instances": meta["queries"], "runs": meta["runs"], "samples": x["samples"],
                "p50_ms": round(x["p50_ms"], 3), "p95_ms": round(x["p95_ms"], 3),
                "max_ms": round(x["max_ms"], 3),
                "local_copy_p50_ms": round(x["control_p50_ms"], 3),
                "paired_ratio": round(paired(m, t), 3),
                "paired_diff_ms": round(x["pair_diff_ms"], 3),
                "p50_over_local_mode": round(seq(m, t), 3),
                "exec_elapsed_p50_ms": round(x["exec_p50_ms"], 3),
                "requests_per_query": round(x["requests_per_query"], 3),
                "requests_max": x["requests_max"],
                "remote_bytes_per_query": round(x["remote_bytes_per_query"]),
                "block_bytes_per_query": round(x["block_bytes_per_query"]),
                "fetched_over_needed": None if x["fetched_over_needed"] is None
                else round(x["fetched_over_needed"], 3),
                "block_reads_per_query": round(x["block_reads_per_query"], 2),
                "cache_hits_per_query": round(x["cache_hits_per_query"], 2),
                "segments_remote_per_query": round(x["segments_remote_per_query"], 2),
                "warmup_requests_per_query": round(x["warmup_requests_per_query"], 3),
                "warmup_remote_bytes_per_query": round(x["warmup_remote_bytes_per_query"]),
                "rows": x["rows"], "checksum": x["checksum"],
                "checksum_agrees": x["checksum"] == S[("local", t)]["checksum"] ==
                x["control_checksum"],
                "unstable_answers": x["unstable"],
                "harness_p50_ms": harness[(m, t)]["p50_ms"],
                "harness_checksum": harness[(m, t)]["checksum"],
                "metrics_delta": {k: int(v) for k, v in x["metrics"].items()},
                "proxy_gets": int(x["proxy_gets"]),
            })
    for l in lines:
        print(json.dumps(l))

    # Targets.
    sg = "single-groupby-1-1-1"
    targets = []
    if sg in types:
        mx = max(S[(m, sg)]["requests_max"] for m in ("remote-cold", "remote-cold-latency"))
        targets.append((f"cold-cache {sg}: at most 3 object requests",
                        f"{S[('remote-cold', sg)]['requests_per_query']:.2f} per query, "
                        f"at most {mx}", mx <= 3))
        x = S[("remote-cold-latency", sg)]
        dp, ds = x["pair_diff_ms"], x["p50_ms"] - S[("local", sg)]["p50_ms"]
        rt = f" = {dp / lat:.2f} round trips" if lat else ""
        targets.append((f"cold-cache {sg} with {lat} ms per request: p50 less than 3 round "
                        f"trips ({3 * lat} ms) above local",
                        f"{f_diff(dp)} ms above the local copy (median of pairs){rt}; p50 "
                        f"{f_diff(ds)} ms above the local mode's", dp < 3 * lat and ds < 3 * lat))
    warm = [(t, m, paired(m, t)) for t in types for m in ("remote-warm", "remote-warm-latency")]
    worst = max(warm, key=lambda w: w[2])
    floor = max(abs(paired("local", t) - 1) for t in types)
    targets.append(("warm-cache queries within 1.2× of local (p50, every type, both warm modes)",
                    "; ".join(f"{t} {paired('remote-warm', t):.2f}× / "
                              f"{paired('remote-warm-latency', t):.2f}×" for t in types)
                    + f" (warm / warm+{lat} ms; median ratio of each query to the same "
                    f"query on the local copy, run back to back; worst {worst[0]} "
                    f"{worst[2]:.2f}×; noise floor: in the local mode, where both are local, "
                    f"the ratios are within {floor * 100:.0f}% of 1); p50 / p50 of the local "
                    f"mode: " + "; ".join(f"{t} {seq('remote-warm', t):.2f}× / "
                                          f"{seq('remote-warm-latency', t):.2f}×"
                                          for t in types),
                    all(r <= 1.2 for _, _, r in warm)))
    ratios = [(t, S[("remote-cold", t)]["fetched_over_needed"]) for t in types]
    both = [S[(m, t)]["fetched_over_needed"] for m in ("remote-cold", "remote-cold-latency")
            for t in types]
    targets.append(("bytes fetched within 1.5× of the blocks needed (cold cache, every type)",
                    "; ".join(f"{t} {r:.2f}×" if r is not None else f"{t} — (fetches nothing)"
                              for t, r in ratios), all(r <= 1.5 for r in both if r is not None)))

    # Consistency checks.
    checks = []
    agree = all(S[(m, t)]["checksum"] == S[(m, t)]["control_checksum"] ==
                S[("local", t)]["checksum"] for m, _, _ in modes for t in types)
    harness_ok = all(harness[(m, t)]["checksum"] == S[("local", t)]["checksum"]
                     for m, _, _ in modes for t in types)
    ref_ok = None if not reference else all(
        reference.get(t, {}).get("checksum") == S[("local", t)]["checksum"] for t in types)
    unstable = sum(S[(m, t)]["unstable"] for m, _, _ in modes for t in types)
    checks.append(
        "checksums: " + ("identical in all five modes, tiered dataset and local copy"
                         if agree else "DIFFER between modes or datasets")
        + "; equal to `timestore-tsbs run --skip-load`'s in every mode: "
        + ("yes" if harness_ok else "NO")
        + ("" if ref_ok is None else "; equal to `timestore-tsbs reference`: "
           + ("yes" if ref_ok else "NO"))
        + f"; instances whose answer changed between passes: {unstable}")
    mism = []
    for m, _, _ in modes:
        for t in types:
            x = S[(m, t)]
            a, mt = x["answers"], x["metrics"]
            if not (a["requests"] == mt["remote_requests"] == x["proxy_gets"]) or \
                    a["remote_bytes"] != mt["remote_bytes"] or a["block_bytes"] != mt["block_bytes"]:
                mism.append(f"{m}/{t}: answers {a['requests']} GETs, {a['remote_bytes']} B "
                            f"(blocks {a['block_bytes']} B); /metrics "
                            f"{int(mt['remote_requests'])} GETs, {int(mt['remote_bytes'])} B "
                            f"(blocks {int(mt['block_bytes'])} B); proxy {int(x['proxy_gets'])} "
                            f"GETs, {int(x['proxy_bytes_out'])} B")
    checks.append("requests and bytes: the answers' `stats`, the `/metrics` deltas and the "
                  "proxy's GET count agree for every type and mode" if not mism else
                  "requests and bytes: stats, /metrics and proxy DIFFER: " + "; ".join(mism))
    if tier.get("control_partitions"):
        checks.append(f"`{CONTROL}`: {len(tier['control_partitions'])} partitions, all local")

    # Markdown.
    md = []
    P = md.append
    days = "day" if meta["cold_days"] == 1 else f"{meta['cold_days']} days"
    P(f"# Tiering benchmark: {meta['hosts']} hosts × {meta['duration']}, first {days} in S3 "
      f"({meta['date']})")
    P("")
    P("```sh")
    P(meta["command"])
    P("```")
    P("")
    parts = "; ".join(f"{p['start'][:10]} {'/'.join(p['tiers'])} (segment level "
                      f"{'/'.join(map(str, p['levels']))}, {p['bytes']:,} B)"
                      for p in tier["partitions"])
    P(f"TSBS cpu-only, seed {meta['seed']}, integer values: {load['rows']:,} rows loaded by "
      f"`timestore-tsbs run` (segmentBy hostname, flushed, compacted: {load['segments']} "
      f"segments, {load['segment_bytes']:,} B) into `cpu`, and the same rows into "
      f"`{CONTROL}` (storage target `local`, never tiered). `cpu`: `coldAfter` "
      f"{tier['cold_after_s']} s, `POST enforce-retention` ({tier['enforce_seconds']} s) → "
      f"{parts}. Instances: `timestore-tsbs queries --duration {meta['cold_days']}d --count "
      f"{meta['queries']}`, every window inside the cold days. Per mode and type: every "
      f"instance once unmeasured, then {meta['runs']} measured runs "
      f"({meta['queries'] * meta['runs']} samples), each query on `cpu` next to the same query "
      f"on `{CONTROL}` (order alternating); latency = HTTP round trip from Python "
      f"`http.client`, one keep-alive connection, request sent → answer read. Modes: "
      f"*local* = before tiering; *warm cache* = after it, block cache on "
      f"({meta['cache_max_bytes']}), filled by the unmeasured pass; *cold cache* = a server "
      f"restarted on the same root with `TIMESTORE_CACHE_MAX_BYTES=0`; *+{lat} ms* = the "
      f"proxy sleeps {lat} ms before forwarding each object request. Object store: s3rver "
      f"{meta.get('s3rver', '?')} behind `tests/tiering/s3_proxy.py` (SigV4 checked with "
      f"botocore, TCP_NODELAY), all on 127.0.0.1 of this {meta['cpus']}-core VM; "
      f"{meta['build']} build; `TIMESTORE_REMOTE_MERGE_GAP` {meta['merge_gap']}.")
    P("")
    P("## p50 latency, ms")
    P("")
    P("In parentheses: the paired ratio, the median over all measured queries of (its "
      "latency / the latency of the same query on the local copy, run right before or "
      "after it). In the *local* column both datasets are local: its ratios show the noise "
      "of the method.")
    P("")
    P("| query | " + " | ".join(title for _, title, _ in modes) + " |")
    P("| --- |" + " ---: |" * len(modes))
    for t in types:
        P(f"| {t} | " + " | ".join(f"{f_ms(S[(m, t)]['p50_ms'])} ({paired(m, t):.2f}×)"
                                   for m, _, _ in modes) + " |")
    P("")
    P("## Per type and mode")
    P("")
    P("*copy p50*: p50 of the local copy in the same pass; *÷ copy*, *− copy*: median over "
      "the pairs of the ratio and of the difference; *÷ local*: p50 / p50 of the local mode "
      "(measured earlier, not paired); *GETs*: "
      "object requests per query, mean / max; *blocks*: block×column reads per query (cache "
      "hits + misses); *fetched / needed*: kB per query of the GET answers "
      "(`remoteBytesRead`) and of the blocks the query needed (`bytesRead`), and their ratio.")
    P("")
    P("| query | mode | p50 ms | p95 ms | copy p50 | ÷ copy | − copy ms | ÷ local | GETs | "
      "blocks | fetched / needed kB | ratio | checksum |")
    P("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for t in types:
        for m, title, _ in modes:
            x = S[(m, t)]
            cells = [t, title, f_ms(x["p50_ms"]), f_ms(x["p95_ms"]), f_ms(x["control_p50_ms"]),
                     f"{paired(m, t):.2f}×", f_diff(x["pair_diff_ms"])]
            if m == "local":
                cells += ["", "", "", "", ""]
            else:
                r = x["fetched_over_needed"]
                cells += [f"{seq(m, t):.2f}×",
                          f"{x['requests_per_query']:.1f} / {x['requests_max']}",
                          f"{x['block_reads_per_query']:.0f}",
                          f"{x['remote_bytes_per_query'] / 1000:.1f} / "
                          f"{x['block_bytes_per_query'] / 1000:.1f}",
                          "—" if r is None else f"{r:.2f}×"]
            ok = x["checksum"] == x["control_checksum"] == S[("local", t)]["checksum"]
            cells.append(f"`{x['checksum']}`" + ("" if ok else " ✗"))
            P("| " + " | ".join(cells) + " |")
    P("")
    P("`timestore-tsbs run --skip-load` on the same instances (C++ client, each instance "
      "once, `cpu` only, right after the mode's passes), p50 ms:")
    P("")
    P("| query | " + " | ".join(title for _, title, _ in modes) + " |")
    P("| --- |" + " ---: |" * len(modes))
    for t in types:
        P(f"| {t} | " + " | ".join(f_ms(harness[(m, t)]["p50_ms"]) for m, _, _ in modes) + " |")
    P("")
    levels = {p["start"][:10]: "/".join(map(str, p["levels"])) for p in tier["partitions"]}
    for t in [x for x in types if x in (sg, "cpu-max-all-8")]:
        P(f"## {t}, cold cache +{lat} ms, per instance")
        P("")
        P("*partition: level*: the cold days the window touches and the level of their "
          "segment (0: as sealed, columns one after the other; 1: written by compaction, "
          "block by block).")
        P("")
        P("| # | hosts | window (UTC) | partition: level | blocks | GETs | fetched / needed B "
          "| ms (median of runs) |")
        P("| ---: | --- | --- | --- | ---: | ---: | ---: | ---: |")
        for i, inst in enumerate(res["remote-cold-latency"]["types"][t]["instances"]):
            r0 = inst["runs"][0]
            s0, e0 = inst["start"] // NS, (inst["end"] - 1) // NS
            days = sorted({time.strftime("%Y-%m-%d", time.gmtime(x))
                           for x in list(range(s0, e0, 3600)) + [e0]})
            hosts = inst["hosts"][0] if len(inst["hosts"]) == 1 else f"{len(inst['hosts'])} hosts"
            P(f"| {i} | {hosts} | {time.strftime('%m-%d %H:%M', time.gmtime(s0))}–"
              f"{time.strftime('%m-%d %H:%M', time.gmtime(e0 + 1))} | "
              + ", ".join(f"{x[5:]}: {levels.get(x, '?')}" for x in days) + " | "
              f"{(r0['cacheHits'] or 0) + (r0['cacheMisses'] or 0)} | {r0['remoteRequests']} | "
              f"{r0['remoteBytesRead']:,} / {r0['bytesRead']:,} | "
              f"{statistics.median(r['ms'] for r in inst['runs']):.1f} |")
        P("")
    P("## Targets")
    P("")
    P("| target | measured | met |")
    P("| --- | --- | --- |")
    for name, measured, ok in targets:
        P(f"| {name} | {measured} | {'**met**' if ok else '**not met**'} |")
    P("")
    P("## Checks")
    P("")
    for c in checks + meta.get("notes", []):
        P(f"- {c}")
    P("")
    P("## JSON lines")
    P("")
    P("```json")
    for l in lines:
        P(json.dumps(l))
    P("```")
    with open(md_path, "w") as f:
        f.write("\n".join(md) + "\n")
    log("")
    log("\n".join(md[:md.index("## JSON lines")]))
    return 1 if not agree or not harness_ok or ref_ok is False or unstable else 0


def main():
    import argparse
    if len(sys.argv) >= 2 and sys.argv[1] == "proxy":
        return cmd_proxy(sys.argv[2:])
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("tier")
    t.add_argument("--port", type=int, required=True)
    t.add_argument("--cold-end", type=int, required=True,
                   help="epoch seconds: partitions ending at or before this go cold")
    t.add_argument("--expect-remote", type=int, required=True)
    t.add_argument("--expect-local", type=int, required=True)
    t.add_argument("--out", required=True)
    m = sub.add_parser("measure")
    m.add_argument("--port", type=int, required=True)
    m.add_argument("--proxy-port", type=int, required=True)
    m.add_argument("--mode", required=True)
    m.add_argument("--latency-ms", type=int, default=0)
    m.add_argument("--runs", type=int, default=1)
    m.add_argument("--queries", required=True)
    m.add_argument("--out", required=True)
    r = sub.add_parser("report")
    r.add_argument("--dir", required=True)
    r.add_argument("--md", required=True)
    a = p.parse_args()
    if a.cmd == "tier":
        return cmd_tier(a.port, a.cold_end, a.expect_remote, a.expect_local, a.out)
    if a.cmd == "measure":
        return cmd_measure(a.port, a.proxy_port, a.mode, a.latency_ms, a.runs, a.queries, a.out)
    return cmd_report(a.dir, a.md)


if __name__ == "__main__":
    sys.exit(main() or 0)
