#include "auth/principal.h"

#include <algorithm>

#include "auth/tenant.h"

namespace timestore::auth {

std::string_view AccessName(Access a) {
  switch (a) {
    case kRead:
      return "read";
    case kWrite:
      return "write";
    case kAdmin:
      return "admin";
  }
  return "?";
}

std::optional<Access> ParseAccess(std::string_view name) {
  if (name == "read") return kRead;
  if (name == "write") return kWrite;
  if (name == "admin") return kAdmin;
  return std::nullopt;
}

bool GlobMatch(std::string_view pattern, std::string_view slug) {
  // Iterative matching with one backtrack point: linear in practice, never
  // exponential (patterns come from admins, slugs from anyone).
  size_t p = 0, s = 0, star = std::string_view::npos, mark = 0;
  while (s < slug.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == slug[s])) {
      ++p;
      ++s;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = s;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      s = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool Principal::HasScope(std::string_view scope) const {
  return std::find(scopes.begin(), scopes.end(), scope) != scopes.end();
}

bool Principal::GrantAllows(std::string_view slug, Access access) const {
  if (tenant && TenantOfSlug(slug) != *tenant) return false;
  if (!datasets) return true;
  for (const DatasetGrant& g : *datasets) {
    // An admin grant covers reading and writing the dataset too.
    if ((g.access & (access | kAdmin)) != 0 && GlobMatch(g.pattern, slug)) return true;
  }
  return false;
}

std::string Principal::Label() const {
  switch (kind) {
    case Kind::kAnonymous:
      return "anonymous";
    case Kind::kToken:
      return "token:" + name;
    case Kind::kBootstrap:
      return "token:" + name;
    case Kind::kProxy:
    case Kind::kHeaders:
      return name.empty() ? std::string("anonymous") : name;
  }
  return "anonymous";
}

}  // namespace timestore::auth
