// Retention: drops whole partitions older than the dataset's deleteAfter (or
// TIMESTORE_RETENTION_DEFAULT). A partition goes once all of it is older than
// the limit: start + interval <= now - deleteAfter. Dropping is one manifest
// edit removing its segments, then file deletes (each file when no running
// query holds it); rows still in memory for such a partition are sealed first
// so they go with it. Rows older than the limit may still be ingested; they are
// dropped at the next enforcement.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "engine/engine.h"

namespace timestore::compaction {

struct RetentionResult {
  int64_t delete_after_ns = 0;  // 0: no retention, nothing dropped
  int64_t cutoff_ns = 0;        // partitions ending at or before this went
  uint64_t partitions_dropped = 0;
  uint64_t segments_dropped = 0;
  uint64_t rows_dropped = 0;
  uint64_t bytes_dropped = 0;
};

absl::StatusOr<RetentionResult> EnforceRetention(Engine* engine, Dataset* ds, int64_t now_ns);

}  // namespace timestore::compaction
