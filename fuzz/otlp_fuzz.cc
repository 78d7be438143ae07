// OTLP/HTTP export bodies (api/otlp_json.h, api/otlp_codec.h): any input gives
// an IngestRequest or an error, never a crash, a hang or an allocation past the
// limits, and every json cell is canonical text. The first byte picks the mode:
//   bit 0  traces (ExportTraceServiceRequest), else logs;
//   bit 1  the rest is protobuf, else OTLP JSON;
//   bit 2  an existing schema whose time column is "ts".
// Seeds: fuzz/corpus/otlp (mode byte + body).
#include <cstdint>
#include <string>

#include "api/otlp_codec.h"
#include "api/otlp_json.h"
#include "segment/typed_text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace timestore;
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  Schema current;
  current.version = 1;
  current.time_column = "ts";
  current.fields = {{"ts", ColumnType::kTimestamp}};
  api::OtlpIngestOptions opts;
  opts.slug = "fuzz";
  opts.current = (mode & 4) ? &current : nullptr;
  opts.now_ns = 1;
  opts.max_cells = 1 << 20;
  absl::StatusOr<IngestRequest> r;
  if (mode & 1) {
    otlp::ExportTraceServiceRequest req;
    absl::Status s = (mode & 2) ? (req.ParseFromString(body) ? absl::OkStatus()
                                                             : absl::InvalidArgumentError("pb"))
                                : api::ParseOtlpTracesJson(&body, &req);
    if (!s.ok()) return 0;
    r = api::TracesToIngest(req, opts);
  } else {
    otlp::ExportLogsServiceRequest req;
    absl::Status s = (mode & 2) ? (req.ParseFromString(body) ? absl::OkStatus()
                                                             : absl::InvalidArgumentError("pb"))
                                : api::ParseOtlpLogsJson(&body, &req);
    if (!s.ok()) return 0;
    r = api::LogsToIngest(req, opts);
  }
  if (!r.ok()) return 0;
  if (r->fields.size() != r->columns.size()) __builtin_trap();
  if (r->fields[0].name != ((mode & 4) ? "ts" : "timestamp")) __builtin_trap();
  for (size_t i = 0; i < r->columns.size(); ++i) {
    const ColumnVector& c = r->columns[i];
    if (c.size() != r->rows || c.type != r->fields[i].type) __builtin_trap();
    if (c.type != ColumnType::kJson) continue;
    for (size_t k = 0; k < c.size(); ++k) {
      if (c.IsNull(k)) continue;
      auto canonical = CanonicalJsonText(c.dict[c.ids[k]]);
      if (!canonical.ok() || *canonical != c.dict[c.ids[k]]) __builtin_trap();
    }
  }
  return 0;
}
