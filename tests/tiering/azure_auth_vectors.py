#!/usr/bin/env python3
"""Known answers for tests/tiering/azure_auth_test.cc, computed independently.

Follows Microsoft's documented algorithms ("Authorize with Shared Key",
"Create an account SAS", "Create a service SAS", version 2020-12-06 and later)
with the Python standard library only (hmac, hashlib, base64, urllib.parse),
sharing no code with tiering/azure_auth.cc. Run it and paste its output into the
test when an input changes:

    python3 tests/tiering/azure_auth_vectors.py
"""
import base64
import hashlib
import hmac
import json
import urllib.parse

ACCOUNT = "devstoreaccount1"
# The emulator's well-known key, published by Microsoft.
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def sign(string_to_sign):
    mac = hmac.new(base64.b64decode(KEY), string_to_sign.encode("utf-8"), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def shared_key_string_to_sign(method, url, headers, content_length):
    h = {k.lower(): v for k, v in headers}
    parsed = urllib.parse.urlsplit(url)
    standard = [
        h.get("content-encoding", ""),
        h.get("content-language", ""),
        "" if content_length in (None, 0) else str(content_length),
        h.get("content-md5", ""),
        h.get("content-type", ""),
        h.get("date", ""),
        h.get("if-modified-since", ""),
        h.get("if-match", ""),
        h.get("if-none-match", ""),
        h.get("if-unmodified-since", ""),
        h.get("range", ""),
    ]
    out = method + "\n" + "".join(v + "\n" for v in standard)
    for name in sorted(k for k in h if k.startswith("x-ms-")):
        out += name + ":" + h[name].strip() + "\n"
    out += "/" + ACCOUNT + parsed.path
    params = {}
    for name, value in urllib.parse.parse_qsl(parsed.query, keep_blank_values=True):
        params.setdefault(name.lower(), []).append(value)
    for name in sorted(params):
        out += "\n" + name + ":" + ",".join(sorted(params[name]))
    return out


def emit(name, **fields):
    print(json.dumps(dict(name=name, **fields)))


DATE = "Tue, 02 Dec 2025 23:05:00 GMT"
BASE = "http://127.0.0.1:10000/devstoreaccount1/timestore"

# Put Block with an awkward key, metadata and a body of 5 bytes.
url = BASE + "/dir%20a/b%2Bc%C3%A9.tseg?comp=block&blockid=YWJjZGVm%2Bx%2F%3D"
headers = [("x-ms-version", "2021-08-06"), ("x-ms-date", DATE), ("X-Ms-Meta-Segment_Id", "  42 "),
           ("x-ms-blob-type", "BlockBlob")]
s = shared_key_string_to_sign("PUT", url, headers, 5)
emit("put_block", string_to_sign=s, signature=sign(s))

# Ranged Get Blob: no body, no Content-Length.
url = BASE + "/a/b.tseg"
headers = [("x-ms-range", "bytes=100-199"), ("x-ms-date", DATE), ("x-ms-version", "2021-08-06")]
s = shared_key_string_to_sign("GET", url, headers, None)
emit("get_range", string_to_sign=s, signature=sign(s))

# List Blobs: query names in any case, sorted; values decoded.
url = BASE + "?restype=container&comp=list&prefix=p%2Fq%20r&Marker=m1&maxresults=2"
headers = [("x-ms-date", DATE), ("x-ms-version", "2021-08-06")]
s = shared_key_string_to_sign("GET", url, headers, None)
emit("list", string_to_sign=s, signature=sign(s))

# Put Blob of an empty body: Content-Length 0 is signed as "".
url = BASE + "/empty"
headers = [("x-ms-blob-type", "BlockBlob"), ("x-ms-date", DATE), ("x-ms-version", "2021-08-06")]
s = shared_key_string_to_sign("PUT", url, headers, 0)
emit("put_empty", string_to_sign=s, signature=sign(s))

# Account SAS: account, sp, ss, srt, st, se, sip, spr, sv, ses, each + "\n".
fields = [ACCOUNT, "rwdlac", "b", "sco", "", "2030-01-01T00:00:00Z", "", "", "2021-08-06", ""]
s = "".join(f + "\n" for f in fields)
sig = sign(s)
token = urllib.parse.urlencode([("sv", "2021-08-06"), ("ss", "b"), ("srt", "sco"), ("sp", "rwdlac"),
                                ("se", "2030-01-01T00:00:00Z"), ("sig", sig)],
                               quote_via=urllib.parse.quote, safe="")
emit("account_sas", string_to_sign=s, signature=sig, token=token)

# Service SAS for a container: sp, st, se, canonicalized resource, si, sip, spr,
# sv, sr, snapshot time, ses, rscc, rscd, rsce, rscl, rsct.
fields = ["racwdl", "2025-01-01T00:00:00Z", "2030-01-01T00:00:00Z",
          "/blob/" + ACCOUNT + "/timestore", "", "127.0.0.1", "https,http", "2021-08-06", "c",
          "", "", "", "", "", "", ""]
s = "\n".join(fields)
sig = sign(s)
token = urllib.parse.urlencode([("sv", "2021-08-06"), ("sr", "c"), ("sp", "racwdl"),
                                ("st", "2025-01-01T00:00:00Z"), ("se", "2030-01-01T00:00:00Z"),
                                ("sip", "127.0.0.1"), ("spr", "https,http"), ("sig", sig)],
                               quote_via=urllib.parse.quote, safe="")
emit("container_sas", string_to_sign=s, signature=sig, token=token)
