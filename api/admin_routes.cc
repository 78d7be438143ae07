// The /admin routes of API.md "Administration".
//
// One table (AdminRoutes) maps a method and a path pattern to a handler.
// HandleAdmin matches the path against it and then checks, in this order: the
// path (404 route_not_found), the method (405 with an Allow header naming the
// methods the path takes), the admin scope (403), readiness (503), and the
// dataset named by {id} (404 dataset_not_found). A handler therefore starts
// with the engine and the dataset in hand and only validates its own input.
#include <simdjson.h>

#include <algorithm>
#include <map>
#include <span>

#include "api/route_helpers.h"
#include "api/service.h"
#include "common/json_writer.h"
#include "common/strings.h"
#include "common/time_util.h"

namespace timestore::api {

// One admin request, matched and checked; handlers answer through `respond`
// exactly once (possibly later, from another thread).
struct Service::AdminCall {
  HttpRequest req;
  Engine* engine = nullptr;
  std::shared_ptr<Dataset> dataset;  // the path's {id}; null when the route has none
  Responder respond;
};

struct Service::AdminRoute {
  std::string_view method;
  // Segments separated by '/'; "{id}" matches one non-empty segment, a
  // dataset's id or slug, which HandleAdmin resolves before the handler runs.
  std::string_view pattern;
  void (Service::*handler)(AdminCall& call);
};

const std::vector<Service::AdminRoute>& Service::AdminRoutes() {
  static const std::vector<AdminRoute> kRoutes = {
      {"GET", "/admin/datasets/{id}/manifest", &Service::AdminManifest},
      {"PUT", "/admin/datasets/{id}/settings", &Service::AdminPutSettings},
      {"POST", "/admin/datasets/{id}/flush", &Service::AdminFlush},
  };
  return kRoutes;
}

namespace {

constexpr std::string_view kIdSegment = "{id}";

std::vector<std::string_view> PathSegments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    out.push_back(path.substr(start, slash - start));
    if (slash == std::string_view::npos) return out;
    start = slash + 1;
  }
}

bool MatchRoute(std::string_view pattern, const std::vector<std::string_view>& path,
                std::string_view* id) {
  std::vector<std::string_view> want = PathSegments(pattern);
  if (want.size() != path.size()) return false;
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i] == kIdSegment) {
      if (path[i].empty()) return false;
      *id = path[i];
    } else if (want[i] != path[i]) {
      return false;
    }
  }
  return true;
}

std::string JoinList(std::span<const std::string_view> items) {
  std::string out;
  for (std::string_view s : items) StrAppend(&out, out.empty() ? "" : ", ", s);
  return out;
}

HttpResponse DatasetNotFound(std::string_view id_or_slug) {
  return Error(404, "dataset_not_found",
               StrCat("dataset \"", id_or_slug.substr(0, 80),
                      "\" does not exist (give its slug or its 16-hex-digit id)"));
}

HttpResponse UpdateSettings(Engine* engine, Dataset* ds, const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::object o;
  if (parser.parse(body).get(root) || root.get(o)) {
    return Error(400, "invalid_json", "the settings body must be a JSON object");
  }
  Engine::Settings settings;
  for (auto [key, value] : o) {
    if (key == "partitionInterval") {
      int64_t ns = 0;
      if (value.is_string()) {
        auto d = ParseDurationNanos(std::string_view(value.get_string().value_unsafe()));
        if (!d.ok()) {
          return Error(400, "invalid_settings", StrCat("partitionInterval: ", d.status().message()),
                       "{\"field\":\"partitionInterval\"}");
        }
        ns = *d;
      } else if (int64_t secs; !value.get(secs) && secs > 0 && secs < 9'000'000'000) {
        ns = secs * 1'000'000'000;
      } else {
        return Error(400, "invalid_settings",
                     "partitionInterval must be a duration (\"1d\", \"6h\") or seconds",
                     "{\"field\":\"partitionInterval\"}");
      }
      settings.partition_interval_ns = ns;
    } else if (key == "segmentBy") {
      simdjson::dom::array a;
      if (value.get(a)) {
        return Error(400, "invalid_settings", "segmentBy must be an array of column names",
                     "{\"field\":\"segmentBy\"}");
      }
      std::vector<std::string> cols;
      for (auto c : a) {
        std::string_view name;
        if (c.get(name)) {
          return Error(400, "invalid_settings", "segmentBy must be an array of column names",
                       "{\"field\":\"segmentBy\"}");
        }
        cols.emplace_back(name);
      }
      settings.segment_by = std::move(cols);
    } else if (key == "dedup" || key == "iam") {
      return Error(400, "not_supported",
                   StrCat("the \"", key, "\" setting is not available yet; nothing was changed"),
                   StrCat("{\"field\":\"", key, "\"}"));
    } else {
      return Error(400, "invalid_settings",
                   StrCat("unknown setting \"", key, "\" (known: partitionInterval, segmentBy)"),
                   StrCat("{\"field\":\"", key, "\"}"));
    }
  }
  if (auto s = engine->UpdateSettings(ds, settings); !s.ok()) return StatusToResponse(s);
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("dataset").String(ds->slug());
  w.Key("partitionInterval").Int(ds->partition_interval_ns() / 1'000'000'000);
  w.Key("segmentBy").BeginArray();
  for (const auto& c : ds->segment_by()) w.String(c);
  w.EndArray();
  w.EndObject();
  return Json(200, std::move(out));
}

}  // namespace

