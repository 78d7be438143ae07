// Back-pressure for the connectors: above the high watermark of in-memory
// bytes a connector pauses, sleeping minPauseMs, then twice that, up to
// maxPauseMs, until the bytes are below the low watermark; then it resumes.
// Rows are never dropped or failed because of it. The engine's own answer
// (ResourceExhausted "backpressure" when TIMESTORE_MEMTABLE_MAX_BYTES is
// reached) is handled the same way: pause, then retry the same rows.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

#include "connectors/config.h"

namespace timestore::connectors {

// One per connector; not thread-safe (its connector's thread), but `paused()`
// may be read from anywhere.
class Backpressure {
 public:
  // `bytes` reports the in-memory bytes now. `relieve` (may be empty) asks
  // for room: called when a pause begins and whenever it reaches maxPauseMs,
  // since watermarks below the engine's own seal threshold (half its budget)
  // would otherwise wait for the seal age.
  Backpressure(BackpressureConfig config, std::function<uint64_t()> bytes,
               std::function<void()> relieve = {})
      : config_(config), bytes_(std::move(bytes)), relieve_(std::move(relieve)) {}

  // Returns at once below the high watermark; otherwise pauses until below
  // the low watermark or until `stopping()` is true. Returns false when
  // stopped while paused.
  bool Wait(const std::function<bool()>& stopping, const std::function<void(int)>& sleep_ms);
  // The engine refused a batch with back-pressure: pause once (doubling on
  // each call in a row, reset by Wait finding room).
  void PauseAfterRefusal(const std::function<void(int)>& sleep_ms);
  bool paused() const { return paused_.load(std::memory_order_relaxed); }
  uint64_t pauses() const { return pauses_.load(std::memory_order_relaxed); }
  const BackpressureConfig& config() const { return config_; }

 private:
  BackpressureConfig config_;
  std::function<uint64_t()> bytes_;
  std::function<void()> relieve_;
  int next_pause_ms_ = 0;
  std::atomic<bool> paused_{false};
  std::atomic<uint64_t> pauses_{0};
};

}  // namespace timestore::connectors
