#include "api/route_helpers.h"

#include <limits>

#include "api/otlp_routes.h"
#include "api/service.h"
#include "auth/access.h"
#include "auth/authenticator.h"
#include "common/json_writer.h"
#include "common/status_util.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "engine/engine.h"
#include "spdlog/spdlog.h"

namespace timestore::api {

HttpResponse Json(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse Error(int status, std::string_view code, std::string_view message,
                   std::string_view details) {
  return Json(status, ErrorBody(code, message, details));
}

HttpResponse NotReady() {
  HttpResponse r =
      Error(503, "not_ready", "the server is recovering its write-ahead log; retry shortly");
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

HttpResponse MethodNotAllowed(const HttpRequest& req, std::string_view allow) {
  HttpResponse r = Error(405, "method_not_allowed",
                         StrCat(req.method, " is not allowed on ", req.path, "; use ", allow));
  r.headers.emplace_back("Allow", std::string(allow));
  return r;
}

HttpResponse Unauthorized(std::string_view message) {
  HttpResponse r = Error(401, "unauthorized", message);
  r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"timestore\"");
  r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"timestore\"");
  return r;
}

namespace {

HttpResponse DenialResponse(const auth::Denial& d) {
  if (d.unauthenticated) return Unauthorized(d.message);
  std::string details;
  JsonWriter w(&details);
  w.BeginObject();
  if (!d.any_of_scopes.empty()) {
    w.Key("requiredScope").String(d.any_of_scopes.front());
    if (d.any_of_scopes.size() > 1) {
      w.Key("anyOfScopes").BeginArray();
      for (const auto& s : d.any_of_scopes) w.String(s);
      w.EndArray();
    }
  }
  if (!d.dataset.empty()) w.Key("dataset").String(d.dataset);
  if (!d.tenant.empty()) w.Key("tenant").String(d.tenant);
  w.EndObject();
  return Error(403, "forbidden", d.message, details);
}

}  // namespace

auth::Principal CallerOf(const HttpRequest& req) {
  if (req.principal) return *req.principal;
  auth::Principal p;
  p.kind = auth::Principal::Kind::kHeaders;
  p.scopes = auth::SplitScopes(req.Header("x-iam-scopes"));
  return p;
}

std::optional<HttpResponse> CheckScope(const HttpRequest& req, const std::string& needed) {
  if (needed.empty()) return std::nullopt;
  if (auto d = auth::CheckScope(CallerOf(req), needed)) return DenialResponse(*d);
  return std::nullopt;
}

std::vector<std::string> DatasetScopes(Engine* engine, std::string_view slug, auth::Access access) {
  if (engine == nullptr || access == auth::kAdmin) return {};
  auto ds = engine->GetDataset(slug);
  if (ds == nullptr) return {};
  DatasetIam iam = ds->iam();
  return access == auth::kRead ? std::move(iam.read_scopes) : std::move(iam.write_scopes);
}

std::optional<HttpResponse> CheckDataset(const HttpRequest& req, Engine* engine,
                                         std::string_view slug, auth::Access access,
                                         const std::string& server_scope,
                                         const std::string& admin_scope) {
  if (auto d =
          auth::CheckDatasetAccess(CallerOf(req), slug, access, DatasetScopes(engine, slug, access),
                                   server_scope, admin_scope)) {
    return DenialResponse(*d);
  }
  return std::nullopt;
}

bool MaySee(const HttpRequest& req, std::string_view slug) {
  return !req.principal || req.principal->GrantAllows(slug, auth::kRead);
}

std::optional<HttpResponse> CheckUnrestricted(const HttpRequest& req) {
  if (!req.principal) return std::nullopt;
  if (auto d = auth::CheckUnrestricted(*req.principal)) return DenialResponse(*d);
  return std::nullopt;
}

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

bool DecodeQueryValue(std::string_view in, std::string* out) {
  return PercentDecode(in, /*plus_as_space=*/true, out);
}

std::optional<std::string> ActorOf(const HttpRequest& req) {
  if (req.principal && (req.principal->kind == auth::Principal::Kind::kToken ||
                        req.principal->kind == auth::Principal::Kind::kBootstrap)) {
    return StrCat("token:", req.principal->name);
  }
  std::string_view user = req.Header("x-iam-user");
  // x-user-id is the original service's name for the same header.
  if (user.empty()) user = req.Header("x-user-id");
  if (user.empty()) return std::nullopt;
  return std::string(user);
}

void RecordAudit(Engine* engine, AuditEvent event, bool sync) {
  event.time_ns = NowNanos();
  if (auto s = engine->audit()->Append(event, sync); !s.ok()) {
    spdlog::error("audit log: event not recorded ({}): {}", ToStd(s.message()),
                  AuditEventJson(event));
  }
}

AuditEvent DatasetEvent(const std::optional<std::string>& actor, const Dataset& ds,
                        std::string_view action, std::string before, std::string after) {
  AuditEvent e;
  e.actor = actor;
  e.action = std::string(action);
  e.dataset_id = DatasetIdString(ds.id());
  e.dataset = ds.slug();
  e.before = std::move(before);
  e.after = std::move(after);
  return e;
}

std::string FieldDetails(std::string_view name) {
  std::string out;
  JsonWriter(&out).BeginObject().Key("field").String(name.substr(0, 80)).EndObject();
  return out;
}

void RecordIngestAudit(Engine* engine, const std::string& actor, const IngestResult& result,
                       std::string_view route) {
  AuditEvent e;
  e.actor = actor;
  e.action = "ingest";
  e.dataset = result.dataset;
  if (auto ds = engine->GetDataset(result.dataset)) e.dataset_id = DatasetIdString(ds->id());
  e.after = route.empty() ? StrCat("{\"rows\":", result.rows, "}")
                          : StrCat("{\"rows\":", result.rows, ",\"route\":\"", route, "\"}");
  RecordAudit(engine, std::move(e), /*sync=*/false);
}

std::optional<HttpResponse> CheckRequestDataset(const HttpRequest& req, Engine* engine,
                                                const absl::StatusOr<std::string>& slug,
                                                auth::Access access,
                                                const std::string& server_scope,
                                                const std::string& admin_scope) {
  if (!slug.ok()) {
    if (auto denied = CheckScope(req, server_scope)) return denied;
    return StatusToResponse(slug.status());
  }
  if (auto denied = CheckDataset(req, engine, *slug, access, server_scope, admin_scope)) {
    return denied;
  }
  if (engine == nullptr) return NotReady();
  return std::nullopt;
}

HttpResponse ServerErrorAnswer(std::string_view path, std::string_view content_type,
                               HttpResponse r) {
  if (IsOtlpPath(path)) return OtlpErrorAnswer(content_type, std::move(r));
  if (path == "/write" || path == "/api/v2/write") {
    return InfluxError(std::move(r), path == "/api/v2/write");
  }
  return r;
}

absl::Status CheckCells(uint64_t rows, uint64_t columns, uint64_t max_cells,
                        absl::FunctionRef<std::string()> what, std::string_view advice) {
  if (rows <= std::numeric_limits<uint32_t>::max() && (rows == 0 || columns <= max_cells / rows)) {
    return absl::OkStatus();
  }
  return MakeError(
      absl::StatusCode::kInvalidArgument, "payload_too_large",
      StrCat("the request has ", what(), ": ", rows, " rows × ", columns,
             " columns pass the limit of ", max_cells, " cells per request; ", advice));
}

}  // namespace timestore::api
