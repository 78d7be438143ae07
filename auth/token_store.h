// API tokens: created by an admin, shown once, stored hashed at
// <root>/auth/tokens.json (mode 0600, written atomically), compared in
// constant time.
//
// A token reads "tsk_<id>_<secret>": 16 hex digits of id, then 64 hex digits
// (32 bytes from OpenSSL's RAND_bytes). The file keeps the id, the SHA-256 of
// the whole token and the token's settings, never the token itself. A plain
// hash is enough because the secret has 256 bits of entropy: nothing is left
// to guess by brute force, so a slow password hash would only slow every
// request.
//
// File format (UTF-8 JSON):
//   {"version":1,"tokens":[{"id":"3f9c...","name":"telegraf","hash":"<sha256 hex>",
//     "scopes":["write"],"datasets":[{"pattern":"cpu-*","access":["write"]}],
//     "createdAt":"2026-12-03T10:00:00Z","expiresAt":null,
//     "rateLimits":{"ingestRowsPerSecond":0,"queriesPerSecond":0},"tenant":"acme"}]}
// "datasets" is absent for a token that may touch every dataset; "tenant" is
// absent for a token of no tenant (a tenant token touches only the datasets
// of its tenant, auth/tenant.h).
//
// Thread-safe. The server loads the file once at start; `timestore token`
// against a storage root edits it while no server runs (the storage root
// lock says so), and against a running server goes through /admin/tokens.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "auth/principal.h"

namespace timestore::auth {

struct TokenInfo {
  std::string id;    // 16 hex digits
  std::string name;  // unique among live tokens
  std::vector<std::string> scopes;
  std::optional<std::vector<DatasetGrant>> datasets;  // nullopt: every dataset
  std::optional<std::string> tenant;                  // nullopt: no tenant
  int64_t created_ns = 0;
  std::optional<int64_t> expires_ns;
  RateLimits limits;

  bool Expired(int64_t now_ns) const { return expires_ns && *expires_ns <= now_ns; }
};

// The JSON object of a token as GET /admin/tokens shows it (no secret, no hash).
std::string TokenInfoJson(const TokenInfo& t, int64_t now_ns);

// Reads a token request (POST /admin/tokens): {"name", "scopes", "datasets",
// "tenant", "expiresAt" (RFC 3339) or "expiresIn" ("30d"), "rateLimits"}. Errors are
// InvalidArgument tagged invalid_request, naming the member.
absl::StatusOr<TokenInfo> ParseTokenRequest(std::string_view json, int64_t now_ns);
// The request body that ParseTokenRequest reads back to `t` (the CLI sends it).
std::string TokenRequestJson(const TokenInfo& t);

// The 16-hex-digit id of a well-formed token, or "" when `secret` is not one.
std::string_view TokenIdOf(std::string_view secret);
// Lower-case hex SHA-256 of `secret`.
std::string HashSecret(std::string_view secret);
// True when the hex hash of `secret` equals `hash_hex`, in time independent
// of where they differ.
bool SecretMatches(std::string_view secret, std::string_view hash_hex);
// A fresh random token "tsk_<id>_<secret>"; `id` receives its id.
std::string GenerateToken(std::string* id);

class TokenStore {
 public:
  // Loads <dir>/tokens.json; a missing file is an empty store. A file that
  // does not parse is an error naming it (the server refuses to start rather
  // than run with tokens it cannot read).
  static absl::StatusOr<std::unique_ptr<TokenStore>> Open(std::string dir);

  // Adds a token with the settings of `spec` (its id and created time are
  // assigned here), saves the file, and returns the info and the token,
  // which is never available again. AlreadyExists (conflict) when the name
  // is taken.
  absl::StatusOr<std::pair<TokenInfo, std::string>> Create(TokenInfo spec, int64_t now_ns);
  std::vector<TokenInfo> List() const;
  // Removes the token with this id (or, failing that, this name) and saves
  // the file. NotFound when there is none.
  absl::StatusOr<TokenInfo> Revoke(std::string_view id_or_name);
  // The token `secret` belongs to (expired or not), or nullopt.
  std::optional<TokenInfo> Find(std::string_view secret) const;

  const std::string& path() const { return path_; }

 private:
  struct Entry {
    TokenInfo info;
    std::string hash;
  };
  explicit TokenStore(std::string dir);
  absl::Status Load();
  absl::Status SaveLocked() const;

  const std::string dir_;
  const std::string path_;
  mutable std::mutex mu_;
  std::vector<Entry> entries_;  // guarded by mu_
};

// Writes `data` to `path` with mode 0600, atomically and durably (a
// temporary file, fsync, rename, fsync of the directory), creating the
// directory with mode 0700 when missing.
absl::Status WritePrivateFile(const std::string& path, std::string_view data);

}  // namespace timestore::auth
