#include "api/http_session.h"

#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cerrno>
#include <chrono>
#include <exception>
#include <optional>
#include <type_traits>

#include "api/http_request_conversion.h"
#include "common/strings.h"
#include "common/tls_context.h"

namespace timestore::api::http_internal {
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
// After an error response we read and discard what the client still sends for
// this long before closing, so the close does not turn into a TCP reset that
// destroys the response in the client's receive queue (nginx's lingering close).
constexpr auto kLingerTime = std::chrono::seconds(5);
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
// A connection in the admin reserve gets at most this long to send its
// request head: the reserve is small and must not be held by idle clients.
constexpr int kReserveHeaderTimeoutMs = 5'000;
// The first byte of a TLS handshake record.
constexpr unsigned char kTlsHandshakeRecord = 0x16;

std::string_view ToStd(beast::string_view s) { return {s.data(), s.size()}; }
using timestore::ToStd;

bool IsHttpError(const error_code& ec) {
  return &ec.category() == &http::make_error_code(http::error::bad_target).category();
}

HttpResponse ErrorResponse(int status, std::string_view code, std::string_view message) {
  HttpResponse response;
  response.status = status;
  response.body = ErrorBody(code, message);
  return response;
}

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// One connection over `Stream` (PlainStream or TlsStream). All members are
// touched only on the connection's strand, except `core_` (immutable) and,
// after the I/O threads have been joined, `stream_` (released by the server).
template <typename Stream>
class Session final : public SessionBase {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  Session(std::shared_ptr<Core> core, tcp::socket socket, Admission admission)
      : SessionBase(std::move(core), socket.get_executor()),
        reserve_(admission == Admission::kReserve) {
    if constexpr (kTls) {
      // Held for the connection's life: a reload swaps the server's context,
      // not this one.
      tls_ = core_->options.tls->Current();
      stream_.emplace(beast::tcp_stream(std::move(socket)), *tls_);
    } else {
      stream_.emplace(std::move(socket));
    }
  }

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
    auto& socket = Tcp().socket();
    socket.set_option(tcp::no_delay(true), ec);
    const tcp::endpoint peer = socket.remote_endpoint(ec);
    if (!ec) {
      const net::ip::address address = peer.address();
      remote_ = address.is_v6() ? StrCat("[", address.to_string(), "]:", peer.port())
                                : StrCat(address.to_string(), ":", peer.port());
    }
    if constexpr (kTls) {
      StartTls();
    } else {
      WaitForRequest();
    }
  }

  void Drain() override {
    if (state_ == State::kIdle) CloseNow();
  }

  void CloseNow() override {
    state_ = State::kClosed;
    if (!stream_) return;
    error_code ec;
    Tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
    Tcp().close();
  }

  void ReleaseStream() override { stream_.reset(); }

