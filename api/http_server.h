// The HTTP/1.1 server: Boost.Beast over Asio, plain or TLS (OpenSSL through
// Boost.Asio SSL streams), keep-alive, a body size limit, header/body/idle
// timeouts, a connection limit with a reserve for admin routes, and graceful
// shutdown. It knows nothing of datasets: every complete request goes to one
// Handler.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace timestore {
class TlsContext;  // common/tls_context.h
}  // namespace timestore

namespace timestore::auth {
struct Principal;
}  // namespace timestore::auth

namespace timestore::api {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // target without the query string, percent-decoded
  std::string query;   // raw query string after '?', without '?' ("" when none)
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string remote_address;  // the peer as "ip:port" ("[ip6]:port")
  // Becomes true when the client closes the connection while the request is
  // being handled (long queries stop then).
  std::shared_ptr<std::atomic<bool>> client_gone = std::make_shared<std::atomic<bool>>(false);
  // Who sent it: set by Service::Handle once the request is authenticated
  // (null before, and for the public routes /health, /ready, /metrics, /ping).
  std::shared_ptr<const auth::Principal> principal;

  // First header with `name` (lower-case), or "" when absent.
  std::string_view Header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

// Called exactly once per request, from any thread; sends the response.
using Responder = std::function<void(HttpResponse)>;
// Runs on an I/O thread. It may answer at once or keep `respond` and answer
// later from another thread (ingest answers after the WAL fsync).
using Handler = std::function<void(HttpRequest&& request, Responder respond)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 4100;  // 0 picks a free port; see HttpServer::port()
  int threads = 0;       // I/O threads; 0 = hardware concurrency
  uint64_t max_body_bytes = 64ull << 20;
  int header_timeout_ms = 10'000;  // time to receive the request head
  int body_timeout_ms = 60'000;    // time to receive the body
  int idle_timeout_ms = 60'000;    // keep-alive connection idle time
  // When set, the port speaks only TLS; each handshake uses the context's
  // certificate of that moment (TlsContext::Reload rotates it).
  std::shared_ptr<TlsContext> tls;
  // Connections at once (TIMESTORE_MAX_CONNECTIONS). The next
  // `admin_reserve_connections` are read for one request head and served
  // only when its path is /admin..., /health, /ready, /metrics or /status
  // (others get 503 too_many_connections, Retry-After: 1, and are closed);
  // beyond those, connections are closed as soon as they are accepted.
  int64_t max_connections = 10'000;
  int64_t admin_reserve_connections = 32;
  // When set, rewrites the error answers the server makes itself once a
  // request's head is read, before the handler sees it (413 over
  // max_body_bytes, 400 for a malformed body, 503 over the connection limit),
  // given the path (no query) and Content-Type: the OTLP and InfluxDB routes
  // answer in their own shape (ServerErrorAnswer).
  std::function<HttpResponse(std::string_view path, std::string_view content_type, HttpResponse)>
      early_error;
};

// Thread-safe.
class HttpServer {
 public:
  HttpServer(HttpServerOptions options, Handler handler);
  ~HttpServer();

  // Binds and listens, then serves on background threads.
  absl::Status Start();
  // The bound port (useful with port 0).
  uint16_t port() const;
  // Stops accepting, waits up to `grace_ms` for in-flight requests to be
  // answered, closes connections and joins the threads. Idempotent. Responses
  // given after that are dropped. REQUIRES: not called from a Handler (it
  // joins the I/O threads).
  void Stop(int grace_ms = 10'000);
  // Requests currently being handled (received, not yet answered).
  int64_t in_flight() const;
  // Connections open now, including those of the admin reserve.
  int64_t open_connections() const;
  // Connections refused for the limit since Start: closed at accept, or
  // answered 503 too_many_connections.
  uint64_t connections_refused() const;
  // TLS handshakes that failed (a client refusing the certificate, no client
  // certificate under mTLS, a protocol older than TLS 1.2, ...).
  uint64_t tls_handshake_failures() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The JSON error body every error response carries (API.md, "Errors").
std::string ErrorBody(std::string_view code, std::string_view message,
                      std::string_view details_json = "");

}  // namespace timestore::api
