// One client connection, on its own thread with blocking socket I/O:
// startup (SSLRequest answered 'S' and the session run over TLS when TLS is
// configured, else 'N'; GSSENCRequest answered 'N'; CancelRequest,
// protocol 3.0 with NegotiateProtocolVersion for newer minors), the
// authentication exchange, session setup (ParameterStatus, BackendKeyData,
// ReadyForQuery), then messages handed to QueryProtocol until Terminate, the
// client leaving, a protocol violation (FATAL 08P01, then close) or the
// server stopping (FATAL 57P01).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/tls_context.h"
#include "pgwire/auth.h"
#include "pgwire/backend_messages.h"
#include "pgwire/connection_registry.h"
#include "pgwire/frontend_messages.h"
#include "pgwire/query_protocol.h"
#include "pgwire/sql_session.h"

namespace timestore::auth {
struct Principal;
}  // namespace timestore::auth

namespace timestore::pgwire {

struct ConnectionOptions {
  uint32_t max_message_bytes = kDefaultMaxMessageBytes;
  // Time to finish startup and authentication (PostgreSQL's
  // authentication_timeout); the connection is closed after it.
  int auth_timeout_ms = 60'000;
  std::shared_ptr<const AuthConfig> auth;
  SessionFactory session_factory;
  ConnectionRegistry* registry = nullptr;
  // When set, SSLRequest is answered 'S' and a client that does not ask for
  // TLS is refused (FATAL 28000) before it can send a password.
  std::shared_ptr<TlsContext> tls;
  // Failed logins (ServerOptions::on_auth_failure); may be empty.
  std::function<void(std::string_view peer, std::string_view user, std::string_view why)>
      on_auth_failure;
};

class Connection : public Cancellable {
 public:
  // Takes ownership of the connected socket `fd`. `options` must outlive it.
  Connection(int fd, const ConnectionOptions* options, std::string peer);
  ~Connection() override;

  // Serves the client until the connection ends; closes nothing but
  // returns (the destructor closes the socket).
  void Run();

  // Thread-safe. Stops the statement running now, if any.
  void CancelStatement() override;
  // Thread-safe. Ends the connection: cancels the running statement and
  // shuts the socket down for reading (so the connection thread wakes, says
  // FATAL 57P01 and leaves) or, when `hard`, for writing too (for a client
  // that does not read).
  void Shutdown(bool hard);

 private:
  enum class Phase { kStartup, kSession };
  // Reads more bytes into reader_; false on EOF, error or timeout.
  bool Fill();
  bool Flush();
  // Sends or receives through TLS once it is up, else on the socket; the
  // result is recv/send's (bytes, 0 for EOF, -1 with errno on failure).
  ssize_t Receive(char* p, size_t n);
  ssize_t Send(const char* p, size_t n);
  // After answering 'S': the TLS handshake, under the startup deadline.
  bool StartTls();
  void Fatal(const absl::Status& status);
  // Startup and authentication; false when the connection ends there.
  bool Startup();
  bool Authenticate(const StartupMessage& startup, std::vector<std::string>* scopes);
  bool StartSession(const StartupMessage& startup, std::vector<std::string> scopes);
  void ApplyStartupSettings(const StartupMessage& startup);

  const int fd_;
  const ConnectionOptions* options_;
  const std::string peer_;
  std::shared_ptr<boost::asio::ssl::context> tls_context_;  // kept while ssl_ lives
  SSL* ssl_ = nullptr;
  FrameReader reader_;
  BackendWriter out_;
  // The API token the session acts as (pgwire auth method token), else null.
  std::shared_ptr<const auth::Principal> principal_;
  std::atomic<bool> stopping_{false};
  bool holds_slot_ = false;
  // Startup and authentication must end by this time as a whole (not per
  // read: a client trickling a byte a minute would otherwise keep its place).
  std::optional<std::chrono::steady_clock::time_point> startup_deadline_;
  int32_t pid_ = 0;

  // The connection thread sets these under mu_ and reads them without it
  // (it is their only writer); CancelStatement reads them under mu_.
  std::mutex mu_;
  std::unique_ptr<SqlSession> session_;
  std::unique_ptr<QueryProtocol> protocol_;
};

}  // namespace timestore::pgwire
