// Internal to the HTTP server (http_server.cc): the state the server shares
// with its connections, and the connection itself (http_session.cc), plain
// or TLS. Nothing outside api/http_server.cc and api/http_session.cc uses it.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "api/http_server.h"

namespace timestore::api::http_internal {

class SessionBase;

// State shared by the server and every connection. Sessions hold it by
// shared_ptr, so a Responder kept by the application past the server's
// lifetime still finds `stopped` and drops its response instead of touching a
// destroyed io_context.
struct Core {
  HttpServerOptions options;
  Handler handler;

  std::atomic<int64_t> in_flight{0};
  // Accepted connections not yet destroyed (counted from accept, so the limit
  // is checked before any work is queued for them).
  std::atomic<int64_t> open_connections{0};
  std::atomic<uint64_t> connections_refused{0};
  std::atomic<uint64_t> tls_handshake_failures{0};
  // Set when Stop begins: no keep-alive after the current response, idle
  // connections are closed.
  std::atomic<bool> draining{false};

  std::mutex mu;
  std::condition_variable idle_cv;  // notified when in_flight drops to 0
  // Set once the grace period is over; after it no Responder posts to a strand.
  bool stopped ABSL_GUARDED_BY(mu) = false;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions ABSL_GUARDED_BY(mu);

  void FinishRequest() {
    if (in_flight.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mu);
      idle_cv.notify_all();
    }
  }

  std::vector<std::shared_ptr<SessionBase>> LiveSessions() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::vector<std::shared_ptr<SessionBase>> live;
    live.reserve(sessions.size());
    for (auto& [ptr, weak] : sessions) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
    return live;
  }
};

// What the server does with a connection, decided when it is accepted.
enum class Admission {
  kServe,    // within max_connections
  kReserve,  // within the admin reserve: one request, served only on an admin path
};

// One connection, as the server sees it. The destructor gives back the
// connection's place in Core::open_connections.
class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  SessionBase(std::shared_ptr<Core> core, boost::asio::any_io_executor executor)
      : core_(std::move(core)), executor_(std::move(executor)) {}
  virtual ~SessionBase() {
    {
      std::lock_guard<std::mutex> lock(core_->mu);
      core_->sessions.erase(this);
    }
    core_->open_connections.fetch_sub(1, std::memory_order_acq_rel);
  }
  SessionBase(const SessionBase&) = delete;
  SessionBase& operator=(const SessionBase&) = delete;

  // Runs `fn` on the connection's strand.
  template <typename Fn>
  void Post(Fn&& fn) {
    boost::asio::post(executor_, std::forward<Fn>(fn));
  }

  // On the strand: close the connection if it is between requests.
  virtual void Drain() = 0;
  // On the strand: close the connection whatever it is doing.
  virtual void CloseNow() = 0;
  // After the I/O threads have stopped: destroy the socket while the
  // io_context still exists, in case a Responder outlives the server.
  virtual void ReleaseStream() = 0;

 protected:
  const std::shared_ptr<Core> core_;  // first: outlives the stream
  const boost::asio::any_io_executor executor_;
};

// Serves `socket`, accepted on its own strand of the server's io_context,
// over TLS when core->options.tls is set. The caller has already counted the
// connection in core->open_connections.
void ServeConnection(const std::shared_ptr<Core>& core, boost::asio::ip::tcp::socket socket,
                     Admission admission);

// True for the paths the admin reserve serves: /admin and below, /health,
// /ready, /metrics and /status.
bool IsReservedPath(std::string_view path);

}  // namespace timestore::api::http_internal
