// The InfluxDB write routes (docs/api.md "InfluxDB line protocol"): v1
// `POST /write?db=&precision=` and v2 `POST /api/v2/write?bucket=&precision=`,
// answered as InfluxDB answers so that its clients and Telegraf work
// unmodified: 204 on success, errors as {"error": ...} (v1) or
// {"code": ..., "message": ...} (v2).
#include <simdjson.h>

#include "api/body_decoding.h"
#include "api/line_protocol.h"
#include "api/route_helpers.h"
#include "api/service.h"
#include "common/checksum.h"
#include "common/json_writer.h"
#include "common/status_util.h"
#include "common/strings.h"
#include "common/time_util.h"

namespace timestore::api {
namespace {

constexpr std::string_view kInfluxVersion = "1.8.10";

// InfluxDB's v2 error code for an HTTP status.
std::string_view V2Code(int status) {
  switch (status) {
    case 400:
      return "invalid";
    case 401:
    case 403:
      return "unauthorized";
    case 404:
      return "not found";
    case 413:
      return "request too large";
    case 415:
      return "unsupported media type";
    case 429:
      return "too many requests";  // InfluxDB 2's code; its clients retry it
    case 503:
      return "unavailable";
    default:
      return status >= 500 ? "internal error" : "invalid";
  }
}

HttpResponse NoContent() {
  HttpResponse r;
  r.status = 204;
  r.content_type.clear();
  r.headers.emplace_back("X-Influxdb-Version", std::string(kInfluxVersion));
  return r;
}

}  // namespace

HttpResponse InfluxError(HttpResponse ts, bool v2) {
  // The Timestore body is {"error": {"code": ..., "message": ..., ...}}; the
  // message is what InfluxDB clients show.
  std::string message, code;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!parser.parse(ts.body).get(doc)) {
    std::string_view m, c;
    if (!doc["error"]["message"].get(m)) message = std::string(m);
    if (!doc["error"]["code"].get(c)) code = std::string(c);
  }
  if (message.empty()) message = ts.body;
  std::string body;
  JsonWriter w(&body);
  w.BeginObject();
  if (v2) {
    w.Key("code").String(V2Code(ts.status));
    w.Key("message").String(message);
  } else {
    w.Key("error").String(message);
  }
  w.Key("timestoreCode").String(code);
  w.EndObject();
  HttpResponse r;
  r.status = ts.status;
  r.body = std::move(body);
  r.headers = std::move(ts.headers);
  r.headers.emplace_back("X-Influxdb-Error", message.substr(0, 512));
  r.headers.emplace_back("X-Influxdb-Version", std::string(kInfluxVersion));
  return r;
}

