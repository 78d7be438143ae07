#!/usr/bin/python3
"""A verifying, fault-injecting HTTP proxy in front of an S3-compatible server.

s3rver checks no SigV4 signature (it only looks the access key up), so tests
talk to s3rver through this proxy: it recomputes every request's signature
with botocore (S3SigV4Auth, the signer of the AWS CLI and boto3) over the
headers the request says it signed, and answers 403 SignatureDoesNotMatch (an
S3 XML error carrying the canonical request and string to sign botocore
expected) when it disagrees. It also checks what S3 checks around the
signature: host and every x-amz-* header signed, x-amz-date matching the
credential scope, and x-amz-content-sha256 being the body's SHA-256 (400
XAmzContentSHA256Mismatch) unless UNSIGNED-PAYLOAD.

Run with Debian's python (botocore): /usr/bin/python3 s3_proxy.py ...

  --upstream HOST:PORT     the S3 server to forward to, or
  --s3rver-dir DIR         start s3rver itself (data in DIR) with --bucket B
                           (repeatable); it is killed when the proxy exits
  --port N                 0 (default): any free port; printed as "PORT <n>"
  --port-file PATH         also written (atomically) to PATH
  --latency-ms N           added before forwarding each request
  --no-verify              forward without checking signatures
  --credentials AK:SK      accepted key pairs (default S3RVER:S3RVER)
  --selftest               check the proxy against a local upstream and exit

It listens on 127.0.0.1 only, serves each connection on its own thread
(HTTP/1.1 keep-alive) and streams bodies both ways: request bodies are read
whole (the payload hash needs them), answers are passed on as they arrive
(Content-Length, chunked, or until close), Range requests untouched.

Control requests (never forwarded, never signed), under /__proxy__/:
  POST /__proxy__/faults   JSON {"latency_ms": N, "rules": [RULE...],
                           "append": false}: sets the added latency and
                           replaces (or appends to) the fault rules
  POST /__proxy__/reset    clears rules, latency, counters and the log
  GET  /__proxy__/stats    counters as JSON, or "name value" lines with
                           ?format=text: requests, requests.<METHOD>,
                           status.<code>, bytes_in, bytes_out,
                           signature_failures, faults, connections
  GET  /__proxy__/log      the last 10,000 requests; ?format=text gives
                           "METHOD STATUS TARGET" lines
  GET  /__proxy__/health   200 "ok"
A RULE is {"action": A, "method": "PUT", "path": REGEX, "query": REGEX,
"count": 1, "skip": 0, ...}: the first rule whose method (any when empty)
and regexes (re.search on the raw path and query) match, and that has count
left (-1: forever) after skipping `skip` matches, acts:
  error     answer "status" (503) with S3 error "code" (SlowDown) and
            "message"; status 200 with an <Error> body is allowed
  drop      close the connection without answering
  reset     close it with a TCP RST
  delay     wait "delay_ms", then forward as usual
  truncate  forward, but cut the answer's body after "bytes" bytes and
            close (the framing promises more)
  short     forward, but keep only "bytes" bytes of the body, framed as
            complete (a server answering fewer bytes than asked for)
"""

import argparse
import collections
import hashlib
import http.client
import http.server
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.parse
from xml.sax.saxutils import escape

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
    "trailer", "upgrade", "proxy-authorization", "proxy-authenticate",
}
AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request,"
    r"\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$")


class State:
    def __init__(self, upstream, secrets, verify, latency_ms):
        self.lock = threading.Lock()
        self.upstream = upstream
        self.secrets = secrets
        self.verify = verify
        self.latency_ms = latency_ms
        self.rules = []
        self.reset_counters()

    def reset_counters(self):
        self.counters = collections.Counter()
        self.log = collections.deque(maxlen=10000)
        self.request_id = 0

    def count(self, **kv):
        with self.lock:
            for k, v in kv.items():
                self.counters[k] += v

    def match_rule(self, method, path, query):
        """The rule that applies to this request (its count taken), or None."""
        with self.lock:
            for rule in self.rules:
                if rule.get("method") and rule["method"].upper() != method:
                    continue
                if rule.get("path") and not re.search(rule["path"], path):
                    continue
                if rule.get("query") and not re.search(rule["query"], query):
                    continue
                if rule.get("count", 1) == 0:
                    continue
                if rule.get("skip", 0) > 0:
                    rule["skip"] -= 1
                    continue
                if rule.get("count", 1) > 0:
                    rule["count"] = rule.get("count", 1) - 1
                self.counters["faults"] += 1
                return dict(rule)
        return None


