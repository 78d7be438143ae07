// Ingest bodies, JSON and NDJSON, against an empty and an existing schema:
// any input must give a request or an error, never a crash or a hang.
#include <cstdint>
#include <string>

#include "api/ingest_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace timestore;
  if (size == 0) return 0;
  Schema current;
  current.version = 1;
  current.time_column = "timestamp";
  current.fields = {{"timestamp", ColumnType::kTimestamp},
                    {"d", ColumnType::kDouble},
                    {"i", ColumnType::kInteger},
                    {"s", ColumnType::kString},
                    {"b", ColumnType::kBoolean}};
  const uint8_t mode = data[0];
  std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  api::IngestParseOptions opts;
  opts.slug = "fuzz";
  opts.format = (mode & 1) ? api::BodyFormat::kNdjson : api::BodyFormat::kJson;
  opts.current = (mode & 2) ? &current : nullptr;
  opts.precision = static_cast<Precision>((mode >> 2) & 3);
  auto r = api::ParseIngestBody(&body, opts);
  if (r.ok()) {
    // Every column has one value per row.
    for (const auto& c : r->columns) {
      if (c.size() != r->rows) __builtin_trap();
    }
  }
  return 0;
}