  // Any thread. Sends `response` unless the server has stopped.
  void Respond(HttpResponse response) {
    auto self = Self();
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

  std::shared_ptr<Session> Self() { return std::static_pointer_cast<Session>(shared_from_this()); }
  beast::tcp_stream& Tcp() { return beast::get_lowest_layer(*stream_); }
  bool Closed() const { return state_ == State::kClosed || !stream_; }

  int HeaderTimeoutMs() const {
    return reserve_ ? std::min(core_->options.header_timeout_ms, kReserveHeaderTimeoutMs)
                    : core_->options.header_timeout_ms;
  }

  // TLS: the handshake runs under the header timeout. Its first bytes are
  // read here, so a plain HTTP request sent to the TLS port gets a readable
  // 400 instead of a handshake failure the client cannot explain.
  void StartTls() {
    state_ = State::kReading;
    Tcp().expires_after(std::chrono::milliseconds(HeaderTimeoutMs()));
    Tcp().async_read_some(buffer_.prepare(kReadChunk), [self = Self()](error_code ec, size_t n) {
      if (self->Closed()) return;
      self->buffer_.commit(n);
      if (ec) {
        self->CloseNow();
        return;
      }
      const auto* first = static_cast<const unsigned char*>(self->buffer_.data().data());
      if (*first != kTlsHandshakeRecord) {
        self->RefusePlainText();
        return;
      }
      self->Handshake();
    });
  }

  void Handshake() {
    if constexpr (kTls) {
      stream_->async_handshake(net::ssl::stream_base::server, buffer_.data(),
                               [self = Self()](error_code ec, size_t used) {
                                 if (self->Closed()) return;
                                 self->buffer_.consume(used);
                                 if (ec) {
                                   self->core_->tls_handshake_failures.fetch_add(1);
                                   self->CloseNow();
                                   return;
                                 }
                                 self->WaitForRequest();
                               });
    }
  }

  void RefusePlainText() {
    const std::string body = ErrorBody(
        "bad_request", "this port speaks HTTPS only (TLS is configured): plain HTTP was sent");
    plain_reply_ = StrCat(
        "HTTP/1.1 400 Bad Request\r\nServer: timestore\r\nContent-Type: application/json\r\n"
        "Content-Length: ",
        body.size(), "\r\nConnection: close\r\n\r\n", body);
    net::async_write(Tcp(), net::buffer(plain_reply_), [self = Self()](error_code ec, size_t) {
      if (self->Closed()) return;
      if (ec) {
        self->CloseNow();
        return;
      }
      self->Linger();
    });
  }

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
    Tcp().expires_after(std::chrono::milliseconds(first_request_ ? HeaderTimeoutMs()
                                                                 : core_->options.idle_timeout_ms));
    stream_->async_read_some(buffer_.prepare(kReadChunk), [self = Self()](error_code ec, size_t n) {
      self->OnFirstBytes(ec, n);
    });
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
    parser_->header_limit(kRequestHeaderLimit);
    parser_->body_limit(core_->options.max_body_bytes);
    Tcp().expires_after(std::chrono::milliseconds(HeaderTimeoutMs()));
    http::async_read_header(*stream_, buffer_, *parser_,
                            [self = Self()](error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(error_code ec) {
    if (Closed()) return;
    if (ec) {
      OnReadError(ec);
      return;
    }
    const auto& head = parser_->get();
    if (reserve_) {
      // Over the connection limit: one request, answered only on an admin
      // path; the rest get 503 before their body is read.
      const std::string_view target = ToStd(head.target());
      if (!IsReservedPath(target.substr(0, target.find('?')))) {
        core_->connections_refused.fetch_add(1, std::memory_order_relaxed);
        HttpResponse refusal = InRouteShape(
            ErrorResponse(503, "too_many_connections",
                          StrCat("the server has its maximum of ", core_->options.max_connections,
                                 " connections open (TIMESTORE_MAX_CONNECTIONS); retry shortly")));
        refusal.headers.emplace_back("Retry-After", "1");
        Write(std::move(refusal), /*counted=*/false, /*force_close=*/true);
        return;
      }
    }
    if (parser_->is_done()) {
      Dispatch();
      return;
    }
    if (head.version() >= 11 && beast::iequals(head[http::field::expect], "100-continue")) {
      Tcp().expires_after(std::chrono::milliseconds(core_->options.body_timeout_ms));
      net::async_write(*stream_, net::buffer(kContinue.data(), kContinue.size()),
                       [self = Self()](error_code ec, size_t) {
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
    Tcp().expires_after(std::chrono::milliseconds(core_->options.body_timeout_ms));
    http::async_read(*stream_, buffer_, *parser_, [self = Self()](error_code ec, size_t) {
      if (self->Closed()) return;
      if (ec) {
        self->OnReadError(ec);
        return;
      }
      self->Dispatch();
    });
  }

  // An error answer the server makes itself, in the shape of the route the
  // request names (HttpServerOptions::early_error), as far as its head was read.
  HttpResponse InRouteShape(HttpResponse r, std::string_view target,
                            std::string_view content_type) const {
    if (!core_->options.early_error) return r;
    return core_->options.early_error(target.substr(0, target.find('?')), content_type,
                                      std::move(r));
  }
  HttpResponse InRouteShape(HttpResponse r) const {
    if (!parser_) return r;
    const auto& head = parser_->get();
    return InRouteShape(std::move(r), ToStd(head.target()), ToStd(head[http::field::content_type]));
  }

  void OnReadError(error_code ec) {
    if (ec == http::error::body_limit) {
      Write(InRouteShape(ErrorResponse(
                413, "payload_too_large",
                StrCat("request body exceeds the limit of ", core_->options.max_body_bytes,
                       " bytes (TIMESTORE_MAX_BODY_BYTES)"))),
            /*counted=*/false, /*force_close=*/true);
      return;
    }
    if (ec == http::error::header_limit) {
      Write(ErrorResponse(400, "bad_request",
                          StrCat("request header exceeds ", kRequestHeaderLimit, " bytes")),
            /*counted=*/false, /*force_close=*/true);
      return;
    }
    if (IsHttpError(ec) && ec != http::error::end_of_stream && ec != http::error::partial_message) {
      Write(InRouteShape(ErrorResponse(400, "bad_request",
                                       StrCat("malformed HTTP request: ", ec.message()))),
            /*counted=*/false, /*force_close=*/true);
      return;
    }
    CloseNow();  // timeout, EOF mid-request, reset: the client is gone or too slow
  }

  void Dispatch() {
    http::request<http::string_body> message = parser_->release();
    parser_.reset();
    // A connection from the admin reserve serves one request only.
    keep_alive_ = message.keep_alive() && !reserve_;

    const std::string target(ToStd(message.target()));
    const std::string content_type(ToStd(message[http::field::content_type]));
    auto converted = ToHttpRequest(std::move(message), remote_);
    if (!converted.ok()) {
      Write(InRouteShape(ErrorResponse(400, "bad_request", ToStd(converted.status().message())),
                         target, content_type),
            /*counted=*/false, /*force_close=*/false);
      return;
    }
    HttpRequest request = *std::move(converted);

    state_ = State::kHandling;
    Tcp().expires_never();
    WatchForHangUp(request.client_gone);
    core_->in_flight.fetch_add(1, std::memory_order_acq_rel);
    auto reply = std::make_shared<Reply>(Self());
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
  // (Over TLS a close_notify alert counts as such bytes and ends the watch.)
  void WatchForHangUp(std::shared_ptr<std::atomic<bool>> gone) {
    Tcp().socket().async_wait(tcp::socket::wait_read, [self = Self(), gone](error_code ec) {
      if (ec || !self->stream_ || self->state_ != State::kHandling) return;
      char c;
      const ssize_t n =
          ::recv(self->Tcp().socket().native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
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
    Tcp().expires_after(std::chrono::milliseconds(core_->options.body_timeout_ms));
    http::async_write(*stream_, res,
                      [self = Self(), counted, keep_alive, force_close](error_code ec, size_t) {
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
  // Over TLS this is below the TLS layer: no close_notify, the client has its
  // whole response by its length (HTTP/1.1 over TLS allows that close).
  void Linger() {
    state_ = State::kClosed;
    error_code ec;
    Tcp().socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) {
      Tcp().close();
      return;
    }
    buffer_.clear();
    Tcp().expires_after(kLingerTime);
    DiscardInput();
  }

  void DiscardInput() {
    Tcp().async_read_some(buffer_.prepare(kReadChunk), [self = Self()](error_code ec, size_t) {
      if (!self->stream_) return;
      if (ec) {
        self->Tcp().close();
        return;
      }
      self->DiscardInput();
    });
  }

  const bool reserve_;
  std::shared_ptr<net::ssl::context> tls_;  // before stream_: the stream refers to it
  std::optional<Stream> stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> res_;
  std::string remote_;
  std::string plain_reply_;
  State state_ = State::kIdle;
  bool first_request_ = true;
  bool keep_alive_ = false;
};

template <typename Stream>
void Serve(const std::shared_ptr<Core>& core, tcp::socket socket, Admission admission) {
  auto session = std::make_shared<Session<Stream>>(core, std::move(socket), admission);
  session->Post([session] { session->Start(); });
}

}  // namespace

bool IsReservedPath(std::string_view path) {
  return path == "/admin" || path.rfind("/admin/", 0) == 0 || path == "/health" ||
         path == "/ready" || path == "/metrics" || path == "/status";
}

void ServeConnection(const std::shared_ptr<Core>& core, tcp::socket socket, Admission admission) {
  if (core->options.tls != nullptr) {
    Serve<TlsStream>(core, std::move(socket), admission);
  } else {
    Serve<PlainStream>(core, std::move(socket), admission);
  }
}

}  // namespace timestore::api::http_internal
