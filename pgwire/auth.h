// Who may connect over the PostgreSQL protocol, and the exchange that proves
// it (docs/pgwire.md "Authentication").
//
//   TIMESTORE_PG_AUTH  = trust | password | md5 | scram-sha-256
//                        (default: scram-sha-256 when users are configured, else trust)
//   TIMESTORE_PG_USERS = entry ("," entry)*
//     entry = name ":" password [":" scope ("+" scope)*]
//   Inside a name, password or scope, "\," "\:" "\+" "\\" stand for the
//   character itself; any other backslash is an error.
//
// trust accepts any user name without a password and grants no scopes (a
// TIMESTORE_REQUIRE_SCOPE then refuses queries with 42501). The others ask for
// the password of a configured user: in clear text (password), as PostgreSQL's
// salted MD5 (md5), or through SCRAM-SHA-256 (scram.h). A wrong password and an
// unknown user fail alike: 28P01 "password authentication failed for user".
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "auth/authenticator.h"
#include "pgwire/backend_messages.h"
#include "pgwire/scram.h"

namespace timestore::pgwire {

// kToken: the password is an API token (auth/token_store.h), sent in clear
// text (TLS keeps it private off loopback); the session acts as the token.
enum class AuthMethod { kTrust, kPassword, kMd5, kScramSha256, kToken };

std::string_view AuthMethodName(AuthMethod method);

struct PgUser {
  std::string name;
  std::string password;
  std::vector<std::string> scopes;
};

// Parses TIMESTORE_PG_USERS; InvalidArgument naming the entry otherwise.
absl::StatusOr<std::vector<PgUser>> ParsePgUsers(std::string_view spec);

// The users and method of one server. Immutable once made; thread-safe.
class AuthConfig {
 public:
  // `method` "" picks the default. Refuses a password method without users.
  // "token" needs `tokens`; it is the default when `tokens` is given and no
  // users are.
  static absl::StatusOr<std::shared_ptr<const AuthConfig>> Make(
      std::string_view method, std::vector<PgUser> users,
      std::shared_ptr<const auth::Authenticator> tokens = nullptr);

  AuthMethod method() const { return method_; }
  // nullptr for a name that is not configured.
  const PgUser* FindUser(std::string_view name) const;
  const ScramSecret* FindScram(std::string_view name) const;
  // The salt shown to a user that does not exist: the same on every attempt,
  // as a real user's would be.
  std::string MockSalt(std::string_view name) const;
  const auth::Authenticator* tokens() const { return tokens_.get(); }

 private:
  std::shared_ptr<const auth::Authenticator> tokens_;
  AuthMethod method_ = AuthMethod::kTrust;
  std::map<std::string, PgUser, std::less<>> users_;
  std::map<std::string, ScramSecret, std::less<>> scram_;
  std::string mock_key_;
};

// The exchange on one connection. Not thread-safe.
class Authenticator {
 public:
  Authenticator(std::shared_ptr<const AuthConfig> config, std::string user);

  // Writes the first request to `out`; true when none is needed (trust).
  bool Start(BackendWriter* out);
  // Handles the body of a 'p' message; writes the next request (or SCRAM's
  // final message). True once authenticated, false when another 'p' message
  // is expected; 28P01 for a wrong password or unknown user, 08P01 for a
  // malformed message.
  absl::StatusOr<bool> Step(std::string_view body, BackendWriter* out);

  // The authenticated user's scopes (none in trust mode).
  std::vector<std::string> scopes() const;
  // The token's principal (method token), else null.
  std::shared_ptr<const auth::Principal> principal() const { return principal_; }

 private:
  absl::Status Failed() const;

  std::shared_ptr<const AuthConfig> config_;
  std::string user_;
  std::string md5_salt_;
  std::optional<ScramServer> scram_;
  std::shared_ptr<const auth::Principal> principal_;
  enum class State { kStart, kPassword, kSaslInitial, kSaslContinue, kDone } state_ = State::kStart;
};

// PostgreSQL's MD5 response: "md5" + hex(md5(hex(md5(password + user)) + salt)).
std::string Md5PasswordResponse(std::string_view user, std::string_view password,
                                std::string_view salt);

}  // namespace timestore::pgwire
