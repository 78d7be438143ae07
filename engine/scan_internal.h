// Helpers shared by the query scans (engine/scan.cc plans and reads,
// engine/morsel_scan.cc streams blocks through the operators).
#pragma once

#include <atomic>
#include <chrono>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "common/status_util.h"
#include "common/strings.h"
#include "engine/chunk.h"
#include "engine/schema.h"
#include "segment/column.h"

namespace timestore::scan_internal {

// Bytes of decoded column vectors (for the per-query memory limit).
inline uint64_t DecodedBytes(const std::vector<ColumnVector>& cols) {
  uint64_t bytes = 0;
  for (const ColumnVector& c : cols) {
    bytes += c.ints.capacity() * sizeof(int64_t) + c.doubles.capacity() * sizeof(double) +
             c.bools.capacity() + c.ids.capacity() * sizeof(uint32_t) + c.valid.capacity();
    for (const std::string& d : c.dict) bytes += d.capacity() + sizeof(std::string);
  }
  return bytes;
}

// Block k of a read as a chunk with the dataset's columns: `cols` are the
// read's columns, in read_cols order; the others read as null.
template <typename Read>
ChunkPtr BlockChunk(const Read& read, size_t k, std::vector<ColumnVector> cols,
                    const Schema& schema) {
  const segment::SegmentMeta& meta = read.seg->reader->meta();
  const segment::BlockInfo& tb = meta.columns[meta.time_column].blocks[read.blocks[k]];
  auto chunk = std::make_shared<Chunk>();
  chunk->rows = tb.rows;
  chunk->time_index = schema.time_index();
  chunk->columns.resize(schema.fields.size());
  std::vector<bool> filled(schema.fields.size(), false);
  for (size_t j = 0; j < read.read_cols.size(); ++j) {
    chunk->columns[read.read_targets[j]] = std::move(cols[j]);
    filled[read.read_targets[j]] = true;
  }
  for (size_t i = 0; i < filled.size(); ++i) {
    if (!filled[i]) chunk->columns[i] = ColumnVector::AllNull(schema.fields[i].type, chunk->rows);
  }
  chunk->min_ts = tb.min_int;
  chunk->max_ts = tb.max_int;
  return chunk;
}

inline absl::Status MemoryLimit(uint64_t limit, std::string_view what) {
  return MakeError(
      absl::StatusCode::kOutOfRange, "query_memory_limit",
      StrCat("the query needs more than TIMESTORE_QUERY_MAX_MEMORY (", limit, " bytes) for ", what,
             "; narrow the time range, filter, or aggregate over fewer groups"),
      ErrorDetails(-1, "", "", ""));
}

inline absl::Status CheckDeadline(std::chrono::steady_clock::time_point deadline,
                                  const std::atomic<bool>* cancelled) {
  if (cancelled != nullptr && cancelled->load(std::memory_order_relaxed)) {
    return MakeError(absl::StatusCode::kCancelled, "query_cancelled",
                     "the client closed the connection; the query was stopped", "");
  }
  if (std::chrono::steady_clock::now() < deadline) return absl::OkStatus();
  return MakeError(absl::StatusCode::kDeadlineExceeded, "query_timeout",
                   "the query ran longer than TIMESTORE_QUERY_TIMEOUT and was stopped; narrow "
                   "the time range or downsample",
                   "");
}

}  // namespace timestore::scan_internal
