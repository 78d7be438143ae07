#include "tools/query_cache_config.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "common/strings.h"
#include "tools/tiering_config.h"

namespace timestore::tools {
namespace {

std::optional<bool> ParseSwitch(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (s == "true" || s == "1" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "0" || s == "no" || s == "off") return false;
  return std::nullopt;
}

absl::Status Bad(std::string_view variable, std::string_view value, std::string_view expected) {
  return absl::InvalidArgumentError(StrCat(variable, " \"", value, "\" ", expected));
}

}  // namespace

void AddQueryCacheOptions(CLI::App* cmd, QueryCacheConfig* c) {
  cmd->add_option("--query-cache-enabled", c->enabled,
                  "Cache answers of queries over sealed time ranges: true|false (default true; "
                  "ENABLE_QUERY_CACHE is an alias)")
      ->envname("TIMESTORE_QUERY_CACHE_ENABLED");
  cmd->add_option("--query-cache-max-bytes", c->max_bytes, "Memory of the query result cache")
      ->envname("TIMESTORE_QUERY_CACHE_MAX_BYTES");
  cmd->add_option("--query-cache-max-entries", c->max_entries, "Answers the cache holds at most")
      ->envname("TIMESTORE_QUERY_CACHE_MAX_ENTRIES");
  cmd->add_option("--query-cache-max-entry-bytes", c->max_entry_bytes,
                  "Larger answers are not cached")
      ->envname("TIMESTORE_QUERY_CACHE_MAX_ENTRY_BYTES");
}

absl::StatusOr<QueryCacheSettings> ResolveQueryCacheConfig(const QueryCacheConfig& c,
                                                           const char* enable_query_cache) {
  QueryCacheSettings s;
  constexpr std::string_view kSwitch = "must be true or false (also 1/0, yes/no, on/off)";
  std::optional<bool> own, alias;
  if (!c.enabled.empty()) {
    own = ParseSwitch(c.enabled);
    if (!own) return Bad("TIMESTORE_QUERY_CACHE_ENABLED", c.enabled, kSwitch);
  }
  if (enable_query_cache != nullptr && *enable_query_cache != '\0') {
    alias = ParseSwitch(enable_query_cache);
    if (!alias) return Bad("ENABLE_QUERY_CACHE", enable_query_cache, kSwitch);
  }
  if (own && alias && *own != *alias) {
    return absl::InvalidArgumentError(StrCat("TIMESTORE_QUERY_CACHE_ENABLED (", c.enabled,
                                             ") and its alias ENABLE_QUERY_CACHE (",
                                             enable_query_cache, ") disagree; set one"));
  }
  s.enabled = own.value_or(alias.value_or(true));
  if (!ParseBytes(c.max_bytes, &s.max_bytes)) {
    return Bad("TIMESTORE_QUERY_CACHE_MAX_BYTES", c.max_bytes,
               "must be a byte size such as 64MiB (0 keeps nothing)");
  }
  if (!ParseBytes(c.max_entry_bytes, &s.max_entry_bytes)) {
    return Bad("TIMESTORE_QUERY_CACHE_MAX_ENTRY_BYTES", c.max_entry_bytes,
               "must be a byte size such as 8MiB");
  }
  s.max_entries = c.max_entries;
  return s;
}

}  // namespace timestore::tools
