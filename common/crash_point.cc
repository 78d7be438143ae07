#include "common/crash_point.h"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <mutex>

namespace timestore {
namespace {

std::atomic<const std::string*> armed{nullptr};
std::atomic<bool> hook_set{false};
std::mutex hook_mu;
std::function<void(std::string_view)>* hook = nullptr;  // guarded by hook_mu

}  // namespace

void SetCrashPoint(std::string name) {
  // Leaked on purpose: read without a lock for the life of the process.
  armed.store(name.empty() ? nullptr : new std::string(std::move(name)), std::memory_order_release);
}

void CrashPoint(std::string_view name) {
  const std::string* a = armed.load(std::memory_order_acquire);
  if (a == nullptr || *a != name) return;
  std::fprintf(stderr, "crash point %s reached: SIGKILL\n", a->c_str());
  std::fflush(stderr);
  std::raise(SIGKILL);
}

void SetTestHook(std::function<void(std::string_view)> h) {
  std::lock_guard<std::mutex> l(hook_mu);
  delete hook;
  hook = h ? new std::function<void(std::string_view)>(std::move(h)) : nullptr;
  hook_set.store(hook != nullptr, std::memory_order_release);
}

void TestPoint(std::string_view name) {
  if (!hook_set.load(std::memory_order_relaxed)) return;
  std::function<void(std::string_view)> h;
  {
    std::lock_guard<std::mutex> l(hook_mu);
    if (hook != nullptr) h = *hook;
  }
  if (h) h(name);
}

}  // namespace timestore
