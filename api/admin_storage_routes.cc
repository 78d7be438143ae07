// The /admin routes of storage targets: list, show, create or change, and
// remove targets (PUT/DELETE /admin/storage-targets/{target}), and put a
// dataset on one (PUT /admin/datasets/{id}/storage-target).
//
// Secrets are write-only: answers and audit events carry a target's public
// fields and whether each secret is set, never the secret.
#include <simdjson.h>

#include <filesystem>

#include "api/admin_call.h"
#include "api/route_helpers.h"
#include "common/json_writer.h"
#include "common/strings.h"
#include "tiering/storage_targets.h"

namespace timestore::api {
namespace {

using tiering::kLocalTarget;

std::string KnownTargets(const Engine& engine) {
  std::string known(kLocalTarget);
  if (engine.targets() != nullptr) {
    for (const auto& c : engine.targets()->List()) StrAppend(&known, ", ", c.id);
  }
  return known;
}

HttpResponse TargetNotFound(const Engine& engine, std::string_view id) {
  return Error(404, "storage_target_not_found",
               StrCat("storage target \"", id.substr(0, 80),
                      "\" does not exist; known targets: ", KnownTargets(engine)),
               FieldDetails("target"));
}

HttpResponse NoTiering() {
  return Error(409, "tiering_not_configured",
               "this server runs without object storage (no storage target registry)");
}

// What datasets and segments use `id`.
struct TargetUse {
  uint64_t datasets = 0;  // naming it explicitly
  uint64_t segments = 0;  // living there
  uint64_t bytes = 0;
  uint64_t pending_deletes = 0;  // objects of dropped segments not deleted yet
};

TargetUse UseOf(const Engine& engine, std::string_view id) {
  TargetUse u;
  for (const auto& ds : engine.ListDatasets()) {
    if (ds->storage_target() == id) ++u.datasets;
    for (const auto& seg : ds->segments()) {
      if (seg->record.target == id) {
        ++u.segments;
        u.bytes += seg->record.bytes;
      }
    }
  }
  u.pending_deletes = engine.remote_garbage()->CountIn(id);
  return u;
}

std::string DatasetTargetJson(std::string_view id) {
  std::string out;
  JsonWriter(&out).BeginObject().Key("storageTargetId").String(id).EndObject();
  return out;
}

}  // namespace

void Service::AdminStorageTargets(AdminCall& call) {
  const Engine& engine = *call.engine;
  // The root as an absolute path: "./data" means nothing to a remote client.
  const std::string& configured = engine.options().root;
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(configured, ec);
  std::string root = ec ? configured : abs.lexically_normal().string();
  const std::string def =
      engine.targets() != nullptr ? engine.targets()->default_target() : std::string();
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("defaultTarget").String(def.empty() ? std::string(kLocalTarget) : def);
  w.Key("storageTargets").BeginArray();
  w.BeginObject();
  w.Key("id").String(kLocalTarget);
  w.Key("kind").String("local");
  w.Key("driver").String("local");
  w.Key("root").String(root);
  w.Key("default").Bool(def.empty());
  w.Key("pricePerGbMonth").Double(options_.local_price_per_gb_month);
  w.EndObject();
  if (engine.targets() != nullptr) {
    for (const auto& c : engine.targets()->List()) {
      const TargetUse u = UseOf(engine, c.id);
      std::string one = tiering::StorageTargetJson(c);
      one.pop_back();  // add members to the object
      std::string extra;
      JsonWriter x(&extra);
      x.BeginObject();
      x.Key("kind").String("object_store");
      x.Key("default").Bool(c.id == def);
      x.Key("datasets").Uint(u.datasets);
      x.Key("remoteSegments").Uint(u.segments);
      x.Key("remoteBytes").Uint(u.bytes);
      x.EndObject();
      StrAppend(&one, ",", std::string_view(extra).substr(1));
      w.Raw(one);
    }
  }
  w.EndArray();
  w.EndObject();
  call.respond(Json(200, std::move(out)));
}

void Service::AdminGetStorageTarget(AdminCall& call) {
  const Engine& engine = *call.engine;
  if (call.target_id == kLocalTarget) {
    std::error_code ec;
    std::filesystem::path abs = std::filesystem::absolute(engine.options().root, ec);
    std::string out;
    JsonWriter(&out)
        .BeginObject()
        .Key("id")
        .String(kLocalTarget)
        .Key("kind")
        .String("local")
        .Key("driver")
        .String("local")
        .Key("root")
        .String(ec ? engine.options().root : abs.lexically_normal().string())
        .Key("default")
        .Bool(engine.targets() == nullptr || engine.targets()->default_target().empty())
        .Key("pricePerGbMonth")
        .Double(options_.local_price_per_gb_month)
        .EndObject();
    return call.respond(Json(200, std::move(out)));
  }
  if (engine.targets() == nullptr) return call.respond(TargetNotFound(engine, call.target_id));
  auto c = engine.targets()->Get(call.target_id);
  if (!c) return call.respond(TargetNotFound(engine, call.target_id));
  call.respond(Json(200, tiering::StorageTargetJson(*c)));
}

void Service::AdminPutStorageTargetConfig(AdminCall& call) {
  Engine* engine = call.engine;
  if (engine->targets() == nullptr) return call.respond(NoTiering());
  auto config = tiering::ParseStorageTarget(call.target_id, call.req.body);
  if (!config.ok()) return call.respond(StatusToResponse(config.status()));
  std::string verify_param;
  if (auto v = QueryParam(call.req.query, "verify")) verify_param = std::string(*v);
  if (verify_param != "" && verify_param != "true" && verify_param != "false") {
    return call.respond(
        Error(400, "invalid_request", "verify must be true or false", FieldDetails("verify")));
  }
  const bool verify = verify_param != "false";
  // Checking the target talks to the store: off the I/O threads.
  RunOnAdminPool([engine, config = *std::move(config), verify, actor = call.actor,
                  respond = std::move(call.respond)]() mutable {
    tiering::StorageTargets* targets = engine->targets();
    auto prepared = targets->Prepare(config);
    if (!prepared.ok()) return respond(StatusToResponse(prepared.status()));
    config = *std::move(prepared);
    // No move may record a segment on the target while it changes.
    auto exclusive = targets->Quiesce(config.id);
    auto before = targets->Get(config.id);
    if (before && !tiering::SameLocation(*before, config)) {
      const TargetUse u = UseOf(*engine, config.id);
      if (u.segments > 0 || u.pending_deletes > 0) {
        return respond(Error(
            409, "storage_target_in_use",
            StrCat("storage target \"", config.id, "\" holds ", u.segments, " segment(s) at ",
                   before->Location(),
                   "; pointing it elsewhere would lose them. Credentials and prices can change; "
                   "for another place, create another target"),
            FieldDetails("location")));
      }
    }
    if (verify) {
      // A target that cannot be listed would fail every move later: say so
      // now, with the store's own words, and keep nothing.
      auto store = tiering::MakeObjectStore(tiering::WithEnvironmentCredentials(config));
      if (!store.ok()) {
        // The settings cannot make a store (a bad endpoint, missing keys).
        return respond(Error(400, "invalid_storage_target", ToStd(store.status().message())));
      }
      absl::Status s = (*store)->List(engine->ObjectKeyRoot() + "probe/").status();
      if (!s.ok()) {
        std::string details;
        JsonWriter(&details)
            .BeginObject()
            .Key("storageTarget")
            .String(config.id)
            .Key("location")
            .String(config.Location())
            .EndObject();
        return respond(Error(absl::IsPermissionDenied(s) ? 400 : 503, "storage_target_unreachable",
                             StrCat("storage target \"", config.id, "\" (", config.Location(),
                                    ") could not be listed: ", ToStd(s.message()),
                                    "; nothing was saved (PUT with ?verify=false to save it "
                                    "anyway)"),
                             details));
      }
    }
    if (absl::Status s = targets->Put(config); !s.ok()) return respond(StatusToResponse(s));
    auto after = targets->Get(config.id);
    AuditEvent e;
    e.actor = actor;
    e.action = before ? "storage_target.update" : "storage_target.create";
    e.before = before ? tiering::StorageTargetJson(*before) : "null";
    e.after = tiering::StorageTargetJson(*after);
    RecordAudit(engine, std::move(e), /*sync=*/true);
    respond(Json(before ? 200 : 201, tiering::StorageTargetJson(*after)));
  });
}

void Service::AdminDeleteStorageTarget(AdminCall& call) {
  Engine* engine = call.engine;
  if (call.target_id == kLocalTarget) {
    return call.respond(Error(409, "storage_target_in_use",
                              "\"local\" is the storage root itself and cannot be removed"));
  }
  if (engine->targets() == nullptr || !engine->targets()->Get(call.target_id)) {
    return call.respond(TargetNotFound(*engine, call.target_id));
  }
  // Waiting for a move in progress to finish: off the I/O threads.
  RunOnAdminPool([engine, id = call.target_id, actor = call.actor,
                  respond = std::move(call.respond)]() mutable {
    // While quiesced, no move records a segment on the target, so the check
    // below stays true until it is gone.
    auto exclusive = engine->targets()->Quiesce(id);
    auto before = engine->targets()->Get(id);
    if (!before) return respond(TargetNotFound(*engine, id));
    const TargetUse u = UseOf(*engine, id);
    if (u.datasets > 0 || u.segments > 0 || u.pending_deletes > 0) {
      std::string details;
      JsonWriter(&details)
          .BeginObject()
          .Key("storageTarget")
          .String(id)
          .Key("datasets")
          .Uint(u.datasets)
          .Key("remoteSegments")
          .Uint(u.segments)
          .Key("pendingDeletes")
          .Uint(u.pending_deletes)
          .EndObject();
      return respond(Error(
          409, "storage_target_in_use",
          StrCat("storage target \"", id, "\" is in use: ", u.datasets, " dataset(s) name it, ",
                 u.segments, " segment(s) live there and ", u.pending_deletes,
                 " object(s) wait to be deleted; move the datasets to another target and let "
                 "their segments expire or delete them first"),
          details));
    }
    if (absl::Status s = engine->targets()->Remove(id); !s.ok()) {
      return respond(StatusToResponse(s));
    }
    AuditEvent e;
    e.actor = actor;
    e.action = "storage_target.delete";
    e.before = tiering::StorageTargetJson(*before);
    e.after = "null";
    RecordAudit(engine, std::move(e), /*sync=*/true);
    std::string out;
    JsonWriter(&out).BeginObject().Key("id").String(id).Key("deleted").Bool(true).EndObject();
    respond(Json(200, std::move(out)));
  });
}

void Service::AdminPutStorageTarget(AdminCall& call) {
  const std::string known = KnownTargets(*call.engine);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::object o;
  if (parser.parse(call.req.body).get(root) || root.get(o)) {
    return call.respond(Error(400, "invalid_json",
                              "the storage-target body must be a JSON object like "
                              "{\"storageTargetId\": \"local\"}"));
  }
  std::optional<std::string> target;
  for (auto [key, value] : o) {
    if (key != "storageTargetId") {
      std::string_view name = std::string_view(key).substr(0, 80);
      return call.respond(Error(400, "invalid_request",
                                StrCat("unknown field \"", name,
                                       "\" in the storage-target body (known: storageTargetId)"),
                                FieldDetails(name)));
    }
    std::string_view id;
    if (value.is_null()) {
      target = "";  // back to the server's default
      continue;
    }
    if (value.get(id)) {
      return call.respond(Error(
          400, "invalid_request",
          StrCat("storageTargetId must be a string (one of: ", known, ") or null for the default"),
          "{\"field\":\"storageTargetId\",\"expected\":\"string\"}"));
    }
    target = std::string(id);
  }
  if (!target) {
    return call.respond(Error(400, "invalid_request",
                              StrCat("storageTargetId is required (one of: ", known, ")"),
                              "{\"field\":\"storageTargetId\"}"));
  }
  Dataset* ds = call.dataset.get();
  const std::string before = ds->storage_target();
  if (absl::Status s = call.engine->SetStorageTarget(ds, *target); !s.ok()) {
    return call.respond(StatusToResponse(s));
  }
  RecordAudit(call.engine,
              DatasetEvent(call.actor, *ds, "storage_target.update",
                           DatasetTargetJson(before.empty() ? "default" : before),
                           DatasetTargetJson(target->empty() ? "default" : *target)),
              /*sync=*/true);
  std::string effective = call.engine->EffectiveStorageTarget(*ds);
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("dataset").String(ds->slug());
  w.Key("id").String(DatasetIdString(ds->id()));
  w.Key("storageTargetId");
  if (target->empty()) {
    w.Null();
  } else {
    w.String(*target);
  }
  w.Key("effectiveStorageTarget").String(effective.empty() ? std::string(kLocalTarget) : effective);
  w.EndObject();
  call.respond(Json(200, std::move(out)));
}

}  // namespace timestore::api