def error_xml(code, message, resource, request_id, extra=None):
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<Error>',
             "<Code>%s</Code>" % escape(code), "<Message>%s</Message>" % escape(message),
             "<Resource>%s</Resource>" % escape(resource)]
    for k, v in (extra or {}).items():
        parts.append("<%s>%s</%s>" % (k, escape(v), k))
    parts.append("<RequestId>%s</RequestId></Error>" % request_id)
    return "".join(parts).encode("utf-8")


def verify_signature(state, method, target, headers, body):
    """None when the request is signed right, else (status, code, message, extra)."""
    auth = headers.get("Authorization")
    if auth is None:
        return (403, "AccessDenied", "the request is not signed (no Authorization header)", {})
    m = AUTH_RE.match(auth)
    if not m:
        return (400, "AuthorizationHeaderMalformed",
                "the Authorization header is not AWS4-HMAC-SHA256 Credential=..., "
                "SignedHeaders=..., Signature=...", {"Authorization": auth})
    access_key, day, region, service, signed_names, signature = m.groups()
    secret = state.secrets.get(access_key)
    if secret is None:
        return (403, "InvalidAccessKeyId", "unknown access key " + access_key, {})
    signed = signed_names.split(";")
    if signed != sorted(set(signed)):
        return (403, "SignatureDoesNotMatch", "SignedHeaders are not sorted and unique", {})
    if "host" not in signed:
        return (403, "SignatureDoesNotMatch", "the host header is not signed", {})
    unsigned_amz = sorted(k.lower() for k in headers.keys()
                          if k.lower().startswith("x-amz-") and k.lower() not in signed)
    if unsigned_amz:
        return (403, "AccessDenied", "x-amz-* headers present but not signed: "
                + ",".join(unsigned_amz), {"HeadersNotSigned": ",".join(unsigned_amz)})
    amz_date = headers.get("x-amz-date")
    if amz_date is None or not amz_date.startswith(day):
        return (403, "SignatureDoesNotMatch",
                "x-amz-date %r does not match the credential scope's date %s" % (amz_date, day), {})
    content_sha = headers.get("x-amz-content-sha256")
    if content_sha is None or "x-amz-content-sha256" not in signed:
        return (400, "InvalidRequest", "x-amz-content-sha256 missing or not signed", {})
    if content_sha != "UNSIGNED-PAYLOAD" and content_sha != hashlib.sha256(body).hexdigest():
        return (400, "XAmzContentSHA256Mismatch",
                "the body's SHA-256 is not x-amz-content-sha256",
                {"ClientComputedContentSHA256": content_sha,
                 "S3ComputedContentSHA256": hashlib.sha256(body).hexdigest()})
    for name in signed:
        if headers.get(name) is None:
            return (403, "SignatureDoesNotMatch", "signed header %s is not in the request" % name,
                    {})
    signed_headers = HTTPHeaders()
    for name in signed:
        for value in headers.get_all(name):
            signed_headers[name] = value
    request = AWSRequest(method=method, url="http://%s%s" % (headers["host"], target),
                         headers=signed_headers, data=body)
    request.context["timestamp"] = amz_date
    signer = S3SigV4Auth(Credentials(access_key, secret), service, region)
    canonical = signer.canonical_request(request)
    string_to_sign = signer.string_to_sign(request, canonical)
    expected = signer.signature(string_to_sign, request)
    if signer.signed_headers(signer.headers_to_sign(request)) != signed_names:
        return (403, "SignatureDoesNotMatch",
                "botocore would sign other headers: "
                + signer.signed_headers(signer.headers_to_sign(request)), {})
    if expected != signature:
        return (403, "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
                {"CanonicalRequest": canonical, "StringToSign": string_to_sign,
                 "SignatureProvided": signature, "SignatureExpected": expected})
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    # Headers and body go out in separate writes: with Nagle on, the body
    # waits for the client's delayed ACK (~40 ms per request on a kept-alive
    # connection), which would swamp any latency measured through the proxy.
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"
    timeout = 300  # an idle keep-alive connection is closed after this
    server_version = "s3_proxy"
    sys_version = ""

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("s3_proxy: " + (fmt % args) + "\n")

    def setup(self):
        super().setup()
        self.upstream_conn = None
        self.server.state.count(connections=1)

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass  # the client is gone (a cut or timed-out request)
        finally:
            if self.upstream_conn is not None:
                self.upstream_conn.close()

    # Every method goes through one path.
    def do_GET(self):
        try:
            self.handle_any()
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            # The client gave up (its deadline passed while a delay ran).
            self.close_connection = True

    do_HEAD = do_PUT = do_POST = do_DELETE = do_OPTIONS = do_PATCH = do_GET

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send_bytes(self, status, body, content_type="application/xml", extra_headers=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra_headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        state = self.server.state
        split = urllib.parse.urlsplit(self.path)
        path, query = split.path, split.query
        body = self.read_body()
        if path.startswith("/__proxy__/"):
            return self.control(path, query, body)
        with state.lock:
            state.request_id += 1
            request_id = "proxy-%d" % state.request_id
        state.count(requests=1, bytes_in=len(body), **{"requests." + self.command: 1})
        entry = {"method": self.command, "target": self.path, "status": 0}
        with state.lock:
            state.log.append(entry)
        latency = state.latency_ms
        if latency > 0:
            time.sleep(latency / 1000.0)
        if state.verify:
            failure = verify_signature(state, self.command, self.path, self.headers, body)
            if failure is not None:
                status, code, message, extra = failure
                state.count(signature_failures=1, **{"status.%d" % status: 1})
                entry["status"] = status
                sys.stderr.write("s3_proxy: %s %s: %d %s: %s\n"
                                 % (self.command, self.path, status, code, message))
                return self.send_bytes(status, error_xml(code, message, path, request_id, extra))
        rule = state.match_rule(self.command, path, query)
        if rule is not None:
            action = rule.get("action", "error")
            entry["fault"] = action
            if action == "error":
                status = int(rule.get("status", 503))
                code = rule.get("code", "SlowDown")
                message = rule.get("message", "injected by s3_proxy")
                state.count(**{"status.%d" % status: 1})
                entry["status"] = status
                return self.send_bytes(status, error_xml(code, message, path, request_id))
            if action in ("drop", "reset"):
                if action == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               struct.pack("ii", 1, 0))
                self.close_connection = True
                self.connection.close()
                return
            if action == "delay":
                time.sleep(int(rule.get("delay_ms", 0)) / 1000.0)
                rule = None
        self.forward(path, body, entry, rule)

    def upstream(self):
        if self.upstream_conn is None:
            host, port = self.server.state.upstream
            self.upstream_conn = http.client.HTTPConnection(host, port, timeout=120)
        return self.upstream_conn

    def forward(self, path, body, entry, rule):
        state = self.server.state
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP
                   and k.lower() != "content-length"]
        if body or self.command in ("PUT", "POST"):
            headers.append(("Content-Length", str(len(body))))
        response = None
        for attempt in range(2):
            reused = self.upstream_conn is not None
            conn = self.upstream()
            try:
                conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for k, v in headers:
                    conn.putheader(k, v)
                conn.endheaders(body)
                response = conn.getresponse()
                break
            except (ConnectionError, http.client.HTTPException, OSError) as e:
                conn.close()
                self.upstream_conn = None
                # Only a kept-alive connection the server had closed (it then
                # saw nothing) is worth a second try: anything else might have
                # reached it, and a request sent twice is not what the client
                # sent (two concurrent PUTs of a key corrupt s3rver's copy).
                stale = reused and isinstance(e, (http.client.RemoteDisconnected,
                                                  ConnectionResetError, BrokenPipeError))
                if attempt == 1 or not stale:
                    entry["status"] = 502
                    state.count(**{"status.502": 1})
                    return self.send_bytes(502, error_xml(
                        "BadGateway", "s3_proxy: upstream failed: %r" % e, path, "proxy"))
        entry["status"] = response.status
        state.count(**{"status.%d" % response.status: 1})
        action = rule.get("action") if rule else None
        limit = int(rule.get("bytes", 0)) if rule else 0
        self.send_response_only(response.status, response.reason)
        length = response.getheader("Content-Length")
        chunked = "chunked" in (response.getheader("Transfer-Encoding") or "").lower()
        for k, v in response.getheaders():
            if k.lower() in HOP_BY_HOP or k.lower() == "content-length":
                continue
            self.send_header(k, v)
        # Every path below reads the answer to its end (read() closes it), or
        # drops the connection: http.client sends the next request on a
        # connection whose last answer is unfinished and then fails it.
        if self.command == "HEAD" or response.status in (204, 304) or response.status < 200:
            if length is not None:
                self.send_header("Content-Length", length)
            self.end_headers()
            response.read()
            return
        if action == "short":
            data = response.read()[:limit]
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            state.count(bytes_out=len(data))
            return
        if length is not None:
            self.send_header("Content-Length", length)
        elif chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        sent = 0
        while True:
            piece = response.read1(65536) if hasattr(response, "read1") else response.read(65536)
            if not piece:
                break
            if action == "truncate" and sent + len(piece) >= limit:
                piece = piece[:max(0, limit - sent)]
                if piece:
                    self.wfile.write(piece if not chunked or length is not None
                                     else b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.flush()
                state.count(bytes_out=sent + len(piece))
                self.close_connection = True
                self.upstream_conn.close()
                self.upstream_conn = None
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if chunked and length is None:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            else:
                self.wfile.write(piece)
            sent += len(piece)
        response.read()  # b"", and marks the answer finished
        if chunked and length is None:
            self.wfile.write(b"0\r\n\r\n")
        state.count(bytes_out=sent)

    def control(self, path, query, body):
        state = self.server.state
        text = "format=text" in query
        if path == "/__proxy__/health":
            return self.send_bytes(200, b"ok\n", "text/plain")
        if path == "/__proxy__/faults" and self.command == "POST":
            try:
                spec = json.loads(body or b"{}")
                rules = spec.get("rules")
                for r in rules or []:
                    if r.get("action", "error") not in ("error", "drop", "reset", "delay",
                                                        "truncate", "short"):
                        raise ValueError("unknown action %r" % r.get("action"))
                    for k in ("path", "query"):
                        if r.get(k):
                            re.compile(r[k])
            except (ValueError, AttributeError, re.error) as e:
                return self.send_bytes(400, ("bad fault spec: %s\n" % e).encode(), "text/plain")
            with state.lock:
                if "latency_ms" in spec:
                    state.latency_ms = int(spec["latency_ms"])
                if rules is not None:
                    state.rules = (state.rules if spec.get("append") else []) + list(rules)
            return self.send_bytes(200, b'{"ok": true}\n', "application/json")
        if path == "/__proxy__/reset" and self.command == "POST":
            with state.lock:
                state.rules = []
                state.latency_ms = 0
                state.reset_counters()
            return self.send_bytes(200, b'{"ok": true}\n', "application/json")
        if path == "/__proxy__/stats":
            with state.lock:
                counters = dict(state.counters)
            for k in ("requests", "bytes_in", "bytes_out", "signature_failures", "faults",
                      "connections"):
                counters.setdefault(k, 0)
            if text:
                out = "".join("%s %d\n" % kv for kv in sorted(counters.items()))
                return self.send_bytes(200, out.encode(), "text/plain")
            return self.send_bytes(200, json.dumps(counters, sort_keys=True).encode(),
                                   "application/json")
        if path == "/__proxy__/log":
            with state.lock:
                log = [dict(e) for e in state.log]
            if text:
                out = "".join("%s %d %s\n" % (e["method"], e["status"], e["target"]) for e in log)
                return self.send_bytes(200, out.encode(), "text/plain")
            return self.send_bytes(200, json.dumps(log).encode(), "application/json")
        return self.send_bytes(404, b"unknown control request\n", "text/plain")


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def start_s3rver(directory, buckets):
    here = os.path.dirname(os.path.abspath(__file__))
    s3rver = os.path.join(here, "..", "node", "node_modules", ".bin", "s3rver")
    if not os.path.exists(s3rver):
        sys.exit("s3_proxy: %s is missing; install it with `npm ci` in tests/node "
                 "(scripts/install-deps.sh)" % s3rver)
    os.makedirs(directory, exist_ok=True)
    args = ["node", s3rver, "-d", directory, "-a", "127.0.0.1", "-p", "0", "--silent"]
    for b in buckets:
        args += ["--configure-bucket", b]
    env = dict(os.environ, NODE_OPTIONS="--openssl-legacy-provider")
    child = subprocess.Popen(args, stdout=subprocess.PIPE, env=env, text=True)
    for line in child.stdout:
        m = re.search(r"listening on ([\d.]+):(\d+)", line)
        if m:
            return child, (m.group(1), int(m.group(2)))
    sys.exit("s3_proxy: s3rver exited before listening")


def selftest():
    """Checks the proxy against a local upstream answering in every framing:
    Range, Content-Length, chunked and close-delimited answers pass intact over
    one kept-alive connection; a right signature passes and each kind of
    wrong one is refused; faults and counters work. Exit status 0 when so."""
    data = bytes(range(256)) * 40

    class Upstream(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            if self.path.startswith("/b/chunked"):
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for i in range(0, len(data), 1000):
                    piece = data[i:i + 1000]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.write(b"0\r\n\r\n")
            elif self.path.startswith("/b/close"):
                self.send_response(200)
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)
                self.close_connection = True
            elif self.headers.get("Range"):
                first, last = map(int, self.headers["Range"][6:].split("-"))
                self.send_response(206)
                self.send_header("Content-Range", "bytes %d-%d/%d" % (first, last, len(data)))
                self.send_header("Content-Length", str(last - first + 1))
                self.end_headers()
                self.wfile.write(data[first:last + 1])
            else:
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        def do_HEAD(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()

        def do_PUT(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("ETag", '"%s"' % hashlib.md5(body).hexdigest())
            self.send_header("Content-Length", "0")
            self.end_headers()

    upstream = Server(("127.0.0.1", 0), Upstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    proxy = Server(("127.0.0.1", 0), Handler)
    proxy.state = State(("127.0.0.1", upstream.server_address[1]), {"AK": "SK"}, True, 0)
    proxy.verbose = False
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    port = proxy.server_address[1]
    host = "127.0.0.1:%d" % port

    def signed(method, path, body=b"", headers=None, secret="SK"):
        request = AWSRequest(method=method, url="http://%s%s" % (host, path),
                             headers=dict(headers or {}), data=body)
        S3SigV4Auth(Credentials("AK", secret), "s3", "us-east-1").add_auth(request)
        return {k: v for k, v in request.headers.items()}

    conn = http.client.HTTPConnection("127.0.0.1", port)

    def call(method, path, body=b"", headers=None):
        conn.request(method, path, body=body or None, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.read(), r

    status, body, r = call("GET", "/b/k", headers=signed("GET", "/b/k", headers={"Range": "bytes=10-19"}))
    assert (status, body) == (206, data[10:20]), (status, body)
    assert r.getheader("Content-Range") == "bytes 10-19/%d" % len(data)
    status, body, _ = call("GET", "/b/k", headers=signed("GET", "/b/k"))
    assert (status, body) == (200, data), status
    status, body, r = call("GET", "/b/chunked", headers=signed("GET", "/b/chunked"))
    assert (status, body) == (200, data), status
    assert r.getheader("Transfer-Encoding") == "chunked"
    status, body, r = call("PUT", "/b/k%20x", b"payload",
                           signed("PUT", "/b/k%20x", b"payload", {"x-amz-meta-a": "b"}))
    assert status == 200 and r.getheader("ETag"), status
    status, body, _ = call("HEAD", "/b/k", headers=signed("HEAD", "/b/k"))
    assert (status, body) == (200, b""), status

    h = signed("GET", "/b/k")
    h["Authorization"] = h["Authorization"][:-1] + ("0" if h["Authorization"][-1] != "0" else "1")
    assert call("GET", "/b/k", headers=h)[0] == 403
    status, body, _ = call("GET", "/b/k", headers=signed("GET", "/b/k", secret="other"))
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body, body
    assert b"<CanonicalRequest>" in body
    h = signed("GET", "/b/k")
    h["x-amz-meta-late"] = "added after signing"
    status, body, _ = call("GET", "/b/k", headers=h)
    assert status == 403 and b"HeadersNotSigned" in body, body
    status, body, _ = call("PUT", "/b/k", b"other body", signed("PUT", "/b/k", b"payload"))
    assert status == 400 and b"XAmzContentSHA256Mismatch" in body, body
    assert call("GET", "/b/k")[0] == 403
    assert call("GET", "/b/k", headers=signed("GET", "/b/other-path"))[0] == 403

    status, _, _ = call("POST", "/__proxy__/faults", json.dumps(
        {"rules": [{"action": "error", "status": 503, "code": "SlowDown", "method": "GET",
                    "path": "^/b/k$", "count": 1}]}).encode())
    assert status == 200
    status, body, _ = call("GET", "/b/k", headers=signed("GET", "/b/k"))
    assert status == 503 and b"<Code>SlowDown</Code>" in body, body
    assert call("GET", "/b/k", headers=signed("GET", "/b/k"))[0] == 200
    status, body, _ = call("GET", "/__proxy__/stats")
    stats = json.loads(body)
    assert stats["connections"] == 1, stats  # everything so far on one connection
    assert stats["signature_failures"] == 6 and stats["faults"] == 1, stats
    assert stats["requests.GET"] == 10 and stats["requests.PUT"] == 2, stats

    status, body, _ = call("GET", "/b/close", headers=signed("GET", "/b/close"))
    assert (status, body) == (200, data), status
    print("s3_proxy selftest: OK")


def main():
    if sys.argv[1:] == ["--selftest"]:
        return selftest()
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--upstream", help="HOST:PORT of the S3 server")
    p.add_argument("--s3rver-dir", help="start s3rver with its data here")
    p.add_argument("--bucket", action="append", default=[], help="bucket s3rver creates")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--latency-ms", type=int, default=0)
    p.add_argument("--no-verify", action="store_true")
    p.add_argument("--credentials", action="append", default=[], help="ACCESS:SECRET")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args()
    child = None
    if args.s3rver_dir:
        child, upstream = start_s3rver(args.s3rver_dir, args.bucket)
    elif args.upstream:
        host, _, port = args.upstream.rpartition(":")
        upstream = (host or "127.0.0.1", int(port))
    else:
        p.error("give --upstream or --s3rver-dir")
    secrets = dict(c.split(":", 1) for c in (args.credentials or ["S3RVER:S3RVER"]))
    server = Server(("127.0.0.1", args.port), Handler)
    server.state = State(upstream, secrets, not args.no_verify, args.latency_ms)
    server.verbose = args.verbose
    port = server.server_address[1]

    def stop(signum, frame):
        if child is not None:
            child.kill()
            child.wait()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.rename(args.port_file + ".tmp", args.port_file)
    print("PORT %d" % port, flush=True)
    if child is not None:
        print("UPSTREAM %s:%d" % upstream, flush=True)
    try:
        server.serve_forever()
    finally:
        stop(None, None)


if __name__ == "__main__":
    main()
