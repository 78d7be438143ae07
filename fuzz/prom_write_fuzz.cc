// Prometheus remote write bodies (snappy + protobuf WriteRequest + rows),
// against no dataset and one with conflicting and reserved columns: any input
// gives an IngestRequest or an error, never a crash, a hang or an allocation
// past the limits. The first byte picks the mode:
//   bit 0  the rest is the protobuf itself (snappy-compressed here, so the
//          fuzzer explores the WriteRequest and row building), else the rest
//          is the body as sent (exploring the snappy decoder too);
//   bit 1  an existing schema (time column "ts", `value` double, `host`
//          string, `job` integer) instead of a new dataset.
// Seeds: fuzz/corpus/prom_write (mode byte 1 + a WriteRequest).
#include <cstdint>
#include <string>

#include "api/body_decoding.h"
#include "api/prometheus_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace timestore;
  if (size == 0) return 0;
  Schema current;
  current.version = 1;
  current.time_column = "ts";
  current.fields = {{"ts", ColumnType::kTimestamp},
                    {"value", ColumnType::kDouble},
                    {"host", ColumnType::kString},
                    {"job", ColumnType::kInteger}};
  const uint8_t mode = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string body = (mode & 1) ? api::SnappyEncode(rest) : std::string(rest);
  api::RemoteWriteOptions opts;
  opts.slug = "fuzz";
  opts.current = (mode & 2) ? &current : nullptr;
  opts.max_decoded_bytes = 1 << 20;
  opts.max_cells = 1 << 20;
  auto r = api::DecodeRemoteWrite(body, opts);
  if (r.ok()) {
    if (r->fields.size() != r->columns.size()) __builtin_trap();
    for (size_t i = 0; i < r->columns.size(); ++i) {
      const ColumnVector& c = r->columns[i];
      if (c.size() != r->rows || c.type != r->fields[i].type) __builtin_trap();
      // Every name is a valid column name that maps back to a label.
      if (!ValidateColumnName(r->fields[i].name).ok()) __builtin_trap();
    }
    if (r->rows > 0) {
      if (r->fields[0].name != (opts.current ? "ts" : "timestamp")) __builtin_trap();
      if (r->fields[1].name != "value") __builtin_trap();
      if (r->columns[0].HasNulls() || r->columns[1].HasNulls()) __builtin_trap();
    }
  }
  return 0;
}
