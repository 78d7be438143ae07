// POST /sql: one SQL statement over HTTP, through the same SQL layer as the
// PostgreSQL wire protocol (sql/session.h), answered as JSON, NDJSON or CSV.
#include "api/result_writer.h"
#include "api/route_helpers.h"
#include "api/service.h"
#include "auth/access.h"
#include "common/json_writer.h"
#include "common/status_util.h"
#include "common/strings.h"
#include "simdjson.h"
#include "sql/session.h"
#include "sql/value.h"

namespace timestore::api {
namespace {

// The HTTP status and API code of a SQL error; the SQLSTATE goes in details.
HttpResponse SqlErrorResponse(const absl::Status& status) {
  // Engine errors keep the JSON API's codes (unknown_column, ...).
  if (!ErrorCodeOf(status).empty()) {
    HttpResponse r = StatusToResponse(status);
    return r;
  }
  const std::string state = sql::SqlStateOf(status);
  int http = 400;
  std::string_view code = "invalid_query";
  if (state == sql::sqlstate::kSyntaxError) code = "sql_syntax_error";
  if (state == sql::sqlstate::kFeatureNotSupported) code = "sql_not_supported";
  if (state == sql::sqlstate::kUndefinedTable) http = 404, code = "dataset_not_found";
  if (state == sql::sqlstate::kUndefinedColumn) code = "unknown_column";
  if (state == sql::sqlstate::kInsufficientPrivilege) http = 403, code = "forbidden";
  if (state == sql::sqlstate::kQueryCanceled) http = 499, code = "cancelled";
  if (state == sql::sqlstate::kServiceUnavailable) http = 503, code = "not_ready";
  if (state == sql::sqlstate::kProgramLimitExceeded) code = "result_too_large";
  if (state == sql::sqlstate::kInternalError) http = 500, code = "internal";
  std::string details = "{\"sqlstate\":";
  AppendJsonString(&details, state);
  if (int pos = sql::SqlPositionOf(status); pos > 0) details += StrCat(",\"position\":", pos);
  details += "}";
  return Error(http, code, ToStd(status.message()), details);
}

struct SqlRequest {
  std::string query;
  std::vector<sql::Param> params;
};

// The body is the statement itself, or JSON {"query": "...", "params": [...]}.
absl::StatusOr<SqlRequest> ParseSqlBody(const HttpRequest& req) {
  SqlRequest out;
  std::string_view body = StripWhitespace(req.body);
  bool json = req.Header("content-type").find("json") != std::string_view::npos ||
              (!body.empty() && body[0] == '{');
  if (!json) {
    out.query = std::string(body);
    return out;
  }
  auto bad = [](std::string_view m) {
    return MakeError(absl::StatusCode::kInvalidArgument, "invalid_json", m);
  };
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  if (parser.parse(req.body).get(o)) return bad("the body is not a JSON object");
  for (auto [k, v] : o) {
    if (k == "query") {
      std::string_view q;
      if (v.get(q)) return bad("\"query\" must be a string");
      out.query = std::string(q);
    } else if (k == "params") {
      simdjson::dom::array a;
      if (v.get(a)) return bad("\"params\" must be an array");
      for (simdjson::dom::element p : a) {
        switch (p.type()) {
          case simdjson::dom::element_type::NULL_VALUE:
            out.params.emplace_back(std::nullopt);
            break;
          case simdjson::dom::element_type::STRING:
            out.params.emplace_back(std::string(std::string_view(p.get_string().value())));
            break;
          case simdjson::dom::element_type::BOOL:
            out.params.emplace_back(p.get_bool().value() ? "true" : "false");
            break;
          case simdjson::dom::element_type::INT64:
            out.params.emplace_back(std::to_string(p.get_int64().value()));
            break;
          case simdjson::dom::element_type::UINT64:
            out.params.emplace_back(std::to_string(p.get_uint64().value()));
            break;
          case simdjson::dom::element_type::DOUBLE:
            out.params.emplace_back(sql::ValueToText(sql::Value::Double(p.get_double().value())));
            break;
          default:
            return bad("each of \"params\" must be a string, number, boolean or null");
        }
      }
    } else {
      return bad(StrCat("unknown member \"", k, "\" (expected \"query\" and \"params\")"));
    }
  }
  if (out.query.empty()) return bad("\"query\" is required");
  return out;
}

}  // namespace

void Service::HandleSql(HttpRequest&& req, Responder respond) {
  // Without credentials, 401 at once; which datasets a statement reads is
  // checked per table by the session (42501, answered 403).
  if (req.principal && req.principal->anonymous()) {
    if (auto denied = CheckScope(req, options_.require_scope)) return respond(*denied);
  }
  Engine* engine = engine_.load(std::memory_order_acquire);
  if (engine == nullptr) {
    if (auto denied = CheckScope(req, options_.require_scope)) return respond(*denied);
    return respond(NotReady());
  }
  if (auto limited = Throttle(req, /*ingest=*/false, 1)) return respond(*limited);
  RunOnPool([this, engine, req = std::move(req), respond = std::move(respond)]() mutable {
    auto body = ParseSqlBody(req);
    if (!body.ok()) return respond(StatusToResponse(body.status()));
    sql::SessionOptions so;
    so.user = ActorOf(req).value_or("http");
    so.max_rows = options_.query_max_limit;
    so.server_version = StrCat("15.0 (Timestore ", options_.version, ")");
    // The client going away cancels the statement.
    so.cancel_flag = req.client_gone;
    // Catalog queries (psql's \dt, pg_class) need the read scope; which
    // datasets they list, and which tables a statement reads, the caller's
    // access decides (table_access).
    const auth::Principal caller = CallerOf(req);
    so.scopes = caller.scopes;
    so.require_scope = options_.require_scope;
    so.table_access = [this, engine, caller](std::string_view table) -> std::optional<std::string> {
      if (auto d = auth::CheckDatasetAccess(caller, table, auth::kRead,
                                            DatasetScopes(engine, table, auth::kRead),
                                            options_.require_scope, options_.admin_scope)) {
        return d->message;
      }
      return std::nullopt;
    };
    sql::Session session(engine, so);
    auto stmts = session.Split(body->query);
    if (!stmts.ok()) return respond(SqlErrorResponse(stmts.status()));
    if (stmts->size() != 1) {
      return respond(SqlErrorResponse(
          sql::SqlError(sql::sqlstate::kSyntaxError,
                        StrCat("POST /sql takes exactly one statement, not ", stmts->size()))));
    }
    auto prepared = session.Prepare((*stmts)[0], {});
    if (!prepared.ok()) return respond(SqlErrorResponse(prepared.status()));
    if (static_cast<int>(body->params.size()) != prepared->param_count) {
      return respond(SqlErrorResponse(
          sql::SqlError(sql::sqlstate::kUndefinedParameter,
                        StrCat("the statement has ", prepared->param_count,
                               " parameters and \"params\" gives ", body->params.size()))));
    }
    auto result = session.Execute(*prepared, body->params);
    if (!result.ok()) return respond(SqlErrorResponse(result.status()));
    metrics_.AddQueryRows(result->table.stats.rows_scanned, result->table.rows);
    std::vector<std::string> types;
    for (const sql::SqlColumn& c : result->columns) {
      types.emplace_back(sql::SqlTypeName(sql::SqlTypeFromOid(c.type_oid)));
    }
    ResultFormat format = FormatFromAccept(req.Header("accept"));
    HttpResponse r;
    r.content_type = std::string(ContentType(format));
    WriteSqlResult(result->table, types, result->command_tag, format, &r.body);
    respond(std::move(r));
  });
}

}  // namespace timestore::api