void Service::HandleInfluxWrite(HttpRequest&& req, bool v2, Responder respond) {
  auto fail = [v2, &respond](HttpResponse r) { respond(InfluxError(std::move(r), v2)); };
  // Without credentials, refuse before reading the body; the datasets (one
  // per measurement) are checked once the body names them.
  if (req.principal && req.principal->anonymous()) {
    if (auto denied = CheckScope(req, options_.require_write_scope)) return fail(*denied);
  }
  Engine* engine = engine_.load(std::memory_order_acquire);
  if (engine == nullptr) {
    if (auto denied = CheckScope(req, options_.require_write_scope)) return fail(*denied);
    return fail(NotReady());
  }

  // v1 names a database, v2 a bucket; either prefixes the dataset names.
  const std::string_view db_param = v2 ? "bucket" : "db";
  std::string db;
  if (auto raw = QueryParam(req.query, db_param); raw && !DecodeQueryValue(*raw, &db)) {
    return fail(Error(400, "invalid_request", StrCat("bad escape in `", db_param, "`")));
  }
  if (db.empty()) {
    return fail(Error(400, "invalid_request",
                      v2 ? "bucket is required (the `bucket` query parameter)"
                         : "database is required (the `db` query parameter)",
                      FieldDetails(db_param)));
  }
  std::string precision_text;
  if (auto raw = QueryParam(req.query, "precision")) DecodeQueryValue(*raw, &precision_text);
  auto precision = ParseInfluxPrecision(precision_text);
  if (!precision) {
    return fail(Error(400, "invalid_request",
                      StrCat("precision \"", precision_text.substr(0, 16),
                             "\" is not one of ns, n, us, u, ms, s, m, h"),
                      FieldDetails("precision")));
  }
  if (auto s = DecodeBody(req.Header("content-encoding"), options_.max_body_bytes, &req.body);
      !s.ok()) {
    return fail(StatusToResponse(s));
  }

  LineProtocolOptions opts;
  opts.dataset_prefix = StrCat(db, "_");
  opts.precision_ns = *precision;
  opts.now_ns = NowNanos();
  // A dataset the caller may not write is parsed as if new: its schema must
  // not show through type-conflict errors; the grant check below refuses it.
  opts.schema_of = [this, engine, &req](const std::string& slug) -> SchemaPtr {
    if (CheckDataset(req, engine, slug, auth::kWrite, options_.require_write_scope,
                     options_.admin_scope)) {
      return nullptr;
    }
    return engine->GetSchema(slug);
  };
  auto parsed = ParseLineProtocol(req.body, opts);
  if (!parsed.ok()) return fail(StatusToResponse(parsed.status()));
  std::vector<IngestRequest> requests = *std::move(parsed);
  if (requests.empty()) return respond(NoContent());
  uint64_t batch_rows = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    batch_rows += requests[i].rows;
    bool seen = false;
    for (size_t j = 0; j < i && !seen; ++j) seen = requests[j].slug == requests[i].slug;
    if (seen) continue;
    if (auto denied = CheckDataset(req, engine, requests[i].slug, auth::kWrite,
                                   options_.require_write_scope, options_.admin_scope)) {
      return fail(*denied);
    }
  }
  if (auto limited = Throttle(req, /*ingest=*/true, static_cast<double>(batch_rows))) {
    return fail(*limited);
  }

  // An Idempotency-Key lives on the dataset of the first measurement, keyed
  // by the whole body: a retry of the same body finds it there.
  std::string key(req.Header("idempotency-key"));
  if (!key.empty()) {
    if (key.size() > 255) {
      return fail(
          Error(400, "invalid_request",
                StrCat("Idempotency-Key is ", key.size(), " characters; at most 255 are allowed")));
    }
    std::string keyed = StrCat(req.path, "?", req.query, std::string_view("\0", 1));
    const uint64_t hash = Checksum64(keyed) ^ (Checksum64(req.body) * 0x9E3779B97F4A7C15ull);
    auto dup = engine->CheckIdempotency(requests.front().slug, key, hash);
    if (!dup.ok()) return fail(StatusToResponse(dup.status()));
    if (dup->has_value()) return respond(NoContent());
    requests.front().idempotency_key = std::move(key);
    requests.front().request_hash = hash;
  }

  // Tenant quotas of every measurement's dataset, before the engine sees
  // any of them: the batch is stored whole or not at all.
  std::vector<std::pair<std::string, uint64_t>> writes;
  for (const IngestRequest& r : requests) writes.emplace_back(r.slug, r.rows);
  std::shared_ptr<void> claim;
  if (auto refused = AdmitTenantIngest(engine, writes, &claim)) return fail(*refused);

  const uint64_t body_bytes = req.body.size();
  engine->IngestMany(std::move(requests), [this, engine, v2, body_bytes, actor = ActorOf(req),
                                           claim = std::move(claim), respond = std::move(respond)](
                                              absl::StatusOr<std::vector<IngestResult>> results) {
    if (!results.ok()) return respond(InfluxError(StatusToResponse(results.status()), v2));
    uint64_t rows = 0;
    bool duplicate = false;
    for (const auto& r : *results) {
      rows += r.rows;
      duplicate |= r.duplicate;
    }
    if (!duplicate) {
      for (const auto& r : *results) RecordTenantIngest(r.dataset, r.rows);
      metrics_.AddIngest(rows, body_bytes);
      // Only requests that name a user are audited, as for JSON ingest.
      if (actor) {
        for (const auto& r : *results) RecordIngestAudit(engine, *actor, r, "influx_write");
      }
    }
    respond(NoContent());
  });
}

void Service::HandleInfluxQuery(HttpRequest&& req, Responder respond) {
  // Only write clients call it (CREATE DATABASE at start-up).
  if (auto denied = CheckScope(req, options_.require_write_scope)) {
    return respond(InfluxError(*denied, false));
  }
  // `q` comes in the query string or, for POST, as a form body.
  std::string q;
  auto raw = QueryParam(req.query, "q");
  if (!raw && req.method == "POST") raw = QueryParam(req.body, "q");
  if (raw && !DecodeQueryValue(*raw, &q)) q.clear();
  std::string upper;
  for (char c : StripWhitespace(q)) {
    upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  if (upper.rfind("CREATE DATABASE ", 0) == 0) {
    HttpResponse r = Json(200, "{\"results\":[{\"statement_id\":0}]}");
    r.headers.emplace_back("X-Influxdb-Version", std::string(kInfluxVersion));
    return respond(std::move(r));
  }
  respond(InfluxError(
      Error(400, "unsupported_influxql",
            StrCat("InfluxQL \"", q.substr(0, 80),
                   "\" is not supported: only CREATE DATABASE (a no-op; datasets are made by "
                   "their first write). Query with POST /datasets/<db>_<measurement>/query")),
      false));
}

}  // namespace timestore::api
