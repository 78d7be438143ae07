// A Chunk is an immutable run of rows in ingest order, stored column-wise:
// the unit an ingest request becomes, the unit the in-memory segment holds and
// the unit the query executor scans. Sealed segment blocks decode into the same
// shape, so one executor serves every tier.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/schema.h"
#include "segment/column.h"

namespace timestore {

struct Chunk {
  uint32_t rows = 0;
  // Indexed by schema field index. Columns past the end (added to the schema
  // after this chunk was written) read as all null.
  std::vector<ColumnVector> columns;
  // When not empty, the columns instead (shared with the decoded-block cache;
  // a null entry reads as all null). Only query chunks use it.
  std::vector<std::shared_ptr<const ColumnVector>> shared_columns;
  int time_index = 0;
  int64_t min_ts = 0;  // zone map of the time column (valid when rows > 0)
  int64_t max_ts = 0;
  size_t memory_bytes = 0;

  const ColumnVector* column(int i) const {
    if (!shared_columns.empty()) {
      return i >= 0 && static_cast<size_t>(i) < shared_columns.size() ? shared_columns[i].get()
                                                                      : nullptr;
    }
    return i >= 0 && static_cast<size_t>(i) < columns.size() ? &columns[i] : nullptr;
  }
  const int64_t* timestamps() const { return column(time_index)->ints.data(); }
  // Whether some row may fall in [start, end): rows and a zone map meeting it.
  bool MeetsRange(int64_t start, int64_t end) const {
    return rows > 0 && max_ts >= start && min_ts < end;
  }

  // Fills min_ts, max_ts and memory_bytes from the columns.
  void ComputeStats();
};

using ChunkPtr = std::shared_ptr<const Chunk>;

// Concatenates `chunks` (in order) into one chunk with `schema`'s columns.
ChunkPtr MergeChunks(const std::vector<ChunkPtr>& chunks, const Schema& schema);

}  // namespace timestore
