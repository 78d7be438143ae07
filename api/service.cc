#include "api/service.h"

#include <simdjson.h>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cmath>
#include <thread>

#include "api/body_decoding.h"
#include "api/ingest_parser.h"
#include "api/otlp_routes.h"
#include "api/query_parser.h"
#include "api/result_writer.h"
#include "api/route_helpers.h"
#include "api/tenant_quotas.h"
#include "common/checksum.h"
#include "common/json_writer.h"
#include "common/status_util.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "spdlog/spdlog.h"
#include "sql/projection.h"

namespace timestore::api {
namespace {

constexpr size_t kMaxIdempotencyKey = 255;

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
    case absl::StatusCode::kDeadlineExceeded:
      http = 504;
      code = "timeout";
      break;
    case absl::StatusCode::kCancelled:
      http = 499;  // the client closed the connection; nobody reads this
      code = "cancelled";
      break;
    default:
      break;
  }
  std::string code_owned = std::string(*tagged);
  code = code_owned;
  // Body decoding errors carry their own statuses (api/body_decoding.h).
  if (code == "payload_too_large") http = 413;
  if (code == "unsupported_encoding") http = 415;
  if (code == "not_fresh") http = 409;
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
  // One thread per core, plus two: a query waiting on object storage holds
  // a thread but no core, and must not leave local queries queued.
  int threads = options_.query_threads > 0
                    ? options_.query_threads
                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())) + 2;
  pool_ = std::make_unique<Pool>(threads);
  // Admin work (seals, merges, uploads, deletes) on its own threads, so it
  // never delays queries.
  admin_pool_ = std::make_unique<Pool>(2);
}

Service::~Service() { Shutdown(); }

void Service::RunOnPool(std::function<void()> task) {
  boost::asio::post(pool_->pool, std::move(task));
}

void Service::RunOnAdminPool(std::function<void()> task) {
  boost::asio::post(admin_pool_->pool, std::move(task));
}

void Service::Shutdown() {
  jobs_.Shutdown();  // before the engine closes: jobs read through it
  if (pool_ != nullptr) pool_->pool.join();
  if (admin_pool_ != nullptr) admin_pool_->pool.join();
}

