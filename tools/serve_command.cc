#include "tools/serve_command.h"

#include <signal.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>

#include "api/http_server.h"
#include "api/route_helpers.h"
#include "api/service.h"
#include "api/tenant_quotas.h"
#include "auth/access.h"
#include "common/crash_point.h"
#include "common/env.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "common/tls_context.h"
#include "common/uring_env.h"
#include "compaction/compactor.h"
#include "connectors/connector_manager.h"
#include "engine/engine.h"
#include "pgwire/server.h"
#include "spdlog/spdlog.h"

#ifndef TIMESTORE_VERSION
#define TIMESTORE_VERSION "dev"
#endif

namespace timestore::tools {
namespace {

// Each connection is a file descriptor: lifts the soft limit toward the
// hard one (the default soft limit, often 1024, is below the default
// TIMESTORE_MAX_CONNECTIONS).
void RaiseFileLimit(int64_t connections) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    const rlim_t old = limit.rlim_cur;
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) limit.rlim_cur = old;
  }
  // Room for the storage files besides the connections.
  const rlim_t wanted = static_cast<rlim_t>(connections) + 1024;
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < wanted) {
    spdlog::warn(
        "the open-file limit ({}) is below TIMESTORE_MAX_CONNECTIONS plus room for "
        "files ({}): accept may fail with EMFILE before the limit is reached",
        limit.rlim_cur, wanted);
  }
}

// The names operators use for log levels, mapped onto spdlog's; nullopt for
// anything else (spdlog itself would silently turn logging off).
std::optional<spdlog::level::level_enum> ParseLogLevel(std::string name) {
  for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  using L = spdlog::level::level_enum;
  static const std::pair<const char*, L> kNames[] = {
      {"trace", L::trace},       {"debug", L::debug}, {"info", L::info},  {"warn", L::warn},
      {"warning", L::warn},      {"error", L::err},   {"err", L::err},    {"fatal", L::critical},
      {"critical", L::critical}, {"off", L::off},     {"silent", L::off}, {"none", L::off}};
  for (const auto& [n, level] : kNames)
    if (name == n) return level;
  return std::nullopt;
}

}  // namespace

