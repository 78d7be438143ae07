// The HTTP API of API.md: routing, scopes, readiness, and the handlers that
// turn requests into engine calls and engine answers into JSON. One place maps
// engine errors to HTTP statuses (StatusToResponse).
//
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "api/http_server.h"
#include "api/metrics.h"
#include "api/query_cache.h"
#include "auth/authenticator.h"
#include "auth/rate_limiter.h"
#include "common/json_writer.h"
#include "common/strings.h"
#include "compaction/compactor.h"
#include "compaction/tier_mover.h"
#include "engine/engine.h"
#include "transfer/jobs.h"

namespace timestore::api {

class TenantQuotas;  // api/tenant_quotas.h

struct ServiceOptions {
  uint64_t query_max_limit = 1'000'000;
  std::string require_scope;        // gates queries (and admin when admin_scope is empty)
  std::string require_write_scope;  // gates ingest
  std::string admin_scope;          // gates /admin
  // Authenticates every request but /health, /ready, /metrics and /ping
  // (auth/authenticator.h). Null: mode none, x-iam-scopes believed as sent.
  std::shared_ptr<auth::Authenticator> authenticator;
  std::string version = "0.0.0";
  int query_threads = 0;  // 0 = hardware concurrency + 2
  // Largest request body once decoded (gzip, snappy): 413 beyond it, as for
  // the body on the wire (HttpServerOptions::max_body_bytes).
  uint64_t max_body_bytes = 64ull << 20;
  // USD per GB-month of local disk, for the storage cost estimates of the
  // dataset detail (object-store prices are per target).
  double local_price_per_gb_month = 0.08;
  // Parts of /status and /metrics from components above the API (the file
  // connectors, connectors/connector_manager.h): members written into the
  // /status object, and Prometheus text appended to /metrics. Called per
  // request, from any thread; empty: none.
  std::function<void(JsonWriter&)> extra_status;
  std::function<void(std::string*)> extra_metrics;
  // Tenants' settings and quotas (<root>/tenants.json, api/tenant_quotas.h),
  // opened by the server at start so a bad file stops it; null: opened from
  // the engine's root on first use.
  std::shared_ptr<TenantQuotas> tenants;
  // The query result cache (TIMESTORE_QUERY_CACHE_*, api/query_cache.h).
  QueryCacheOptions query_cache;
};

// Maps an engine/parser status to the JSON error response of API.md.
HttpResponse StatusToResponse(const absl::Status& status);

class Service {
 public:
  explicit Service(ServiceOptions options);
  ~Service();

  // Called once recovery has finished; until then data routes answer 503.
  void SetEngine(Engine* engine) { engine_.store(engine, std::memory_order_release); }
  // Set before SetEngine; serves /compact, /enforce-retention and metrics.
  void SetCompactor(compaction::Compactor* c) { compactor_.store(c, std::memory_order_release); }
  // Set before SetEngine when tiering runs; serves /enforce-retention and metrics.
  void SetTierMover(compaction::TierMover* m) { tier_mover_.store(m, std::memory_order_release); }
  void Handle(HttpRequest&& request, Responder respond);
  // Waits for queued queries to finish.
  void Shutdown();

  Metrics& metrics() { return metrics_; }
  QueryCache& query_cache() { return query_cache_; }

  // Counts a refused request or login (401 when `unauthenticated`, else 403)
  // and audits it as auth.failure with the source "ip:port", the request and
  // the reason; at most one event per source address every 10 s, the next
  // one saying how many were left out. Thread-safe.
  void RecordAuthFailure(bool unauthenticated, std::optional<std::string> actor,
                         std::string_view peer, std::string_view request, std::string_view reason);

  // Adds the HTTP server's connection figures to /metrics (set once, before
  // requests arrive).
  void SetConnectionStats(const HttpServer* server) { http_server_ = server; }

 private:
  void HandleIngest(HttpRequest&& req, std::string slug, Responder respond);
  void HandleQuery(HttpRequest&& req, std::string slug, Responder respond);
  // InfluxDB line protocol, in api/influx_routes.cc: /write (v1), /api/v2/write,
  // /ping.
  void HandleInfluxWrite(HttpRequest&& req, bool v2, Responder respond);
  // /query: CREATE DATABASE (which Telegraf sends first) succeeds, as datasets
  // are created by their first write; any other InfluxQL is refused.
  void HandleInfluxQuery(HttpRequest&& req, Responder respond);
  // Prometheus remote write and read, in api/prometheus_routes.cc:
  // /api/v1/write, /api/v1/read.
  void HandlePromWrite(HttpRequest&& req, Responder respond);
  void HandlePromRead(HttpRequest&& req, Responder respond);
  // OTLP/HTTP logs and traces, in api/otlp_routes.cc: /v1/logs, /v1/traces.
  void HandleOtlp(HttpRequest&& req, bool traces, Responder respond);
  // POST /sql, in api/sql_routes.cc.
  void HandleSql(HttpRequest&& req, Responder respond);
  HttpResponse HandleStatus(const HttpRequest& req, Engine* engine);
  // 429 with Retry-After when the caller's token is over its rate of ingest
  // rows (`ingest`, `cost` rows) or queries (`cost` 1).
  std::optional<HttpResponse> Throttle(const HttpRequest& req, bool ingest, double cost);
  // Runs `task` on the query pool: work that must not hold an I/O thread.
  void RunOnPool(std::function<void()> task);
  // Runs `task` on the admin pool: seals, merges, uploads, store checks.
  void RunOnAdminPool(std::function<void()> task);

