// The pieces of an /admin request that its handlers share: the matched call
// and the route table row. Internal to api/ (admin_routes.cc and the files
// that implement more admin routes, like admin_storage_routes.cc).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "api/http_server.h"
#include "api/service.h"
#include "engine/engine.h"

namespace timestore::api {

// One admin request, matched and checked; handlers answer through `respond`
// exactly once (possibly later, from another thread).
struct Service::AdminCall {
  HttpRequest req;
  Engine* engine = nullptr;
  std::shared_ptr<Dataset> dataset;  // the path's {id}; null when the route has none
  std::string target_id;             // the path's {target} (a storage target id)
  std::optional<std::string> actor;  // x-iam-user, for the audit log
  Responder respond;
};

struct Service::AdminRoute {
  std::string_view method;
  // Segments separated by '/'; "{id}" matches one non-empty segment, a
  // dataset's id or slug, which HandleAdmin resolves before the handler runs;
  // "{target}" one non-empty segment, left to the handler.
  std::string_view pattern;
  void (Service::*handler)(AdminCall& call);
};

}  // namespace timestore::api
