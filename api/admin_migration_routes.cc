// The /admin route of schema migrations (migrate/migrator.h, docs/migrate.md):
//
//   POST /admin/datasets/{id}/migrations[?dryRun=true][&archiveDir=DIR]
//        body: the migration manifest, YAML or its JSON equivalent
//        -> 200 {report}: the dry run's report, or the executed migration's
//   POST /admin/datasets/{id}/migrations?resume=true      (body ignored)
//   POST /admin/datasets/{id}/migrations?rollback=true    (body ignored)
//
// The manifest's `dataset` must name the path's dataset (slug or id).
// DIR is a directory on the server; without it, dropped values go to
// <storage root>/migration-archive. The migration runs on the admin pool
// and the answer comes when it has committed (or failed: the error says
// whether the migration is under way and is to be resumed).
#include "api/admin_call.h"
#include "api/route_helpers.h"
#include "common/env.h"
#include "common/strings.h"
#include "migrate/migration_manifest.h"
#include "migrate/migrator.h"

namespace timestore::api {
namespace {

// A boolean query parameter: true, false, 1 or 0; absent or empty: false.
std::optional<HttpResponse> Flag(std::string_view query, std::string_view name, bool* out) {
  auto v = QueryParam(query, name);
  *out = false;
  if (!v.has_value() || v->empty() || *v == "false" || *v == "0") return std::nullopt;
  if (*v == "true" || *v == "1") {
    *out = true;
    return std::nullopt;
  }
  return Error(400, "invalid_request", StrCat(name, " must be true or false"), FieldDetails(name));
}

}  // namespace

void Service::AdminMigrate(AdminCall& call) {
  bool dry = false, resume = false, rollback = false;
  for (auto [name, flag] : {std::pair<std::string_view, bool*>{"dryRun", &dry},
                            {"resume", &resume},
                            {"rollback", &rollback}}) {
    if (auto bad = Flag(call.req.query, name, flag)) return call.respond(std::move(*bad));
  }
  if (dry + resume + rollback > 1) {
    return call.respond(
        Error(400, "invalid_request", "give at most one of dryRun, resume and rollback"));
  }
  migrate::MigrateOptions options;
  options.actor = call.actor;
  if (auto raw = QueryParam(call.req.query, "archiveDir")) {
    if (!DecodeQueryValue(*raw, &options.archive_dir) || options.archive_dir.empty() ||
        options.archive_dir[0] != '/') {
      return call.respond(
          Error(400, "invalid_request", "archiveDir must be an absolute directory on the server"));
    }
    // A directory anywhere on the server's disk: not for tokens limited to
    // some datasets (they get the default, under the storage root).
    if (auto denied = CheckUnrestricted(call.req)) return call.respond(*denied);
  }
  std::optional<migrate::MigrationSpec> spec;
  if (!resume && !rollback) {
    auto parsed = migrate::ParseMigrationManifest(call.req.body, "request body");
    if (!parsed.ok()) {
      return call.respond(Error(400, "invalid_migration", ToStd(parsed.status().message())));
    }
    if (parsed->dataset != call.dataset->slug() &&
        parsed->dataset != DatasetIdString(call.dataset->id())) {
      return call.respond(
          Error(400, "invalid_migration",
                StrCat("the manifest's dataset \"", parsed->dataset,
                       "\" is not the path's dataset \"", call.dataset->slug(), "\"")));
    }
    // The manifest may name the directory too: the same rules.
    if (!parsed->archive_dir.empty()) {
      if (parsed->archive_dir[0] != '/') {
        return call.respond(Error(400, "invalid_migration",
                                  "the manifest's archiveDir must be an absolute directory on "
                                  "the server"));
      }
      if (auto denied = CheckUnrestricted(call.req)) return call.respond(*denied);
    }
    spec = *std::move(parsed);
  }
  // A migration seals, reads and writes files: off the I/O threads.
  RunOnAdminPool([engine = call.engine, ds = call.dataset, spec = std::move(spec), options, dry,
                  resume, rollback, respond = std::move(call.respond)]() mutable {
    absl::StatusOr<migrate::MigrationReport> r;
    if (resume) {
      r = migrate::Resume(engine, ds->slug(), options);
    } else if (rollback) {
      r = migrate::Rollback(engine, ds->slug(), options);
    } else if (dry) {
      r = migrate::DryRun(engine, *spec, options);
    } else {
      r = migrate::Execute(engine, *spec, options);
    }
    if (!r.ok()) return respond(StatusToResponse(r.status()));
    respond(Json(200, r->ToJson()));
  });
}

}  // namespace timestore::api
