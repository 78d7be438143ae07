// The access decision shared by every front end (HTTP routes, POST /sql, the
// pgwire server): may this principal do this to this dataset, and if not,
// the words to say why.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/principal.h"

namespace timestore::auth {

struct Denial {
  // true: no credentials were presented (HTTP 401); false: 403.
  bool unauthenticated = false;
  std::string message;
  // The scopes any one of which would have been enough; empty when the
  // denial comes from the principal's dataset grants.
  std::vector<std::string> any_of_scopes;
  std::string dataset;  // set for grant denials
  std::string tenant;   // set when a tenant token is refused another tenant's dataset
};

// A route about no dataset that needs `scope` ("" = open).
std::optional<Denial> CheckScope(const Principal& p, const std::string& scope);

// A request that does `access` to dataset `slug`. `dataset_scopes` are the
// dataset's own iam scopes for that access (empty: `server_scope` applies
// instead). An unrestricted principal holding `admin_scope` passes the
// dataset's own scopes. The principal's dataset grants must allow it too.
std::optional<Denial> CheckDatasetAccess(const Principal& p, std::string_view slug, Access access,
                                         const std::vector<std::string>& dataset_scopes,
                                         const std::string& server_scope,
                                         const std::string& admin_scope);

// Routes about the whole server (tokens, storage targets, the audit log)
// refuse principals restricted to some datasets.
std::optional<Denial> CheckUnrestricted(const Principal& p);

}  // namespace timestore::auth
