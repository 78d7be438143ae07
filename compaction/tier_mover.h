// The tiering mover: moves cold partitions to object storage, deletes the
// objects of segments that left the manifest, and sweeps what crashes leave
// behind. It sits above the engine, beside retention; the object stores, the
// block cache and remote reads sit below it (tiering/).
//
// A partition is cold once all of it is older than the dataset's coldAfter
// (or TIMESTORE_COLD_AFTER_DEFAULT): start + interval <= now - coldAfter.
// Each of its local segments moves on its own:
//   1. upload the file as <root id>/<dataset id>/<partition>/<segment>.tseg
//      (multipart above the store's threshold; aborted on failure);
//   2. verify: the object's size, and its trailer and footer bytes, equal the
//      local file's;
//   3. write the footer copy <segment>.tfoot beside the file (fsynced);
//   4. one tier_segments manifest edit;
//   5. the local file goes once no running query holds it.
// A crash after 1 or 2 leaves an object nobody lists (an orphan: the sweep
// deletes it) and maybe a footer copy (removed at start-up); after 4, a local
// file recorded as remote (removed at start-up). Every step is a crash point
// for the end-to-end tests (tier.upload_started, tier.uploaded, tier.logged,
// tier.local_deleted).
//
// Failures (a store down, 5xx) do not touch the local data; the dataset is
// tried again after a jittered exponential backoff.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/engine.h"

namespace timestore::compaction {

struct TieringOptions {
  bool enabled = true;           // background moves (enforce-retention works either way)
  int64_t interval_ms = 60'000;  // how often cold partitions are looked for
  int64_t sweep_interval_ms = 3'600'000;
  // Objects and multipart uploads nobody lists are deleted once this old (a
  // query that began before a segment was dropped may still read it).
  int64_t orphan_grace_ns = 3'600'000'000'000;
  // Backoff of a dataset whose move failed: full jitter up to
  // min(max, base * 2^failures).
  int64_t retry_base_ms = 1'000;
  int64_t retry_max_ms = 600'000;
  // The background mover leaves segments younger than this (late rows of a
  // cold partition) to compaction first: TIMESTORE_COMPACTION_QUIET.
  int64_t min_segment_age_ns = 300'000'000'000;
};

struct TieringResult {
  std::string target;  // "" when the dataset's data stays local
  int64_t cold_after_ns = 0;
  int64_t cutoff_ns = 0;  // partitions ending at or before this are cold
  uint64_t partitions_moved = 0;
  uint64_t segments_moved = 0;
  uint64_t rows_moved = 0;
  uint64_t bytes_moved = 0;
  uint64_t segments_failed = 0;
  std::string error;  // the first failure, when a segment failed
};

struct SweepResult {
  uint64_t objects_listed = 0;
  uint64_t orphans_deleted = 0;
  uint64_t uploads_aborted = 0;
  uint64_t failures = 0;
};

struct TieringStats {
  uint64_t segments_moved = 0;
  uint64_t bytes_uploaded = 0;
  uint64_t upload_failures = 0;
  uint64_t objects_deleted = 0;
  uint64_t delete_failures = 0;
  uint64_t orphans_deleted = 0;
  uint64_t uploads_aborted = 0;
  uint64_t sweeps = 0;
  uint64_t runs = 0;
};

class TierMover {
 public:
  TierMover(Engine* engine, TieringOptions options);
  ~TierMover();  // Stop()

  // Starts the background thread (deletes and sweeps always; moves when enabled).
  void Start();
  void Stop();

  // Moves the dataset's cold partitions now. Errors only for the dataset as
  // a whole (its target unreachable); a segment that fails is counted.
  // `background` runs leave segments younger than min_segment_age_ns.
  absl::StatusOr<TieringResult> TierDataset(Dataset* ds, int64_t now_ns, bool background = false);
  // Deletes queued objects of dropped segments (failed ones stay queued).
  void DrainGarbage();
  // Deletes this root's objects that no segment lists and aborts stale
  // multipart uploads, in every target.
  SweepResult Sweep(int64_t now_ns);

  TieringStats stats() const;

 private:
  // Moves one segment; Aborted when it left the list meanwhile.
  absl::Status MoveSegment(Dataset* ds, const SegmentPtr& seg, const std::string& target,
                           tiering::ObjectStore* store);
  void Loop();

  Engine* const engine_;
  const TieringOptions options_;
  std::mutex move_mu_;                          // one move or sweep at a time
  std::vector<RemoteObjectRef> retry_deletes_;  // guarded by move_mu_

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;   // guarded by mu_
  TieringStats stats_;  // guarded by mu_
  struct Backoff {
    int failures = 0;
    int64_t next_ns = 0;
  };
  std::map<uint64_t, Backoff> backoff_;  // by dataset id; guarded by mu_
  std::thread thread_;
};

}  // namespace timestore::compaction
