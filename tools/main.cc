// The timestore binary. Every subcommand is a thin shell over the libraries.
//   timestore serve      run the server (TIMESTORE_* variables or --flags)
//   timestore wal-dump   print the records of write-ahead log files
//   timestore inspect    print the layout, codecs and statistics of segment files
//   timestore verify     check every file of a storage root, read-only
#include <signal.h>
#include <sys/resource.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>

#include "CLI/CLI.hpp"
#include "api/http_server.h"
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
#include "engine/manifest.h"
#include "engine/wal_payload.h"
#include "pgwire/server.h"
#include "segment/segment_inspect.h"
#include "segment/segment_reader.h"
#include "spdlog/spdlog.h"
#include "tools/auth_setup.h"
#include "tools/backup_command.h"
#include "tools/export_command.h"
#include "tools/migrate_command.h"
#include "tools/query_cache_config.h"
#include "tools/tenant_command.h"
#include "tools/tiering_config.h"
#include "tools/verify.h"
#include "wal/log_reader.h"
#include "wal/wal_writer.h"

#ifndef TIMESTORE_VERSION
#define TIMESTORE_VERSION "dev"
#endif

namespace timestore {
namespace {

using tools::ParseBytes;

struct ServeConfig {
  std::string host = "127.0.0.1";
  int port = 4100;
  std::string storage_root = "./data";
  std::string log_level = "info";
  std::string wal_sync = "always";
  int wal_sync_interval_ms = 100;
  std::string wal_max_file_bytes = "64MiB";
  std::string wal_recovery = "strict";
  std::string memtable_max_bytes = "2GiB";
  std::string max_body_bytes = "64MiB";
  std::string partition_interval = "1d";
  uint64_t seal_max_rows = 1'000'000;
  int64_t seal_max_age_ms = 600'000;
  std::string block_compression = "auto";
  std::string io_engine = "auto";
  uint64_t query_max_limit = 1'000'000;
  int query_threads = 0;
  std::string query_timeout = "5m";
  std::string query_max_memory = "4GiB";
  std::string decoded_cache_bytes = "1GiB";
  int http_threads = 0;
  std::string require_scope, write_scope, admin_scope;
  std::string port_file;
  std::string retention_default;  // empty: keep forever
  bool compaction_enabled = true;
  int compaction_concurrency = 1;
  std::string compaction_max_bytes_per_sec = "0";
  int compaction_min_segments = 4;
  std::string compaction_quiet = "5m";
  int compaction_interval_ms = 1000;
  std::string retention_check_interval = "1m";
  std::string crash_point;  // tests only
  // PostgreSQL wire protocol (docs/pgwire.md); port 0 leaves it off.
  std::string pg_host;  // empty: the HTTP host
  int pg_port = 0;
  int pg_max_connections = 100;
  std::string pg_auth;  // empty: scram-sha-256 with users, else trust
  std::string pg_users;
  // TLS for the HTTP port and pgwire (docs/api.md, "TLS"); off when empty.
  std::string tls_cert, tls_key, tls_client_ca;
  int64_t max_connections = 10'000;  // HTTP connections at once
  tools::TieringConfig tiering;
  tools::AuthSettings auth;             // TIMESTORE_AUTH and friends (tools/auth_setup.h)
  tools::QueryCacheConfig query_cache;  // TIMESTORE_QUERY_CACHE_* (tools/query_cache_config.h)
};

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

int WalDump(const std::vector<std::string>& paths, bool rows) {
  int rc = 0;
  for (const auto& path : paths) {
    auto log = wal::ReadLog(Env::Default(), path, wal::kWalMagic, wal::TailPolicy::kTruncate);
    if (!log.ok()) {
      std::cerr << log.status().message() << "\n";
      rc = 1;
      continue;
    }
    std::cout << path << ": " << log->records.size() << " records, " << log->valid_bytes
              << " valid bytes\n";
    for (const auto& r : log->records) {
      std::cout << "  seq " << r.seq << " offset " << r.offset << " type "
                << static_cast<int>(r.type) << " bytes " << r.payload.size();
      if (CarriesRows(r.type)) {
        auto batches = DecodeRowRecord(r.type, r.payload);
        if (!batches.ok()) {
          std::cout << " UNDECODABLE: " << batches.status().message();
          rc = 1;
        }
        for (const BatchRecord& b : batches.ok() ? *batches : std::vector<BatchRecord>{}) {
          std::cout << (batches->size() > 1 ? "\n   " : "") << " dataset "
                    << DatasetIdString(b.dataset_id) << " schema v" << b.schema_version << " rows "
                    << b.chunk->rows;
          if (b.chunk->rows)
            std::cout << " time " << FormatRfc3339(b.chunk->min_ts) << " .. "
                      << FormatRfc3339(b.chunk->max_ts);
          if (b.idempotency) std::cout << " idempotency-key \"" << b.idempotency->key << "\"";
        }
      }
      std::cout << "\n";
    }
    if (log->dropped_bytes) {
      std::cout << "  DAMAGED: " << log->dropped_bytes << " bytes unreadable: " << log->drop_reason
                << "\n";
      rc = 1;
    }
  }
  (void)rows;
  return rc;
}

// Exit 1 when a file cannot be opened or a block is damaged (after printing
// what could be read).
int Inspect(const std::vector<std::string>& paths, bool json) {
  int rc = 0;
  bool first = true;
  if (json && paths.size() > 1) std::cout << "[";
  for (const auto& path : paths) {
    auto reader = segment::SegmentReader::Open(Env::Default(), path);
    if (!reader.ok()) {
      std::cerr << "timestore inspect: " << reader.status().message() << "\n";
      rc = 1;
      continue;
    }
    segment::SegmentInspection r = segment::InspectSegment(
        **reader, json ? segment::InspectFormat::kJson : segment::InspectFormat::kText);
    if (json) {
      std::cout << (first ? "" : ",") << r.output;
    } else {
      std::cout << (first ? "" : "\n") << r.output;
    }
    first = false;
    if (r.damaged_blocks > 0) {
      std::cerr << "timestore inspect: " << r.damaged_blocks << " damaged block"
                << (r.damaged_blocks == 1 ? "" : "s") << ", the first: " << r.first_damage << "\n";
      rc = 1;
    }
  }
  if (json && paths.size() > 1) std::cout << "]";
  if (json) std::cout << "\n";
  return rc;
}

// Exit 0 when everything is intact, 1 when anything is corrupt, 2 when `root`
// is no storage root.
int Verify(const std::string& root, const tools::TieringConfig& tiering, bool deep) {
  // Remote segments are checked through the same targets the server uses:
  // the environment's and <root>/storage-targets.json (read-only).
  auto env_target = tools::EnvironmentTarget(tiering);
  if (!env_target.ok()) {
    std::cerr << "timestore verify: " << env_target.status().message() << "\n";
    return 2;
  }
  std::unique_ptr<tiering::StorageTargets> targets;
  if (Env::Default()->FileExists(root)) {
    auto t = tiering::StorageTargets::Open(Env::Default(), root, *env_target);
    if (!t.ok()) {
      std::cerr << "timestore verify: " << t.status().message() << "\n";
      return 2;
    }
    targets = *std::move(t);
  }
  tools::VerifyOptions options;
  options.targets = targets.get();
  options.deep = deep;
  auto report = tools::VerifyRoot(
      Env::Default(), root,
      [](const tools::VerifiedFile& f) { std::cout << tools::FormatVerifiedFile(f) << std::endl; },
      options);
  if (!report.ok()) {
    std::cerr << "timestore verify: " << report.status().message() << "\n";
    return 2;
  }
  std::cout << tools::FormatVerifySummary(*report) << "\n";
  return report->ok() ? 0 : 1;
}

}  // namespace
}  // namespace timestore

