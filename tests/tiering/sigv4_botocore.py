#!/usr/bin/python3
"""Signs requests with botocore's S3SigV4Auth at a fixed time, for
tests/tiering/s3_object_store_test.cc to compare with tiering/sigv4.cc.

Run with Debian's python (it has botocore): /usr/bin/python3 sigv4_botocore.py
Reads one JSON object a line on stdin:
  {"method": "PUT", "url": "http://127.0.0.1:9000/b/a%20b", "headers": [["k", "v"]],
   "body_hex": "...", "access_key": "...", "secret_key": "...", "token": "",
   "region": "us-east-1", "service": "s3", "amz_date": "20130524T000000Z",
   "unsigned_payload": false}
and writes one JSON object a line: {"authorization": ..., "canonical_request": ...,
"x-amz-content-sha256": ...}. The headers are the request's before signing;
botocore adds host, X-Amz-Date, X-Amz-Content-SHA256 and X-Amz-Security-Token
itself, exactly as add_auth() does, but with the time given instead of now.
"""
import json
import sys
import types

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def sign(c):
    headers = {k: v for k, v in c.get("headers", [])}
    request = AWSRequest(method=c["method"], url=c["url"], headers=headers,
                         data=bytes.fromhex(c.get("body_hex", "")))
    signer = S3SigV4Auth(Credentials(c["access_key"], c["secret_key"], c.get("token") or None),
                         c["service"], c["region"])
    request.context["timestamp"] = c["amz_date"]
    if c.get("unsigned_payload"):
        request.context["client_config"] = types.SimpleNamespace(
            s3={"payload_signing_enabled": False})
    # add_auth() without its clock: the same steps in the same order.
    signer._modify_request_before_signing(request)
    canonical = signer.canonical_request(request)
    signature = signer.signature(signer.string_to_sign(request, canonical), request)
    signer._inject_signature_to_request(request, signature)
    return {"authorization": request.headers["Authorization"], "canonical_request": canonical,
            "x-amz-content-sha256": request.headers["X-Amz-Content-SHA256"]}


def main():
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(sign(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
