// Tenants: namespaces of datasets. A dataset belongs to the tenant named by
// its slug's prefix before the first "__" (two underscores), when that prefix
// is a tenant id; every other dataset belongs to the tenant "default". The
// engine knows nothing of tenants: the tenant is read off the slug, so no
// manifest or WAL format carries it.
//
//   acme__cpu      -> tenant "acme", name "cpu"
//   cpu            -> tenant "default"
//   my_team__cpu   -> tenant "default" ("my_team" is not a tenant id)
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace timestore::auth {

inline constexpr std::string_view kDefaultTenant = "default";
inline constexpr std::string_view kTenantSeparator = "__";

// [a-z0-9][a-z0-9-]{0,31}: what may stand before "__" in a slug. Contains no
// "_", so a tenant id never holds the separator.
bool IsValidTenantId(std::string_view id);

// The tenant dataset `slug` belongs to (a view into `slug`, or kDefaultTenant).
std::string_view TenantOfSlug(std::string_view slug);

// A tenant's quotas. nullopt: the server default applies (which may be
// none); 0: unlimited, whatever the default says.
struct TenantLimits {
  std::optional<uint64_t> max_datasets;
  std::optional<uint64_t> max_bytes;
  std::optional<double> max_ingest_rows_per_second;
};

// Parses a byte size: digits with an optional suffix B, KB, MB, GB, TB
// (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024), case-insensitive.
// nullopt when malformed or beyond 2^64.
std::optional<uint64_t> ParseByteSize(std::string_view text);

}  // namespace timestore::auth
