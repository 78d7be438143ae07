#include "engine/chunk.h"

#include <algorithm>
#include <limits>

namespace timestore {

void Chunk::ComputeStats() {
  memory_bytes = sizeof(*this);
  for (const auto& c : columns) memory_bytes += c.MemoryBytes();
  if (rows == 0) return;
  const int64_t* ts = timestamps();
  int64_t lo = std::numeric_limits<int64_t>::max(), hi = std::numeric_limits<int64_t>::min();
  for (uint32_t i = 0; i < rows; ++i) {
    lo = std::min(lo, ts[i]);
    hi = std::max(hi, ts[i]);
  }
  min_ts = lo;
  max_ts = hi;
}

ChunkPtr MergeChunks(const std::vector<ChunkPtr>& chunks, const Schema& schema) {
  auto out = std::make_shared<Chunk>();
  out->time_index = schema.time_index();
  size_t ncols = schema.fields.size();
  out->columns.resize(ncols);
  uint64_t total = 0;
  for (const auto& c : chunks) total += c->rows;
  out->rows = static_cast<uint32_t>(total);
  for (size_t col = 0; col < ncols; ++col) {
    ColumnType type = schema.fields[col].type;
    bool any = false;
    for (const auto& c : chunks) {
      const ColumnVector* v = c->column(static_cast<int>(col));
      if (v != nullptr && !v->all_null) any = true;
    }
    if (!any) {
      out->columns[col] = ColumnVector::AllNull(type, out->rows);
      continue;
    }
    ColumnBuilder b(type);
    for (const auto& c : chunks) {
      const ColumnVector* v = c->column(static_cast<int>(col));
      if (v == nullptr || v->all_null) {
        for (uint32_t i = 0; i < c->rows; ++i) b.AppendNull();
        continue;
      }
      for (uint32_t i = 0; i < c->rows; ++i) b.AppendFrom(*v, i);
    }
    out->columns[col] = b.Finish();
  }
  out->ComputeStats();
  return out;
}

}  // namespace timestore
