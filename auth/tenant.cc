#include "auth/tenant.h"

#include <cctype>
#include <string>

namespace timestore::auth {

bool IsValidTenantId(std::string_view id) {
  if (id.empty() || id.size() > 32) return false;
  auto lower_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_digit(id[0])) return false;
  for (char c : id.substr(1)) {
    if (!lower_digit(c) && c != '-') return false;
  }
  return true;
}

std::string_view TenantOfSlug(std::string_view slug) {
  const size_t sep = slug.find(kTenantSeparator);
  if (sep == std::string_view::npos) return kDefaultTenant;
  std::string_view prefix = slug.substr(0, sep);
  // "acme__" names nothing inside acme: the name part must not be empty.
  if (!IsValidTenantId(prefix) || sep + kTenantSeparator.size() >= slug.size()) {
    return kDefaultTenant;
  }
  return prefix;
}

std::optional<uint64_t> ParseByteSize(std::string_view text) {
  std::string s;
  for (char c : text) {
    if (c != ' ') s.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  size_t digits = 0;
  while (digits < s.size() && s[digits] >= '0' && s[digits] <= '9') ++digits;
  if (digits == 0 || digits > 20) return std::nullopt;
  const std::string suffix = s.substr(digits);
  uint64_t mult = 0;
  static constexpr std::pair<std::string_view, uint64_t> kUnits[] = {
      {"", 1},
      {"b", 1},
      {"kb", 1000ull},
      {"mb", 1000ull * 1000},
      {"gb", 1000ull * 1000 * 1000},
      {"tb", 1000ull * 1000 * 1000 * 1000},
      {"kib", 1ull << 10},
      {"mib", 1ull << 20},
      {"gib", 1ull << 30},
      {"tib", 1ull << 40}};
  for (const auto& [name, m] : kUnits) {
    if (suffix == name) mult = m;
  }
  if (mult == 0) return std::nullopt;
  unsigned __int128 v = 0;
  for (size_t i = 0; i < digits; ++i) v = v * 10 + static_cast<unsigned>(s[i] - '0');
  v *= mult;
  if (v > UINT64_MAX) return std::nullopt;
  return static_cast<uint64_t>(v);
}

}  // namespace timestore::auth
