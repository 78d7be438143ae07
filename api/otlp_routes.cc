// OTLP/HTTP logs and traces: POST /v1/logs and POST /v1/traces
// (docs/otlp.md). The body, JSON or protobuf and optionally gzip-compressed,
// becomes one IngestRequest (api/otlp_json.h, api/otlp_codec.h) that takes
// the path of every ingest: dataset scopes, rate limits, tenant quotas, one
// WAL record made durable before the answer, metrics and audit. Answers are
// OTLP's: 200 with an empty Export*ServiceResponse in the request's encoding;
// errors as a google.rpc.Status in the request's encoding (OtlpErrorAnswer,
// applied by Service::Handle around this handler, api/otlp_routes.h).
#include "api/otlp_routes.h"

#include <google/protobuf/arena.h>
#include <simdjson.h>

#include "absl/strings/ascii.h"
#include "api/body_decoding.h"
#include "api/otlp_codec.h"
#include "api/otlp_json.h"
#include "api/route_helpers.h"
#include "api/service.h"
#include "common/json_writer.h"
#include "common/status_util.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "spdlog/spdlog.h"

namespace timestore::api {
namespace {

enum class Encoding { kJson, kProtobuf };

std::optional<Encoding> EncodingOf(std::string_view content_type) {
  const std::string t = absl::AsciiStrToLower(
      ToAbsl(StripWhitespace(content_type.substr(0, content_type.find(';')))));
  if (t == "application/json") return Encoding::kJson;
  if (t == "application/x-protobuf" || t == "application/protobuf") return Encoding::kProtobuf;
  return std::nullopt;
}

HttpResponse ExportAnswer(Encoding encoding) {
  HttpResponse r;
  r.status = 200;
  if (encoding == Encoding::kJson) {
    r.body = "{}";
  } else {
    // An empty Export{Logs,Trace}ServiceResponse serialises to no bytes.
    r.content_type = "application/x-protobuf";
  }
  return r;
}

// The dataset: the x-timestore-dataset header, else the `dataset` query
// parameter, else the signal's default; checked like the /datasets slugs.
absl::StatusOr<std::string> OtlpDatasetSlug(const HttpRequest& req, bool traces) {
  std::string slug;
  std::string_view raw = req.Header("x-timestore-dataset");
  if (!raw.empty()) {
    slug.assign(StripWhitespace(raw));
  } else if (auto q = QueryParam(req.query, "dataset")) {
    raw = *q;
    if (!DecodeQueryValue(*q, &slug)) slug.clear();
  } else {
    return std::string(traces ? kOtlpTracesDataset : kOtlpLogsDataset);
  }
  if (!IsValidSlug(slug)) {
    return MakeError(absl::StatusCode::kInvalidArgument, "invalid_slug",
                     StrCat("dataset slug ", QuoteForMessage(raw.substr(0, 80)),
                            " must match [a-z0-9][a-z0-9_-]{0,63}"),
                     FieldDetails("dataset"));
  }
  return slug;
}

absl::Status NotProtobuf(bool traces) {
  return MakeError(absl::StatusCode::kInvalidArgument, "invalid_body",
                   StrCat("the body is not a protobuf ",
                          traces ? "ExportTraceServiceRequest" : "ExportLogsServiceRequest"));
}

}  // namespace

int OtlpGrpcCode(int http_status) {
  switch (http_status) {
    case 400:
    case 415:
      return 3;  // INVALID_ARGUMENT
    case 401:
      return 16;  // UNAUTHENTICATED
    case 403:
      return 7;  // PERMISSION_DENIED
    case 404:
      return 5;  // NOT_FOUND
    case 405:
      return 12;  // UNIMPLEMENTED
    case 409:
    case 422:
      return 9;  // FAILED_PRECONDITION
    case 413:
    case 429:
    case 507:
      return 8;  // RESOURCE_EXHAUSTED
    case 503:
      return 14;  // UNAVAILABLE
    case 504:
      return 4;  // DEADLINE_EXCEEDED
    default:
      return 13;  // INTERNAL
  }
}

HttpResponse OtlpErrorAnswer(std::string_view content_type, HttpResponse r) {
  if (r.status < 400) return r;
  simdjson::dom::parser parser;
  simdjson::dom::element root, error;
  std::string_view code, message;
  const bool ours = !parser.parse(r.body).get(root) && !root["error"].get(error) &&
                    error.is_object() && !error["code"].get(code) && !error["message"].get(message);
  const std::string text = ours ? StrCat(code, ": ", message) : r.body;
  if (EncodingOf(content_type) == Encoding::kProtobuf) {
    otlp::RpcStatus status;
    status.set_code(OtlpGrpcCode(r.status));
    status.set_message(text);
    r.content_type = "application/x-protobuf";
    r.body = status.SerializeAsString();
    return r;
  }
  std::string body;
  StrAppend(&body, "{\"code\":", OtlpGrpcCode(r.status), ",\"message\":");
  AppendJsonString(&body, text);
  body.append(",\"details\":[");
  if (ours) {
    // api.md's error object, with the type an Any in a Status needs first.
    const std::string object = simdjson::minify(error);
    body.append(R"({"@type":"type.googleapis.com/timestore.Error")");
    if (object.size() > 2)
      StrAppend(&body, ",", std::string_view(object).substr(1));
    else
      body.push_back('}');
  }
  body.append("]}");
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

Responder OtlpErrorResponder(std::string_view content_type, Responder respond) {
  return [content_type = std::string(content_type), inner = std::move(respond)](HttpResponse r) {
    inner(OtlpErrorAnswer(content_type, std::move(r)));
  };
}

void Service::HandleOtlp(HttpRequest&& req, bool traces, Responder respond) {
  Engine* engine = engine_.load(std::memory_order_acquire);
  const std::optional<Encoding> encoding = EncodingOf(req.Header("content-type"));
  auto slug = OtlpDatasetSlug(req, traces);
  if (auto denied = CheckRequestDataset(req, engine, slug, auth::kWrite,
                                        options_.require_write_scope, options_.admin_scope)) {
    return respond(*denied);
  }
  if (!encoding) {
    return respond(Error(415, "unsupported_media_type",
                         StrCat("Content-Type ", QuoteForMessage(req.Header("content-type")),
                                " is not an OTLP/HTTP encoding; send application/json or "
                                "application/x-protobuf")));
  }
  if (auto s = DecodeBody(req.Header("content-encoding"), options_.max_body_bytes, &req.body);
      !s.ok()) {
    return respond(StatusToResponse(s));
  }

  SchemaPtr current = engine->GetSchema(*slug);
  OtlpIngestOptions opts;
  opts.slug = *slug;
  opts.current = current.get();
  opts.now_ns = NowNanos();
  const uint64_t body_bytes = req.body.size();
  absl::StatusOr<IngestRequest> batch;
  {
    // The records are counted before any is built: a small gzip body can
    // hold millions of empty ones, and their messages would take gigabytes
    // before LogsToIngest's own check.
    absl::Status parsed;
    if (*encoding == Encoding::kProtobuf) {
      if (auto counts = CountOtlpProtobuf(req.body)) {
        parsed = CheckOtlpSize(traces ? OtlpSignal::kTraces : OtlpSignal::kLogs, *counts,
                               opts.max_cells);
      } else {
        parsed = NotProtobuf(traces);
      }
      if (!parsed.ok()) return respond(StatusToResponse(parsed));
    }
    google::protobuf::Arena arena;
    if (traces) {
      auto* request =
          google::protobuf::Arena::CreateMessage<otlp::ExportTraceServiceRequest>(&arena);
      if (*encoding == Encoding::kJson) {
        parsed = ParseOtlpTracesJson(&req.body, request, opts.max_cells);
      } else if (!request->ParseFromString(req.body)) {
        parsed = NotProtobuf(traces);
      }
      if (parsed.ok()) batch = TracesToIngest(*request, opts);
    } else {
      auto* request =
          google::protobuf::Arena::CreateMessage<otlp::ExportLogsServiceRequest>(&arena);
      if (*encoding == Encoding::kJson) {
        parsed = ParseOtlpLogsJson(&req.body, request, opts.max_cells);
      } else if (!request->ParseFromString(req.body)) {
        parsed = NotProtobuf(traces);
      }
      if (parsed.ok()) batch = LogsToIngest(*request, opts);
    }
    if (!parsed.ok()) return respond(StatusToResponse(parsed));
  }
  if (!batch.ok()) return respond(StatusToResponse(batch.status()));
  // Nothing to store (an export without records): the dataset is not created.
  if (batch->rows == 0) return respond(ExportAnswer(*encoding));
  if (auto limited = Throttle(req, /*ingest=*/true, static_cast<double>(batch->rows))) {
    return respond(*limited);
  }
  std::shared_ptr<void> claim;
  if (auto refused = AdmitTenantIngest(engine, {{*slug, batch->rows}}, &claim)) {
    return respond(*refused);
  }
  engine->Ingest(std::move(*batch), [this, engine, body_bytes, traces,
                                     answer = ExportAnswer(*encoding), actor = ActorOf(req),
                                     claim = std::move(claim), respond = std::move(respond)](
                                        absl::StatusOr<IngestResult> result) mutable {
    if (!result.ok()) return respond(StatusToResponse(result.status()));
    RecordTenantIngest(result->dataset, result->rows);
    metrics_.AddIngest(result->rows, body_bytes);
    if (actor) RecordIngestAudit(engine, *actor, *result, traces ? "otlp_traces" : "otlp_logs");
    // The rows are durable: answer now. The admin pool is shared with
    // migrations, deletes and storage checks, and an exporter that waited on
    // it would time out and send the rows again.
    respond(std::move(answer));
    // service_name becomes the series key of a dataset nobody chose one
    // for: a durable settings edit, off the WAL writer's thread. Idempotent:
    // a task that finds a series key set (by an earlier export's task, or by
    // PUT /admin/datasets/{id}/settings) does nothing. A task posted once
    // Service::Shutdown has joined the pool never runs, and the next export
    // after a restart sets it.
    std::shared_ptr<Dataset> ds = engine->GetDataset(result->dataset);
    if (ds == nullptr || ds->chosen_segment_by().has_value() ||
        ds->schema()->IndexOf(kOtlpServiceColumn) < 0) {
      return;
    }
    RunOnAdminPool([engine, ds = std::move(ds)] {
      if (ds->chosen_segment_by().has_value()) return;
      Engine::Settings settings;
      settings.segment_by = std::vector<std::string>{std::string(kOtlpServiceColumn)};
      if (auto s = engine->UpdateSettings(ds.get(), settings); !s.ok()) {
        // The rows are stored; only the layout waits for the next write.
        spdlog::warn("dataset {}: cannot make {} the series key: {}", ds->slug(),
                     kOtlpServiceColumn, ToStd(s.message()));
      }
    });
  });
}

}  // namespace timestore::api
