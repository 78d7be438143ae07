#include "api/service.h"

#include <simdjson.h>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <map>
#include <thread>

#include "api/ingest_parser.h"
#include "api/query_parser.h"
#include "api/result_writer.h"
#include "common/checksum.h"
#include "common/json_writer.h"
#include "common/strings.h"
#include "engine/status_util.h"
#include "spdlog/spdlog.h"

namespace timestore::api {
namespace {

constexpr size_t kMaxIdempotencyKey = 255;

HttpResponse Json(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse Error(int status, std::string_view code, std::string_view message,
                   std::string_view details = "") {
  return Json(status, ErrorBody(code, message, details));
}

HttpResponse NotReady() {
  HttpResponse r =
      Error(503, "not_ready", "the server is recovering its write-ahead log; retry shortly");
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

// Query-string parameter `name`, undecoded (our parameters need no escapes).
std::optional<std::string_view> QueryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = part.find('=');
    if (part.substr(0, eq) == name) {
      return eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
    }
  }
  return std::nullopt;
}

absl::StatusOr<Precision> GetPrecision(std::string_view query) {
  auto p = QueryParam(query, "precision");
  if (!p) return Precision::kMilliseconds;
  auto parsed = ParsePrecision(*p);
  if (!parsed) {
    return MakeError(absl::StatusCode::kInvalidArgument, "invalid_request",
                     StrCat("precision \"", *p, "\" is not one of ns, us, ms, s"),
                     "{\"field\":\"precision\"}");
  }
  return *parsed;
}

// A missing scope is 403 naming it; an empty requirement lets everyone in.
std::optional<HttpResponse> CheckScope(const HttpRequest& req, const std::string& needed) {
  if (needed.empty()) return std::nullopt;
  std::string_view scopes = req.Header("x-iam-scopes");
  while (!scopes.empty()) {
    size_t comma = scopes.find(',');
    if (StripWhitespace(scopes.substr(0, comma)) == needed) return std::nullopt;
    scopes = comma == std::string_view::npos ? std::string_view() : scopes.substr(comma + 1);
  }
  std::string details;
  JsonWriter(&details).BeginObject().Key("requiredScope").String(needed).EndObject();
  return Error(403, "forbidden",
               StrCat("this route needs the scope \"", needed, "\" in the x-iam-scopes header"),
               details);
}

std::string IngestAnswerJson(const IngestResult& r) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("dataset").String(r.dataset);
  w.Key("rowsIngested").Uint(r.rows);
  w.Key("schemaVersion").Uint(r.schema_version);
  w.Key("watermark");
  if (r.watermark) {
    w.String(FormatRfc3339(*r.watermark));
  } else {
    w.Null();
  }
  w.Key("duplicate").Bool(r.duplicate);
  w.EndObject();
  return out;
}

uint64_t ReadRssBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long size = 0, resident = 0;
  int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * 4096ull : 0;
}

}  // namespace