  // Administration, in api/admin_routes.cc. To add a route: a row in the
  // table of AdminRoutes() and a handler here.
  struct AdminCall;
  struct AdminRoute;
  static const std::vector<AdminRoute>& AdminRoutes();
  void HandleAdmin(HttpRequest&& req, Responder respond);
  void AdminListDatasets(AdminCall& call);
  void AdminManifest(AdminCall& call);
  void AdminPutSettings(AdminCall& call);
  void AdminFlush(AdminCall& call);
  // Storage targets, in api/admin_storage_routes.cc.
  void AdminStorageTargets(AdminCall& call);
  void AdminGetStorageTarget(AdminCall& call);
  void AdminPutStorageTargetConfig(AdminCall& call);
  void AdminDeleteStorageTarget(AdminCall& call);
  void AdminPutStorageTarget(AdminCall& call);
  void AdminAudit(AdminCall& call);
  // API tokens, in api/admin_token_routes.cc.
  void AdminCreateToken(AdminCall& call);
  void AdminListTokens(AdminCall& call);
  void AdminRevokeToken(AdminCall& call);
  // api/admin_backup_routes.cc: backups, restores and the job list.
  void AdminBackup(AdminCall& call);
  void AdminListBackups(AdminCall& call);
  void AdminRestore(AdminCall& call);
  void AdminListJobs(AdminCall& call);
  void AdminGetJob(AdminCall& call);
  // api/admin_export_routes.cc: Parquet exports (transfer/export.h).
  void AdminExport(AdminCall& call);
  void AdminListExports(AdminCall& call);
  void AdminGetExport(AdminCall& call);
  // api/admin_migration_routes.cc: schema migrations (migrate/migrator.h).
  void AdminMigrate(AdminCall& call);
  // api/admin_tenant_routes.cc: tenants, their quotas and usage.
  void AdminListTenants(AdminCall& call);
  void AdminGetTenant(AdminCall& call);
  void AdminPutTenant(AdminCall& call);
  void AdminDeleteTenant(AdminCall& call);
  // The tenant quotas (opening them from `engine`'s root the first time when
  // ServiceOptions::tenants is null), or the error that file gave.
  absl::StatusOr<TenantQuotas*> Tenants(Engine* engine);
  // The 507/429 quota_exceeded answer when an ingest of `writes` (slug,
  // rows) is over a tenant quota, else nullopt with `*claim` holding the
  // datasets it creates until the engine answers (api/tenant_quotas.h).
  std::optional<HttpResponse> AdmitTenantIngest(
      Engine* engine, const std::vector<std::pair<std::string, uint64_t>>& writes,
      std::shared_ptr<void>* claim);
  // Counts rows stored for the tenant metrics.
  void RecordTenantIngest(std::string_view slug, uint64_t rows);
  void AdminDatasetDetail(AdminCall& call);
  void AdminDeleteDataset(AdminCall& call);
  void AdminGetRetention(AdminCall& call);
  void AdminPutRetention(AdminCall& call);
  void AdminCompact(AdminCall& call);
  void AdminEnforceRetention(AdminCall& call);

  ServiceOptions options_;
  std::atomic<Engine*> engine_{nullptr};
  // Background admin jobs (exports, backups, restores); stopped by Shutdown.
  transfer::JobRegistry jobs_;
  std::atomic<compaction::Compactor*> compactor_{nullptr};
  std::atomic<compaction::TierMover*> tier_mover_{nullptr};
  Metrics metrics_;
  QueryCache query_cache_{options_.query_cache};
  auth::RateLimiter limiter_;
  std::mutex tenants_mu_;
  std::shared_ptr<TenantQuotas> tenants_;  // guarded by tenants_mu_ until set
  // tenants_.get() once set: every ingest request reads it without the lock.
  std::atomic<TenantQuotas*> tenants_ready_{nullptr};
  const HttpServer* http_server_ = nullptr;
  struct AuthAuditSource {
    int64_t last_ns = 0;
    uint64_t suppressed = 0;
  };
  std::mutex auth_audit_mu_;
  StringMap<AuthAuditSource> auth_audit_sources_;  // guarded by auth_audit_mu_
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  struct Pool;
  std::unique_ptr<Pool> pool_;
  std::unique_ptr<Pool> admin_pool_;
};

}  // namespace timestore::api
