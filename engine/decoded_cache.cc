#include "engine/decoded_cache.h"

namespace timestore {

DecodedCache::ColumnPtr DecodedCache::Get(const Key& key) {
  if (!enabled()) return nullptr;
  std::lock_guard<std::mutex> l(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) {
    ++misses_;
    return nullptr;
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->column;
}

void DecodedCache::Put(const Key& key, ColumnPtr column) {
  if (!enabled() || column == nullptr) return;
  const uint64_t bytes = column->MemoryBytes() + sizeof(Entry) + 64;
  if (bytes > capacity_ / 4) return;  // one column never takes the cache over
  std::lock_guard<std::mutex> l(mu_);
  if (index_.contains(key)) return;  // decoded twice at once: the first stays
  lru_.push_front(Entry{key, std::move(column), bytes});
  index_.emplace(key, lru_.begin());
  bytes_ += bytes;
  while (bytes_ > capacity_ && !lru_.empty()) {
    bytes_ -= lru_.back().bytes;
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

uint64_t DecodedCache::bytes() const {
  std::lock_guard<std::mutex> l(mu_);
  return bytes_;
}

uint64_t DecodedCache::hits() const {
  std::lock_guard<std::mutex> l(mu_);
  return hits_;
}

uint64_t DecodedCache::misses() const {
  std::lock_guard<std::mutex> l(mu_);
  return misses_;
}

}  // namespace timestore
