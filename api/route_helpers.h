// Small pieces every route handler uses: JSON and error answers, the 503 of a
// server still recovering, scope checks, query-string parameters, and
// recording an audit event. Shared by service.cc and admin_routes.cc.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "api/http_server.h"
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

// A missing scope is 403 naming it; an empty requirement lets everyone in.
std::optional<HttpResponse> CheckScope(const HttpRequest& req, const std::string& needed);

// Query-string parameter `name`, undecoded; the first one when repeated.
std::optional<std::string_view> QueryParam(std::string_view query, std::string_view name);
// Decodes a query-string value: %XX escapes, and '+' as a space. False on a
// truncated or non-hex escape.
bool DecodeQueryValue(std::string_view in, std::string* out);

// The x-iam-user header (or x-user-id when it is absent), or nullopt when
// neither is given.
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

// {"field": <name>}, escaped: `name` may be any key a client sent.
std::string FieldDetails(std::string_view name);

}  // namespace timestore::api
