// OTLP JSON (the OTLP/HTTP JSON encoding, docs/otlp.md) into the protobuf
// messages of api/otlp/otlp.proto, so that JSON and protobuf requests share
// one mapping to rows (api/otlp_codec.h).
//
// The encoding is protobuf's JSON mapping with OTLP's changes: keys in
// lowerCamelCase (the proto field names in snake_case are accepted too),
// traceId / spanId / parentSpanId as hex strings (either case) rather than
// base64, enums as integers (their names are accepted too), 64-bit integers
// as JSON numbers or decimal strings, bytesValue as base64 (standard or
// URL-safe, padding optional). Unknown keys are ignored, as OTLP requires of
// receivers; null is the same as leaving a key out.
//
// Errors are 400 naming the record and the field (api/otlp_codec.h's
// OtlpFieldError), or 400 invalid_json when the body is not JSON.
//
// Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "api/otlp/otlp.pb.h"
#include "api/otlp_codec.h"

namespace timestore::api {

// `body` may be grown (capacity only) to give simdjson its padding. A request
// whose records (or resource and scope entries) pass `max_cells` is refused
// with CheckOtlpSize's 413 before any message is built.
absl::Status ParseOtlpLogsJson(std::string* body, otlp::ExportLogsServiceRequest* out,
                               uint64_t max_cells = kOtlpMaxCells);
absl::Status ParseOtlpTracesJson(std::string* body, otlp::ExportTraceServiceRequest* out,
                                 uint64_t max_cells = kOtlpMaxCells);

}  // namespace timestore::api
