// The pieces of an /admin request that its handlers share: the matched call,
// the route table row and the shared JSON forms. Internal to api/ (admin_routes.cc and the files
// that implement more admin routes: admin_settings_routes.cc,
// admin_storage_routes.cc).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "api/http_server.h"
#include "api/service.h"
#include "common/json_writer.h"
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

// JSON forms shared by the admin routes (api/admin_settings_routes.cc): a
// dataset's settings members ({"partitionInterval", "segmentBy", ...}) and the
// same as an object; retention as {"stored", "effective"} members and object;
// a duration in seconds, as an integer when whole.
void WriteSettingsMembers(const Dataset& ds, JsonWriter& w);
std::string SettingsJson(const Dataset& ds);
void WriteRetentionMembers(const Engine& engine, const Dataset& ds, JsonWriter& w);
std::string RetentionJson(const Engine& engine, const Dataset& ds);
void WriteSeconds(JsonWriter& w, int64_t ns);

}  // namespace timestore::api
