// Turns what a client presents into a Principal, by the server's mode
// (TIMESTORE_AUTH):
//
//   token  The default. Clients present an API token: "Authorization: Bearer
//          <token>", "Authorization: Token <token>" (InfluxDB clients), Basic
//          auth with the token as password (Prometheus), or the pgwire
//          password. x-iam-* headers are ignored.
//   proxy  A gateway in front authenticates: x-iam-scopes and x-iam-user (or
//          x-user-id) are honoured only from TIMESTORE_TRUSTED_PROXIES; from
//          any other address they are ignored. Tokens work too.
//   none   No authentication: x-iam-* headers are honoured from anyone. Only
//          allowed on a loopback listen address.
//
// In token and proxy modes a route whose scope is not configured needs the
// default scope of its kind ("read", "write", "admin"); in mode none it is
// open, as before. A token holding the admin scope holds the read and write
// scopes too.
//
// Thread-safe (immutable after construction but for the token store).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "auth/principal.h"
#include "auth/token_store.h"

namespace timestore::auth {

enum class Mode { kNone, kProxy, kToken };
std::string_view ModeName(Mode m);
absl::StatusOr<Mode> ParseMode(std::string_view name);

// An IPv4 or IPv6 network: "10.0.0.0/8", "::1", "192.168.1.7".
struct Cidr {
  std::array<uint8_t, 16> addr{};  // IPv4 as IPv4-mapped IPv6
  int prefix = 128;
};
// Comma-separated networks; InvalidArgument naming the bad entry.
absl::StatusOr<std::vector<Cidr>> ParseCidrList(std::string_view list);
// The address of a peer "ip:port" or "[ip6]:port" (or a bare address);
// nullopt when it does not parse.
std::optional<std::array<uint8_t, 16>> ParsePeerAddress(std::string_view peer);
bool CidrContains(const Cidr& net, const std::array<uint8_t, 16>& addr);
// True for 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackHost(std::string_view host);

struct AuthConfig {
  Mode mode = Mode::kNone;
  std::vector<Cidr> trusted_proxies;
  // The scopes routes need (resolved: configured, or the defaults of token
  // and proxy modes, or "" for open).
  std::string read_scope, write_scope, admin_scope;
  // SHA-256 hex of the bootstrap admin token; "" for none.
  std::string bootstrap_hash;
  // Applied to tokens whose own limits are 0.
  RateLimits default_limits;
};

// What a request carried, as the HTTP layer reads it.
struct Credentials {
  std::string_view authorization = {};   // the Authorization header
  std::string_view iam_scopes = {};      // x-iam-scopes
  std::string_view iam_user = {};        // x-iam-user, else x-user-id
  std::string_view query_password = {};  // InfluxDB 1.x ?p=, used when no header
  std::string_view peer = {};            // "ip:port"
};

struct AuthResult {
  enum class Failure { kNone, kInvalid, kExpired, kMalformed };
  Principal principal;  // anonymous when nothing was presented or on failure
  Failure failure = Failure::kNone;
  std::string message;  // why, for the 401 (never contains the secret)

  bool ok() const { return failure == Failure::kNone; }
};

class Authenticator {
 public:
  Authenticator(AuthConfig config, TokenStore* tokens);

  Mode mode() const { return config_.mode; }
  const AuthConfig& config() const { return config_; }
  TokenStore* tokens() const { return tokens_; }

  AuthResult Authenticate(const Credentials& c) const;
  // A token presented alone (the pgwire password).
  AuthResult AuthenticateSecret(std::string_view secret) const;

 private:
  const AuthConfig config_;
  TokenStore* const tokens_;  // may be null (mode none)
};

// The comma-separated x-iam-scopes header as a list.
std::vector<std::string> SplitScopes(std::string_view header);

}  // namespace timestore::auth
