#include "tools/auth_setup.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "auth/token_store.h"
#include "common/env.h"
#include "common/status_util.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "spdlog/spdlog.h"
#include "tiering/http_client.h"

namespace timestore::tools {
namespace {

constexpr size_t kMinAdminToken = 16;

absl::Status Refuse(std::string message) { return absl::InvalidArgumentError(std::move(message)); }

// "cpu-*:read+write" -> a grant.
absl::StatusOr<auth::DatasetGrant> ParseGrantFlag(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Refuse(
        StrCat("--dataset \"", text, "\" must be PATTERN:ACCESS[+ACCESS], e.g. cpu-*:read"));
  }
  auth::DatasetGrant g;
  g.pattern = std::string(text.substr(0, colon));
  std::string_view rest = text.substr(colon + 1);
  while (!rest.empty()) {
    size_t plus = rest.find('+');
    auto access = auth::ParseAccess(rest.substr(0, plus));
    if (!access) {
      return Refuse(StrCat("--dataset \"", text, "\": access must be read, write or admin"));
    }
    g.access |= *access;
    rest = plus == std::string_view::npos ? std::string_view() : rest.substr(plus + 1);
  }
  if (g.access == 0) return Refuse(StrCat("--dataset \"", text, "\" names no access"));
  return g;
}

}  // namespace

absl::StatusOr<std::unique_ptr<AuthRootLock>> AuthRootLock::Acquire(const std::string& auth_dir) {
  if (auto s = Env::Default()->CreateDirs(auth_dir); !s.ok()) return s;
  // Only the owner may list or enter it: it holds the token file and the
  // bootstrap admin token (each 0600 as well).
  if (::chmod(auth_dir.c_str(), 0700) != 0) {
    return absl::FailedPreconditionError(
        StrCat("cannot make ", auth_dir, " private (chmod 0700): ", std::strerror(errno)));
  }
  const std::string path = JoinPath(auth_dir, "lock");
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return absl::FailedPreconditionError(
          StrCat(path,
                 " is locked: a timestore server is running on this storage root (or "
                 "`timestore token` is editing it)"));
    }
    return absl::FailedPreconditionError(StrCat("cannot lock ", path, ": ", std::strerror(err)));
  }
  return std::unique_ptr<AuthRootLock>(new AuthRootLock(fd));
}

AuthRootLock::~AuthRootLock() { ::close(fd_); }

void AddAuthOptions(CLI::App* serve, AuthSettings* s) {
  serve->add_option("--auth", s->mode, "Authentication: token (default), proxy or none")
      ->envname("TIMESTORE_AUTH");
  serve
      ->add_option("--trusted-proxies", s->trusted_proxies,
                   "Addresses or CIDRs whose x-iam-* headers are believed (auth proxy)")
      ->envname("TIMESTORE_TRUSTED_PROXIES");
  serve
      ->add_option("--admin-token", s->admin_token,
                   "Bootstrap admin token (default: generated once into <root>/auth/admin.token)")
      ->envname("TIMESTORE_ADMIN_TOKEN");
  serve
      ->add_option("--rate-limit-ingest-rows", s->rate_ingest_rows,
                   "Default ingest rows/s per token (0 = unlimited)")
      ->envname("TIMESTORE_RATE_LIMIT_INGEST_ROWS");
  serve
      ->add_option("--rate-limit-queries", s->rate_queries,
                   "Default queries/s per token (0 = unlimited)")
      ->envname("TIMESTORE_RATE_LIMIT_QUERIES");
}

