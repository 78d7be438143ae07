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
#include "absl/strings/ascii.h"
#include "common/strings.h"
#include "common/tcp_listen.h"

namespace timestore::api {
namespace {

constexpr size_t kBodyPadding = 64;  // simdjson::SIMDJSON_PADDING

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = beast::error_code;

// Each read asks the kernel for up to this much; the per-connection buffer
// keeps its capacity, so steady-state reads allocate nothing.
constexpr size_t kReadChunk = 64 << 10;
constexpr uint32_t kHeaderLimit = 64 << 10;
// After an error response we read and discard what the client still sends for
// this long before closing, so the close does not turn into a TCP reset that
// destroys the response in the client's receive queue (nginx's lingering close).
constexpr auto kLingerTime = std::chrono::seconds(5);
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

std::string_view ToStd(beast::string_view s) { return {s.data(), s.size()}; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes ('+' stays '+': this is a path, not a form). False on a
// truncated or non-hex escape.
bool PercentDecode(std::string_view in, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = HexValue(in[i + 1]);
    const int lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

bool IsHttpError(const error_code& ec) {
  return &ec.category() == &http::make_error_code(http::error::bad_target).category();
}

HttpResponse ErrorResponse(int status, std::string_view code, std::string_view message) {
  HttpResponse response;
  response.status = status;
  response.body = ErrorBody(code, message);
  return response;
}

class Session;

// State shared by the server and every connection. Sessions hold it by
// shared_ptr, so a Responder kept by the application past the server's
// lifetime still finds `stopped` and drops its response instead of touching a
// destroyed io_context.
struct Core {
  HttpServerOptions options;
  Handler handler;

  std::atomic<int64_t> in_flight{0};
  // Set when Stop begins: no keep-alive after the current response, idle
  // connections are closed.
  std::atomic<bool> draining{false};

  std::mutex mu;
  std::condition_variable idle_cv;  // notified when in_flight drops to 0
  // Set once the grace period is over; after it no Responder posts to a strand.
  bool stopped ABSL_GUARDED_BY(mu) = false;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions ABSL_GUARDED_BY(mu);

  void FinishRequest() {
    if (in_flight.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mu);
      idle_cv.notify_all();
    }
  }

  std::vector<std::shared_ptr<Session>> LiveSessions() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::vector<std::shared_ptr<Session>> live;
    live.reserve(sessions.size());
    for (auto& [ptr, weak] : sessions) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
    return live;
  }
};

// One connection. All members are touched only on the connection's strand,
// except `core_` (immutable) and, after the I/O threads have been joined,
// `stream_` (released by the server).
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<Core> core, tcp::socket socket)
      : core_(std::move(core)), stream_(std::in_place, std::move(socket)) {}

  ~Session() {
    std::lock_guard<std::mutex> lock(core_->mu);
    core_->sessions.erase(this);
  }

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Runs on the strand.
  void Start() {
    {
      std::lock_guard<std::mutex> lock(core_->mu);
      if (core_->stopped) return;
      core_->sessions.emplace(this, weak_from_this());
    }
    if (core_->draining.load()) {
      CloseNow();
      return;
    }
    error_code ec;
    auto& socket = stream_->socket();
    socket.set_option(tcp::no_delay(true), ec);
    const tcp::endpoint peer = socket.remote_endpoint(ec);
    if (!ec) {
      const net::ip::address address = peer.address();
      remote_ = address.is_v6() ? StrCat("[", address.to_string(), "]:", peer.port())
                                : StrCat(address.to_string(), ":", peer.port());
    }
    WaitForRequest();
  }

  template <typename Fn>
  void Post(Fn&& fn) {
    net::post(stream_->get_executor(), std::forward<Fn>(fn));
  }

  // On the strand: close the connection if it is between requests.
  void Drain() {
    if (state_ == State::kIdle) CloseNow();
  }

  // On the strand: close the connection whatever it is doing.
  void CloseNow() {
    state_ = State::kClosed;
    if (!stream_) return;
    error_code ec;
    stream_->socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_->close();
  }

  // After the I/O threads have stopped: destroy the socket while the
  // io_context still exists, in case a Responder outlives the server.
  void ReleaseStream() { stream_.reset(); }

  // Any thread. Sends `response` unless the server has stopped.
  void Respond(HttpResponse response) {
    auto self = shared_from_this();
    {
      std::lock_guard<std::mutex> lock(core_->mu);
      if (!core_->stopped) {
        Post([self, response = std::move(response)]() mutable {
          self->Write(std::move(response), /*counted=*/true, /*force_close=*/false);
        });
        return;
      }
    }
    core_->FinishRequest();
  }

 private:
  enum class State { kIdle, kReading, kHandling, kWriting, kClosed };

