#include "engine/mem_segment.h"

#include "common/time_util.h"

namespace timestore {

void MemSegment::NoteSeq(uint64_t seq) {
  if (seq == 0) return;
  if (first_seq_.load(std::memory_order_relaxed) == 0) {
    first_seq_.store(seq, std::memory_order_release);
    first_append_ns_.store(NowNanos(), std::memory_order_relaxed);
  }
  last_seq_.store(seq, std::memory_order_release);
}

void MemSegment::Append(ChunkPtr chunk, const Schema& schema, uint64_t seq) {
  NoteSeq(seq);
  rows_.fetch_add(chunk->rows, std::memory_order_relaxed);
  bytes_.fetch_add(chunk->memory_bytes, std::memory_order_relaxed);
  bool small = chunk->rows < kSmallChunkRows;
  std::vector<ChunkPtr> tail;
  {
    std::lock_guard<std::mutex> l(mu_);
    chunks_.push_back(std::move(chunk));
    small_tail_ = small ? small_tail_ + 1 : 0;
    if (small_tail_ < kTailMergeCount) return;
    tail.assign(chunks_.end() - static_cast<ptrdiff_t>(small_tail_), chunks_.end());
  }
  // Merge outside the lock; Append is single-writer, so the tail is unchanged
  // when we swap it back in.
  ChunkPtr merged = MergeChunks(tail, schema);
  uint64_t old_bytes = 0;
  for (const auto& c : tail) old_bytes += c->memory_bytes;
  bytes_.fetch_add(merged->memory_bytes, std::memory_order_relaxed);
  bytes_.fetch_sub(old_bytes, std::memory_order_relaxed);
  small_tail_ = merged->rows < kSmallChunkRows ? 1 : 0;
  std::lock_guard<std::mutex> l(mu_);
  chunks_.resize(chunks_.size() - tail.size());
  chunks_.push_back(std::move(merged));
}

std::vector<ChunkPtr> MemSegment::Snapshot() const {
  std::lock_guard<std::mutex> l(mu_);
  return chunks_;
}

size_t MemSegment::chunk_count() const {
  std::lock_guard<std::mutex> l(mu_);
  return chunks_.size();
}

}  // namespace timestore
