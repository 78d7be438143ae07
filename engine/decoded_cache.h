// DecodedCache: decoded columns of segment blocks, kept in memory so that the
// queries a dashboard sends again and again over the same recent data skip
// decompression (most of a heavy scan's time). Keyed by dataset, segment,
// block and segment column; segments are immutable and their ids never reused,
// so an entry never goes stale (entries of deleted segments age out).
// Least-recently-used entries go once the cache holds more than its capacity
// (TIMESTORE_DECODED_CACHE_BYTES; 0 turns it off).
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>

#include "absl/container/flat_hash_map.h"
#include "segment/column.h"

namespace timestore {

class DecodedCache {
 public:
  struct Key {
    uint64_t dataset = 0;
    uint64_t segment = 0;
    uint32_t block = 0;
    int32_t column = 0;  // segment column index
    bool operator==(const Key&) const = default;
    template <typename H>
    friend H AbslHashValue(H h, const Key& k) {
      return H::combine(std::move(h), k.dataset, k.segment, k.block, k.column);
    }
  };
  using ColumnPtr = std::shared_ptr<const ColumnVector>;

  explicit DecodedCache(uint64_t capacity_bytes) : capacity_(capacity_bytes) {}
  bool enabled() const { return capacity_ > 0; }

  // Null when absent.
  ColumnPtr Get(const Key& key);
  void Put(const Key& key, ColumnPtr column);

  uint64_t bytes() const;
  uint64_t hits() const;
  uint64_t misses() const;

 private:
  struct Entry {
    Key key;
    ColumnPtr column;
    uint64_t bytes;
  };
  const uint64_t capacity_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;                                        // most recent first; guarded by mu_
  absl::flat_hash_map<Key, std::list<Entry>::iterator> index_;  // guarded by mu_
  uint64_t bytes_ = 0;                                          // guarded by mu_
  uint64_t hits_ = 0, misses_ = 0;                              // guarded by mu_
};

}  // namespace timestore