void Service::Handle(HttpRequest&& req, Responder respond) {
  const auto t0 = std::chrono::steady_clock::now();
  Route route = Route::kOther;
  std::string_view path = req.path;
  // OTLP/HTTP's error bodies are google.rpc.Status messages: converted after
  // the wrapper below has read api.md's error body for metrics and audit.
  if (IsOtlpPath(path)) {
    respond = OtlpErrorResponder(req.Header("content-type"), std::move(respond));
  }
  // Wraps the responder to record metrics once per request, and to count and
  // audit refusals (401, 403) with where they came from.
  auto finish = [this, t0, &route, &req](Responder& inner) {
    Route r = route;
    return [this, t0, r, inner = std::move(inner), peer = req.remote_address,
            what = StrCat(req.method, " ", std::string_view(req.path).substr(0, 200)),
            principal = req.principal](HttpResponse resp) mutable {
      metrics_.RecordRequest(
          r, resp.status,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      if (resp.status == 401 || resp.status == 403) {
        // The message of the error body names the scope or grant, never a
        // secret (either error shape: API.md's or InfluxDB's).
        simdjson::dom::parser parser;
        simdjson::dom::element root;
        std::string_view reason;
        if (!parser.parse(resp.body).get(root) && root["error"]["message"].get(reason) &&
            root["error"].get(reason)) {
          reason = {};
        }
        std::optional<std::string> actor;
        if (principal != nullptr && !principal->anonymous()) actor = principal->Label();
        RecordAuthFailure(resp.status == 401, std::move(actor), peer, what, reason);
      }
      inner(std::move(resp));
    };
  };

  const bool open_route =
      path == "/health" || path == "/ready" || path == "/metrics" || path == "/ping";
  if (!open_route && options_.authenticator != nullptr) {
    std::string_view password;
    if (path == "/write" || path == "/query") {
      // InfluxDB 1.x clients may send their token as ?u=...&p=<token>.
      if (auto p = QueryParam(req.query, "p")) password = *p;
    }
    std::string decoded_password;
    if (!password.empty() && DecodeQueryValue(password, &decoded_password)) {
      password = decoded_password;
    }
    std::string_view user = req.Header("x-iam-user");
    if (user.empty()) user = req.Header("x-user-id");
    auth::AuthResult a =
        options_.authenticator->Authenticate({.authorization = req.Header("authorization"),
                                              .iam_scopes = req.Header("x-iam-scopes"),
                                              .iam_user = user,
                                              .query_password = password,
                                              .peer = req.remote_address});
    if (!a.ok()) {
      Responder done = finish(respond);
      // InfluxDB clients read InfluxDB's error shape, as for their other refusals.
      const bool v2 = path == "/api/v2/write";
      if (v2 || path == "/write" || path == "/query") {
        return done(InfluxError(Unauthorized(a.message), v2));
      }
      return done(Unauthorized(a.message));
    }
    req.principal = std::make_shared<const auth::Principal>(std::move(a.principal));
  }

  if (path == "/health" || path == "/ready" || path == "/metrics" || path == "/status") {
    route = path == "/health"    ? Route::kHealth
            : path == "/ready"   ? Route::kReady
            : path == "/metrics" ? Route::kMetrics
                                 : Route::kStatus;
    Responder done = finish(respond);
    if (req.method != "GET") return done(MethodNotAllowed(req, "GET"));
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
        r.body = metrics_.Render(engine, compactor_.load(std::memory_order_acquire),
                                 tier_mover_.load(std::memory_order_acquire));
        if (http_server_ != nullptr) {
          StrAppend(&r.body,
                    "# HELP timestore_http_connections Open HTTP connections.\n"
                    "# TYPE timestore_http_connections gauge\ntimestore_http_connections ",
                    http_server_->open_connections(),
                    "\n# HELP timestore_http_connections_refused_total Connections refused over "
                    "TIMESTORE_MAX_CONNECTIONS.\n# TYPE timestore_http_connections_refused_total "
                    "counter\ntimestore_http_connections_refused_total ",
                    http_server_->connections_refused(),
                    "\n# HELP timestore_tls_handshake_failures_total TLS handshakes that "
                    "failed.\n# TYPE timestore_tls_handshake_failures_total counter\n"
                    "timestore_tls_handshake_failures_total ",
                    http_server_->tls_handshake_failures(), "\n");
        }
        if (engine != nullptr) {
          if (auto tenants = Tenants(engine); tenants.ok()) {
            (*tenants)->RenderMetrics(*engine, &r.body);
          }
        }
        query_cache_.RenderMetrics(&r.body);
        if (options_.extra_metrics) options_.extra_metrics(&r.body);
        return done(std::move(r));
      }
      default:
        return done(HandleStatus(req, engine));
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
      if (req.method != "POST") return done(MethodNotAllowed(req, "POST"));
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
  if (path == "/write" || path == "/api/v2/write" || path == "/api/v1/write" ||
      path == "/api/v1/read") {
    route = path == "/api/v1/read" ? Route::kQuery : Route::kIngest;
    Responder done = finish(respond);
    if (req.method != "POST") return done(MethodNotAllowed(req, "POST"));
    if (path == "/api/v1/write") return HandlePromWrite(std::move(req), std::move(done));
    if (path == "/api/v1/read") return HandlePromRead(std::move(req), std::move(done));
    return HandleInfluxWrite(std::move(req), path == "/api/v2/write", std::move(done));
  }
  if (IsOtlpPath(path)) {
    route = Route::kIngest;
    Responder done = finish(respond);
    if (req.method != "POST") return done(MethodNotAllowed(req, "POST"));
    return HandleOtlp(std::move(req), path == "/v1/traces", std::move(done));
  }
  if (path == "/query") {
    // InfluxDB's query route: only what write clients send at start-up.
    route = Route::kOther;
    Responder done = finish(respond);
    if (req.method != "GET" && req.method != "POST") {
      return done(MethodNotAllowed(req, "GET, POST"));
    }
    return HandleInfluxQuery(std::move(req), std::move(done));
  }
  if (path == "/sql") {
    route = Route::kQuery;
    Responder done = finish(respond);
    if (req.method != "POST") return done(MethodNotAllowed(req, "POST"));
    return HandleSql(std::move(req), std::move(done));
  }
  if (path == "/ping") {
    // InfluxDB's liveness route, which its clients call before writing.
    route = Route::kHealth;
    Responder done = finish(respond);
    if (req.method != "GET" && req.method != "HEAD")
      return done(MethodNotAllowed(req, "GET, HEAD"));
    HttpResponse r;
    r.status = 204;
    r.content_type.clear();
    r.headers.emplace_back("X-Influxdb-Version", "1.8.10");
    r.headers.emplace_back("X-Influxdb-Build", "OSS");
    r.headers.emplace_back("X-Timestore-Version", options_.version);
    return done(std::move(r));
  }
  if (path.rfind("/admin/", 0) == 0) {
    route = Route::kOther;
    Responder done = finish(respond);
    return HandleAdmin(std::move(req), std::move(done));
  }
  Responder done = finish(respond);
  done(Error(404, "route_not_found", StrCat("no route ", req.method, " ", path)));
}

void Service::HandleIngest(HttpRequest&& req, std::string slug, Responder respond) {
  Engine* engine = engine_.load(std::memory_order_acquire);
  if (auto denied = CheckDataset(req, engine, slug, auth::kWrite, options_.require_write_scope,
                                 options_.admin_scope)) {
    return respond(*denied);
  }
  if (engine == nullptr) return respond(NotReady());

  if (auto s = DecodeBody(req.Header("content-encoding"), options_.max_body_bytes, &req.body);
      !s.ok()) {
    return respond(StatusToResponse(s));
  }
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
  if (auto limited = Throttle(req, /*ingest=*/true, parsed->rows)) return respond(*limited);
  // Tenant quotas, before the engine sees anything (api/tenant_quotas.h).
  std::shared_ptr<void> claim;
  if (auto refused = AdmitTenantIngest(engine, {{slug, parsed->rows}}, &claim)) {
    return respond(*refused);
  }
  parsed->idempotency_key = std::move(key);
  parsed->request_hash = hash;
  engine->Ingest(std::move(*parsed),
                 [this, engine, body_bytes, actor = ActorOf(req), claim = std::move(claim),
                  respond = std::move(respond)](absl::StatusOr<IngestResult> result) {
                   if (!result.ok()) return respond(StatusToResponse(result.status()));
                   if (!result->duplicate) {
                     RecordTenantIngest(result->dataset, result->rows);
                     metrics_.AddIngest(result->rows, body_bytes);
                     // Only requests that name a user are audited. This runs on the WAL
                     // writer thread, so the event costs one write(2) and no fsync.
                     if (actor) RecordIngestAudit(engine, *actor, *result, "");
                   }
                   respond(Json(200, IngestAnswerJson(*result)));
                 });
}

void Service::HandleQuery(HttpRequest&& req, std::string slug, Responder respond) {
  Engine* engine = engine_.load(std::memory_order_acquire);
  if (auto denied = CheckDataset(req, engine, slug, auth::kRead, options_.require_scope,
                                 options_.admin_scope)) {
    return respond(*denied);
  }
  if (engine == nullptr) return respond(NotReady());
  if (auto limited = Throttle(req, /*ingest=*/false, 1)) return respond(*limited);
  // Queries run on their own pool so a long scan never holds an I/O thread.
  boost::asio::post(pool_->pool, [this, engine, req = std::move(req), slug = std::move(slug),
                                  respond = std::move(respond)]() mutable {
    auto precision = GetPrecision(req.query);
    if (!precision.ok()) return respond(StatusToResponse(precision.status()));
    auto spec = ParseQueryBody(req.body, *precision, options_.query_max_limit);
    if (!spec.ok()) return respond(StatusToResponse(spec.status()));
    ResultFormat format = FormatFromAccept(req.Header("accept"));
    QueryCache::Ticket cached = query_cache_.Begin(*engine, slug, req, *spec, format);
    if (cached.hit) return respond(*std::move(cached.hit));
    bool epoch_ns = spec->epoch_ns;
    spec->cancelled = req.client_gone;
    // Computed columns read columns a raw query may not list: fetch them too,
    // and drop them again once the expressions are evaluated.
    auto computed = sql::ComputedColumns::Parse(std::move(spec->computed));
    if (!computed.ok()) return respond(StatusToResponse(computed.status()));
    std::vector<std::string> fetched_for_computed;
    if (!computed->inputs().empty()) {
      if (!spec->downsample && spec->columns) {
        for (const std::string& name : computed->inputs()) {
          if (std::find(spec->columns->begin(), spec->columns->end(), name) ==
              spec->columns->end()) {
            spec->columns->push_back(name);
            fetched_for_computed.push_back(name);
          }
        }
      }
    }
    auto result = engine->Query(slug, std::move(*spec));
    if (!result.ok()) return respond(StatusToResponse(result.status()));
    cached.source = std::move(result->source);  // before Apply replaces the result
    if (absl::Status s = computed->Apply(fetched_for_computed, &*result, &cached.read_clock);
        !s.ok()) {
      return respond(StatusToResponse(s));
    }
    metrics_.AddQueryRows(result->stats.rows_scanned, result->rows);
    metrics_.AddQueryRemote(result->stats.bytes_read, result->stats.remote_requests,
                            result->stats.remote_bytes_read, result->stats.cache_hits,
                            result->stats.cache_misses);
    HttpResponse r;
    r.content_type = std::string(ContentType(format));
    // The freshness in headers too: NDJSON and CSV answers have no body for it.
    r.headers.emplace_back("x-timestore-watermark",
                           result->watermark ? FormatRfc3339(*result->watermark) : "");
    r.headers.emplace_back("x-timestore-hot-rows", StrCat(result->hot_rows));
    r.headers.emplace_back("x-timestore-fresh", result->fresh ? "true" : "false");
    WriteResult(*result, slug, epoch_ns, format, &r.body);
    query_cache_.Finish(cached, &r);
    respond(std::move(r));
  });
}

void Service::RecordAuthFailure(bool unauthenticated, std::optional<std::string> actor,
                                std::string_view peer, std::string_view request,
                                std::string_view reason) {
  metrics_.AddAuthFailure(unauthenticated);
  Engine* engine = engine_.load(std::memory_order_acquire);
  if (engine == nullptr) return;
  // One event per source address every kAuthAuditWindow: a flood of bad
  // requests must not push the real events out of the audit log. The next
  // event says how many were left out.
  constexpr int64_t kAuthAuditWindow = 10'000'000'000;
  const std::string_view source = peer.substr(0, peer.rfind(':'));
  const int64_t now = NowNanos();
  uint64_t suppressed = 0;
  {
    std::lock_guard<std::mutex> l(auth_audit_mu_);
    if (auth_audit_sources_.size() > 10'000) auth_audit_sources_.clear();
    auto [it, inserted] = auth_audit_sources_.try_emplace(source);
    AuthAuditSource& s = it->second;
    if (!inserted && now - s.last_ns < kAuthAuditWindow) {
      ++s.suppressed;
      return;
    }
    suppressed = s.suppressed;
    s = AuthAuditSource{now, 0};
  }
  AuditEvent e;
  e.actor = std::move(actor);
  e.action = "auth.failure";
  std::string after;
  JsonWriter w(&after);
  w.BeginObject().Key("status").Int(unauthenticated ? 401 : 403).Key("source").String(peer);
  w.Key("request").String(request);
  if (!reason.empty()) w.Key("reason").String(reason);
  if (suppressed > 0) w.Key("suppressedBefore").Uint(suppressed);
  w.EndObject();
  e.after = std::move(after);
  // Not synced (one write(2)), like ingest events.
  RecordAudit(engine, std::move(e), /*sync=*/false);
}

std::optional<HttpResponse> Service::Throttle(const HttpRequest& req, bool ingest, double cost) {
  if (!req.principal || req.principal->token_id.empty()) return std::nullopt;
  const auth::RateLimits& l = req.principal->limits;
  const double rate = ingest ? l.ingest_rows_per_second : l.queries_per_second;
  if (!(rate > 0)) return std::nullopt;  // no key to build, no lock to take
  auto wait =
      limiter_.Admit(StrCat(ingest ? "i:" : "q:", req.principal->token_id), rate, cost, NowNanos());
  if (!wait) return std::nullopt;
  metrics_.AddRateLimited(ingest);
  const int64_t retry = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(*wait)));
  std::string details;
  JsonWriter(&details)
      .BeginObject()
      .Key("limit")
      .String(ingest ? "ingestRowsPerSecond" : "queriesPerSecond")
      .Key("rate")
      .Double(rate)
      .Key("retryAfterSeconds")
      .Int(retry)
      .EndObject();
  HttpResponse r =
      Error(429, "rate_limited",
            StrCat("the token \"", req.principal->name, "\" is over its rate of ", rate,
                   ingest ? " ingest rows" : " queries", " per second; retry in ", retry, " s"),
            details);
  r.headers.emplace_back("Retry-After", StrCat(retry));
  return r;
}

