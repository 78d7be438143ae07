// The in-memory segment of one dataset: every acknowledged row not yet in a
// sealed segment file, as a list of immutable chunks in ingest (= WAL) order.
//
// Readers take a snapshot (a copy of the chunk pointers) under a short lock and
// scan it without any lock, so queries never block ingest for longer than that
// copy. Many small chunks (1-row ingests) are merged at the tail so scans stay
// column-wise and cheap.
//
// Thread-safe. Append has one caller at a time (the WAL writer thread).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "engine/chunk.h"

namespace timestore {

class MemSegment {
 public:
  // Chunks smaller than this count toward a tail merge.
  static constexpr uint32_t kSmallChunkRows = 4096;
  // A tail merge runs once this many small chunks have accumulated.
  static constexpr size_t kTailMergeCount = 16;

  // REQUIRES: `chunk` is laid out by `schema` (or an earlier version of it);
  // `seq` is the WAL sequence number of the record it came from.
  void Append(ChunkPtr chunk, const Schema& schema, uint64_t seq = 0);
  // Records that the WAL record `seq` (which may hold no rows) was applied.
  void NoteSeq(uint64_t seq);
  // WAL sequence range applied here; first_seq() is 0 while nothing was.
  uint64_t first_seq() const { return first_seq_.load(std::memory_order_acquire); }
  uint64_t last_seq() const { return last_seq_.load(std::memory_order_acquire); }
  // Wall-clock time of the first append (ns), 0 while empty.
  int64_t first_append_ns() const { return first_append_ns_.load(std::memory_order_relaxed); }
  std::vector<ChunkPtr> Snapshot() const;

  uint64_t rows() const { return rows_.load(std::memory_order_relaxed); }
  uint64_t memory_bytes() const { return bytes_.load(std::memory_order_relaxed); }
  size_t chunk_count() const;

 private:
  mutable std::mutex mu_;
  std::vector<ChunkPtr> chunks_ ABSL_GUARDED_BY(mu_);
  size_t small_tail_ = 0;  // consecutive small chunks at the end; writer-only
  std::atomic<uint64_t> rows_{0};
  std::atomic<uint64_t> bytes_{0};
  std::atomic<uint64_t> first_seq_{0};
  std::atomic<uint64_t> last_seq_{0};
  std::atomic<int64_t> first_append_ns_{0};
};

}  // namespace timestore
