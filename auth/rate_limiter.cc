#include "auth/rate_limiter.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"

namespace timestore::auth {

std::optional<double> RateLimiter::Admit(std::string_view key, double rate, double cost,
                                         int64_t now_ns) {
  if (!(rate > 0)) return std::nullopt;
  std::lock_guard<std::mutex> l(mu_);
  if (buckets_.size() >= sweep_at_) SweepLocked(now_ns);
  auto [it, inserted] = buckets_.try_emplace(key);
  Bucket& b = it->second;
  if (inserted) {
    b.tokens = rate;  // a full second's burst to start
    b.last_ns = now_ns;
  }
  const double elapsed = std::max<int64_t>(0, now_ns - b.last_ns) / 1e9;
  b.tokens = std::min(rate, b.tokens + elapsed * rate);
  b.last_ns = now_ns;
  b.rate = rate;
  if (b.tokens < 0) return -b.tokens / rate;
  b.tokens -= cost;
  return std::nullopt;
}

void RateLimiter::SweepLocked(int64_t now_ns) {
  absl::erase_if(buckets_, [now_ns](const auto& entry) {
    const Bucket& b = entry.second;
    const double elapsed = std::max<int64_t>(0, now_ns - b.last_ns) / 1e9;
    return b.tokens + elapsed * b.rate >= b.rate;
  });
  sweep_at_ = std::max<size_t>(1024, 2 * buckets_.size());
}

size_t RateLimiter::size() const {
  std::lock_guard<std::mutex> l(mu_);
  return buckets_.size();
}

}  // namespace timestore::auth
