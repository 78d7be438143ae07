// The timestore binary. Every subcommand is a thin shell over the libraries.
//   timestore serve      run the server (TIMESTORE_* variables or --flags)
//   timestore wal-dump   print the records of write-ahead log files
//   timestore inspect    print the layout, codecs and statistics of segment files
//   timestore verify     check every file of a storage root, read-only

#include <cctype>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "CLI/CLI.hpp"
#include "common/env.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "engine/engine.h"
#include "engine/manifest.h"
#include "engine/wal_payload.h"
#include "segment/segment_inspect.h"
#include "segment/segment_reader.h"
#include "spdlog/spdlog.h"
#include "tools/auth_setup.h"
#include "tools/backup_command.h"
#include "tools/export_command.h"
#include "tools/migrate_command.h"
#include "tools/query_cache_config.h"
#include "tools/serve_command.h"
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
  using timestore::tools::ServeConfig;
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
  if (*serve) return timestore::tools::Serve(c);
  if (*dump) return timestore::WalDump(wal_paths, true);
  if (*inspect) return timestore::Inspect(segment_paths, inspect_json);
  if (*verify) return timestore::Verify(verify_root, verify_tiering, verify_deep);
  return token_exit;
}
