// A token bucket over bytes: compaction's I/O budget
// (TIMESTORE_COMPACTION_MAX_BYTES_PER_SEC). Thread-safe; shared by every
// compaction thread so the budget is global.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <thread>

namespace timestore::compaction {

class Throttle {
 public:
  // 0 bytes/s: unlimited.
  explicit Throttle(uint64_t bytes_per_sec) : rate_(bytes_per_sec) {}

  // Takes `bytes` from the budget, sleeping while it is overdrawn. Returns
  // early (false) when `stop` becomes true.
  bool Acquire(uint64_t bytes, const std::atomic<bool>* stop = nullptr) {
    if (rate_ == 0) return true;
    std::chrono::steady_clock::time_point ready;
    {
      std::lock_guard<std::mutex> l(mu_);
      const auto now = std::chrono::steady_clock::now();
      // At most one second of unused budget is kept (the burst size).
      next_ = std::max(next_, now - std::chrono::seconds(1));
      next_ += std::chrono::nanoseconds(bytes * 1'000'000'000 / rate_);
      ready = next_;
    }
    while (std::chrono::steady_clock::now() < ready) {
      if (stop != nullptr && stop->load(std::memory_order_relaxed)) return false;
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
          ready - std::chrono::steady_clock::now(), std::chrono::milliseconds(50)));
    }
    return true;
  }

 private:
  const uint64_t rate_;
  std::mutex mu_;
  std::chrono::steady_clock::time_point next_{};
};

}  // namespace timestore::compaction