HttpResponse StatusToResponse(const absl::Status& status) {
  int http = 500;
  std::string_view code = "internal";
  bool retry = false;
  auto tagged = status.GetPayload(ToAbsl(kErrorCodePayload));
  if (!tagged) {
    // An error nobody tagged for the client (a file system error, a corrupt
    // file) is the server's problem, whatever its absl code says: ENOENT is
    // not "dataset not found" and EACCES is not "missing scope".
    HttpResponse r;
    if (status.code() == absl::StatusCode::kResourceExhausted) {
      r = Error(503, "storage_full", ToStd(status.message()));
      r.headers.emplace_back("Retry-After", "5");
    } else if (status.code() == absl::StatusCode::kUnavailable) {
      r = Error(503, "unavailable", ToStd(status.message()));
      r.headers.emplace_back("Retry-After", "1");
    } else {
      spdlog::error("internal error: {}", ToStd(status.message()));
      r = Error(500, "internal", ToStd(status.message()));
    }
    return r;
  }
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      http = 400;
      code = "invalid_request";
      break;
    case absl::StatusCode::kNotFound:
      http = 404;
      code = "not_found";
      break;
    case absl::StatusCode::kAlreadyExists:
      http = 409;
      code = "conflict";
      break;
    case absl::StatusCode::kFailedPrecondition:
      http = 422;
      code = "schema_conflict";
      break;
    case absl::StatusCode::kResourceExhausted:
      http = 503;
      code = "backpressure";
      retry = true;
      break;
    case absl::StatusCode::kUnavailable:
      http = 503;
      code = "unavailable";
      retry = true;
      break;
    case absl::StatusCode::kPermissionDenied:
      http = 403;
      code = "forbidden";
      break;
    default:
      break;
  }
  std::string code_owned = std::string(*tagged);
  code = code_owned;
  std::string details;
  if (auto d = status.GetPayload(ToAbsl(kErrorDetailsPayload))) details = std::string(*d);
  if (http == 500) spdlog::error("internal error: {}", ToStd(status.message()));
  HttpResponse r = Error(http, code, ToStd(status.message()), details);
  if (retry) r.headers.emplace_back("Retry-After", "1");
  return r;
}

struct Service::Pool {
  explicit Pool(int threads) : pool(static_cast<size_t>(threads)) {}
  boost::asio::thread_pool pool;
};

Service::Service(ServiceOptions options) : options_(std::move(options)) {
  int threads = options_.query_threads > 0
                    ? options_.query_threads
                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  pool_ = std::make_unique<Pool>(threads);
}

Service::~Service() { Shutdown(); }

void Service::Shutdown() {
  if (pool_ != nullptr) pool_->pool.join();
}