void Service::HandleAdmin(HttpRequest&& req, Responder respond) {
  const std::vector<std::string_view> path = PathSegments(req.path);
  const AdminRoute* route = nullptr;
  std::string_view id;
  std::vector<std::string_view> allowed;  // methods of the routes whose path matches
  for (const AdminRoute& r : AdminRoutes()) {
    std::string_view matched;
    if (!MatchRoute(r.pattern, path, &matched)) continue;
    if (r.method == req.method) {
      route = &r;
      id = matched;
      break;
    }
    if (std::find(allowed.begin(), allowed.end(), r.method) == allowed.end()) {
      allowed.push_back(r.method);
    }
  }
  if (route == nullptr) {
    if (!allowed.empty()) return respond(MethodNotAllowed(req, JoinList(allowed)));
    std::string known;
    for (const AdminRoute& r : AdminRoutes()) {
      StrAppend(&known, known.empty() ? "" : ", ", r.method, " ", r.pattern);
    }
    return respond(Error(404, "route_not_found",
                         StrCat("no route ", req.method, " ", req.path.substr(0, 200),
                                "; the admin routes are ", known)));
  }
  if (auto denied = CheckScope(req, options_.admin_scope)) return respond(*denied);
  Engine* engine = engine_.load(std::memory_order_acquire);
  if (engine == nullptr) return respond(NotReady());
  AdminCall call;
  if (route->pattern.find(kIdSegment) != std::string_view::npos) {
    call.dataset = engine->FindDataset(id);
    if (call.dataset == nullptr) return respond(DatasetNotFound(id));
  }
  call.engine = engine;
  call.req = std::move(req);
  call.respond = std::move(respond);
  (this->*route->handler)(call);
}

void Service::AdminManifest(AdminCall& call) {
  const Dataset& ds = *call.dataset;
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("dataset").String(ds.slug());
  w.Key("id").String(DatasetIdString(ds.id()));
  w.Key("schemaVersion").Uint(ds.schema()->version);
  w.Key("hotRows").Uint(ds.hot_rows());
  std::map<int64_t, std::vector<SegmentPtr>> parts;
  for (const auto& seg : ds.segments()) parts[seg->record.partition_start].push_back(seg);
  const int64_t interval = ds.partition_interval_ns();
  w.Key("partitions").BeginArray();
  for (const auto& [start, segs] : parts) {
    w.BeginObject();
    w.Key("start").String(FormatRfc3339(start));
    w.Key("end").String(FormatRfc3339(SaturatingAdd(start, interval)));
    w.Key("segments").BeginArray();
    for (const auto& seg : segs) {
      w.BeginObject();
      w.Key("id").String(DatasetIdString(seg->record.id));
      w.Key("rows").Uint(seg->record.rows);
      w.Key("bytes").Uint(seg->record.bytes);
      w.Key("minTime").String(FormatRfc3339(seg->record.min_ts));
      w.Key("maxTime").String(FormatRfc3339(seg->record.max_ts));
      w.Key("level").Uint(seg->record.level);
      w.Key("tier").String("local");
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  call.respond(Json(200, std::move(out)));
}

void Service::AdminPutSettings(AdminCall& call) {
  call.respond(UpdateSettings(call.engine, call.dataset.get(), call.req.body));
}

void Service::AdminFlush(AdminCall& call) {
  // Sealing writes files: off the I/O threads.
  RunOnPool([engine = call.engine, ds = call.dataset, respond = std::move(call.respond)]() mutable {
    auto r = engine->Flush(ds->slug());
    if (!r.ok()) return respond(StatusToResponse(r.status()));
    std::string out;
    JsonWriter w(&out);
    w.BeginObject();
    w.Key("dataset").String(ds->slug());
    w.Key("rowsSealed").Uint(r->rows);
    w.Key("sealedThroughSeq").Uint(r->sealed_through_seq);
    w.Key("walFilesDeleted").Int(r->wal_files_deleted);
    w.Key("seconds").Double(r->seconds);
    w.Key("segments").BeginArray();
    for (const auto& s : r->segments) {
      w.BeginObject();
      w.Key("id").String(DatasetIdString(s.id));
      w.Key("partitionStart").String(FormatRfc3339(s.partition_start));
      w.Key("rows").Uint(s.rows);
      w.Key("bytes").Uint(s.bytes);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    respond(Json(200, std::move(out)));
  });
}

}  // namespace timestore::api
