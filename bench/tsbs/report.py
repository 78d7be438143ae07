#!/usr/bin/python3
"""The side-by-side report of bench/tsbs/run_all.sh: a Markdown table and an SVG chart
(gnuplot) from the JSON lines each system printed.

  report.py --dir WORK --systems timestore,clickhouse,… --md OUT.md [--svg OUT.svg]
            [--meta meta.json] [--reference reference.jsonl]

WORK/<system>.jsonl hold each system's lines ({"phase":"load",…} and one line per query
type); a missing or failed system shows as "—". Exit status 0; run_all.sh decides
what a disagreement means. Standard library only (plus gnuplot for the chart).
"""

import argparse
import json
import math
import os
import shutil
import subprocess
import sys

NAMES = {"timestore": "Timestore", "clickhouse": "ClickHouse",
         "victoriametrics": "VictoriaMetrics", "influxdb": "InfluxDB", "duckdb": "DuckDB",
         "reference": "reference",
         "python-reference": "Python reference"}
# Column heads that differ from NAMES: DuckDB's times are not round trips (see its note).
HEADS = {"duckdb": "DuckDB (in-process)"}


def read_lines(path):
    loads, queries, order, lp = None, {}, [], {}
    if not os.path.exists(path):
        return loads, queries, order
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                d = json.loads(line)
            except ValueError:
                continue
            if d.get("phase") == "load" and d.get("format") == "influx":
                # Timestore's second load, through line protocol: kept beside the first.
                lp = {"lp_" + k: v for k, v in d.items()}
            elif d.get("phase") == "load":
                loads = d
            elif "type" in d and "checksum" in d:
                queries[d["type"]] = d
                order.append(d["type"])
    if lp:
        loads = dict(loads or {}, **lp)
    return loads, queries, order


def fnum(v, kind):
    if v is None:
        return "—"
    if kind == "rate":
        return "{:,.0f}".format(v)
    if kind == "bpv":
        return "%.3f" % v
    if v >= 100:
        return "%.0f" % v
    if v >= 10:
        return "%.1f" % v
    return "%.2f" % v


def ratio(ts, peer):
    if ts is None or peer is None or peer == 0:
        return "—"
    return "%.2f×" % (ts / peer)


