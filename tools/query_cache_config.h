// The query result cache settings of `timestore serve` (api/query_cache.h):
// TIMESTORE_QUERY_CACHE_* variables and flags, with Timefusion's
// ENABLE_QUERY_CACHE accepted for the on/off switch.
#pragma once

#include <cstdint>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"

namespace timestore::tools {

struct QueryCacheConfig {
  std::string enabled;  // empty: not given (then ENABLE_QUERY_CACHE, else on)
  std::string max_bytes = "64MiB";
  uint64_t max_entries = 1024;
  std::string max_entry_bytes = "8MiB";
};

// What the service takes (api::QueryCacheOptions).
struct QueryCacheSettings {
  bool enabled = true;
  uint64_t max_bytes = 0, max_entries = 0, max_entry_bytes = 0;
};

// Adds the flags (and their TIMESTORE_QUERY_CACHE_* variables) to `cmd`.
void AddQueryCacheOptions(CLI::App* cmd, QueryCacheConfig* c);

// The settings, or InvalidArgument naming the variable. `enable_query_cache`
// is the value of ENABLE_QUERY_CACHE (null: unset); when both it and
// TIMESTORE_QUERY_CACHE_ENABLED are set they must agree.
absl::StatusOr<QueryCacheSettings> ResolveQueryCacheConfig(const QueryCacheConfig& c,
                                                           const char* enable_query_cache);

}  // namespace timestore::tools
