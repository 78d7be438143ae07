#include "pgwire/server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "common/strings.h"
#include "common/tcp_listen.h"
#include "pgwire/connection.h"
#include "spdlog/spdlog.h"

namespace timestore::pgwire {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

// Connections beyond max_connections still get a thread, to read their
// startup packet (a CancelRequest must work when the server is full) and
// refuse them properly; beyond this many more they are refused at once.
constexpr int kExtraConnections = 32;

// Refuses a connection without reading from it (PostgreSQL's postmaster does
// the same when it cannot start a backend): one ErrorResponse, then close.
void RefuseNow(int fd) {
  BackendWriter w;
  ErrorFields e;
  e.severity = "FATAL";
  e.sqlstate = std::string(sql::sqlstate::kTooManyConnections);
  e.message = "sorry, too many clients already";
  w.ErrorResponse(e);
  (void)!::send(fd, w.buffer()->data(), w.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::close(fd);
}

}  // namespace

struct Server::Impl {
  Impl(ServerOptions o, SessionFactory factory)
      : options(std::move(o)), registry(options.max_connections), acceptor(ioc), retry_timer(ioc) {
    connection_options.max_message_bytes = options.max_message_bytes;
    connection_options.auth_timeout_ms = options.auth_timeout_ms;
    connection_options.auth = options.auth;
    connection_options.tls = options.tls;
    connection_options.on_auth_failure = options.on_auth_failure;
    connection_options.session_factory = std::move(factory);
    connection_options.registry = &registry;
  }

  void Accept() {
    acceptor.async_accept([this](error_code ec, tcp::socket socket) {
      if (!acceptor.is_open()) return;
      if (ec) {
        // EMFILE and the like: back off instead of spinning.
        retry_timer.expires_after(std::chrono::milliseconds(50));
        retry_timer.async_wait([this](error_code ec) {
          if (!ec && acceptor.is_open()) Accept();
        });
        return;
      }
      Serve(std::move(socket));
      Accept();
    });
  }

  void Serve(tcp::socket socket) {
    error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    socket.set_option(net::socket_base::keep_alive(true), ec);
    std::string peer;
    if (auto ep = socket.remote_endpoint(ec); !ec) {
      peer = StrCat(ep.address().to_string(), ":", ep.port());
    }
    const int fd = socket.release(ec);
    if (ec) return;
    std::lock_guard<std::mutex> lock(mu);
    ReapLocked();
    if (static_cast<int>(live.size()) >= options.max_connections + kExtraConnections) {
      RefuseNow(fd);
      return;
    }
    const uint64_t id = next_id++;
    auto conn = std::make_shared<Connection>(fd, &connection_options, std::move(peer));
    // The thread finds its entry under `mu`, which is held until it exists.
    live[id].conn = conn;
    live[id].thread = std::thread([this, id, conn] {
      conn->Run();
      std::shared_ptr<Connection> last;
      std::lock_guard<std::mutex> lock(mu);
      auto it = live.find(id);
      finished.push_back(std::move(it->second.thread));
      last = std::move(it->second.conn);
      live.erase(it);
      changed.notify_all();
      // `last` and the captured `conn` go out of scope after the lock is
      // released: the session is closed outside the server's lock.
    });
  }

  // Joins the threads of connections that have ended.
  void ReapLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    for (auto& t : finished) t.join();
    finished.clear();
  }

  void ShutdownAllLocked(bool hard) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    for (auto& [id, entry] : live) entry.conn->Shutdown(hard);
  }

  ServerOptions options;
  ConnectionOptions connection_options;
  ConnectionRegistry registry;
  net::io_context ioc;  // declared before everything bound to it
  tcp::acceptor acceptor;
  net::steady_timer retry_timer;
  std::thread accept_thread;
  std::atomic<uint16_t> port{0};

  struct Live {
    std::shared_ptr<Connection> conn;
    std::thread thread;
  };
  mutable std::mutex mu;
  std::condition_variable changed;  // notified when a connection ends
  std::map<uint64_t, Live> live ABSL_GUARDED_BY(mu);
  std::vector<std::thread> finished ABSL_GUARDED_BY(mu);
  uint64_t next_id ABSL_GUARDED_BY(mu) = 0;

  std::mutex lifecycle_mu;  // serialises Start and Stop
  bool started ABSL_GUARDED_BY(lifecycle_mu) = false;
  bool stopped ABSL_GUARDED_BY(lifecycle_mu) = false;
};

Server::Server(ServerOptions options, SessionFactory session_factory) {
  if (options.auth == nullptr) options.auth = *AuthConfig::Make("trust", {});
  impl_ = std::make_unique<Impl>(std::move(options), std::move(session_factory));
}

Server::~Server() { Stop(); }

absl::Status Server::Start() {
  Impl& impl = *impl_;
  std::lock_guard<std::mutex> lock(impl.lifecycle_mu);
  if (impl.started || impl.stopped) {
    return absl::FailedPreconditionError("pgwire::Server::Start called twice or after Stop");
  }
  const ServerOptions& options = impl.options;
  auto port = ListenOn(impl.acceptor, impl.ioc, options.host, options.port);
  if (!port.ok()) return port.status();
  impl.port = *port;
  impl.started = true;
  net::post(impl.ioc, [&impl] { impl.Accept(); });
  impl.accept_thread = std::thread([&impl] { impl.ioc.run(); });
  return absl::OkStatus();
}

uint16_t Server::port() const { return impl_->port.load(); }

void Server::Stop(int grace_ms) {
  Impl& impl = *impl_;
  std::lock_guard<std::mutex> lock(impl.lifecycle_mu);
  if (impl.stopped) return;
  impl.stopped = true;
  if (!impl.started) return;
  // 1. No new connections.
  net::post(impl.ioc, [&impl] {
    error_code ec;
    impl.acceptor.close(ec);
    impl.retry_timer.cancel();
  });
  impl.accept_thread.join();
  // 2. Cancel statements and wake every connection; they say goodbye.
  std::unique_lock<std::mutex> live_lock(impl.mu);
  impl.ShutdownAllLocked(false);
  impl.changed.wait_for(live_lock, std::chrono::milliseconds(std::max(grace_ms, 0)),
                        [&impl] { return impl.live.empty(); });
  // 3. Those still busy (writing to a client that does not read) are cut off.
  impl.ShutdownAllLocked(true);
  impl.changed.wait(live_lock, [&impl] { return impl.live.empty(); });
  impl.ReapLocked();
}

int Server::sessions() const { return impl_->registry.sessions(); }

int Server::connections() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return static_cast<int>(impl_->live.size());
}

}  // namespace timestore::pgwire
