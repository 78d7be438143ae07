// Per-tenant quotas on ingest (auth/tenant.h says what a tenant is):
// maxDatasets and maxBytes refuse with 507 quota_exceeded, the ingest rate
// with 429 quota_exceeded and Retry-After. Every ingest route asks Admit
// before it calls the engine, so nothing is stored on refusal. Also keeps
// the per-tenant figures of GET /admin/tenants and /metrics.
//
// Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "api/http_server.h"
#include "auth/rate_limiter.h"
#include "auth/tenant_store.h"
#include "common/strings.h"

namespace timestore {
class Engine;
}

namespace timestore::api {

// Server-wide quotas of tenants that set none (0: unlimited), from
// TIMESTORE_TENANT_DEFAULT_MAX_DATASETS, ..._MAX_BYTES (a byte size like
// "50GiB") and ..._MAX_INGEST_ROWS_PER_SECOND.
struct TenantQuotaDefaults {
  uint64_t max_datasets = 0;
  uint64_t max_bytes = 0;
  double max_ingest_rows_per_second = 0;
};
// InvalidArgument naming the variable when one is malformed.
absl::StatusOr<TenantQuotaDefaults> TenantDefaultsFromEnvironment();

// What a tenant stores now: datasets, rows (memory + sealed) and bytes
// (memory + hot segments on local disk + cold segments in object storage).
struct TenantUsage {
  uint64_t datasets = 0;
  uint64_t rows = 0;
  uint64_t memory_bytes = 0;
  uint64_t hot_bytes = 0;
  uint64_t cold_bytes = 0;
  uint64_t bytes() const { return memory_bytes + hot_bytes + cold_bytes; }
};

// The metrics label of refusals for tenants neither configured nor holding
// datasets (not a tenant id, so it never merges with one).
inline constexpr std::string_view kOtherTenantsLabel = "_other";

class TenantQuotas {
 public:
  TenantQuotas(std::unique_ptr<auth::TenantStore> store, TenantQuotaDefaults defaults);
  // Opens <root>/tenants.json with the defaults of the environment.
  static absl::StatusOr<std::shared_ptr<TenantQuotas>> Open(const std::string& root);

  auth::TenantStore& store() { return *store_; }
  const TenantQuotaDefaults& defaults() const { return defaults_; }

  // The quotas that apply to `tenant` (its settings, else the defaults);
  // 0 is unlimited.
  TenantQuotaDefaults Effective(std::string_view tenant) const;

  // Usage of every tenant that has datasets, computed now (and cached for
  // Admit).
  std::map<std::string, TenantUsage, std::less<>> ComputeUsage(const Engine& engine);

  // A claim on the datasets an admitted ingest creates, counted against
  // maxDatasets until it is released (destroyed) once the engine has
  // answered: two concurrent first writes cannot both take the last slot.
  class Reservation;

  // Admits an ingest of `writes` (dataset slug, rows) at `now_ns`, before
  // the engine sees it. nullopt: admitted, and `*reservation` holds the
  // datasets it creates. Otherwise the 507 or 429 answer, counted in the
  // rejection metrics. maxBytes is checked against usage at most a second
  // old (ComputeUsage and settings changes refresh it).
  std::optional<HttpResponse> Admit(const Engine& engine,
                                    const std::vector<std::pair<std::string, uint64_t>>& writes,
                                    int64_t now_ns, std::shared_ptr<Reservation>* reservation);

  // Counts rows stored into `slug` (after the engine accepted them).
  void RecordIngested(std::string_view slug, uint64_t rows, int64_t now_ns);
  // Rows stored per second over the last 10 s, and since start.
  double IngestRate(std::string_view tenant, int64_t now_ns) const;
  uint64_t RowsIngested(std::string_view tenant) const;
  // Refusals by quota name ("maxDatasets", ...); those of tenants neither
  // configured nor holding datasets count under kOtherTenantsLabel.
  std::map<std::string, uint64_t> Rejections(std::string_view tenant) const;
  // Drops the cached usage (after a settings change).
  void InvalidateUsage();

  // Appends the timestore_tenant_* families to a /metrics answer.
  void RenderMetrics(const Engine& engine, std::string* out);

 private:
  struct Counters {
    uint64_t rows_ingested = 0;
    std::map<std::string, uint64_t> rejections;
    // Rows per second over the last kRateWindow seconds: bucket i holds the
    // rows of the second seconds[i].
    std::array<uint64_t, 10> rows_by_second{};
    std::array<int64_t, 10> seconds{};
  };
  friend class Reservation;
  std::optional<HttpResponse> Refuse(const Engine& engine, std::string_view tenant,
                                     std::string_view quota, int status, std::string message,
                                     double limit, double usage, std::string_view dataset,
                                     int64_t retry_after);
  void Release(const std::vector<std::string>& slugs);

  const std::unique_ptr<auth::TenantStore> store_;
  const TenantQuotaDefaults defaults_;
  auth::RateLimiter limiter_;  // keyed by tenant id

  mutable std::mutex mu_;
  StringMap<int> pending_;                                 // guarded by mu_: slug -> claims
  std::map<std::string, TenantUsage, std::less<>> usage_;  // guarded by mu_
  int64_t usage_at_ns_ = 0;                                // guarded by mu_; 0: stale
  std::map<std::string, Counters, std::less<>> counters_;  // guarded by mu_
};

}  // namespace timestore::api
