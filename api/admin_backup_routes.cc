// The /admin routes of backups and restores (transfer/backup.h), and of the
// background jobs they and exports run as.
//
//   POST /admin/backup      {"to": DEST, "keep": N}            -> 202 {job}
//   GET  /admin/backups?at=DEST                                -> {"backups": [...]}
//   POST /admin/restore     {"from": DEST, "to": "/new/root", "backup": ID}  -> 202 {job}
//   GET  /admin/jobs[?kind=backup]                             -> {"jobs": [...]}
//   GET  /admin/jobs/{job}                                     -> {job}
//
// DEST is a local directory on the server or s3://TARGET/PREFIX. These are
// routes about the whole server: tokens restricted to some datasets are
// refused. Backups and restores are audited (backup.start, restore.start).
#include "api/admin_call.h"
#include "api/route_helpers.h"
#include "common/json_writer.h"
#include "common/strings.h"
#include "simdjson.h"
#include "transfer/backup.h"
#include "transfer/destination.h"

namespace timestore::api {
namespace {

struct Body {
  std::string to, from, backup;
  int64_t keep = 0;
};

// Reads the members `allowed` of a JSON object body; 400 naming the member
// on anything else or on a wrong type.
std::optional<HttpResponse> ParseBody(std::string_view body, std::string_view what,
                                      std::initializer_list<std::string_view> allowed, Body* out) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::object o;
  if (parser.parse(body.data(), body.size()).get(root) || root.get(o)) {
    return Error(400, "invalid_json", StrCat("the ", what, " body must be a JSON object"));
  }
  std::string known;
  for (std::string_view a : allowed) StrAppend(&known, known.empty() ? "" : ", ", a);
  for (auto [key, value] : o) {
    const std::string_view k = key;
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) {
      return Error(400, "invalid_request",
                   StrCat("unknown field \"", k.substr(0, 80), "\" in the ", what,
                          " body (known: ", known, ")"),
                   FieldDetails(k.substr(0, 80)));
    }
    if (k == "keep") {
      if (value.get(out->keep) || out->keep < 0 || out->keep > 100000) {
        return Error(400, "invalid_request",
                     "keep must be a whole number of backups to keep (0: keep every backup)",
                     FieldDetails("keep"));
      }
      continue;
    }
    std::string_view s;
    if (value.get(s) || s.empty()) {
      return Error(400, "invalid_request", StrCat(k, " must be a non-empty string"),
                   FieldDetails(k));
    }
    (k == "to" ? out->to : k == "from" ? out->from : out->backup) = std::string(s);
  }
  return std::nullopt;
}

// A destination that cannot be used: 400 naming the member, or 404 for a
// storage target that does not exist.
HttpResponse BadDestination(const absl::Status& status, std::string_view field) {
  if (absl::IsNotFound(status)) {
    return Error(404, "storage_target_not_found", ToStd(status.message()), FieldDetails(field));
  }
  if (absl::IsInvalidArgument(status)) {
    return Error(400, "invalid_request", ToStd(status.message()), FieldDetails(field));
  }
  return StatusToResponse(status);
}

HttpResponse JobAccepted(const transfer::JobInfo& job) {
  HttpResponse r = Json(202, transfer::JobJson(job));
  r.headers.emplace_back("Location", StrCat("/admin/jobs/", job.id));
  return r;
}

}  // namespace

void Service::AdminBackup(AdminCall& call) {
  Body body;
  if (auto bad = ParseBody(call.req.body, "backup", {"to", "keep"}, &body)) {
    return call.respond(*bad);
  }
  if (body.to.empty()) {
    return call.respond(Error(400, "invalid_request",
                              "the backup body needs \"to\": a directory on the server or "
                              "s3://TARGET/PREFIX",
                              FieldDetails("to")));
  }
  auto dest = transfer::ResolveDestination(body.to, call.engine->env(), call.engine->targets(),
                                           /*absolute_dirs=*/true);
  if (!dest.ok()) return call.respond(BadDestination(dest.status(), "to"));
  Engine* engine = call.engine;
  transfer::BackupOptions options;
  options.keep = static_cast<int>(body.keep);
  std::optional<transfer::JobInfo> job = jobs_.StartUnlessRunning(
      "backup", dest->describe,
      [engine, dest = *dest, options](transfer::JobProgress& p) -> absl::StatusOr<std::string> {
        auto report = transfer::Backup(engine, dest, options, &p);
        if (!report.ok()) return report.status();
        return transfer::BackupReportJson(*report);
      });
  if (!job) {
    return call.respond(Error(409, "backup_running",
                              StrCat("a backup to ", dest->describe,
                                     " is running; one backup per destination at a time")));
  }
  AuditEvent e;
  e.actor = call.actor;
  e.action = "backup.start";
  e.before = "null";
  std::string after;
  JsonWriter(&after)
      .BeginObject()
      .Key("to")
      .String(dest->describe)
      .Key("keep")
      .Int(body.keep)
      .EndObject();
  e.after = after;
  RecordAudit(call.engine, std::move(e), /*sync=*/true);
  call.respond(JobAccepted(*job));
}