  // Shared by all copies of one request's Responder: answers exactly once,
  // and answers 500 if the application drops every copy without answering.
  class Reply {
   public:
    explicit Reply(std::shared_ptr<Session> session) : session_(std::move(session)) {}
    ~Reply() {
      if (!called_.load()) {
        session_->Respond(
            ErrorResponse(500, "internal", "the request was dropped without a response"));
      }
    }
    Reply(const Reply&) = delete;
    Reply& operator=(const Reply&) = delete;

    void operator()(HttpResponse response) {
      if (called_.exchange(true)) return;
      session_->Respond(std::move(response));
      // Safe: later callers return above without reading session_, and the
      // destructor happens after every call. Frees the connection even if the
      // application keeps the Responder around.
      session_.reset();
    }

   private:
    std::atomic<bool> called_{false};
    std::shared_ptr<Session> session_;
  };

  bool Closed() const { return state_ == State::kClosed || !stream_; }

  // Waits for the first bytes of the next request under the idle timeout (the
  // header timeout for a new connection), so that the header timeout only
  // starts once the client has begun a request.
  void WaitForRequest() {
    if (Closed()) return;
    if (core_->draining.load()) {
      CloseNow();
      return;
    }
    if (buffer_.size() > 0) {
      ReadHeader();
      return;
    }
    state_ = State::kIdle;
    stream_->expires_after(std::chrono::milliseconds(
        first_request_ ? core_->options.header_timeout_ms : core_->options.idle_timeout_ms));
    stream_->async_read_some(
        buffer_.prepare(kReadChunk),
        [self = shared_from_this()](error_code ec, size_t n) { self->OnFirstBytes(ec, n); });
  }

  void OnFirstBytes(error_code ec, size_t n) {
    if (Closed()) return;
    buffer_.commit(n);
    if (ec) {  // EOF, timeout, reset: nothing to answer
      CloseNow();
      return;
    }
    ReadHeader();
  }

