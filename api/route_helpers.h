// Small pieces every route handler uses: JSON and error answers, the 503 of a
// server still recovering, scope checks, query-string parameters, and
// recording an audit event. Shared by service.cc and admin_routes.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "api/http_server.h"
#include "auth/principal.h"
#include "engine/audit_log.h"

namespace timestore {
class Engine;
class Dataset;
struct IngestResult;
}  // namespace timestore

namespace timestore::api {

HttpResponse Json(int status, std::string body);
// The error body of API.md "Errors"; `details` is a JSON object or empty.
HttpResponse Error(int status, std::string_view code, std::string_view message,
                   std::string_view details = "");
// 503 not_ready with Retry-After: 1.
HttpResponse NotReady();
// 405 method_not_allowed with an Allow header naming `allow`.
HttpResponse MethodNotAllowed(const HttpRequest& req, std::string_view allow);

// 401 unauthorized with WWW-Authenticate (Bearer and Basic): no or bad
// credentials.
HttpResponse Unauthorized(std::string_view message);
// A Timestore error answer rewritten into InfluxDB's shape for its clients
// ({"error"} for v1, {"code","message"} for v2), keeping the status, the
// headers and Timestore's code as "timestoreCode". In influx_routes.cc.
HttpResponse InfluxError(HttpResponse ts, bool v2);

// For HttpServerOptions::early_error: an error answer the HTTP server makes
// itself (413 before the body is read) in the shape the route at `path`
// answers errors: a google.rpc.Status on the OTLP paths (in the encoding of
// `content_type`), InfluxDB's on /write and /api/v2/write, api.md's elsewhere.
HttpResponse ServerErrorAnswer(std::string_view path, std::string_view content_type,
                               HttpResponse r);

// Whether the caller of `req` (req.principal; without one, the x-iam-scopes
// header, as in auth mode none) holds `needed`: 401 for an anonymous caller
// of token and proxy modes, 403 naming the scope for one without it. An
// empty requirement lets everyone in.
std::optional<HttpResponse> CheckScope(const HttpRequest& req, const std::string& needed);

// The scopes a request on dataset `slug` needs: the dataset's own iam scopes
// for reading or writing when set, else `server_scope`; and the caller's
// dataset grants (tokens restricted to some datasets) must allow `access`.
// A caller holding `admin_scope` with no dataset restrictions passes the
// dataset's iam lists. `engine` may be null (recovery: server scopes only).
std::optional<HttpResponse> CheckDataset(const HttpRequest& req, Engine* engine,
                                         std::string_view slug, auth::Access access,
                                         const std::string& server_scope,
                                         const std::string& admin_scope);

// CheckDataset for a route whose dataset comes from the request: `slug` is
// its name, or the error saying why the request names none (answered only to
// a caller holding `server_scope`; others get CheckScope's 401/403 first).
// Then 503 while the engine is not open (`engine` null).
std::optional<HttpResponse> CheckRequestDataset(const HttpRequest& req, Engine* engine,
                                                const absl::StatusOr<std::string>& slug,
                                                auth::Access access,
                                                const std::string& server_scope,
                                                const std::string& admin_scope);

// The caller of `req`: req.principal, or (for handlers called without
// Service::Handle in front, as in auth mode none) one made from x-iam-scopes.
auth::Principal CallerOf(const HttpRequest& req);
// Dataset `slug`'s own iam scopes for `access` (none for admin, for unknown
// datasets, or when `engine` is null).
std::vector<std::string> DatasetScopes(Engine* engine, std::string_view slug, auth::Access access);

// Whether the caller may see dataset `slug` in listings (/status, GET
// /admin/datasets): its grants allow reading it.
bool MaySee(const HttpRequest& req, std::string_view slug);

// 403 for routes about the whole server (tokens, storage targets, the audit
// log) when the caller's token is restricted to some datasets.
std::optional<HttpResponse> CheckUnrestricted(const HttpRequest& req);

// Query-string parameter `name`, undecoded; the first one when repeated.
std::optional<std::string_view> QueryParam(std::string_view query, std::string_view name);
// Decodes a query-string value: %XX escapes, and '+' as a space. False on a
// truncated or non-hex escape.
bool DecodeQueryValue(std::string_view in, std::string* out);

// The audit actor: "token:<name>" for a token, else the x-iam-user header
// (or x-user-id when it is absent), or nullopt when there is none.
std::optional<std::string> ActorOf(const HttpRequest& req);

// Appends `event` to the engine's audit log (stamping the time). A failure is
// logged with the whole event, never answered: the change it records has
// already been made.
void RecordAudit(Engine* engine, AuditEvent event, bool sync);

// Audits an ingest of `result` by `actor` (only requests naming a user are
// audited); `route` names a protocol route ("influx_write", ...) or is empty.
// Costs one write(2), no fsync: it runs on the WAL writer thread.
void RecordIngestAudit(Engine* engine, const std::string& actor, const IngestResult& result,
                       std::string_view route);

// An audit event about dataset `ds`.
AuditEvent DatasetEvent(const std::optional<std::string>& actor, const Dataset& ds,
                        std::string_view action, std::string before, std::string after);

// 413 payload_too_large when an ingest request of `rows` rows (more than
// uint32 holds, or) times `columns` columns passes `max_cells`, the bound on
// the memory of the columns built: "the request has <what()>: <rows> rows ×
// <columns> columns pass the limit of <max_cells> cells per request; <advice>".
// `what` is called only then.
absl::Status CheckCells(uint64_t rows, uint64_t columns, uint64_t max_cells,
                        absl::FunctionRef<std::string()> what, std::string_view advice);

// {"field": <name>}, escaped: `name` may be any key a client sent.
std::string FieldDetails(std::string_view name);

}  // namespace timestore::api
