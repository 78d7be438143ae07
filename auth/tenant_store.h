// Tenants' settings (display name, quotas), configured through
// PUT /admin/tenants/{tenant} and kept at <root>/tenants.json (mode 0600,
// written atomically). A tenant need not be configured to exist: a dataset
// named "<tenant>__<name>" makes it, and the server-wide default quotas
// (TIMESTORE_TENANT_DEFAULT_*) apply to it until it is.
//
// File format (UTF-8 JSON):
//   {"version":1,"tenants":[{"tenant":"acme","displayName":"Acme Corp",
//     "maxDatasets":10,"maxBytes":53687091200,"maxIngestRowsPerSecond":null,
//     "createdAt":"2026-12-03T10:00:00Z","updatedAt":"2026-12-03T10:00:00Z"}]}
// A null quota is the server default; 0 is unlimited.
//
// Thread-safe. The server loads the file once at start and rewrites it from
// memory on each change.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "auth/tenant.h"
#include "common/json_writer.h"

namespace timestore::auth {

struct TenantConfig {
  std::string id;
  std::string display_name;
  TenantLimits limits;
  int64_t created_ns = 0;
  int64_t updated_ns = 0;
};

// Reads the body of PUT /admin/tenants/{id}: {"displayName", "maxDatasets",
// "maxBytes" (a number or "50GiB"), "maxIngestRowsPerSecond"}; absent members
// are null. Errors are InvalidArgument tagged invalid_request naming the
// member in details.field (invalid_json for a body that is not JSON).
absl::StatusOr<TenantConfig> ParseTenantRequest(std::string_view id, std::string_view json);

// The members of a tenant's settings: "tenant", "displayName", the three
// quotas (null when unset), "createdAt" and "updatedAt" (null when never
// configured).
void WriteTenantMembers(JsonWriter& w, const TenantConfig& t, bool configured);

class TenantStore {
 public:
  // Loads <dir>/tenants.json; a missing file is an empty store. A file that
  // does not parse is DataLoss naming it: the server refuses to start rather
  // than run without the quotas it was given.
  static absl::StatusOr<std::unique_ptr<TenantStore>> Open(std::string dir);

  // Creates or replaces tenant `t.id`'s settings (keeping its createdAt) and
  // saves the file. Returns the stored settings and whether the tenant was
  // new. On a save error nothing changes.
  absl::StatusOr<std::pair<TenantConfig, bool>> Put(TenantConfig t, int64_t now_ns);
  std::optional<TenantConfig> Get(std::string_view id) const;
  // Ordered by id.
  std::vector<TenantConfig> List() const;
  // Removes tenant `id`'s settings and saves the file. NotFound (not_found)
  // when it has none.
  absl::StatusOr<TenantConfig> Remove(std::string_view id);

  const std::string& path() const { return path_; }
  // Whether some tenant sets a quota above 0; without the lock (the ingest
  // path skips its checks when neither these nor the defaults limit).
  bool AnyLimits() const { return any_limits_.load(std::memory_order_acquire); }

 private:
  explicit TenantStore(std::string path) : path_(std::move(path)) {}
  absl::Status Load();
  absl::Status SaveLocked() const;
  void UpdateAnyLimitsLocked();

  const std::string path_;
  mutable std::mutex mu_;
  std::vector<TenantConfig> tenants_;    // guarded by mu_; ordered by id
  std::atomic<bool> any_limits_{false};  // written under mu_
};

}  // namespace timestore::auth
