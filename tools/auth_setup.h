// The serve command's authentication settings (TIMESTORE_AUTH and friends)
// turned into an auth::Authenticator, and the `timestore token` subcommand.
#pragma once

#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "auth/authenticator.h"

namespace timestore::tools {

struct AuthSettings {
  std::string mode = "token";   // TIMESTORE_AUTH: token | proxy | none
  std::string trusted_proxies;  // TIMESTORE_TRUSTED_PROXIES: addresses or CIDRs
  std::string admin_token;      // TIMESTORE_ADMIN_TOKEN: the bootstrap admin token
  double rate_ingest_rows = 0;  // TIMESTORE_RATE_LIMIT_INGEST_ROWS: per token, rows/s
  double rate_queries = 0;      // TIMESTORE_RATE_LIMIT_QUERIES: per token, queries/s
};

// Adds --auth, --trusted-proxies, --admin-token and the rate limit options.
void AddAuthOptions(CLI::App* serve, AuthSettings* s);

// An exclusive flock(2) on <root>/auth/lock, held while a server runs on the
// storage root and while `timestore token --storage-root` edits it. The
// server reads tokens.json once and rewrites it from memory, so a token the
// CLI added beside a running server would neither work nor last: the CLI
// refuses such a root instead (and a second server refuses it too). The
// kernel releases the lock when its holder exits, however it exits.
class AuthRootLock {
 public:
  // FailedPrecondition naming the lock file when another process holds it.
  static absl::StatusOr<std::unique_ptr<AuthRootLock>> Acquire(const std::string& auth_dir);
  ~AuthRootLock();
  AuthRootLock(const AuthRootLock&) = delete;
  AuthRootLock& operator=(const AuthRootLock&) = delete;

 private:
  explicit AuthRootLock(int fd) : fd_(fd) {}
  const int fd_;
};

struct ResolvedAuth {
  std::unique_ptr<AuthRootLock> lock;  // held for the server's lifetime
  std::shared_ptr<auth::Authenticator> authenticator;
  std::unique_ptr<auth::TokenStore> tokens;  // owned here; the authenticator points at it
  std::string read_scope, write_scope, admin_scope;
  std::string bootstrap_path;  // the generated token file, when one is used
};

// Checks the settings against the listen addresses (mode none only on
// loopback), resolves the scopes routes need (configured, else read, write
// and admin in token and proxy modes), opens <root>/auth/tokens.json and
// sets up the bootstrap admin token: TIMESTORE_ADMIN_TOKEN, or one generated
// once into <root>/auth/admin.token (mode 0600). An error says what to change.
absl::StatusOr<ResolvedAuth> ResolveAuth(const AuthSettings& s, const std::string& storage_root,
                                         const std::string& http_host, const std::string& pg_host,
                                         bool pg_enabled, const std::string& require_scope,
                                         const std::string& write_scope,
                                         const std::string& admin_scope);

// `timestore token create|list|revoke`: against a running server
// (--server URL with --token) or a storage root while no server runs.
void AddTokenCommand(CLI::App* app, int* exit_code);

}  // namespace timestore::tools