absl::StatusOr<ResolvedAuth> ResolveAuth(const AuthSettings& s, const std::string& storage_root,
                                         const std::string& http_host, const std::string& pg_host,
                                         bool pg_enabled, const std::string& require_scope,
                                         const std::string& write_scope,
                                         const std::string& admin_scope) {
  auto mode = auth::ParseMode(s.mode);
  if (!mode.ok()) return mode.status();
  if (*mode == auth::Mode::kNone) {
    for (const std::string* host : {&http_host, pg_enabled ? &pg_host : nullptr}) {
      if (host != nullptr && !auth::IsLoopbackHost(*host)) {
        return Refuse(
            StrCat("TIMESTORE_AUTH=none lets anyone who reaches the port read, write "
                   "and administer everything, so it is only allowed on a loopback "
                   "address, and the listen address is ",
                   *host,
                   ". Use TIMESTORE_AUTH=token (API tokens) or proxy (behind a "
                   "gateway, with TIMESTORE_TRUSTED_PROXIES), or listen on 127.0.0.1"));
      }
    }
  }
  if (s.rate_ingest_rows < 0 || s.rate_queries < 0) {
    return Refuse("TIMESTORE_RATE_LIMIT_INGEST_ROWS and TIMESTORE_RATE_LIMIT_QUERIES must be >= 0");
  }
  auth::AuthConfig config;
  config.mode = *mode;
  if (!s.trusted_proxies.empty()) {
    auto nets = auth::ParseCidrList(s.trusted_proxies);
    if (!nets.ok()) return Refuse(StrCat("TIMESTORE_TRUSTED_PROXIES: ", nets.status().message()));
    config.trusted_proxies = *std::move(nets);
  }
  if (*mode == auth::Mode::kProxy && config.trusted_proxies.empty()) {
    return Refuse(
        "TIMESTORE_AUTH=proxy needs TIMESTORE_TRUSTED_PROXIES: the addresses or CIDRs of the "
        "gateway whose x-iam-scopes and x-iam-user headers are to be believed");
  }
  ResolvedAuth out;
  const bool defaults = *mode != auth::Mode::kNone;
  out.read_scope = !require_scope.empty() ? require_scope : defaults ? "read" : "";
  out.write_scope = !write_scope.empty() ? write_scope : defaults ? "write" : "";
  out.admin_scope = !admin_scope.empty()                  ? admin_scope
                    : !require_scope.empty() && !defaults ? require_scope
                    : defaults                            ? "admin"
                                                          : "";
  config.read_scope = out.read_scope;
  config.write_scope = out.write_scope;
  config.admin_scope = out.admin_scope;
  config.default_limits.ingest_rows_per_second = s.rate_ingest_rows;
  config.default_limits.queries_per_second = s.rate_queries;

  if (auto s2 = Env::Default()->CreateDirs(storage_root); !s2.ok()) return s2;
  const std::string dir = JoinPath(storage_root, "auth");
  auto lock = AuthRootLock::Acquire(dir);
  if (!lock.ok()) return lock.status();
  out.lock = *std::move(lock);
  auto store = auth::TokenStore::Open(dir);
  if (!store.ok()) return store.status();
  out.tokens = *std::move(store);

  if (!s.admin_token.empty()) {
    if (s.admin_token.size() < kMinAdminToken) {
      return Refuse(StrCat("TIMESTORE_ADMIN_TOKEN is ", s.admin_token.size(),
                           " characters; at least 16 are needed (use `openssl rand -hex 32`)"));
    }
    config.bootstrap_hash = auth::HashSecret(s.admin_token);
  } else if (*mode != auth::Mode::kNone) {
    // Generated once, kept under the storage root for the operator to read.
    const std::string path = JoinPath(dir, "admin.token");
    auto text = Env::Default()->ReadFile(path);
    std::string token;
    if (text.ok()) {
      token = std::string(StripWhitespace(*text));
      if (token.size() < kMinAdminToken) {
        return Refuse(StrCat(path, " holds no usable token; remove it to have a new one made"));
      }
    } else if (absl::IsNotFound(text.status())) {
      std::string id;
      token = auth::GenerateToken(&id);
      if (auto w = auth::WritePrivateFile(path, token + "\n"); !w.ok()) return w;
    } else {
      return text.status();
    }
    config.bootstrap_hash = auth::HashSecret(token);
    out.bootstrap_path = path;
  }
  out.authenticator = std::make_shared<auth::Authenticator>(std::move(config), out.tokens.get());
  return out;
}