void Service::AdminListBackups(AdminCall& call) {
  auto at = QueryParam(call.req.query, "at");
  std::string spec;
  if (!at || !DecodeQueryValue(*at, &spec) || spec.empty()) {
    return call.respond(Error(400, "invalid_request",
                              "give the destination as ?at=DIR or ?at=s3://TARGET/PREFIX",
                              FieldDetails("at")));
  }
  auto dest = transfer::ResolveDestination(spec, call.engine->env(), call.engine->targets(),
                                           /*absolute_dirs=*/true);
  if (!dest.ok()) return call.respond(BadDestination(dest.status(), "at"));
  auto list = transfer::ListBackups(*dest);
  if (!list.ok()) return call.respond(StatusToResponse(list.status()));
  call.respond(Json(200, transfer::BackupListJson(*list)));
}

void Service::AdminRestore(AdminCall& call) {
  Body body;
  if (auto bad = ParseBody(call.req.body, "restore", {"from", "to", "backup"}, &body)) {
    return call.respond(*bad);
  }
  if (body.from.empty() || body.to.empty() || body.to.front() != '/') {
    return call.respond(Error(400, "invalid_request",
                              "the restore body needs \"from\" (a backup destination) and \"to\" "
                              "(an absolute path for the new storage root)",
                              FieldDetails(body.from.empty() ? "from" : "to")));
  }
  auto from = transfer::ResolveDestination(body.from, call.engine->env(), call.engine->targets(),
                                           /*absolute_dirs=*/true);
  if (!from.ok()) return call.respond(BadDestination(from.status(), "from"));
  AuditEvent e;
  e.actor = call.actor;
  e.action = "restore.start";
  e.before = "null";
  std::string after;
  JsonWriter(&after)
      .BeginObject()
      .Key("from")
      .String(from->describe)
      .Key("to")
      .String(body.to)
      .Key("backup")
      .String(body.backup)
      .EndObject();
  e.after = after;
  RecordAudit(call.engine, std::move(e), /*sync=*/true);
  Env* env = call.engine->env();
  transfer::RestoreOptions options;
  options.backup_id = body.backup;
  transfer::JobInfo job = jobs_.Start("restore", body.to,
                                      [env, from = *from, to = body.to, options](
                                          transfer::JobProgress& p) -> absl::StatusOr<std::string> {
                                        auto report = transfer::Restore(from, env, to, options, &p);
                                        if (!report.ok()) return report.status();
                                        return transfer::RestoreReportJson(*report);
                                      });
  call.respond(JobAccepted(job));
}

void Service::AdminListJobs(AdminCall& call) {
  std::string kind;
  if (auto k = QueryParam(call.req.query, "kind")) (void)DecodeQueryValue(*k, &kind);
  std::string out;
  JsonWriter w(&out);
  w.BeginObject().Key("jobs").BeginArray();
  for (const transfer::JobInfo& j : jobs_.List(kind)) w.Raw(transfer::JobJson(j));
  w.EndArray().EndObject();
  call.respond(Json(200, std::move(out)));
}

void Service::AdminGetJob(AdminCall& call) {
  auto job = jobs_.Get(call.target_id);
  if (!job) {
    return call.respond(Error(404, "job_not_found",
                              StrCat("no job \"", call.target_id.substr(0, 80),
                                     "\" (jobs are kept in memory: a restart forgets them)")));
  }
  call.respond(Json(200, transfer::JobJson(*job)));
}

}  // namespace timestore::api
