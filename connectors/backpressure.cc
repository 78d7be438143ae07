#include "connectors/backpressure.h"

#include <algorithm>

namespace timestore::connectors {

bool Backpressure::Wait(const std::function<bool()>& stopping,
                        const std::function<void(int)>& sleep_ms) {
  if (bytes_() <= config_.high_watermark) {
    next_pause_ms_ = 0;
    return true;
  }
  paused_.store(true, std::memory_order_relaxed);
  pauses_.fetch_add(1, std::memory_order_relaxed);
  int pause = config_.min_pause_ms;
  if (relieve_) relieve_();
  // Hysteresis: once paused, wait for the low watermark, so a connector does
  // not flap at the high one.
  while (bytes_() > config_.low_watermark) {
    if (stopping()) {
      paused_.store(false, std::memory_order_relaxed);
      return false;
    }
    sleep_ms(pause);
    if (pause == config_.max_pause_ms && relieve_) relieve_();
    pause = std::min(pause * 2, config_.max_pause_ms);
  }
  paused_.store(false, std::memory_order_relaxed);
  next_pause_ms_ = 0;
  return true;
}

void Backpressure::PauseAfterRefusal(const std::function<void(int)>& sleep_ms) {
  next_pause_ms_ = next_pause_ms_ == 0 ? config_.min_pause_ms
                                       : std::min(next_pause_ms_ * 2, config_.max_pause_ms);
  paused_.store(true, std::memory_order_relaxed);
  pauses_.fetch_add(1, std::memory_order_relaxed);
  sleep_ms(next_pause_ms_);
  paused_.store(false, std::memory_order_relaxed);
}

}  // namespace timestore::connectors
