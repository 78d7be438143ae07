// Merges segments of one partition into new segment files: a streaming k-way
// merge in sort-key order over segment readers. Memory is one decoded block
// per input plus one output block, whatever the segment sizes. Rows equal in
// sort key and time keep write order (inputs are given oldest first); with a
// dedup plan the losing duplicates are dropped. Output files are durable when
// this returns; it changes no manifest state.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "compaction/throttle.h"
#include "engine/dedup.h"
#include "engine/engine.h"

namespace timestore::compaction {

struct MergeOptions {
  std::optional<DedupPlan> dedup;
  uint64_t max_output_rows = 1ull << 31;  // then a new output file starts
  Throttle* throttle = nullptr;
  const std::atomic<bool>* stop = nullptr;  // aborts the merge (Cancelled)
};

struct MergeResult {
  std::vector<SegmentPtr> outputs;
  uint64_t rows_read = 0;
  uint64_t rows_written = 0;
  uint64_t duplicates_dropped = 0;
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;
};

// REQUIRES: `inputs` non-empty, of one partition and one sort key, in write order.
// Output columns are `schema`'s (a column an input lacks, or holds with another
// type, reads as null, as queries read it).
absl::StatusOr<MergeResult> MergeSegments(Engine* engine, const Dataset& ds, const Schema& schema,
                                          const std::vector<SegmentPtr>& inputs,
                                          const MergeOptions& options);

}  // namespace timestore::compaction