HttpResponse Service::HandleStatus(const HttpRequest& req, Engine* engine) {
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
    std::vector<std::shared_ptr<Dataset>> visible;
    for (auto& ds : engine->ListDatasets()) {
      if (MaySee(req, ds->slug())) visible.push_back(std::move(ds));
    }
    w.Key("count").Uint(visible.size());
    w.Key("items").BeginArray();
    for (const auto& ds : visible) {
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
    w.Key("hotBytes")
        .Uint(s.memtable_bytes + s.wal_bytes_on_disk + s.segment_bytes - s.remote_segment_bytes);
    w.Key("coldBytes").Uint(s.remote_segment_bytes);
    w.Key("remoteSegments").Uint(s.remote_segments);
    if (const tiering::BlockCache* cache = engine->cache()) {
      const tiering::BlockCacheStats c = cache->stats();
      w.Key("cache").BeginObject();
      w.Key("bytes").Uint(c.bytes).Key("maxBytes").Uint(c.max_bytes).Key("entries").Uint(c.entries);
      w.Key("hits").Uint(c.hits).Key("misses").Uint(c.misses).EndObject();
    }
    w.Key("walBytes").Uint(s.wal_bytes_on_disk);
    w.EndObject();
    w.Key("resultCache").BeginObject();
    query_cache_.WriteStatus(w);
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
  if (options_.extra_status) options_.extra_status(w);
  w.EndObject();
  return Json(200, std::move(out));
}

}  // namespace timestore::api
