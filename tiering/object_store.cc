#include "tiering/object_store.h"

#include <random>

namespace timestore::tiering {

std::string JoinKey(std::string_view prefix, std::string_view key) {
  while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  if (prefix.empty()) return std::string(key);
  std::string out(prefix);
  out.push_back('/');
  out.append(key);
  return out;
}

bool IsRetryable(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status) ||
         absl::IsResourceExhausted(status);
}

std::chrono::milliseconds Backoff(const RetryPolicy& policy, int attempt) {
  if (attempt <= 0) return std::chrono::milliseconds(0);
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  const int shift = std::min(attempt - 1, 20);
  const int64_t cap = std::min<int64_t>(policy.max_backoff_ms,
                                        static_cast<int64_t>(policy.base_backoff_ms) << shift);
  std::uniform_int_distribution<int64_t> d(0, std::max<int64_t>(cap, 1));
  return std::chrono::milliseconds(d(rng));
}

}  // namespace timestore::tiering
