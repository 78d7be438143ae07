// InfluxDB line protocol bodies, with and without an existing schema and with
// every precision, and request bodies through Content-Encoding decoding: any
// input must give requests or an error, never a crash or a hang, and every
// request must be well formed.
#include <cstdint>
#include <string>

#include "api/body_decoding.h"
#include "api/line_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace timestore;
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  if (mode & 0x80) {
    // The decoders, with a small limit so bombs are cheap to find.
    const char* encodings[] = {"gzip", "deflate", "snappy", "identity"};
    std::string copy = body;
    (void)api::DecodeBody(encodings[mode & 3], 1 << 20, &copy);
    return 0;
  }
  auto schema = std::make_shared<Schema>();
  schema->version = 1;
  schema->time_column = "ts";
  schema->fields = {{"ts", ColumnType::kTimestamp},
                    {"d", ColumnType::kDouble},
                    {"i", ColumnType::kInteger},
                    {"s", ColumnType::kString},
                    {"b", ColumnType::kBoolean}};
  api::LineProtocolOptions opts;
  opts.dataset_prefix = "db_";
  const int64_t precisions[] = {1, 1000, 1000000, 3600000000000};
  opts.precision_ns = precisions[mode & 3];
  opts.now_ns = 1700000000000000000;
  if (mode & 4) {
    opts.schema_of = [schema](const std::string& slug) {
      return slug == "db_m" ? schema : SchemaPtr();
    };
  }
  auto r = api::ParseLineProtocol(body, opts);
  if (r.ok()) {
    for (const auto& req : *r) {
      if (req.fields.size() != req.columns.size()) __builtin_trap();
      bool has_time = false;
      for (size_t i = 0; i < req.columns.size(); ++i) {
        if (req.columns[i].size() != req.rows) __builtin_trap();
        if (req.fields[i].type != req.columns[i].type) __builtin_trap();
        if (req.fields[i].name == req.time_column) {
          has_time = true;
          if (req.columns[i].HasNulls()) __builtin_trap();
        }
      }
      if (req.rows > 0 && !has_time) __builtin_trap();
    }
  }
  return 0;
}
