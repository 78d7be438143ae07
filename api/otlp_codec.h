// OpenTelemetry logs and spans as rows (docs/otlp.md): an OTLP export request,
// parsed from protobuf or from OTLP JSON (api/otlp_json.h), becomes one
// IngestRequest for the signal's dataset. No engine and no HTTP here:
// api/otlp_routes.cc is the route over these.
//
// One log record or one span is one row. Attribute lists (of the record, its
// resource and its scope) are `json` columns holding one JSON object each:
// keys as sent (a key sent twice keeps its last value), nested kvlistValue as
// objects, arrayValue as arrays, intValue as numbers, bytesValue as base64
// strings, doubles that are not finite as the strings "NaN", "Infinity",
// "-Infinity"; the text is canonical (segment/typed_text.h). Trace and span
// ids are lowercase hex strings. The resource's `service.name` is the
// `service_name` column, the datasets' series key.
//
// Every problem is an InvalidArgument error tagged for the API
// (common/status_util.h) naming the record, as
// "resourceLogs[0].scopeLogs[1].logRecords[2]", and its field; nothing of the
// request is kept.
//
// Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "api/otlp/otlp.pb.h"
#include "engine/engine.h"
#include "engine/schema.h"

namespace timestore::api {

inline constexpr std::string_view kOtlpLogsDataset = "otel_logs";
inline constexpr std::string_view kOtlpTracesDataset = "otel_traces";
// The time column of the datasets the routes create.
inline constexpr std::string_view kOtlpTimeColumn = "timestamp";
// The series key (segmentBy) the routes give the datasets they create.
inline constexpr std::string_view kOtlpServiceColumn = "service_name";

enum class OtlpSignal { kLogs, kTraces };

// The default of OtlpIngestOptions::max_cells.
inline constexpr uint64_t kOtlpMaxCells = 32ull << 20;

struct OtlpIngestOptions {
  std::string slug;
  // The dataset's current schema, or null when it does not exist: gives the
  // time column.
  const Schema* current = nullptr;
  // The time of log records that carry neither timeUnixNano nor
  // observedTimeUnixNano (the time the request arrived).
  int64_t now_ns = 0;
  // Largest rows × columns of one request, which bounds the memory of the
  // columns built: 413 payload_too_large beyond it.
  uint64_t max_cells = kOtlpMaxCells;
};

// The entries of the three levels of an export request: resourceLogs and
// scopeLogs (resourceSpans and scopeSpans) entries, and log records (spans).
struct OtlpCounts {
  uint64_t containers = 0;
  uint64_t records = 0;
};

// 413 payload_too_large when the rows of `counts` (one per record), or its
// resource and scope entries, times the signal's columns pass `max_cells`.
// Checked before any record is built (api/otlp_json.h, the routes), and again
// by LogsToIngest and TracesToIngest.
absl::Status CheckOtlpSize(OtlpSignal signal, const OtlpCounts& counts, uint64_t max_cells);

// The counts of a protobuf ExportLogsServiceRequest or
// ExportTraceServiceRequest (both number their levels alike), read from the
// wire format without building messages: records are skipped, not parsed.
// nullopt when the framing of the three levels is not valid protobuf.
std::optional<OtlpCounts> CountOtlpProtobuf(std::string_view body);

// The rows of a logs export. Errors (400 invalid_value unless said):
// a timestamp past what int64 nanoseconds hold; a traceId that is not 16
// bytes or a spanId not 8 (either may be empty: no trace context); text that
// is not UTF-8; attributes nested
// deeper than 64 levels; 413 payload_too_large past max_cells.
absl::StatusOr<IngestRequest> LogsToIngest(const otlp::ExportLogsServiceRequest& request,
                                           const OtlpIngestOptions& options);

// The rows of a traces export. Errors as for logs, and: a span without a
// traceId (16 bytes, not all zero) or a spanId (8 bytes, not all zero); a
// parentSpanId that is neither empty nor 8 bytes; no startTimeUnixNano, or an
// endTimeUnixNano before it. Enums (severityNumber, kind, status code) are
// open, as in OTLP: any int32 is stored as it came, so a newer SDK's values
// are kept.
absl::StatusOr<IngestRequest> TracesToIngest(const otlp::ExportTraceServiceRequest& request,
                                             const OtlpIngestOptions& options);

// The 400 invalid_value of a bad record: "<record>: field \"<field>\":
// expected <expected>, got <got> (nothing of this request was stored)", with
// details {"record", "field", "expected", "got"}. `record` is "" for the
// request itself.
absl::Status OtlpFieldError(std::string_view record, std::string_view field,
                            std::string_view expected, std::string_view got);

// `s` for an error message: quoted, JSON-escaped, at most 64 bytes (then "...").
std::string QuoteForMessage(std::string_view s);

}  // namespace timestore::api
