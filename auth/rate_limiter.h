// Per-token request rates: one token bucket per (token, kind), refilled at
// the token's rate and holding one second of it. A request is admitted while
// the bucket is not in debt and then takes its whole cost, so a batch larger
// than a second's worth still goes through and the average holds; the next
// requests wait until the debt is paid. A bucket that has refilled is the same
// as none, so such buckets are dropped whenever the map has doubled since the
// last sweep (revoked tokens and idle tenants leave nothing behind). Thread-safe.
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
  // The buckets held (tests).
  size_t size() const;

 private:
  struct Bucket {
    double tokens = 0;
    int64_t last_ns = 0;
    double rate = 0;  // of the last Admit
  };
  // Drops the buckets full again at `now_ns`. REQUIRES: mu_ held.
  void SweepLocked(int64_t now_ns);

  mutable std::mutex mu_;
  StringMap<Bucket> buckets_;  // guarded by mu_
  size_t sweep_at_ = 1024;     // guarded by mu_: sweep when buckets_ grows past it
};

}  // namespace timestore::auth
