#include "engine/fetch_pool.h"

#include <atomic>
#include <memory>

namespace timestore {

FetchPool::FetchPool(int threads) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

FetchPool::~FetchPool() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void FetchPool::Loop() {
  while (true) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job();
  }
}

void FetchPool::RunAll(std::vector<std::function<void()>>& tasks) {
  if (tasks.empty()) return;
  struct Shared {
    std::atomic<size_t> next{0};
    size_t size = 0;  // late helpers read this, never `tasks` (gone by then)
    std::mutex mu;
    std::condition_variable cv;
    size_t done = 0;
  };
  auto shared = std::make_shared<Shared>();
  shared->size = tasks.size();
  auto* list = &tasks;
  auto work = [shared, list] {
    size_t ran = 0;
    for (size_t i; (i = shared->next.fetch_add(1)) < shared->size;) {
      (*list)[i]();
      ++ran;
    }
    if (ran == 0) return;
    std::lock_guard<std::mutex> l(shared->mu);
    shared->done += ran;
    shared->cv.notify_all();
  };
  const size_t helpers = std::min(threads_.size(), tasks.size() - 1);
  if (helpers > 0) {
    {
      std::lock_guard<std::mutex> l(mu_);
      for (size_t i = 0; i < helpers; ++i) queue_.push_back(work);
    }
    cv_.notify_all();
  }
  work();
  std::unique_lock<std::mutex> l(shared->mu);
  shared->cv.wait(l, [&] { return shared->done == tasks.size(); });
}

}  // namespace timestore