void Service::Handle(HttpRequest&& req, Responder respond) {
  const auto t0 = std::chrono::steady_clock::now();
  Route route = Route::kOther;
  std::string_view path = req.path;
  // Wraps the responder to record metrics once per request.
  auto finish = [this, t0, &route](Responder& inner) {
    Route r = route;
    return [this, t0, r, inner = std::move(inner)](HttpResponse resp) mutable {
      metrics_.RecordRequest(
          r, resp.status,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      inner(std::move(resp));
    };
  };
  auto method_not_allowed = [&](std::string_view allow) {
    HttpResponse r = Error(405, "method_not_allowed",
                           StrCat(req.method, " is not allowed on ", path, "; use ", allow));
    r.headers.emplace_back("Allow", std::string(allow));
    return r;
  };

  if (path == "/health" || path == "/ready" || path == "/metrics" || path == "/status") {
    route = path == "/health"    ? Route::kHealth
            : path == "/ready"   ? Route::kReady
            : path == "/metrics" ? Route::kMetrics
                                 : Route::kStatus;
    Responder done = finish(respond);
    if (req.method != "GET") return done(method_not_allowed("GET"));
    // /status lists datasets: it is an operator's route.
    if (route == Route::kStatus) {
      if (auto denied = CheckScope(req, options_.admin_scope)) return done(*denied);
    }
    Engine* engine = engine_.load(std::memory_order_acquire);
    switch (route) {
      case Route::kHealth:
        return done(Json(200, "{\"status\":\"ok\"}"));
      case Route::kReady:
        return done(engine ? Json(200, "{\"status\":\"ready\"}") : NotReady());
      case Route::kMetrics: {
        HttpResponse r;
        r.content_type = std::string(kPrometheusContentType);
        r.body = metrics_.Render(engine, compactor_.load(std::memory_order_acquire));
        return done(std::move(r));
      }
      default:
        return done(HandleStatus(engine));
    }
  }

  std::string_view rest = path;
  if (ConsumePrefix(&rest, "/datasets/")) {
    size_t slash = rest.find('/');
    std::string_view slug = rest.substr(0, slash);
    std::string_view action = slash == std::string_view::npos ? "" : rest.substr(slash);
    if (action == "/ingest" || action == "/query") {
      route = action == "/ingest" ? Route::kIngest : Route::kQuery;
      Responder done = finish(respond);
      if (req.method != "POST") return done(method_not_allowed("POST"));
      if (!IsValidSlug(slug)) {
        return done(Error(400, "invalid_slug",
                          StrCat("dataset slug \"", slug.substr(0, 80),
                                 "\" must match [a-z0-9][a-z0-9_-]{0,63}")));
      }
      std::string slug_owned(slug);
      if (route == Route::kIngest) return HandleIngest(std::move(req), slug_owned, std::move(done));
      return HandleQuery(std::move(req), slug_owned, std::move(done));
    }
  }
  if (path.rfind("/admin/", 0) == 0) {
    route = Route::kOther;
    Responder done = finish(respond);
    return HandleAdmin(std::move(req), std::move(done));
  }
  Responder done = finish(respond);
  done(Error(404, "route_not_found", StrCat("no route ", req.method, " ", path)));
}

void Service::HandleAdmin(HttpRequest&& req, Responder respond) {
  std::string_view rest = req.path;
  ConsumePrefix(&rest, "/admin/datasets/");
  size_t slash = rest.find('/');
  std::string id(rest.substr(0, slash));
  std::string action(slash == std::string_view::npos ? "" : rest.substr(slash));
  const bool known = req.path.rfind("/admin/datasets/", 0) == 0 && !id.empty() &&
                     (action == "/flush" || action == "/manifest" || action == "/settings");
  if (!known) {
    return respond(Error(404, "route_not_found", StrCat("no route ", req.method, " ", req.path)));
  }
  const std::string_view method = action == "/flush"      ? "POST"
                                  : action == "/settings" ? "PUT"
                                                          : "GET";
  if (req.method != method) {
    HttpResponse r = Error(405, "method_not_allowed",
                           StrCat(req.method, " is not allowed on ", req.path, "; use ", method));
    r.headers.emplace_back("Allow", std::string(method));
    return respond(r);
  }
  if (auto denied = CheckScope(req, options_.admin_scope)) return respond(*denied);
  Engine* engine = engine_.load(std::memory_order_acquire);
  if (engine == nullptr) return respond(NotReady());
  auto ds = engine->FindDataset(id);
  if (ds == nullptr) {
    return respond(Error(404, "dataset_not_found", StrCat("dataset \"", id, "\" does not exist")));
  }
  if (action == "/settings") return respond(HandleSettings(engine, ds.get(), req.body));
  if (action == "/manifest") {
    std::string out;
    JsonWriter w(&out);
    w.BeginObject();
    w.Key("dataset").String(ds->slug());
    w.Key("id").String(DatasetIdString(ds->id()));
    w.Key("schemaVersion").Uint(ds->schema()->version);
    w.Key("hotRows").Uint(ds->hot_rows());
    std::map<int64_t, std::vector<SegmentPtr>> parts;
    for (const auto& seg : ds->segments()) parts[seg->record.partition_start].push_back(seg);
    const int64_t interval = ds->partition_interval_ns();
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
    return respond(Json(200, std::move(out)));
  }
  // Sealing writes files: off the I/O threads.
  std::string slug = ds->slug();
  boost::asio::post(pool_->pool, [engine, slug, respond = std::move(respond)]() mutable {
    auto r = engine->Flush(slug);
    if (!r.ok()) return respond(StatusToResponse(r.status()));
    std::string out;
    JsonWriter w(&out);
    w.BeginObject();
    w.Key("dataset").String(slug);
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

void Service::HandleIngest(HttpRequest&& req, std::string slug, Responder respond) {
  if (auto denied = CheckScope(req, options_.require_write_scope)) return respond(*denied);
  Engine* engine = engine_.load(std::memory_order_acquire);
  if (engine == nullptr) return respond(NotReady());

  IngestParseOptions opts;
  opts.slug = slug;
  std::string_view ctype = req.Header("content-type");
  ctype = ctype.substr(0, ctype.find(';'));
  ctype = StripWhitespace(ctype);
  if (ctype == "application/x-ndjson" || ctype == "application/ndjson" ||
      ctype == "application/jsonl" || ctype == "application/x-jsonlines") {
    opts.format = BodyFormat::kNdjson;
  }
  // Any other Content-Type (or none, or curl's default form type) is read as
  // JSON: the body says what it is, and refusing it helps nobody.
  auto precision = GetPrecision(req.query);
  if (!precision.ok()) return respond(StatusToResponse(precision.status()));
  opts.precision = *precision;

  std::string key(req.Header("idempotency-key"));
  uint64_t hash = 0;
  if (!key.empty()) {
    if (key.size() > kMaxIdempotencyKey) {
      return respond(
          Error(400, "invalid_request",
                StrCat("Idempotency-Key is ", key.size(), " characters; at most 255 are allowed")));
    }
    std::string keyed = StrCat(req.query, std::string_view("\0", 1));
    hash = Checksum64(keyed) ^ (Checksum64(req.body) * 0x9E3779B97F4A7C15ull);
    auto dup = engine->CheckIdempotency(slug, key, hash);
    if (!dup.ok()) return respond(StatusToResponse(dup.status()));
    if (dup->has_value()) return respond(Json(200, IngestAnswerJson(**dup)));
  }

  SchemaPtr current = engine->GetSchema(slug);
  opts.current = current.get();
  const uint64_t body_bytes = req.body.size();
  auto parsed = ParseIngestBody(&req.body, opts);
  if (!parsed.ok()) return respond(StatusToResponse(parsed.status()));
  parsed->idempotency_key = std::move(key);
  parsed->request_hash = hash;
  engine->Ingest(std::move(*parsed), [this, body_bytes, respond = std::move(respond)](
                                         absl::StatusOr<IngestResult> result) {
    if (!result.ok()) return respond(StatusToResponse(result.status()));
    if (!result->duplicate) metrics_.AddIngest(result->rows, body_bytes);
    respond(Json(200, IngestAnswerJson(*result)));
  });
}

void Service::HandleQuery(HttpRequest&& req, std::string slug, Responder respond) {
  if (auto denied = CheckScope(req, options_.require_scope)) return respond(*denied);
  Engine* engine = engine_.load(std::memory_order_acquire);
  if (engine == nullptr) return respond(NotReady());
  // Queries run on their own pool so a long scan never holds an I/O thread.
  boost::asio::post(pool_->pool, [this, engine, req = std::move(req), slug = std::move(slug),
                                  respond = std::move(respond)]() mutable {
    auto precision = GetPrecision(req.query);
    if (!precision.ok()) return respond(StatusToResponse(precision.status()));
    auto spec = ParseQueryBody(req.body, *precision, options_.query_max_limit);
    if (!spec.ok()) return respond(StatusToResponse(spec.status()));
    bool epoch_ns = spec->epoch_ns;
    auto result = engine->Query(slug, std::move(*spec));
    if (!result.ok()) return respond(StatusToResponse(result.status()));
    metrics_.AddQueryRows(result->stats.rows_scanned, result->rows);
    ResultFormat format = FormatFromAccept(req.Header("accept"));
    HttpResponse r;
    r.content_type = std::string(ContentType(format));
    WriteResult(*result, slug, epoch_ns, format, &r.body);
    respond(std::move(r));
  });
}

HttpResponse Service::HandleSettings(Engine* engine, Dataset* ds, const std::string& body) {
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
    } else if (key == "dedup") {
      auto bad = [](std::string_view why) {
        return Error(400, "invalid_settings", StrCat("dedup: ", why), "{\"field\":\"dedup\"}");
      };
      if (value.is_null()) {
        settings.dedup = std::optional<DedupSettings>();
        continue;
      }
      simdjson::dom::object d;
      if (value.get(d)) {
        return bad("must be an object {\"keys\": [columns], \"keep\": \"last\"|\"first\"} or null");
      }
      DedupSettings dedup;
      bool has_keys = false;
      for (auto [dk, dv] : d) {
        if (dk == "keys") {
          simdjson::dom::array a;
          if (dv.get(a)) return bad("keys must be an array of column names");
          for (auto c : a) {
            std::string_view name;
            if (c.get(name)) return bad("keys must be an array of column names");
            dedup.keys.emplace_back(name);
          }
          has_keys = true;
        } else if (dk == "keep") {
          std::string_view keep;
          if (dv.get(keep) || (keep != "last" && keep != "first")) {
            return bad("keep must be \"last\" or \"first\"");
          }
          dedup.keep_last = keep == "last";
        } else {
          return bad(StrCat("unknown member \"", dk, "\" (known: keys, keep)"));
        }
      }
      if (!has_keys) return bad("keys is required (an empty array dedups by time alone)");
      settings.dedup = std::optional<DedupSettings>(std::move(dedup));
    } else if (key == "iam") {
      return Error(400, "not_supported",
                   StrCat("the \"", key, "\" setting is not available yet; nothing was changed"),
                   StrCat("{\"field\":\"", key, "\"}"));
    } else {
      return Error(
          400, "invalid_settings",
          StrCat("unknown setting \"", key, "\" (known: partitionInterval, segmentBy, dedup)"),
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
  w.Key("dedup");
  if (auto d = ds->dedup()) {
    w.BeginObject().Key("keys").BeginArray();
    for (const auto& k : d->keys) w.String(k);
    w.EndArray().Key("keep").String(d->keep_last ? "last" : "first").EndObject();
  } else {
    w.Null();
  }
  w.EndObject();
  return Json(200, std::move(out));
}

HttpResponse Service::HandleStatus(Engine* engine) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("version").String(options_.version);
  w.Key("uptimeSeconds")
      .Double(std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
  w.Key("ready").Bool(engine != nullptr);
  if (engine != nullptr) {
    Engine::Stats s = engine->GetStats();
    w.Key("datasets").BeginObject();
    w.Key("count").Uint(s.datasets);
    w.Key("items").BeginArray();
    for (const auto& ds : engine->ListDatasets()) {
      w.BeginObject();
      w.Key("id").String(DatasetIdString(ds->id()));
      w.Key("slug").String(ds->slug());
      w.Key("hotRows").Uint(ds->hot_rows());
      w.Key("segments").Uint(ds->segments().size());
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    w.Key("memory").BeginObject();
    w.Key("residentBytes").Uint(ReadRssBytes());
    w.Key("memtableBytes").Uint(s.memtable_bytes);
    w.EndObject();
    w.Key("storage").BeginObject();
    w.Key("segments").Uint(s.segments);
    w.Key("segmentBytes").Uint(s.segment_bytes);
    w.Key("hotBytes").Uint(s.memtable_bytes + s.wal_bytes_on_disk + s.segment_bytes);
    w.Key("coldBytes").Uint(0);
    w.Key("walBytes").Uint(s.wal_bytes_on_disk);
    w.EndObject();
    w.Key("rowsIngested").Uint(s.rows_ingested);
    const RecoveryReport& rec = engine->recovery();
    w.Key("recovery").BeginObject();
    w.Key("walFiles").Uint(rec.wal_files);
    w.Key("records").Uint(rec.records);
    w.Key("rows").Uint(rec.rows);
    w.Key("droppedBytes").Uint(rec.dropped_bytes);
    w.Key("seconds").Double(rec.seconds);
    w.EndObject();
  }
  w.EndObject();
  return Json(200, std::move(out));
}

}  // namespace timestore::api
