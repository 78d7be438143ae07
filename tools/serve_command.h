// `timestore serve`: the server's configuration (TIMESTORE_* variables or
// --flags, bound in main.cc) and the run itself: recovery, the HTTP and
// PostgreSQL listeners, background work, connectors, and shutdown on a signal.
#pragma once

#include <cstdint>
#include <string>

#include "tools/auth_setup.h"
#include "tools/query_cache_config.h"
#include "tools/tiering_config.h"

namespace timestore::tools {

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
  TieringConfig tiering;
  AuthSettings auth;             // TIMESTORE_AUTH and friends (tools/auth_setup.h)
  QueryCacheConfig query_cache;  // TIMESTORE_QUERY_CACHE_* (tools/query_cache_config.h)
};

// Runs the server until SIGTERM or SIGINT; the process exit code.
int Serve(const ServeConfig& c);

}  // namespace timestore::tools