void AddTokenCommand(CLI::App* app, int* exit_code) {
  struct Options {
    std::string server, token, storage_root;
    std::string name, expires_in, expires_at, tenant;
    std::vector<std::string> scopes, datasets;
    double ingest_rate = 0, query_rate = 0;
    std::string id;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app->add_subcommand("token", "Create, list and revoke API tokens");
  cmd->require_subcommand(1);
  auto common = [o](CLI::App* sub) {
    sub->add_option("--server", o->server, "A running server, e.g. http://127.0.0.1:4100");
    sub->add_option("--token", o->token, "An admin token for --server")->envname("TIMESTORE_TOKEN");
    sub->add_option("--storage-root", o->storage_root,
                    "A storage root no server is running on (instead of --server)")
        ->envname("TIMESTORE_STORAGE_ROOT");
  };
  CLI::App* create = cmd->add_subcommand("create", "Create a token; it is printed once");
  common(create);
  create->add_option("--name", o->name, "A unique name")->required();
  create->add_option("--scope", o->scopes, "A scope (read, write, admin, ...); repeatable");
  create->add_option("--dataset", o->datasets,
                     "Restrict to datasets: PATTERN:ACCESS[+ACCESS], e.g. 'cpu-*:read+write'; "
                     "repeatable");
  create->add_option("--tenant", o->tenant,
                     "Limit to one tenant's datasets (<tenant>__<name>; docs/api.md Tenants)");
  create->add_option("--expires-in", o->expires_in, "Lifetime, e.g. 30d");
  create->add_option("--expires-at", o->expires_at, "Expiry as RFC 3339");
  create->add_option("--ingest-rows-per-second", o->ingest_rate, "Rate limit (0: default)");
  create->add_option("--queries-per-second", o->query_rate, "Rate limit (0: default)");
  CLI::App* list = cmd->add_subcommand("list", "List tokens (never their secrets)");
  common(list);
  CLI::App* revoke = cmd->add_subcommand("revoke", "Revoke a token by id or name");
  common(revoke);
  revoke->add_option("id", o->id, "Token id or name")->required();

  auto run = [o, exit_code](std::string_view what) {
    auto fail = [exit_code](std::string_view message) {
      std::cerr << "timestore token: " << message << "\n";
      *exit_code = 1;
    };
    if (o->server.empty() == o->storage_root.empty()) {
      return fail("give exactly one of --server (a running server) or --storage-root");
    }
    const int64_t now = NowNanos();
    std::string body;
    if (what == "create") {
      auth::TokenInfo t;
      t.name = o->name;
      t.scopes = o->scopes;
      if (!o->datasets.empty()) {
        t.datasets.emplace();
        for (const auto& d : o->datasets) {
          auto g = ParseGrantFlag(d);
          if (!g.ok()) return fail(ToStd(g.status().message()));
          t.datasets->push_back(*g);
        }
      }
      t.limits.ingest_rows_per_second = o->ingest_rate;
      t.limits.queries_per_second = o->query_rate;
      if (!o->tenant.empty()) t.tenant = o->tenant;
      body = auth::TokenRequestJson(t);
      // Expiry goes through the same parser as the API's.
      if (!o->expires_in.empty() || !o->expires_at.empty()) {
        body.pop_back();
        body += o->expires_in.empty() ? StrCat(",\"expiresAt\":\"", o->expires_at, "\"}")
                                      : StrCat(",\"expiresIn\":\"", o->expires_in, "\"}");
      }
    }
    if (!o->server.empty()) {
      tiering::HttpClient client;
      tiering::HttpRequest req;
      req.url = o->server + "/admin/tokens";
      if (what == "create") req.method = "POST", req.body = body;
      if (what == "revoke") req.method = "DELETE", req.url += "/" + o->id;
      if (!o->token.empty()) req.headers.emplace_back("Authorization", "Bearer " + o->token);
      req.headers.emplace_back("Content-Type", "application/json");
      auto resp = client.Perform(req, tiering::HttpClient::Clock::now() + std::chrono::seconds(30));
      if (resp.status == 0) return fail(StrCat("cannot reach ", o->server, ": ", resp.error));
      std::cout << resp.body << "\n";
      if (resp.status >= 300) *exit_code = 1;
      return;
    }
    const std::string dir = JoinPath(o->storage_root, "auth");
    auto lock = AuthRootLock::Acquire(dir);
    if (!lock.ok()) {
      return fail(StrCat(ToStd(lock.status().message()),
                         "; while a server runs, use --server URL with an admin --token"));
    }
    auto store = auth::TokenStore::Open(dir);
    if (!store.ok()) return fail(ToStd(store.status().message()));
    if (what == "create") {
      auto spec = auth::ParseTokenRequest(body, now);
      if (!spec.ok()) return fail(ToStd(spec.status().message()));
      auto created = (*store)->Create(*std::move(spec), now);
      if (!created.ok()) return fail(ToStd(created.status().message()));
      std::cout << "{\"token\":\"" << created->second
                << "\",\"info\":" << auth::TokenInfoJson(created->first, now) << "}\n";
    } else if (what == "list") {
      std::cout << "{\"tokens\":[";
      bool first = true;
      for (const auto& t : (*store)->List()) {
        std::cout << (first ? "" : ",") << auth::TokenInfoJson(t, now);
        first = false;
      }
      std::cout << "]}\n";
    } else {
      auto revoked = (*store)->Revoke(o->id);
      if (!revoked.ok()) return fail(ToStd(revoked.status().message()));
      std::cout << "{\"revoked\":" << auth::TokenInfoJson(*revoked, now) << "}\n";
    }
  };
  create->callback([run] { run("create"); });
  list->callback([run] { run("list"); });
  revoke->callback([run] { run("revoke"); });
}

}  // namespace timestore::tools