def agreement(by_system):
    groups = {}
    for s, c in by_system.items():
        groups.setdefault(c, []).append(s)
    if not by_system:
        return "—"
    if len(by_system) == 1:
        return "only %s" % NAMES.get(next(iter(by_system)), next(iter(by_system)))
    if len(groups) == 1:
        return "✓ all %d agree" % len(by_system)
    parts = sorted(("=".join(NAMES.get(x, x) for x in sorted(v)) for v in groups.values()),
                   key=lambda x: (-x.count("="), x))
    return "✗ " + " ≠ ".join(parts)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--systems", required=True)
    p.add_argument("--md", required=True)
    p.add_argument("--svg")
    p.add_argument("--meta")
    p.add_argument("--reference", action="append", default=[],
                   help="JSON lines of expected checksums (repeatable)")
    a = p.parse_args()
    systems = [s for s in a.systems.split(",") if s]
    meta = json.load(open(a.meta)) if a.meta and os.path.exists(a.meta) else {}
    loads, queries, order = {}, {}, []
    for s in systems:
        ld, q, o = read_lines(os.path.join(a.dir, s + ".jsonl"))
        loads[s], queries[s] = ld, q
        order += [t for t in o if t not in order]
    refs = {}
    for path in a.reference:
        _, r, o = read_lines(path)
        for t, d in r.items():
            refs.setdefault(t, {})[d["system"]] = d["checksum"]
        order += [t for t in o if t not in order]
    ts = "timestore" if "timestore" in systems else None
    peers = [s for s in systems if s != ts]

    def load_val(s, key):
        d = loads.get(s) or {}
        return d.get(key)

    def p50(s, t):
        d = queries.get(s, {}).get(t)
        return d.get("p50_ms") if d else None

    head = ["metric"]
    if ts:
        head.append(NAMES[ts])
    for s in peers:
        head.append(HEADS.get(s, NAMES.get(s, s)))
        if ts:
            head.append("%s / %s" % (NAMES[ts], NAMES.get(s, s)))
    head.append("checksums")
    rows = []
    metrics = [("load rows/s", "rows_per_sec", "rate")]
    if ts and load_val(ts, "lp_rows_per_sec") is not None:
        metrics.append(("load rows/s, Timestore through line protocol", "lp_rows_per_sec", "rate"))
    metrics += [
               ("bytes/value after load", "bytes_per_value_before_compact", "bpv"),
               ("bytes/value after compaction", "bytes_per_value", "bpv")]
    for label, key, kind in metrics:
        r = [label]
        if ts:
            r.append(fnum(load_val(ts, key), kind))
        # The line-protocol row compares against each peer's (only) load.
        peer_key = "rows_per_sec" if key == "lp_rows_per_sec" else key
        for s in peers:
            r.append(fnum(load_val(s, peer_key), kind) if key != "lp_rows_per_sec" else "")
            if ts:
                r.append(ratio(load_val(ts, key), load_val(s, peer_key)))
        r.append("")
        rows.append(r)
    disagree = []
    for t in order:
        r = ["%s p50 ms" % t]
        if ts:
            r.append(fnum(p50(ts, t), "ms"))
        for s in peers:
            r.append(fnum(p50(s, t), "ms"))
            if ts:
                r.append(ratio(p50(ts, t), p50(s, t)))
        by = {s: queries[s][t]["checksum"] for s in systems if t in queries.get(s, {})}
        by.update(refs.get(t, {}))
        text = agreement(by)
        if text.startswith("✗"):
            disagree.append(t)
        r.append(text)
        rows.append(r)

    out = []
    title = meta.get("title") or "TSBS cpu-only side by side"
    out.append("# %s\n" % title)
    if meta:
        out.append("Command: `%s`  " % meta.get("command", ""))
        out.append("Date: %s. Machine: %s.  " % (meta.get("date", "?"), meta.get("machine", "?")))
        out.append("Data: %s hosts × %s from 2016-01-01T00:00:00Z, one row per host every 10 s "
                   "(%s rows, %s values; %s values), seed %s. Queries: %s instances of each "
                   "type, each run %s time(s); p50 over all runs of all instances.  "
                   % (meta.get("hosts"), meta.get("duration"), meta.get("rows", "?"),
                      meta.get("values", "?"), meta.get("value_kind", "integer"),
                      meta.get("seed"), meta.get("queries"), meta.get("runs")))
        if meta.get("versions"):
            out.append("Versions: %s.  " % "; ".join(
                "%s %s" % (NAMES.get(k, k), v) for k, v in meta["versions"].items()))
        if meta.get("failed"):
            out.append("**Failed**: %s (their logs are in the work directory: run again with KEEP=1 to keep it).  " % ", ".join(meta["failed"]))
        out.append("")
    if ts:
        out.append("Ratios are Timestore / peer: below 1 is better for Timestore in bytes and "
                   "milliseconds, above 1 is better for Timestore in rows/s. The checksums "
                   "column compares the canonical xxh3 checksum of every answer "
                   "(bench/README.md)%s.\n" % (", including the expected ones (%s)" % ", ".join(
                       sorted({k for v in refs.values() for k in v})) if refs else ""))
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "|".join([" --- "] + [" ---: "] * (len(head) - 2) + [" --- "]) + "|")
    for r in rows:
        out.append("| " + " | ".join(r) + " |")
    out.append("")
    if disagree:
        out.append("Checksums differ for: %s.\n" % ", ".join(disagree))
    notes = []
    if "duckdb" in systems:
        dl = loads.get("duckdb") or {}
        notes.append("**DuckDB is timed in-process, without a network round trip**: it runs "
                     "embedded (npm `@duckdb/node-api`, %s threads) and each query's time is "
                     "the statement run and its result fetched inside that process, where "
                     "every other system's time is an HTTP request on loopback (sent → "
                     "answer read). Its load is one `read_csv` of the CSV file into a "
                     "table sorted by (hostname, ts), not HTTP batches."
                     % (dl.get("threads") or "?"))
    tl = loads.get(ts) if ts else None
    if tl and tl.get("storage_root_bytes_per_value") is not None:
        notes.append("Timestore's bytes/value are its segment bytes after flush and compaction "
                     "(`timestore-tsbs run`); its whole storage root at the end of the run "
                     "(segments, WAL, manifest, audit log) held %s bytes/value."
                     % fnum(tl["storage_root_bytes_per_value"], "bpv"))
    notes.append("Bytes measured: ClickHouse `system.parts.bytes_on_disk` of the active parts; "
                 "VictoriaMetrics its whole data directory (parts and indexdb); InfluxDB the "
                 "database's data and WAL directories (TSM files, series file, WAL); DuckDB "
                 "its database file and WAL right after the load, the file after `CHECKPOINT` "
                 "(its \"compaction\"). Every file counts min(size, allocated blocks).")
    for n in notes:
        out.append(n + "\n")
    if a.svg:
        out.append("![chart](%s)\n" % os.path.basename(a.svg))
    out.append("<details><summary>Raw JSON lines</summary>\n\n```")
    for s in systems:
        path = os.path.join(a.dir, s + ".jsonl")
        if os.path.exists(path):
            with open(path) as f:
                out.extend(l.rstrip("\n") for l in f if l.startswith("{"))
    out.append("```\n</details>\n")
    with open(a.md, "w") as f:
        f.write("\n".join(out))

    if a.svg:
        chart(a, systems, order, loads, queries)
    print(json.dumps({"report": a.md, "svg": a.svg, "disagree": disagree}))


