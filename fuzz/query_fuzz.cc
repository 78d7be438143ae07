// Query bodies: parse, validate against a schema, and run over a small chunk.
#include <cstdint>
#include <string>

#include "api/query_parser.h"
#include "engine/query_executor.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace timestore;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto spec = api::ParseQueryBody(body, Precision::kMilliseconds, 1000);
  if (!spec.ok()) return 0;
  Schema schema;
  schema.version = 1;
  schema.time_column = "timestamp";
  schema.fields = {{"timestamp", ColumnType::kTimestamp},
                   {"d", ColumnType::kDouble},
                   {"i", ColumnType::kInteger},
                   {"s", ColumnType::kString},
                   {"b", ColumnType::kBoolean}};
  if (!ValidateQuery(&*spec, schema).ok()) return 0;
  ColumnBuilder ts(ColumnType::kTimestamp), d(ColumnType::kDouble), i(ColumnType::kInteger),
      s(ColumnType::kString), b(ColumnType::kBoolean);
  for (int k = 0; k < 64; ++k) {
    ts.AppendInt(k * 1'000'000'000LL);
    k % 5 ? d.AppendDouble(k * 0.5) : d.AppendNull();
    k % 7 ? i.AppendInt(k - 30) : i.AppendNull();
    k % 3 ? s.AppendString(k % 2 ? "a" : "b") : s.AppendNull();
    b.AppendBool(k % 2);
  }
  auto chunk = std::make_shared<Chunk>();
  chunk->rows = 64;
  chunk->columns.push_back(ts.Finish());
  chunk->columns.push_back(d.Finish());
  chunk->columns.push_back(i.Finish());
  chunk->columns.push_back(s.Finish());
  chunk->columns.push_back(b.Finish());
  chunk->ComputeStats();
  (void)ExecuteQuery(*spec, schema, {chunk});
  return 0;
}
