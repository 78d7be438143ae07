#!/usr/bin/env python3
# OTLP/HTTP JSON ingest throughput: posts REQUESTS exports of SPANS spans each (10
# services, 3 attributes a span, one nested) to POST /v1/traces of a running server
# on 127.0.0.1:PORT, one keep-alive connection, bodies built before the clock
# starts, and prints spans/s and JSON MB/s.
#   bench/otlp_ingest.py PORT TOKEN REQUESTS SPANS
# 2026-12-03, 2-core VM shared with builds, default server:
#   bench/otlp_ingest.py 4795 $(cat <root>/auth/admin.token) 20 10000
#   -> 20 requests x 10000 spans, 100.2 MB JSON: 3.99 s, 50,160 spans/s, 25.1 MB/s
# (profile: simdjson DOM parse ~13%, malloc/free ~17%, page zeroing ~10%).
import http.client, json, sys, time, random
port, token, requests, per = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
random.seed(1)
services = [f"svc-{i}" for i in range(10)]
t0 = 1714564800000000000
def body(r):
    rs = []
    for s in services:
        spans = []
        for i in range(per // len(services)):
            n = r * per + i
            start = t0 + n * 1_000_000
            spans.append({"traceId": "%032x" % random.getrandbits(128), "spanId": "%016x" % random.getrandbits(64),
                          "parentSpanId": "%016x" % random.getrandbits(64), "name": f"GET /api/{i%20}", "kind": 2,
                          "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + random.randint(1, 10**8)),
                          "status": {"code": 2 if i % 17 == 0 else 0},
                          "attributes": [{"key": "http.method", "value": {"stringValue": "GET"}},
                                         {"key": "http.status_code", "value": {"intValue": str(200 if i % 17 else 500)}},
                                         {"key": "http", "value": {"kvlistValue": {"values": [{"key": "route", "value": {"stringValue": f"/api/{i%20}"}}]}}}]})
        rs.append({"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": s}},
                                                {"key": "host.name", "value": {"stringValue": "h1"}}]},
                   "scopeSpans": [{"scope": {"name": "bench"}, "spans": spans}]})
    return json.dumps({"resourceSpans": rs}).encode()
bodies = [body(r) for r in range(requests)]
c = http.client.HTTPConnection("127.0.0.1", port)
start = time.time(); total = 0
for b in bodies:
    c.request("POST", "/v1/traces", b, {"Content-Type": "application/json", "Authorization": "Bearer " + token})
    resp = c.getresponse(); data = resp.read()
    assert resp.status == 200, data
    total += len(b)
el = time.time() - start
print(f"{requests} requests x {per} spans, {total/1e6:.1f} MB JSON: {el:.2f} s, {requests*per/el:,.0f} spans/s, {total/1e6/el:.1f} MB/s")
