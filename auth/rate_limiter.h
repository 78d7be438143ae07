// Per-token request rates: one token bucket per (token, kind), refilled at
// the token's rate and holding one second of it. A request is admitted while
// the bucket is not in debt and then takes its whole cost, so a batch larger
// than a second's worth still goes through and the average holds; the next
// requests wait until the debt is paid. Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/strings.h"

namespace timestore::auth {

class RateLimiter {
 public:
  // Admits `cost` units for `key` at `rate` units/s (rate <= 0: unlimited)
  // at time `now_ns`. Returns nullopt when admitted, else the seconds until
  // a retry can be admitted (for Retry-After).
  std::optional<double> Admit(std::string_view key, double rate, double cost, int64_t now_ns);

 private:
  struct Bucket {
    double tokens = 0;
    int64_t last_ns = 0;
  };
  std::mutex mu_;
  StringMap<Bucket> buckets_;  // guarded by mu_
};

}  // namespace timestore::auth
