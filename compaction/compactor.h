// The compaction scheduler: background threads that keep every partition to a
// few large segments (picker.h decides, merger.h merges, one manifest edit
// swaps), and enforce retention periodically. Budgeted by
// TIMESTORE_COMPACTION_*: threads, I/O bytes per second (shared), and the
// minimum number of segments of one size tier that triggers a merge. It never
// blocks ingest: a merge reads immutable files and takes the dataset's
// version lock only to swap the lists.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "compaction/picker.h"
#include "compaction/retention.h"
#include "compaction/throttle.h"
#include "engine/engine.h"

namespace timestore::compaction {

struct CompactionOptions {
  bool enabled = true;  // background merging (POST /compact works either way)
  int concurrency = 1;
  uint64_t max_bytes_per_sec = 0;  // read + written; 0 = unlimited
  int min_segments = 4;
  int64_t quiet_ns = 300'000'000'000;
  uint64_t tier_base_bytes = 1ull << 20;
  uint64_t max_output_rows = 1ull << 31;
  int interval_ms = 1000;                  // how often the threads look for work
  int64_t retention_interval_ms = 60'000;  // how often retention is enforced
};

struct CompactionSummary {
  uint64_t partitions = 0;  // partitions that were merged
  uint64_t merges = 0;
  uint64_t segments_merged = 0;
  uint64_t segments_written = 0;
  uint64_t rows_read = 0;
  uint64_t rows_written = 0;
  uint64_t duplicates_dropped = 0;
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;
  uint64_t aborted = 0;  // merges whose inputs changed meanwhile (retention, delete)
  double seconds = 0;
};

struct CompactorStats {
  uint64_t runs = 0;  // merges committed
  uint64_t failures = 0;
  uint64_t aborted = 0;
  uint64_t segments_merged = 0;
  uint64_t segments_written = 0;
  uint64_t rows_read = 0;
  uint64_t rows_written = 0;
  uint64_t duplicates_dropped = 0;
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;
  double seconds = 0;
  uint64_t retention_runs = 0;
  uint64_t retention_partitions_dropped = 0;
  uint64_t retention_segments_dropped = 0;
  uint64_t retention_rows_dropped = 0;
  uint64_t retention_bytes_dropped = 0;
};

class Compactor {
 public:
  Compactor(Engine* engine, CompactionOptions options);
  ~Compactor();  // Stop()

  // Starts the background threads (merging when enabled, retention always).
  void Start();
  // Stops the threads; a merge in progress is abandoned (its partial output
  // removed), leaving the store as it was. Idempotent.
  void Stop();

  // Merges the dataset's partitions now: everything that can be merged is,
  // whether due or not. Waits for background merges of the same partitions.
  absl::StatusOr<CompactionSummary> CompactDataset(Dataset* ds);
  // One background round over one dataset (what the threads do); for tests.
  absl::StatusOr<CompactionSummary> CompactDue(Dataset* ds);
  // Applies retention now.
  absl::StatusOr<RetentionResult> EnforceRetentionNow(Dataset* ds);

  CompactorStats stats() const;
  const CompactionOptions& options() const { return options_; }

 private:
  using PartitionKey = std::pair<uint64_t, int64_t>;  // dataset id, partition start
  absl::StatusOr<CompactionSummary> Compact(Dataset* ds, bool force, bool wait_for_claims);
  // One merge of `inputs`; false when it was aborted.
  // `produced` collects the ids of the new segments.
  absl::StatusOr<bool> MergeOnce(Dataset* ds, const std::vector<SegmentPtr>& inputs,
                                 CompactionSummary* summary,
                                 absl::flat_hash_set<uint64_t>* produced);
  void Loop(int index);
  void NoteRetention(const RetentionResult& r);

  Engine* const engine_;
  const CompactionOptions options_;
  Throttle throttle_;
  std::atomic<bool> stop_{false};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::set<PartitionKey> claimed_;  // guarded by mu_
  CompactorStats stats_;            // guarded by mu_
  std::vector<std::thread> threads_;
  bool started_ = false;
};

}  // namespace timestore::compaction
