// The live connections of one server, as CancelRequest and the connection
// limit see them: the (pid, secret) key each connection announced in
// BackendKeyData, and the count of sessions against max_connections.
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <utility>

#include "absl/base/thread_annotations.h"

namespace timestore::pgwire {

// What the registry can ask of a connection.
class Cancellable {
 public:
  virtual ~Cancellable() = default;
  // Stops the statement running now, if any. Called with the registry's
  // lock held: must not call back into the registry.
  virtual void CancelStatement() = 0;
};

class ConnectionRegistry {
 public:
  explicit ConnectionRegistry(int max_sessions) : max_sessions_(max_sessions) {}

  // Takes one of the max_sessions slots; false when all are taken.
  bool ClaimSlot();
  void ReleaseSlot();
  int sessions() const;

  // A fresh random (pid, secret) for `conn`, unique among live keys; `conn`
  // must call Unregister(pid) before it is destroyed.
  std::pair<int32_t, int32_t> Register(Cancellable* conn);
  void Unregister(int32_t pid);
  // Cancels the statement of the connection holding (pid, secret). An
  // unknown pid or a wrong secret does nothing (and says nothing, as
  // PostgreSQL does not). Returns whether a connection matched.
  bool Cancel(int32_t pid, int32_t secret);

 private:
  struct Entry {
    int32_t secret;
    Cancellable* conn;
  };
  const int max_sessions_;
  mutable std::mutex mu_;
  int sessions_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<int32_t, Entry> keys_ ABSL_GUARDED_BY(mu_);
};

}  // namespace timestore::pgwire
