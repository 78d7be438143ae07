// The PostgreSQL wire protocol server (docs/pgwire.md): accepts TCP
// connections with Boost.Asio and serves each on its own thread with
// blocking I/O (a Connection); statements run on that thread, so a query
// that blocks in the engine holds only its own connection.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "common/tls_context.h"
#include "pgwire/auth.h"
#include "pgwire/frontend_messages.h"
#include "pgwire/sql_session.h"

namespace timestore::pgwire {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 5432;  // 0 picks a free port; see Server::port()
  // Sessions at once; one more is refused with 53300 "sorry, too many
  // clients already" (CancelRequests are always served).
  int max_connections = 100;
  uint32_t max_message_bytes = kDefaultMaxMessageBytes;
  int auth_timeout_ms = 60'000;            // to finish startup and authentication
  std::shared_ptr<const AuthConfig> auth;  // null: trust
  // When set, SSLRequest is answered 'S' and sessions run over TLS with this
  // context's certificate of that moment; clients that do not ask for TLS are
  // refused with FATAL 28000 (docs/pgwire.md, "TLS").
  std::shared_ptr<TlsContext> tls;
  // Called (from a connection thread) for each failed login, with the peer
  // ("ip:port"), the user name and why: the server counts and audits it.
  std::function<void(std::string_view peer, std::string_view user, std::string_view why)>
      on_auth_failure;
};

// Thread-safe.
class Server {
 public:
  Server(ServerOptions options, SessionFactory session_factory);
  ~Server();

  // Binds and listens, then serves on background threads.
  absl::Status Start();
  // The bound port (useful with port 0).
  uint16_t port() const;
  // Stops accepting and ends every connection: running statements are
  // cancelled and each client gets FATAL 57P01; after `grace_ms` the
  // sockets of connections still busy (a client that does not read) are
  // shut down both ways. Returns once every connection thread has finished.
  // Idempotent.
  void Stop(int grace_ms = 5'000);

  // Authenticated sessions now.
  int sessions() const;
  // Accepted connections now (sessions, and connections in startup).
  int connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace timestore::pgwire