int Serve(const ServeConfig& c) {
  auto level = ParseLogLevel(c.log_level);
  if (!level) {
    std::cerr << "TIMESTORE_LOG_LEVEL \"" << c.log_level
              << "\" is not one of trace, debug, info, warn (warning), error (err), fatal "
                 "(critical), off (silent, none)\n";
    return 2;
  }
  spdlog::set_level(*level);
  EngineOptions eo;
  eo.root = c.storage_root;
  if (c.wal_sync == "always") {
    eo.wal_sync = wal::SyncMode::kAlways;
  } else if (c.wal_sync == "batch") {
    eo.wal_sync = wal::SyncMode::kBatch;
  } else if (c.wal_sync == "none") {
    eo.wal_sync = wal::SyncMode::kNone;
  } else {
    std::cerr << "TIMESTORE_WAL_SYNC must be always, batch or none\n";
    return 2;
  }
  eo.wal_sync_interval_ms = c.wal_sync_interval_ms;
  if (!ParseBytes(c.wal_max_file_bytes, &eo.wal_max_file_bytes) ||
      !ParseBytes(c.memtable_max_bytes, &eo.memtable_max_bytes)) {
    std::cerr << "byte sizes are numbers with an optional KiB/MiB/GiB suffix\n";
    return 2;
  }
  eo.query_threads = c.query_threads;
  if (!ParseBytes(c.decoded_cache_bytes, &eo.decoded_cache_bytes)) {
    std::cerr << "TIMESTORE_DECODED_CACHE_BYTES must be a byte size such as 1GiB (0: off)\n";
    return 2;
  }
  if (!ParseBytes(c.query_max_memory, &eo.query_max_memory)) {
    std::cerr << "TIMESTORE_QUERY_MAX_MEMORY must be a byte size such as 4GiB (0: no limit)\n";
    return 2;
  }
  if (c.query_timeout != "0") {
    auto d = ParseDurationNanos(c.query_timeout);
    if (!d.ok() || *d <= 0) {
      std::cerr << "TIMESTORE_QUERY_TIMEOUT must be a duration such as 30s or 5m (0: none)\n";
      return 2;
    }
    eo.query_timeout = std::chrono::nanoseconds(*d);
  }
  if (auto d = ParseDurationNanos(c.partition_interval); d.ok()) {
    eo.partition_interval_ns = *d;
  } else {
    std::cerr << "TIMESTORE_PARTITION_INTERVAL must be a duration such as 1d or 6h\n";
    return 2;
  }
  eo.seal_max_rows = c.seal_max_rows;
  eo.seal_max_age_ms = c.seal_max_age_ms;
  if (c.block_compression == "auto") {
    eo.segment_options.compression = segment::CompressionPolicy::kAuto;
  } else if (c.block_compression == "lz4") {
    eo.segment_options.compression = segment::CompressionPolicy::kLz4;
  } else if (c.block_compression == "zstd") {
    eo.segment_options.compression = segment::CompressionPolicy::kZstd;
  } else if (c.block_compression == "none") {
    eo.segment_options.compression = segment::CompressionPolicy::kNone;
  } else {
    std::cerr << "TIMESTORE_BLOCK_COMPRESSION must be auto, lz4, zstd or none\n";
    return 2;
  }
  if (!c.retention_default.empty()) {
    auto d = ParseDurationNanos(c.retention_default);
    if (!d.ok() || *d <= 0) {
      std::cerr << "TIMESTORE_RETENTION_DEFAULT must be a positive duration such as 30d\n";
      return 2;
    }
    eo.retention_default_ns = *d;
  }
  compaction::CompactionOptions co;
  co.enabled = c.compaction_enabled;
  co.concurrency = c.compaction_concurrency;
  co.min_segments = c.compaction_min_segments;
  co.interval_ms = c.compaction_interval_ms;
  auto quiet = ParseDurationNanos(c.compaction_quiet);
  auto retention_every = ParseDurationNanos(c.retention_check_interval);
  if (!ParseBytes(c.compaction_max_bytes_per_sec, &co.max_bytes_per_sec) || !quiet.ok() ||
      !retention_every.ok() || *retention_every <= 0 || co.concurrency < 1 || co.min_segments < 2 ||
      co.interval_ms < 1) {
    std::cerr << "TIMESTORE_COMPACTION_*: CONCURRENCY >= 1, MIN_SEGMENTS >= 2, INTERVAL_MS >= 1, "
                 "MAX_BYTES_PER_SEC a byte size (0 = unlimited), QUIET and "
                 "TIMESTORE_RETENTION_CHECK_INTERVAL durations\n";
    return 2;
  }
  co.quiet_ns = *quiet;
  co.retention_interval_ms = *retention_every / 1'000'000;
  compaction::TieringOptions to;
  to.min_segment_age_ns = co.quiet_ns;  // late rows: compaction merges them before they move
  if (auto s = tools::ApplyTieringConfig(c.tiering, &eo, &to); !s.ok()) {
    std::cerr << s.message() << "\n";
    return 2;
  }
  auto env_target = tools::EnvironmentTarget(c.tiering);
  if (!env_target.ok()) {
    std::cerr << env_target.status().message() << "\n";
    return 2;
  }
  SetCrashPoint(c.crash_point);
  if (c.wal_recovery == "truncate") {
    eo.wal_recovery = wal::TailPolicy::kTruncate;
  } else if (c.wal_recovery != "strict") {
    std::cerr << "TIMESTORE_WAL_RECOVERY must be strict or truncate\n";
    return 2;
  }

  api::ServiceOptions so;
  so.query_max_limit = c.query_max_limit;
  so.require_scope = c.require_scope;
  so.require_write_scope = c.write_scope;
  so.admin_scope = c.admin_scope.empty() ? c.require_scope : c.admin_scope;
  so.version = TIMESTORE_VERSION;
  so.local_price_per_gb_month = c.tiering.local_price_per_gb_month;
  auto query_cache =
      tools::ResolveQueryCacheConfig(c.query_cache, std::getenv("ENABLE_QUERY_CACHE"));
  if (!query_cache.ok()) {
    std::cerr << query_cache.status().message() << "\n";
    return 2;
  }
  so.query_cache = {query_cache->enabled, query_cache->max_bytes, query_cache->max_entries,
                    query_cache->max_entry_bytes};
  const std::string pg_listen_host = c.pg_host.empty() ? c.host : c.pg_host;
  auto resolved_auth =
      tools::ResolveAuth(c.auth, c.storage_root, c.host, pg_listen_host, c.pg_port > 0,
                         c.require_scope, c.write_scope, c.admin_scope);
  if (!resolved_auth.ok()) {
    std::cerr << resolved_auth.status().message() << "\n";
    return 2;
  }
  so.require_scope = resolved_auth->read_scope;
  so.require_write_scope = resolved_auth->write_scope;
  so.admin_scope = resolved_auth->admin_scope;
  so.authenticator = resolved_auth->authenticator;
  // Tenants and their quotas (<root>/tenants.json, TIMESTORE_TENANT_DEFAULT_*).
  auto tenants = api::TenantQuotas::Open(c.storage_root);
  if (!tenants.ok()) {
    std::cerr << tenants.status().message() << "\n";
    return 2;
  }
  so.tenants = *std::move(tenants);
  // File connectors (TIMESTORE_CONNECTORS_ENABLED; docs/connectors.md).
  auto connector_manager = connectors::ConnectorManager::FromEnvironment();
  if (!connector_manager.ok()) {
    std::cerr << connector_manager.status().message() << "\n";
    return 2;
  }
  (*connector_manager)->InstallHooks(&so);
  api::HttpServerOptions ho;
  ho.host = c.host;
  ho.port = static_cast<uint16_t>(c.port);
  ho.threads = c.http_threads;
  if (!ParseBytes(c.max_body_bytes, &ho.max_body_bytes)) {
    std::cerr << "TIMESTORE_MAX_BODY_BYTES must be a byte size\n";
    return 2;
  }
  so.max_body_bytes = ho.max_body_bytes;
  if (c.max_connections < 1) {
    std::cerr << "TIMESTORE_MAX_CONNECTIONS must be at least 1\n";
    return 2;
  }
  ho.max_connections = c.max_connections;
  RaiseFileLimit(ho.max_connections + ho.admin_reserve_connections);
  std::shared_ptr<TlsContext> tls;
  if (!c.tls_cert.empty() || !c.tls_key.empty() || !c.tls_client_ca.empty()) {
    if (c.tls_cert.empty() || c.tls_key.empty()) {
      std::cerr << "TLS needs both TIMESTORE_TLS_CERT and TIMESTORE_TLS_KEY (--tls-cert, "
                   "--tls-key); only "
                << (c.tls_cert.empty()
                        ? (c.tls_key.empty() ? "TIMESTORE_TLS_CLIENT_CA" : "TIMESTORE_TLS_KEY")
                        : "TIMESTORE_TLS_CERT")
                << " is set\n";
      return 2;
    }
    auto loaded = TlsContext::Load({c.tls_cert, c.tls_key, c.tls_client_ca});
    if (!loaded.ok()) {
      std::cerr << "cannot start TLS: " << loaded.status().message() << "\n";
      return 2;
    }
    tls = *std::move(loaded);
    spdlog::info("TLS on (1.2 and later{}): {}",
                 tls->requires_client_certificate() ? ", client certificates required" : "",
                 tls->Describe());
    if (!tls->warning().empty()) spdlog::warn("{}", tls->warning());
  }
  ho.tls = tls;
  ho.early_error = api::ServerErrorAnswer;
  api::Service service(so);

  // The PostgreSQL protocol: sessions get the engine once recovery is over
  // (before that they answer 57P03 for statements that need data).
  std::atomic<Engine*> pg_engine{nullptr};
  std::unique_ptr<pgwire::Server> pg_server;
  std::string pg_auth_name;
  if (c.pg_port < 0 || c.pg_port > 65535 || c.pg_max_connections < 1) {
    std::cerr << "TIMESTORE_PG_PORT must be 0..65535 and TIMESTORE_PG_MAX_CONNECTIONS >= 1\n";
    return 2;
  }
  if (c.pg_port > 0) {
    auto users = pgwire::ParsePgUsers(c.pg_users);
    if (!users.ok()) {
      std::cerr << users.status().message() << "\n";
      return 2;
    }
    auto pg_auth = pgwire::AuthConfig::Make(
        c.pg_auth, *std::move(users),
        resolved_auth->authenticator->mode() != auth::Mode::kNone ? resolved_auth->authenticator
                                                                  : nullptr);
    if (!pg_auth.ok()) {
      std::cerr << pg_auth.status().message() << "\n";
      return 2;
    }
    pgwire::ServerOptions po;
    po.host = c.pg_host.empty() ? c.host : c.pg_host;
    po.port = static_cast<uint16_t>(c.pg_port);
    po.max_connections = c.pg_max_connections;
    // One limit for the largest request, HTTP body or protocol message
    // (PostgreSQL's own ceiling is 1 GiB).
    po.max_message_bytes = static_cast<uint32_t>(std::min<uint64_t>(ho.max_body_bytes, 1ull << 30));
    po.auth = *pg_auth;
    po.tls = tls;
    po.on_auth_failure = [&service](std::string_view peer, std::string_view user,
                                    std::string_view why) {
      service.RecordAuthFailure(/*unauthenticated=*/true, std::nullopt, peer,
                                StrCat("pgwire login as \"", user.substr(0, 64), "\""), why);
    };
    pg_auth_name = std::string(pgwire::AuthMethodName((*pg_auth)->method()));
    const std::string server_version = StrCat("15.0 (Timestore ", TIMESTORE_VERSION, ")");
    pg_server = std::make_unique<pgwire::Server>(
        po,
        [&pg_engine, &c, server_version, read_scope = resolved_auth->read_scope,
         admin_scope = resolved_auth->admin_scope](
            sql::SessionOptions options) -> absl::StatusOr<std::unique_ptr<pgwire::SqlSession>> {
          options.require_scope = read_scope;
          if (options.principal != nullptr) {
            // A token's session: its dataset grants and each dataset's own
            // read scopes decide, as over HTTP.
            options.table_access =
                [&pg_engine, principal = options.principal, read_scope,
                 admin_scope](std::string_view table) -> std::optional<std::string> {
              std::vector<std::string> dataset_scopes;
              if (Engine* e = pg_engine.load(std::memory_order_acquire)) {
                if (auto ds = e->GetDataset(table)) dataset_scopes = ds->iam().read_scopes;
              }
              if (auto d = auth::CheckDatasetAccess(*principal, table, auth::kRead, dataset_scopes,
                                                    read_scope, admin_scope)) {
                return d->message;
              }
              return std::nullopt;
            };
          }
          options.max_rows = c.query_max_limit;
          options.server_version = server_version;
          options.engine_source = [&pg_engine] {
            return pg_engine.load(std::memory_order_acquire);
          };
          return pgwire::NewSqlSession(pg_engine.load(std::memory_order_acquire),
                                       std::move(options));
        });
  }

  api::HttpServer server(ho, [&service](api::HttpRequest&& req, api::Responder respond) {
    service.Handle(std::move(req), std::move(respond));
  });
  service.SetConnectionStats(&server);

  // Signals are handled by one thread with sigwait; block them everywhere first.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);  // reloads the TLS certificate (and is ignored without TLS)
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  if (auto s = server.Start(); !s.ok()) {
    spdlog::critical("cannot listen on {}:{}: {}", c.host, c.port, ToStd(s.message()));
    return 1;
  }
  spdlog::info("timestore {} listening on {}:{} (storage {}, auth {})", TIMESTORE_VERSION, c.host,
               server.port(), c.storage_root, auth::ModeName(resolved_auth->authenticator->mode()));
  if (!resolved_auth->bootstrap_path.empty()) {
    spdlog::info(
        "the bootstrap admin token is in {} (send it as \"Authorization: Bearer <token>\")",
        resolved_auth->bootstrap_path);
  }
  if (pg_server != nullptr) {
    if (auto s = pg_server->Start(); !s.ok()) {
      spdlog::critical("cannot serve the PostgreSQL protocol: {}", ToStd(s.message()));
      return 1;
    }
    spdlog::info("PostgreSQL protocol listening on {}:{} (authentication {})",
                 c.pg_host.empty() ? c.host : c.pg_host, pg_server->port(), pg_auth_name);
  }
  if (!c.port_file.empty()) {
    std::string tmp = c.port_file + ".tmp";
    if (FILE* f = std::fopen(tmp.c_str(), "w")) {
      std::fprintf(f, "%u\n", server.port());
      std::fclose(f);
      std::rename(tmp.c_str(), c.port_file.c_str());
    }
  }

  if (c.io_engine != "auto" && c.io_engine != "io_uring" && c.io_engine != "posix") {
    std::cerr << "TIMESTORE_IO_ENGINE must be auto, io_uring or posix\n";
    return 2;
  }
  std::string why;
  Env* env = ChooseEnv(c.io_engine != "posix", &why);
  if (c.io_engine == "io_uring" && env->Name() != "io_uring") {
    spdlog::critical("io_uring was required but is unavailable: {}", why);
    return 1;
  }
  spdlog::info("file I/O: {}", why);

  // Storage targets: the environment's default (if any) and those the admin
  // API created (<root>/storage-targets.json).
  if (auto s = env->CreateDirs(c.storage_root); !s.ok()) {
    spdlog::critical("cannot create the storage root {}: {}", c.storage_root, ToStd(s.message()));
    return 1;
  }
  auto targets = tiering::StorageTargets::Open(env, c.storage_root, *env_target);
  if (!targets.ok()) {
    spdlog::critical("storage targets: {}", ToStd(targets.status().message()));
    return 1;
  }
  eo.targets = targets->get();
  if (*env_target) {
    spdlog::info("cold partitions go to storage target {} ({}) by default", (*env_target)->id,
                 (*env_target)->Location());
  }

  // Recovery runs while /health answers and /ready says 503.
  std::unique_ptr<Engine> engine;
  std::unique_ptr<compaction::Compactor> compactor;
  std::unique_ptr<compaction::TierMover> mover;
  std::atomic<bool> failed{false};
  std::thread recovery([&] {
    auto opened = Engine::Open(env, eo);
    if (!opened.ok()) {
      spdlog::critical("recovery failed: {}", ToStd(opened.status().message()));
      failed = true;
      kill(getpid(), SIGTERM);
      return;
    }
    engine = std::move(*opened);
    const RecoveryReport& r = engine->recovery();
    spdlog::info("ready: replayed {} WAL records ({} rows) from {} files in {:.3f} s{}", r.records,
                 r.rows, r.wal_files, r.seconds,
                 r.dropped_bytes ? StrCat("; dropped torn tail: ", r.dropped_detail) : "");
    compactor = std::make_unique<compaction::Compactor>(engine.get(), co);
    compactor->Start();
    service.SetCompactor(compactor.get());
    mover = std::make_unique<compaction::TierMover>(engine.get(), to);
    mover->Start();
    service.SetTierMover(mover.get());
    service.SetEngine(engine.get());
    pg_engine.store(engine.get(), std::memory_order_release);
    (*connector_manager)->Start(engine.get());
  });

  int sig = 0;
  while (sigwait(&set, &sig) == 0 && sig == SIGHUP) {
    if (tls == nullptr) {
      spdlog::info("SIGHUP: no TLS configured, nothing to reload");
      continue;
    }
    // One context serves both ports: new handshakes on either take the new
    // certificate; connections already up keep theirs.
    if (auto s = tls->Reload(); !s.ok()) {
      spdlog::error("SIGHUP: TLS reload failed, keeping the current certificate: {}",
                    ToStd(s.message()));
      continue;
    }
    spdlog::info("SIGHUP: TLS certificate reloaded: {}", tls->Describe());
    if (!tls->warning().empty()) spdlog::warn("{}", tls->warning());
  }
  recovery.join();
  spdlog::info("signal {}: shutting down", sig);
  // Stop accepting, let in-flight requests finish (ingests wait for their
  // fsync), then make the log durable and exit.
  server.Stop(10'000);
  // PostgreSQL sessions: running statements are cancelled, clients told.
  if (pg_server != nullptr) pg_server->Stop();
  // The mover first: a move or sweep in progress stops at its next step
  // (the upload under way ends within the store's request timeout), and an
  // enforce-retention request waiting on it finishes.
  if (mover != nullptr) mover->Stop();
  (*connector_manager)->Stop();  // each finishes its batch in hand: rows durable, checkpointed
  service.Shutdown();
  if (compactor != nullptr) compactor->Stop();
  if (engine != nullptr) engine->Close();
  spdlog::info("stopped");
  return failed ? 1 : 0;
}

}  // namespace timestore::tools