int main(int argc, char** argv) {
  using timestore::ServeConfig;
  CLI::App app{"Timestore: a time-series warehouse"};
  app.require_subcommand(1);
  app.set_version_flag("--version", TIMESTORE_VERSION);

  ServeConfig c;
  auto* serve = app.add_subcommand("serve", "Run the HTTP server");
  serve->add_option("--host", c.host, "Listen address")->envname("TIMESTORE_HOST");
  serve->add_option("--port", c.port, "Listen port (0 = any free port)")->envname("TIMESTORE_PORT");
  serve->add_option("--storage-root", c.storage_root, "Storage directory")
      ->envname("TIMESTORE_STORAGE_ROOT");
  serve
      ->add_option("--log-level", c.log_level,
                   "trace|debug|info|warn|warning|error|fatal|critical|off|silent")
      ->envname("TIMESTORE_LOG_LEVEL");
  serve->add_option("--wal-sync", c.wal_sync, "always|batch|none")->envname("TIMESTORE_WAL_SYNC");
  serve->add_option("--wal-sync-interval-ms", c.wal_sync_interval_ms, "fsync period in batch mode")
      ->envname("TIMESTORE_WAL_SYNC_INTERVAL_MS");
  serve->add_option("--wal-max-file-bytes", c.wal_max_file_bytes, "WAL file rotation size")
      ->envname("TIMESTORE_WAL_MAX_FILE_BYTES");
  serve
      ->add_option("--wal-recovery", c.wal_recovery,
                   "strict (refuse mid-file corruption) | truncate (drop from the bad record)")
      ->envname("TIMESTORE_WAL_RECOVERY");
  serve
      ->add_option("--memtable-max-bytes", c.memtable_max_bytes,
                   "In-memory segment budget; ingest answers 503 beyond it")
      ->envname("TIMESTORE_MEMTABLE_MAX_BYTES");
  serve->add_option("--max-body-bytes", c.max_body_bytes, "Largest request body (413 beyond)")
      ->envname("TIMESTORE_MAX_BODY_BYTES");
  serve
      ->add_option("--partition-interval", c.partition_interval,
                   "Default partition interval of new datasets")
      ->envname("TIMESTORE_PARTITION_INTERVAL");
  serve
      ->add_option("--seal-max-rows", c.seal_max_rows,
                   "Seal an in-memory segment into files at this many rows")
      ->envname("TIMESTORE_SEAL_MAX_ROWS");
  serve
      ->add_option("--seal-max-age-ms", c.seal_max_age_ms,
                   "Seal an in-memory segment once its oldest row is this old")
      ->envname("TIMESTORE_SEAL_MAX_AGE_MS");
  serve
      ->add_option("--block-compression", c.block_compression,
                   "Segment block compression: auto|lz4|zstd|none")
      ->envname("TIMESTORE_BLOCK_COMPRESSION");
  serve
      ->add_option("--io-engine", c.io_engine,
                   "File I/O: auto (io_uring when the kernel allows it), io_uring, posix")
      ->envname("TIMESTORE_IO_ENGINE");
  serve->add_option("--query-max-limit", c.query_max_limit, "Largest query limit")
      ->envname("TIMESTORE_QUERY_MAX_LIMIT");
  serve
      ->add_option("--query-threads", c.query_threads,
                   "Threads that decode and aggregate one query's blocks (0 = cores)")
      ->envname("TIMESTORE_QUERY_THREADS");
  serve
      ->add_option("--query-timeout", c.query_timeout,
                   "A query running longer is stopped with 504 query_timeout (0 = never)")
      ->envname("TIMESTORE_QUERY_TIMEOUT");
  serve
      ->add_option("--query-max-memory", c.query_max_memory,
                   "Memory one query may hold; beyond it 400 query_memory_limit (0 = no limit)")
      ->envname("TIMESTORE_QUERY_MAX_MEMORY");
  serve
      ->add_option("--decoded-cache-bytes", c.decoded_cache_bytes,
                   "Decoded columns of local blocks kept in memory for later queries (0 = off)")
      ->envname("TIMESTORE_DECODED_CACHE_BYTES");
  serve->add_option("--http-threads", c.http_threads, "HTTP I/O threads (0 = cores)")
      ->envname("TIMESTORE_HTTP_THREADS");
  serve->add_option("--require-scope", c.require_scope, "Scope needed for queries")
      ->envname("TIMESTORE_REQUIRE_SCOPE");
  serve->add_option("--require-write-scope", c.write_scope, "Scope needed for ingest")
      ->envname("TIMESTORE_REQUIRE_WRITE_SCOPE");
  serve->add_option("--admin-scope", c.admin_scope, "Scope needed for /admin")
      ->envname("TIMESTORE_ADMIN_SCOPE");
  serve->add_option("--port-file", c.port_file, "Write the bound port to this file (for tests)");
  serve
      ->add_option("--retention-default", c.retention_default,
                   "deleteAfter of datasets without their own (e.g. 30d; empty = keep forever)")
      ->envname("TIMESTORE_RETENTION_DEFAULT");
  serve
      ->add_option("--retention-check-interval", c.retention_check_interval,
                   "How often retention is enforced in the background")
      ->envname("TIMESTORE_RETENTION_CHECK_INTERVAL");
  serve->add_option("--compaction-enabled", c.compaction_enabled, "Background compaction")
      ->envname("TIMESTORE_COMPACTION_ENABLED");
  serve->add_option("--compaction-concurrency", c.compaction_concurrency, "Compaction threads")
      ->envname("TIMESTORE_COMPACTION_CONCURRENCY");
  serve
      ->add_option("--compaction-max-bytes-per-sec", c.compaction_max_bytes_per_sec,
                   "Compaction I/O budget, read plus written (0 = unlimited)")
      ->envname("TIMESTORE_COMPACTION_MAX_BYTES_PER_SEC");
  serve
      ->add_option("--compaction-min-segments", c.compaction_min_segments,
                   "Segments of one size tier that trigger a merge")
      ->envname("TIMESTORE_COMPACTION_MIN_SEGMENTS");
  serve
      ->add_option("--compaction-quiet", c.compaction_quiet,
                   "A partition without new segments for this long is merged whole")
      ->envname("TIMESTORE_COMPACTION_QUIET");
  serve
      ->add_option("--compaction-interval-ms", c.compaction_interval_ms,
                   "How often the compaction threads look for work")
      ->envname("TIMESTORE_COMPACTION_INTERVAL_MS");
  serve->add_option("--pg-host", c.pg_host, "PostgreSQL protocol listen address (default: --host)")
      ->envname("TIMESTORE_PG_HOST");
  serve->add_option("--pg-port", c.pg_port, "PostgreSQL protocol port (0 = off)")
      ->envname("TIMESTORE_PG_PORT");
  serve
      ->add_option("--pg-max-connections", c.pg_max_connections,
                   "PostgreSQL sessions at once; more are refused with 53300")
      ->envname("TIMESTORE_PG_MAX_CONNECTIONS");
  serve
      ->add_option("--pg-auth", c.pg_auth,
                   "trust|password|md5|scram-sha-256 (default: scram-sha-256 with users, else "
                   "trust)")
      ->envname("TIMESTORE_PG_AUTH");
  serve
      ->add_option("--pg-users", c.pg_users,
                   "name:password[:scope+scope],... (prefer the variable: flags show in ps)")
      ->envname("TIMESTORE_PG_USERS");
  serve->add_option("--tls-cert", c.tls_cert, "PEM certificate (and chain): the ports speak TLS")
      ->envname("TIMESTORE_TLS_CERT");
  serve->add_option("--tls-key", c.tls_key, "PEM private key of --tls-cert")
      ->envname("TIMESTORE_TLS_KEY");
  serve
      ->add_option("--tls-client-ca", c.tls_client_ca,
                   "PEM CA certificates: clients must present a certificate they signed (mTLS)")
      ->envname("TIMESTORE_TLS_CLIENT_CA");
  serve
      ->add_option("--max-connections", c.max_connections,
                   "HTTP connections at once; more get 503 (admin routes have a reserve of 32)")
      ->envname("TIMESTORE_MAX_CONNECTIONS");
  serve->add_option("--test-crash-point", c.crash_point, "Tests only: SIGKILL at this point")
      ->envname("TIMESTORE_TEST_CRASH_POINT");
  timestore::tools::AddTieringOptions(serve, &c.tiering);
  timestore::tools::AddAuthOptions(serve, &c.auth);
  timestore::tools::AddQueryCacheOptions(serve, &c.query_cache);
  int token_exit = 0;
  timestore::tools::AddTokenCommand(&app, &token_exit);
  timestore::tools::AddExportCommand(&app, &token_exit);
  timestore::tools::AddBackupCommands(&app, &token_exit);
  timestore::tools::AddMigrateCommand(&app, &token_exit);
  timestore::tools::AddTenantCommand(&app, &token_exit);

  std::vector<std::string> wal_paths;
  auto* dump = app.add_subcommand("wal-dump", "Print the records of write-ahead log files");
  dump->add_option("files", wal_paths, "WAL files")->required();

  std::vector<std::string> segment_paths;
  bool inspect_json = false;
  auto* inspect = app.add_subcommand("inspect",
                                     "Print the layout, codecs and statistics of "
                                     "segment files (.tseg)");
  inspect->add_option("files", segment_paths, "Segment files")->required();
  inspect->add_flag("--json", inspect_json, "One JSON object per file (an array for several)");

  std::string verify_root;
  auto* verify =
      app.add_subcommand("verify",
                         "Check a storage root without changing it: manifest, every segment block, "
                         "every WAL record; exit 1 naming what is corrupt");
  verify->add_option("root", verify_root, "Storage root")->required();
  bool verify_deep = false;
  verify->add_flag("--deep", verify_deep,
                   "Read every block of every remote segment (default: size and footer)");
  timestore::tools::TieringConfig verify_tiering;
  timestore::tools::AddTieringOptions(verify, &verify_tiering);

  CLI11_PARSE(app, argc, argv);
  if (c.write_scope.empty()) {
    if (const char* w = std::getenv("TIMESTORE_WRITE_SCOPE")) c.write_scope = w;
  }
  if (*serve) return timestore::Serve(c);
  if (*dump) return timestore::WalDump(wal_paths, true);
  if (*inspect) return timestore::Inspect(segment_paths, inspect_json);
  if (*verify) return timestore::Verify(verify_root, verify_tiering, verify_deep);
  return token_exit;
}
