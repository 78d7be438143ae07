#include "auth/access.h"

#include <algorithm>

#include "auth/tenant.h"
#include "common/strings.h"

namespace timestore::auth {
namespace {

std::string Who(const Principal& p) {
  switch (p.kind) {
    case Principal::Kind::kToken:
    case Principal::Kind::kBootstrap:
      return StrCat("the token \"", p.name, "\"");
    case Principal::Kind::kProxy:
      return p.name.empty() ? std::string("the caller") : StrCat("\"", p.name, "\"");
    default:
      return "the caller";
  }
}

Denial MissingScope(const Principal& p, std::vector<std::string> needed) {
  Denial d;
  d.unauthenticated = p.anonymous();
  std::string names;
  for (const auto& s : needed) StrAppend(&names, names.empty() ? "\"" : " or \"", s, "\"");
  if (d.unauthenticated) {
    d.message = StrCat(
        "this route needs credentials (an API token, as \"Authorization: Bearer "
        "<token>\") holding the scope ",
        names);
  } else if (p.kind == Principal::Kind::kHeaders) {
    d.message = StrCat("this route needs the scope ", names, " in the x-iam-scopes header");
  } else {
    d.message = StrCat("this route needs the scope ", names, ", which ", Who(p), " does not hold");
  }
  d.any_of_scopes = std::move(needed);
  return d;
}

}  // namespace

std::optional<Denial> CheckScope(const Principal& p, const std::string& scope) {
  if (scope.empty() || p.HasScope(scope)) return std::nullopt;
  return MissingScope(p, {scope});
}

std::optional<Denial> CheckDatasetAccess(const Principal& p, std::string_view slug, Access access,
                                         const std::vector<std::string>& dataset_scopes,
                                         const std::string& server_scope,
                                         const std::string& admin_scope) {
  std::vector<std::string> needed;
  if (!dataset_scopes.empty()) {
    // An unrestricted admin may always reach the dataset.
    if (admin_scope.empty() || !p.HasScope(admin_scope) || p.datasets) needed = dataset_scopes;
  } else if (!server_scope.empty()) {
    needed.push_back(server_scope);
  }
  if (!needed.empty() && std::none_of(needed.begin(), needed.end(),
                                      [&](const std::string& s) { return p.HasScope(s); })) {
    return MissingScope(p, std::move(needed));
  }
  if (p.tenant && TenantOfSlug(slug) != *p.tenant) {
    Denial d;
    d.dataset = std::string(slug.substr(0, 80));
    d.tenant = *p.tenant;
    d.message =
        StrCat(Who(p), " belongs to tenant \"", *p.tenant, "\" and may not ", AccessName(access),
               " dataset \"", d.dataset, "\" of tenant \"", TenantOfSlug(d.dataset),
               "\" (a tenant's datasets are named \"", *p.tenant, "__<name>\")");
    return d;
  }
  if (!p.GrantAllows(slug, access)) {
    Denial d;
    d.dataset = std::string(slug.substr(0, 80));
    d.message = StrCat(Who(p), " may not ", AccessName(access), " dataset \"", d.dataset,
                       "\" (its dataset grants do not cover it)");
    return d;
  }
  return std::nullopt;
}

std::optional<Denial> CheckUnrestricted(const Principal& p) {
  if (!p.datasets && !p.tenant) return std::nullopt;
  Denial d;
  if (p.tenant) {
    d.tenant = *p.tenant;
    d.message = StrCat(Who(p), " belongs to tenant \"", *p.tenant,
                       "\" and may not use routes about the whole server");
    return d;
  }
  d.message = StrCat(Who(p),
                     " is restricted to some datasets and may not use routes about the whole "
                     "server");
  return d;
}

}  // namespace timestore::auth
