// The /admin routes of Parquet exports (transfer/export.h, docs/export.md):
//
//   POST /admin/datasets/{id}/export   {"from": T, "to": T, "out": DEST,
//                                       "compression": "zstd"|"snappy"|"none"}
//                                      -> 202 {job}  (Location: the job's route)
//   GET  /admin/datasets/{id}/exports           -> {"exports": [job, ...]} newest first
//   GET  /admin/datasets/{id}/exports/{job}     -> {job}; its "result" when it
//                                                  succeeded is the export's manifest
//
// T is RFC 3339 or integer nanoseconds (a JSON number or a string); both are
// optional (unbounded). DEST is s3://TARGET/PREFIX or a directory on the
// server: a directory writes on the server's disk, so it needs a token that
// is not restricted to some datasets. One export of a dataset runs at a time
// (409 export_running). Exports are audited (export.start).
#include "api/admin_call.h"
#include "api/route_helpers.h"
#include "common/json_writer.h"
#include "common/strings.h"
#include "simdjson.h"
#include "transfer/destination.h"
#include "transfer/export.h"

namespace timestore::api {
namespace {

HttpResponse BadField(std::string_view field, std::string_view message) {
  return Error(400, "invalid_request", message, FieldDetails(field));
}

// Reads the export body into `options` and `out`; 400 naming the member.
std::optional<HttpResponse> ParseExportBody(std::string_view body, transfer::ExportOptions* options,
                                            std::string* out) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::object o;
  if (parser.parse(body.data(), body.size()).get(root) || root.get(o)) {
    return Error(400, "invalid_json", "the export body must be a JSON object");
  }
  for (auto [key, value] : o) {
    const std::string_view k = key;
    if (k == "from" || k == "to") {
      int64_t t = 0;
      std::string_view s;
      if (value.is_null()) continue;
      if (value.get(t) == simdjson::SUCCESS) {
        // integer nanoseconds
      } else if (value.get(s) == simdjson::SUCCESS) {
        auto parsed = transfer::ParseExportTime(s, k);
        if (!parsed.ok()) return BadField(k, ToStd(parsed.status().message()));
        t = *parsed;
      } else {
        return BadField(k, StrCat(k, " must be an RFC 3339 string or integer nanoseconds"));
      }
      (k == "from" ? options->from : options->to) = t;
    } else if (k == "out") {
      std::string_view s;
      if (value.get(s) || s.empty()) {
        return BadField(k, "out must be a non-empty string: s3://TARGET/PREFIX or a directory");
      }
      *out = std::string(s);
    } else if (k == "compression") {
      std::string_view s;
      std::optional<parquet::Compression> c;
      if (value.get(s) == simdjson::SUCCESS) c = parquet::ParseCompression(s);
      if (!c) return BadField(k, "compression must be \"zstd\", \"snappy\" or \"none\"");
      options->compression = *c;
    } else {
      return BadField(k, StrCat("unknown field \"", k.substr(0, 80),
                                "\" in the export body (known: from, to, out, compression)"));
    }
  }
  if (out->empty()) {
    return BadField(
        "out", "the export body needs \"out\": s3://TARGET/PREFIX or a directory on the server");
  }
  if (options->from >= options->to) {
    return BadField("to", "to must be later than from (the range is [from, to))");
  }
  return std::nullopt;
}

}  // namespace

void Service::AdminExport(AdminCall& call) {
  transfer::ExportOptions options;
  std::string out;
  if (auto bad = ParseExportBody(call.req.body, &options, &out)) return call.respond(*bad);
  auto dest = transfer::ResolveDestination(out, call.engine->env(), call.engine->targets(),
                                           /*absolute_dirs=*/true);
  if (!dest.ok()) {
    if (absl::IsNotFound(dest.status())) {
      return call.respond(Error(404, "storage_target_not_found", ToStd(dest.status().message()),
                                FieldDetails("out")));
    }
    if (absl::IsInvalidArgument(dest.status())) {
      return call.respond(BadField("out", ToStd(dest.status().message())));
    }
    return call.respond(StatusToResponse(dest.status()));
  }
  // A directory is on the server's own disk: not for tokens limited to some datasets.
  if (dest->local) {
    if (auto denied = CheckUnrestricted(call.req)) return call.respond(*denied);
  }
  const std::string slug = call.dataset->slug();
  std::string after;
  {
    JsonWriter w(&after);
    w.BeginObject().Key("out").String(dest->describe);
    w.Key("from");
    options.from == std::numeric_limits<int64_t>::min() ? w.Null()
                                                        : w.String(FormatRfc3339(options.from));
    w.Key("to");
    options.to == std::numeric_limits<int64_t>::max() ? w.Null()
                                                      : w.String(FormatRfc3339(options.to));
    w.Key("compression").String(parquet::CompressionName(options.compression));
    w.EndObject();
  }
  Engine* engine = call.engine;
  std::optional<transfer::JobInfo> started = jobs_.StartUnlessRunning(
      "export", slug,
      [engine, slug, dest = *dest,
       options](transfer::JobProgress& p) -> absl::StatusOr<std::string> {
        auto report = transfer::ExportDataset(engine, slug, dest, options, &p);
        if (!report.ok()) return report.status();
        return transfer::ExportReportJson(*report);
      });
  if (!started) {
    return call.respond(
        Error(409, "export_running",
              StrCat("an export of ", slug, " is running; one export per dataset at a time")));
  }
  const transfer::JobInfo& job = *started;
  RecordAudit(call.engine, DatasetEvent(call.actor, *call.dataset, "export.start", "null", after),
              /*sync=*/true);
  HttpResponse r = Json(202, transfer::JobJson(job));
  r.headers.emplace_back("Location", StrCat("/admin/datasets/", slug, "/exports/", job.id));
  call.respond(std::move(r));
}

void Service::AdminListExports(AdminCall& call) {
  const std::string& slug = call.dataset->slug();
  std::string out;
  JsonWriter w(&out);
  w.BeginObject().Key("exports").BeginArray();
  for (const transfer::JobInfo& j : jobs_.List("export")) {
    if (j.subject == slug) w.Raw(transfer::JobJson(j));
  }
  w.EndArray().EndObject();
  call.respond(Json(200, std::move(out)));
}

void Service::AdminGetExport(AdminCall& call) {
  // The route is /admin/datasets/{id}/exports/{target}: the job is the last segment.
  std::string_view path = call.req.path;
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  const std::string_view id = path.substr(path.rfind('/') + 1);
  auto job = jobs_.Get(id);
  if (!job || job->kind != "export" || job->subject != call.dataset->slug()) {
    return call.respond(
        Error(404, "job_not_found",
              StrCat("no export job \"", id.substr(0, 80), "\" of ", call.dataset->slug(),
                     " (jobs are kept in memory: a restart forgets them)")));
  }
  call.respond(Json(200, transfer::JobJson(*job)));
}

}  // namespace timestore::api
