// Prometheus remote write 1.0 (POST /api/v1/write) and remote read, SAMPLES
// response type (POST /api/v1/read). The mapping between series and rows and
// all byte-level work live in api/prometheus_codec.h; these handlers add
// scopes, the engine calls and the HTTP answers Prometheus expects: 204 to a
// write, a snappy protobuf ReadResponse to a read, 5xx only when a retry can
// help (Prometheus retries 5xx and drops a batch answered 4xx).
#include <google/protobuf/arena.h>

#include "api/body_decoding.h"
#include "api/prometheus_codec.h"
#include "api/route_helpers.h"
#include "api/service.h"
#include "common/status_util.h"
#include "common/strings.h"

namespace timestore::api {
namespace {

// The `dataset` query parameter (default "prometheus"), decoded and checked
// like the slugs of the /datasets routes.
absl::StatusOr<std::string> RemoteDatasetSlug(std::string_view query_string) {
  auto raw = QueryParam(query_string, "dataset");
  if (!raw) return std::string(kPromDefaultDataset);
  std::string slug;
  if (!DecodeQueryValue(*raw, &slug) || !IsValidSlug(slug)) {
    return MakeError(absl::StatusCode::kInvalidArgument, "invalid_slug",
                     StrCat("dataset slug \"", EscapeForMessage(raw->substr(0, 80)),
                            "\" must match [a-z0-9][a-z0-9_-]{0,63}"),
                     FieldDetails("dataset"));
  }
  return slug;
}

HttpResponse NoContent() {
  HttpResponse r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

}  // namespace

void Service::HandlePromWrite(HttpRequest&& req, Responder respond) {
  Engine* engine = engine_.load(std::memory_order_acquire);
  auto slug = RemoteDatasetSlug(req.query);
  if (auto denied = CheckRequestDataset(req, engine, slug, auth::kWrite,
                                        options_.require_write_scope, options_.admin_scope)) {
    return respond(*denied);
  }
  if (auto s = CheckRemoteEncoding(req.Header("content-encoding"), req.Header("content-type"));
      !s.ok()) {
    return respond(StatusToResponse(s));
  }
  SchemaPtr current = engine->GetSchema(*slug);
  RemoteWriteOptions opts;
  opts.slug = *slug;
  opts.current = current.get();
  opts.max_decoded_bytes = options_.max_body_bytes;
  auto batch = DecodeRemoteWrite(req.body, opts);
  if (!batch.ok()) return respond(StatusToResponse(batch.status()));
  // Metadata only (Prometheus sends it on its own timer): nothing to store.
  if (batch->rows == 0) return respond(NoContent());
  if (auto limited = Throttle(req, /*ingest=*/true, static_cast<double>(batch->rows))) {
    return respond(*limited);
  }
  // Tenant quotas: 507 (storage) and 429 (rate) are both retried by
  // Prometheus, so a refused batch waits in its queue rather than being lost.
  std::shared_ptr<void> claim;
  if (auto refused = AdmitTenantIngest(engine, {{*slug, batch->rows}}, &claim)) {
    return respond(*refused);
  }
  const uint64_t body_bytes = req.body.size();
  engine->Ingest(std::move(*batch),
                 [this, engine, body_bytes, actor = ActorOf(req), claim = std::move(claim),
                  respond = std::move(respond)](absl::StatusOr<IngestResult> result) {
                   // Back-pressure stays 503 with Retry-After: Prometheus retries it.
                   if (!result.ok()) return respond(StatusToResponse(result.status()));
                   if (!result->duplicate) RecordTenantIngest(result->dataset, result->rows);
                   metrics_.AddIngest(result->rows, body_bytes);
                   if (actor) RecordIngestAudit(engine, *actor, *result, "prometheus_remote_write");
                   respond(NoContent());
                 });
}

void Service::HandlePromRead(HttpRequest&& req, Responder respond) {
  Engine* engine = engine_.load(std::memory_order_acquire);
  auto slug = RemoteDatasetSlug(req.query);
  if (auto denied = CheckRequestDataset(req, engine, slug, auth::kRead, options_.require_scope,
                                        options_.admin_scope)) {
    return respond(*denied);
  }
  if (auto limited = Throttle(req, /*ingest=*/false, 1)) return respond(*limited);
  if (auto s = CheckRemoteEncoding(req.Header("content-encoding"), req.Header("content-type"));
      !s.ok()) {
    return respond(StatusToResponse(s));
  }
  RunOnPool([this, engine, req = std::move(req), slug = *std::move(slug),
             respond = std::move(respond)]() mutable {
    google::protobuf::Arena arena;
    auto request = DecodeRemoteRead(req.body, options_.max_body_bytes, &arena);
    if (!request.ok()) return respond(StatusToResponse(request.status()));
    auto* response = google::protobuf::Arena::CreateMessage<prometheus::ReadResponse>(&arena);
    // An unknown dataset answers empty results: Prometheus reads remote
    // storage as a secondary source, and an error would fail its queries.
    SchemaPtr schema = engine->GetSchema(slug);
    // One budget of rows for the whole request.
    uint64_t budget = options_.query_max_limit;
    for (int q = 0; q < (*request)->queries_size(); ++q) {
      prometheus::QueryResult* out = response->add_results();
      if (schema == nullptr) continue;
      auto plan = PlanRemoteRead((*request)->queries(q), *schema, budget + 1);
      if (!plan.ok()) return respond(StatusToResponse(plan.status()));
      if (plan->match_nothing) continue;
      plan->spec.cancelled = req.client_gone;
      auto result = engine->Query(slug, plan->spec);
      if (!result.ok()) {
        if (result.status().code() == absl::StatusCode::kNotFound) continue;  // deleted meanwhile
        return respond(StatusToResponse(result.status()));
      }
      metrics_.AddQueryRows(result->stats.rows_scanned, result->rows);
      metrics_.AddQueryRemote(result->stats.bytes_read, result->stats.remote_requests,
                              result->stats.remote_bytes_read, result->stats.cache_hits,
                              result->stats.cache_misses);
      if (result->rows > budget) {
        return respond(StatusToResponse(MakeError(
            absl::StatusCode::kInvalidArgument, "too_many_samples",
            StrCat("remote read query ", q, " selects more than ", options_.query_max_limit,
                   " samples (TIMESTORE_QUERY_MAX_LIMIT, for all queries of one request); "
                   "narrow its time range or matchers"),
            StrCat("{\"queryIndex\":", q, ",\"limit\":", options_.query_max_limit, "}"))));
      }
      budget -= result->rows;
      GroupSeries(*result, *plan, out);
    }
    std::string encoded;
    if (!response->SerializeToString(&encoded)) {
      return respond(StatusToResponse(absl::InternalError("cannot serialise the ReadResponse")));
    }
    HttpResponse r;
    r.content_type = "application/x-protobuf";
    r.headers.emplace_back("Content-Encoding", "snappy");
    r.body = SnappyEncode(encoded);
    respond(std::move(r));
  });
}

}  // namespace timestore::api