def chart(a, systems, order, loads, queries):
    if not shutil.which("gnuplot"):
        print("gnuplot not found: no chart", file=sys.stderr)
        return
    base = os.path.splitext(a.svg)[0]
    qdat, ldat, gp = base + ".queries.dat", base + ".load.dat", base + ".gp"
    names = [NAMES.get(s, s) for s in systems]
    with open(qdat, "w") as f:
        f.write("type " + " ".join('"%s"' % n for n in names) + "\n")
        for t in order:
            vals = []
            for s in systems:
                d = queries.get(s, {}).get(t)
                vals.append("%g" % max(d["p50_ms"], 0.001) if d else "?")
            f.write('"%s" %s\n' % (t, " ".join(vals)))
    with open(ldat, "w") as f:
        for s, n in zip(systems, names):
            d = loads.get(s) or {}
            g = lambda k, scale=1.0: "%g" % (d[k] / scale) if d.get(k) is not None else "?"
            f.write('"%s" %s %s %s\n' % (n, g("rows_per_sec", 1000.0),
                                        g("bytes_per_value_before_compact"),
                                        g("bytes_per_value")))
    ncols = len(systems)
    lat = [queries[s][t]["p50_ms"] for s in systems for t in order
           if t in queries.get(s, {}) and queries[s][t].get("p50_ms")]
    ymin = 10 ** math.floor(math.log10(max(min(lat), 0.001))) if lat else 0.01
    ymax = 10 ** (math.ceil(math.log10(max(lat))) + 0.6) if lat else 1000
    with open(gp, "w") as f:
        f.write("""set terminal svg size 1280,960 dynamic font "sans,11" background rgb "white"
set output '%(svg)s'
set datafile missing "?"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set key top center horizontal
set grid ytics
set multiplot
set origin 0,0.38
set size 1,0.62
set title "Query latency p50 (ms, log scale)"
set logscale y
set yrange [%(ymin)g:%(ymax)g]
set bmargin 11
set xtics rotate by 40 right scale 0 font ",10"
plot for [i=2:%(last)d] '%(qdat)s' using i:xtic(1) title columnheader(i)
unset logscale y
set yrange [0:*]
set bmargin 3
set xtics norotate center
set origin 0,0
set size 0.5,0.38
set title "Load (thousand rows/s)"
unset key
plot '%(ldat)s' using 2:xtic(1) notitle lc rgb "#4477aa"
set origin 0.5,0
set size 0.5,0.38
set title "Bytes per value (after load, after compaction)"
set key top right
plot '%(ldat)s' using 3:xtic(1) title "after load" lc rgb "#ccbb44", '' using 4 title "after compaction" lc rgb "#228833"
unset multiplot
""" % {"svg": a.svg, "qdat": qdat, "ldat": ldat, "last": ncols + 1, "ymin": ymin, "ymax": ymax})
    r = subprocess.run(["gnuplot", gp], capture_output=True, text=True)
    if r.returncode != 0:
        print("gnuplot failed: %s" % r.stderr[-2000:], file=sys.stderr)
    for path in (qdat, ldat, gp):
        if os.environ.get("KEEP_CHART_DATA") != "1":
            os.remove(path)


if __name__ == "__main__":
    main()
