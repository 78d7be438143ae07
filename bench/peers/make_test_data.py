#!/usr/bin/python3
"""Small hand-made TSBS cpu-only data and query instances, in the exact formats of
`timestore-tsbs generate` (CSV and influx line protocol) and `timestore-tsbs queries`,
for testing the peer scripts without the C++ generator.

  make_test_data.py --out-dir DIR [--hosts 10] [--hours 13] [--seed 1] [--float]
                    [--count 3]

Writes DIR/cpu.csv, DIR/cpu.influx and DIR/queries.jsonl: --count random instances of
every TSBS type (windows starting at unaligned nanoseconds) plus edge cases (windows on
bucket edges, one nanosecond past them, inside one bucket, empty, past the data).
The values are TSBS-like random walks, not the C++ generator's numbers.
"""

import argparse
import json
import os
import random

FIELDS = ["usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
          "usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"]
REGIONS = {"us-east-1": ["us-east-1a", "us-east-1b"], "eu-west-1": ["eu-west-1a"],
           "ap-northeast-1": ["ap-northeast-1c"]}
NS = 1_000_000_000
START = 1451606400 * NS  # 2016-01-01T00:00:00Z
STEP = 10 * NS


def gen_data(out_dir, hosts, hours, seed, floats):
    r = random.Random(seed)
    tags = []
    for h in range(hosts):
        region = r.choice(sorted(REGIONS))
        tags.append([("hostname", "host_%d" % h), ("region", region),
                     ("datacenter", r.choice(REGIONS[region])), ("rack", str(r.randrange(100))),
                     ("os", r.choice(["Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10"])),
                     ("arch", r.choice(["x64", "x86"])), ("team", r.choice(["SF", "NYC", "LON", "CHI"])),
                     ("service", str(r.randrange(20))), ("service_version", str(r.randrange(2))),
                     ("service_environment", r.choice(["production", "staging", "test"]))])
    # Start high so high-cpu (> 90) finds rows.
    state = [[r.uniform(60, 100) for _ in FIELDS] for _ in range(hosts)]
    n = hours * 360
    with open(os.path.join(out_dir, "cpu.csv"), "w") as csv, \
            open(os.path.join(out_dir, "cpu.influx"), "w") as lp:
        csv.write("timestamp_ns," + ",".join(k for k, _ in tags[0]) + "," + ",".join(FIELDS) + "\n")
        for i in range(n):
            ts = START + i * STEP
            for h in range(hosts):
                v = state[h]
                for j in range(len(FIELDS)):
                    v[j] = min(100.0, max(0.0, v[j] + r.gauss(0, 1)))
                vals = [repr(x) if floats else str(int(x)) for x in v]
                csv.write("%d,%s,%s\n" % (ts, ",".join(x for _, x in tags[h]), ",".join(vals)))
                lp.write("cpu,%s %s %d\n" % (",".join("%s=%s" % kv for kv in tags[h]),
                                              ",".join("%s=%s" % kv for kv in zip(FIELDS, vals)),
                                              ts))
    return START, START + n * STEP


def gen_queries(out_dir, hosts, start, end, seed, count):
    r = random.Random(seed + 1)
    names = ["host_%d" % i for i in range(hosts)]
    out = []

    def window(span):
        # An unaligned moment (nanoseconds) with the window inside the data if it fits.
        hi = max(start, end - span)
        s = r.randrange(start, hi + 1)
        return s, s + span

    def add(t, hs, fields, s, e, bucket, agg, gbh=False, thr=None, limit=None):
        out.append({"type": t, "hosts": hs, "fields": fields, "start": s, "end": e,
                    "bucket": bucket, "agg": agg, "groupByHost": gbh, "threshold": thr,
                    "limit": limit})

    for _ in range(count):
        for m, h, hrs in [(1, 1, 1), (1, 1, 12), (1, 8, 1), (5, 1, 1), (5, 1, 12), (5, 8, 1)]:
            s, e = window(hrs * 3600 * NS)
            add("single-groupby-%d-%d-%d" % (m, h, hrs), r.sample(names, min(h, hosts)),
                FIELDS[:m], s, e, "1m", "max")
        for h in (1, 8):
            s, e = window(8 * 3600 * NS)
            add("cpu-max-all-%d" % h, r.sample(names, min(h, hosts)), FIELDS, s, e, "1h", "max")
        for m, tag in [(1, "1"), (5, "5"), (10, "all")]:
            s, e = window(12 * 3600 * NS)
            add("double-groupby-" + tag, [], FIELDS[:m], s, e, "1h", "avg", gbh=True)
        for tag, h in [("1", 1), ("all", 0)]:
            s, e = window(12 * 3600 * NS)
            add("high-cpu-" + tag, r.sample(names, h), FIELDS, s, e, None, None, thr=90)
        add("lastpoint", [], FIELDS, start, end, None, None)
        s = r.randrange(start + 600 * NS, end)
        add("groupby-orderby-limit", [], ["usage_user"], start, s, "1m", "max", limit=5)
    # Edge cases, one type name each so they get their own checksum line.
    m0 = start + 3600 * NS
    edge = [
        ("edge-aligned", m0, m0 + 3600 * NS),                 # exact bucket edges
        ("edge-plus-1ns", m0 + 1, m0 + 3600 * NS + 1),        # 1 ns past the edges
        ("edge-minus-1ns", m0 - 1, m0 + 3600 * NS - 1),
        ("edge-one-bucket", m0 + 15 * NS, m0 + 45 * NS),      # inside one minute
        ("edge-empty", m0 + 11 * NS, m0 + 19 * NS),           # no row at all
        ("edge-past-data", end - 90 * NS, end + 7200 * NS),   # runs past the data
        ("edge-before-data", start - 7200 * NS, start + 95 * NS),
    ]
    for name, s, e in edge:
        add(name + "-1m", names[:3], FIELDS[:2], s, e, "1m", "max")
        add(name + "-1h-avg", [], FIELDS[:2], s, e, "1h", "avg", gbh=True)
        add(name + "-raw", names[:2], FIELDS, s, e, None, None, thr=50)
    add("edge-limit-gap", [], ["usage_user"], start, start + 125 * NS, "1m", "max", limit=5)
    add("lastpoint-window-edge", names[:4], FIELDS, start, start + 3601 * NS, None, None)
    with open(os.path.join(out_dir, "queries.jsonl"), "w") as f:
        for q in out:
            f.write(json.dumps(q) + "\n")
    return len(out)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out-dir", required=True)
    p.add_argument("--hosts", type=int, default=10)
    p.add_argument("--hours", type=int, default=13)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--float", action="store_true")
    p.add_argument("--count", type=int, default=3)
    a = p.parse_args()
    os.makedirs(a.out_dir, exist_ok=True)
    s, e = gen_data(a.out_dir, a.hosts, a.hours, a.seed, a.float)
    n = gen_queries(a.out_dir, a.hosts, s, e, a.seed, a.count)
    print("%d hosts x %d h = %d rows, %d query instances in %s"
          % (a.hosts, a.hours, a.hosts * a.hours * 360, n, a.out_dir))


if __name__ == "__main__":
    main()
