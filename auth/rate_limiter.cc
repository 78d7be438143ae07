#include "auth/rate_limiter.h"

#include <algorithm>

namespace timestore::auth {

std::optional<double> RateLimiter::Admit(std::string_view key, double rate, double cost,
                                         int64_t now_ns) {
  if (!(rate > 0)) return std::nullopt;
  std::lock_guard<std::mutex> l(mu_);
  auto [it, inserted] = buckets_.try_emplace(key);
  Bucket& b = it->second;
  if (inserted) {
    b.tokens = rate;  // a full second's burst to start
    b.last_ns = now_ns;
  }
  const double elapsed = std::max<int64_t>(0, now_ns - b.last_ns) / 1e9;
  b.tokens = std::min(rate, b.tokens + elapsed * rate);
  b.last_ns = now_ns;
  if (b.tokens < 0) return -b.tokens / rate;
  b.tokens -= cost;
  return std::nullopt;
}

}  // namespace timestore::auth
