// Who a request or a SQL session acts as, and what it may touch. Built by the
// Authenticator from a token, from a trusted proxy's x-iam-* headers, or (in
// mode "none") from those headers of any client; checked by the HTTP routes,
// the SQL session and the pgwire server.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace timestore::auth {

// What a request does to a dataset. Flags, so a grant can carry several.
enum Access : uint8_t {
  kRead = 1,
  kWrite = 2,
  kAdmin = 4,  // settings, retention, compaction, deletion of that dataset
};

// "read", "write", "admin" (an admin grant also reads and writes).
std::string_view AccessName(Access a);
// Parses "read", "write" or "admin"; nullopt otherwise.
std::optional<Access> ParseAccess(std::string_view name);

// Which datasets a token may touch: slugs matching `pattern` (`*` any run,
// `?` one character), with `access` (flags).
struct DatasetGrant {
  std::string pattern;
  uint8_t access = 0;
};

// True when `slug` matches the glob `pattern`.
bool GlobMatch(std::string_view pattern, std::string_view slug);

// Per-token request rates; 0 means the server default (which may be off).
struct RateLimits {
  double ingest_rows_per_second = 0;
  double queries_per_second = 0;
};

struct Principal {
  enum class Kind { kAnonymous, kToken, kBootstrap, kProxy, kHeaders };
  Kind kind = Kind::kAnonymous;
  std::string name;      // token name, or the proxy's x-iam-user; "" when none
  std::string token_id;  // tokens only
  std::vector<std::string> scopes;
  // nullopt: every dataset; otherwise only the datasets a grant matches.
  std::optional<std::vector<DatasetGrant>> datasets;
  // A tenant token's tenant (auth/tenant.h): only datasets of that tenant,
  // and of those only what `datasets` allows. Such a principal always has
  // `datasets` set (a "*" grant when the token has none), so every check of
  // "restricted to some datasets" holds for it too.
  std::optional<std::string> tenant;
  RateLimits limits;

  // A client that presented no identity (no token; no trusted proxy).
  bool anonymous() const { return kind == Kind::kAnonymous; }
  bool HasScope(std::string_view scope) const;
  // Whether the dataset restrictions (if any; its tenant's, then its grants)
  // let this principal do `access` to `slug`. Says nothing about scopes.
  bool GrantAllows(std::string_view slug, Access access) const;
  // A label for logs and the audit log: "token:<name>", "proxy:<user>", ...
  std::string Label() const;
};

}  // namespace timestore::auth
