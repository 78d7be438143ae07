#include "api/http_server.h"

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "absl/base/thread_annotations.h"
#include "api/http_session.h"
#include "common/json_writer.h"
#include "common/strings.h"
#include "common/tcp_listen.h"

namespace timestore::api {
namespace {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = beast::error_code;
using http_internal::Admission;
using http_internal::Core;
using http_internal::SessionBase;

}  // namespace

std::string_view HttpRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    // Debian's Abseil has its own string_view, hence beast's comparison.
    if (beast::iequals(beast::string_view(key.data(), key.size()),
                       beast::string_view(name.data(), name.size()))) {
      return value;
    }
  }
  return {};
}

struct HttpServer::Impl {
  Impl(HttpServerOptions options, Handler handler)
      : core(std::make_shared<Core>()),
        acceptor(net::make_strand(ioc)),
        retry_timer(acceptor.get_executor()) {
    core->options = std::move(options);
    core->handler = std::move(handler);
  }

  void Accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](error_code ec, tcp::socket socket) {
      if (!acceptor.is_open()) return;
      if (ec) {
        // EMFILE and the like: back off instead of spinning.
        retry_timer.expires_after(std::chrono::milliseconds(50));
        retry_timer.async_wait([this](error_code ec) {
          if (!ec && acceptor.is_open()) Accept();
        });
        return;
      }
      Admit(std::move(socket));
      Accept();
    });
  }

  // Counts the connection, then serves it, admits it to the admin reserve,
  // or (beyond the reserve too) closes it at once. Never blocks: the
  // acceptor goes straight back to accepting.
  void Admit(tcp::socket socket) {
    const int64_t open = core->open_connections.fetch_add(1, std::memory_order_acq_rel) + 1;
    const int64_t limit = core->options.max_connections;
    if (open > limit + core->options.admin_reserve_connections) {
      core->open_connections.fetch_sub(1, std::memory_order_acq_rel);
      core->connections_refused.fetch_add(1, std::memory_order_relaxed);
      error_code ec;
      socket.close(ec);
      return;
    }
    http_internal::ServeConnection(core, std::move(socket),
                                   open > limit ? Admission::kReserve : Admission::kServe);
  }

  std::shared_ptr<Core> core;
  net::io_context ioc;  // declared before everything bound to it
  tcp::acceptor acceptor;
  net::steady_timer retry_timer;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::atomic<uint16_t> port{0};

  std::mutex lifecycle_mu;  // serialises Start and Stop
  bool started ABSL_GUARDED_BY(lifecycle_mu) = false;
  bool stopped ABSL_GUARDED_BY(lifecycle_mu) = false;
};

HttpServer::HttpServer(HttpServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() { Stop(); }

absl::Status HttpServer::Start() {
  Impl& impl = *impl_;
  std::lock_guard<std::mutex> lock(impl.lifecycle_mu);
  if (impl.started || impl.stopped) {
    return absl::FailedPreconditionError("HttpServer::Start called twice or after Stop");
  }
  const HttpServerOptions& options = impl.core->options;
  auto port = ListenOn(impl.acceptor, impl.ioc, options.host, options.port);
  if (!port.ok()) return port.status();
  impl.port = *port;

  impl.started = true;
  impl.work.emplace(impl.ioc.get_executor());
  net::post(impl.acceptor.get_executor(), [&impl] { impl.Accept(); });
  int threads =
      options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency());
  threads = std::max(threads, 1);
  impl.threads.reserve(threads);
  for (int i = 0; i < threads; ++i) {
    impl.threads.emplace_back([&impl] {
      for (;;) {
        try {
          impl.ioc.run();
          return;
        } catch (...) {
          // Our handlers do not throw; keep the thread serving if one does.
        }
      }
    });
  }
  return absl::OkStatus();
}

uint16_t HttpServer::port() const { return impl_->port.load(); }

int64_t HttpServer::in_flight() const { return impl_->core->in_flight.load(); }

int64_t HttpServer::open_connections() const { return impl_->core->open_connections.load(); }

uint64_t HttpServer::connections_refused() const { return impl_->core->connections_refused.load(); }

uint64_t HttpServer::tls_handshake_failures() const {
  return impl_->core->tls_handshake_failures.load();
}

void HttpServer::Stop(int grace_ms) {
  Impl& impl = *impl_;
  Core& core = *impl.core;
  std::lock_guard<std::mutex> lock(impl.lifecycle_mu);
  if (impl.stopped) return;
  impl.stopped = true;
  if (!impl.started) {
    std::lock_guard<std::mutex> core_lock(core.mu);
    core.stopped = true;
    return;
  }

  // 1. Stop accepting; close idle connections, the others after their response.
  core.draining = true;
  net::post(impl.acceptor.get_executor(), [&impl] {
    error_code ec;
    impl.acceptor.close(ec);
    impl.retry_timer.cancel();
  });
  std::vector<std::shared_ptr<SessionBase>> sessions;
  {
    std::lock_guard<std::mutex> core_lock(core.mu);
    sessions = core.LiveSessions();
  }
  for (auto& s : sessions) s->Post([s] { s->Drain(); });
  sessions.clear();

  // 2. Give in-flight requests the grace period to be answered.
  {
    std::unique_lock<std::mutex> core_lock(core.mu);
    core.idle_cv.wait_for(core_lock, std::chrono::milliseconds(std::max(grace_ms, 0)),
                          [&core] { return core.in_flight.load() == 0; });
    // 3. From here on Responders drop their responses.
    core.stopped = true;
    sessions = core.LiveSessions();
  }
  for (auto& s : sessions) s->Post([s] { s->CloseNow(); });

  // 4. With every socket closed and the work guard gone, run() returns once the
  // aborted operations have completed.
  impl.work.reset();
  for (auto& t : impl.threads) t.join();
  impl.threads.clear();
  impl.ioc.stop();

  // 5. Sessions still alive are held by Responders the application kept;
  // their sockets must not outlive the io_context.
  for (auto& s : sessions) s->ReleaseStream();
  sessions.clear();
  {
    std::lock_guard<std::mutex> core_lock(core.mu);
    sessions = core.LiveSessions();
  }
  for (auto& s : sessions) s->ReleaseStream();
  sessions.clear();
}

std::string ErrorBody(std::string_view code, std::string_view message,
                      std::string_view details_json) {
  std::string out;
  out.reserve(48 + code.size() + message.size() + details_json.size());
  // AppendJsonString writes bytes that are not UTF-8 as U+FFFD: messages
  // quote what the client sent (a path, a column name).
  auto append_string = [&out](std::string_view s) { AppendJsonString(&out, s); };
  out.append(R"({"error":{"code":)");
  append_string(code);
  out.append(R"(,"message":)");
  append_string(message);
  out.append(R"(,"details":)");
  out.append(details_json.empty() ? std::string_view("{}") : details_json);
  out.append("}}");
  return out;
}

}  // namespace timestore::api