  void ReadHeader() {
    state_ = State::kReading;
    first_request_ = false;
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(core_->options.max_body_bytes);
    stream_->expires_after(std::chrono::milliseconds(core_->options.header_timeout_ms));
    http::async_read_header(
        *stream_, buffer_, *parser_,
        [self = shared_from_this()](error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(error_code ec) {
    if (Closed()) return;
    if (ec) {
      OnReadError(ec);
      return;
    }
    if (parser_->is_done()) {
      Dispatch();
      return;
    }
    const auto& head = parser_->get();
    if (head.version() >= 11 && beast::iequals(head[http::field::expect], "100-continue")) {
      stream_->expires_after(std::chrono::milliseconds(core_->options.body_timeout_ms));
      net::async_write(*stream_, net::buffer(kContinue.data(), kContinue.size()),
                       [self = shared_from_this()](error_code ec, size_t) {
                         if (self->Closed()) return;
                         if (ec) {
                           self->CloseNow();
                           return;
                         }
                         self->ReadBody();
                       });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    // Room for the JSON parser's padding up front, so the body is never copied
    // to grow it (the ingest parser needs 64 readable bytes past the end).
    if (auto len = parser_->content_length(); len && *len <= core_->options.max_body_bytes) {
      parser_->get().body().reserve(static_cast<size_t>(*len) + kBodyPadding);
    }
    stream_->expires_after(std::chrono::milliseconds(core_->options.body_timeout_ms));
    http::async_read(*stream_, buffer_, *parser_,
                     [self = shared_from_this()](error_code ec, size_t) {
                       if (self->Closed()) return;
                       if (ec) {
                         self->OnReadError(ec);
                         return;
                       }
                       self->Dispatch();
                     });
  }

  void OnReadError(error_code ec) {
    if (ec == http::error::body_limit) {
      Write(
          ErrorResponse(413, "payload_too_large",
                        StrCat("request body exceeds the limit of ", core_->options.max_body_bytes,
                               " bytes (TIMESTORE_MAX_BODY_BYTES)")),
          /*counted=*/false, /*force_close=*/true);
      return;
    }
    if (ec == http::error::header_limit) {
      Write(ErrorResponse(400, "bad_request",
                          StrCat("request header exceeds ", kHeaderLimit, " bytes")),
            /*counted=*/false, /*force_close=*/true);
      return;
    }
    if (IsHttpError(ec) && ec != http::error::end_of_stream && ec != http::error::partial_message) {
      Write(ErrorResponse(400, "bad_request", StrCat("malformed HTTP request: ", ec.message())),
            /*counted=*/false, /*force_close=*/true);
      return;
    }
    CloseNow();  // timeout, EOF mid-request, reset: the client is gone or too slow
  }

  void Dispatch() {
    http::request<http::string_body> message = parser_->release();
    parser_.reset();
    keep_alive_ = message.keep_alive();

    HttpRequest request;
    request.method = std::string(ToStd(message.method_string()));
    const std::string_view target = ToStd(message.target());
    const size_t question = target.find('?');
    if (question != std::string_view::npos)
      request.query = std::string(target.substr(question + 1));
    if (!PercentDecode(target.substr(0, question), &request.path)) {
      Write(ErrorResponse(400, "bad_request", "malformed percent-encoding in the request path"),
            /*counted=*/false, /*force_close=*/false);
      return;
    }
    request.headers.reserve(std::distance(message.begin(), message.end()));
    for (const auto& field : message) {
      std::string name(ToStd(field.name_string()));
      for (char& c : name) c = absl::ascii_tolower(static_cast<unsigned char>(c));
      request.headers.emplace_back(std::move(name), std::string(ToStd(field.value())));
    }
    request.body = std::move(message.body());
    request.remote_address = remote_;

    state_ = State::kHandling;
    stream_->expires_never();
    WatchForHangUp(request.client_gone);
    core_->in_flight.fetch_add(1, std::memory_order_acq_rel);
    auto reply = std::make_shared<Reply>(shared_from_this());
    try {
      core_->handler(std::move(request),
                     [reply](HttpResponse response) { (*reply)(std::move(response)); });
    } catch (const std::exception& e) {
      (*reply)(ErrorResponse(500, "internal", StrCat("request handler failed: ", e.what())));
    } catch (...) {
      (*reply)(ErrorResponse(500, "internal", "request handler failed"));
    }
  }

  // While a request is handled, notices the client closing the connection:
  // the socket turns readable with nothing to read (EOF) or an error. Bytes of
  // a pipelined request end the watch; they are read once the answer is out.
  void WatchForHangUp(std::shared_ptr<std::atomic<bool>> gone) {
    stream_->socket().async_wait(
        tcp::socket::wait_read, [self = shared_from_this(), gone](error_code ec) {
          if (ec || !self->stream_ || self->state_ != State::kHandling) return;
          char c;
          const ssize_t n =
              ::recv(self->stream_->socket().native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
          if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
            gone->store(true, std::memory_order_relaxed);
          } else if (n < 0) {
            self->WatchForHangUp(gone);  // spurious wake-up
          }
        });
  }

  void Write(HttpResponse response, bool counted, bool force_close) {
    if (Closed() || (counted && state_ != State::kHandling)) {
      if (counted) core_->FinishRequest();
      return;
    }
    auto& res = res_.emplace();
    const int status = response.status >= 100 && response.status <= 999 ? response.status : 500;
    res.result(static_cast<unsigned>(status));
    res.version(11);
    res.set(http::field::server, "timestore");
    if (!response.content_type.empty()) res.set(http::field::content_type, response.content_type);
    for (auto& [name, value] : response.headers) res.insert(name, value);
    const bool keep_alive = keep_alive_ && !force_close && !core_->draining.load();
    res.keep_alive(keep_alive);
    res.body() = std::move(response.body);
    res.prepare_payload();

    state_ = State::kWriting;
    // A client that reads the response too slowly gets the body timeout.
    stream_->expires_after(std::chrono::milliseconds(core_->options.body_timeout_ms));
    http::async_write(
        *stream_, res,
        [self = shared_from_this(), counted, keep_alive, force_close](error_code ec, size_t) {
          self->OnWritten(ec, counted, keep_alive, force_close);
        });
  }

  void OnWritten(error_code ec, bool counted, bool keep_alive, bool force_close) {
    res_.reset();
    if (counted) core_->FinishRequest();
    if (Closed()) return;
    if (ec) {
      CloseNow();
      return;
    }
    if (force_close) {
      Linger();
      return;
    }
    if (!keep_alive) {
      CloseNow();
      return;
    }
    WaitForRequest();
  }

  // Half-closes, then discards input until the client closes or kLingerTime.
  void Linger() {
    state_ = State::kClosed;
    error_code ec;
    stream_->socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) {
      stream_->close();
      return;
    }
    buffer_.clear();
    stream_->expires_after(kLingerTime);
    DiscardInput();
  }

  void DiscardInput() {
    stream_->async_read_some(buffer_.prepare(kReadChunk),
                             [self = shared_from_this()](error_code ec, size_t) {
                               if (!self->stream_) return;
                               if (ec) {
                                 self->stream_->close();
                                 return;
                               }
                               self->DiscardInput();
                             });
  }

  const std::shared_ptr<Core> core_;  // first: outlives the stream
  std::optional<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> res_;
  std::string remote_;
  State state_ = State::kIdle;
  bool first_request_ = true;
  bool keep_alive_ = false;
};

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
      auto session = std::make_shared<Session>(core, std::move(socket));
      session->Post([session] { session->Start(); });
      Accept();
    });
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
  std::vector<std::shared_ptr<Session>> sessions;
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
  auto append_string = [&out](std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    out.push_back('"');
    for (const char c : s) {
      const auto u = static_cast<unsigned char>(c);
      if (c == '"' || c == '\\') {
        out.push_back('\\');
        out.push_back(c);
      } else if (u < 0x20) {
        out.append("\\u00");
        out.push_back(kHex[u >> 4]);
        out.push_back(kHex[u & 0xf]);
      } else {
        out.push_back(c);
      }
    }
    out.push_back('"');
  };
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
