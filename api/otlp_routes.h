// The error answers of the OTLP/HTTP routes (POST /v1/logs, /v1/traces;
// docs/otlp.md). OTLP/HTTP asks every 4xx and 5xx body to be a
// google.rpc.Status in the request's encoding; Service::Handle wraps the
// responder of those paths with OtlpErrorResponder outside its metrics and
// audit wrapper, so that the audit still reads the reason of a 401 or 403
// from api.md's JSON error body, and every refusal on the paths (401 at
// authentication, 405, 403, 400, 503...) leaves as a Status.
#pragma once

#include <string_view>

#include "api/http_server.h"

namespace timestore::api {

// Whether `path` is one of the OTLP/HTTP routes.
inline bool IsOtlpPath(std::string_view path) { return path == "/v1/logs" || path == "/v1/traces"; }

// The gRPC status code a google.rpc.Status carries for an HTTP status.
int OtlpGrpcCode(int http_status);

// An error answer (status >= 400, api.md's JSON error body) as OTLP/HTTP
// wants it. For a protobuf request (`content_type` application/x-protobuf or
// application/protobuf) the body is a protobuf RpcStatus; for any other, the
// JSON google.rpc.Status
//   {"code":<gRPC code>,"message":"<error code>: <message>",
//    "details":[{"@type":"type.googleapis.com/timestore.Error",
//                "code":"<error code>","message":"...","details":{...}}]}
// (the api.md error object inside). Status and headers stay; answers below
// 400 are returned unchanged.
HttpResponse OtlpErrorAnswer(std::string_view content_type, HttpResponse r);

// `respond` converting its error answers with OtlpErrorAnswer.
Responder OtlpErrorResponder(std::string_view content_type, Responder respond);

}  // namespace timestore::api
