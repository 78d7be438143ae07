// FetchPool: a few threads that run the remote reads of one query side by
// side (each waits on object-storage round trips, not on a core). RunAll
// shares the tasks between the pool and the calling thread, so a busy pool
// never deadlocks a caller, and returns when every task has run.
//
// Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace timestore {

class FetchPool {
 public:
  explicit FetchPool(int threads);
  ~FetchPool();
  FetchPool(const FetchPool&) = delete;
  FetchPool& operator=(const FetchPool&) = delete;

  void RunAll(std::vector<std::function<void()>>& tasks);

 private:
  void Loop();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  bool stop_ = false;                        // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace timestore
