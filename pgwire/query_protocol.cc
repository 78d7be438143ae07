#include "pgwire/query_protocol.h"

#include "common/strings.h"
#include "pgwire/pg_error.h"
#include "pgwire/value_format.h"

namespace timestore::pgwire {
namespace {

// Output is sent once this much is buffered, so a large result streams to
// the client instead of being built whole in memory.
constexpr size_t kFlushBytes = 256 << 10;
// PostgreSQL's MaxTupleAttributeNumber; RowDescription counts are int16.
constexpr size_t kMaxColumns = 1664;

// The status of a statement that could not be sent: the client is gone.
absl::Status ClientGone() { return absl::UnavailableError("client connection lost"); }
bool IsClientGone(const absl::Status& s) { return s.code() == absl::StatusCode::kUnavailable; }

std::string Quoted(const std::string& name) { return StrCat("\"", name, "\""); }

// "SELECT 12" becomes "SELECT <rows>" for a portal fetched in parts (each
// Execute reports the rows it sent, as PostgreSQL does); other tags stay.
std::string TagForRows(const std::string& tag, size_t rows) {
  if (tag.rfind("SELECT", 0) == 0) return StrCat("SELECT ", rows);
  return tag;
}

}  // namespace

int16_t ResultFormat(const std::vector<int16_t>& formats, size_t i) {
  if (formats.empty()) return kTextFormat;
  if (formats.size() == 1) return formats[0];
  return i < formats.size() ? formats[i] : kTextFormat;
}

struct QueryProtocol::Statement {
  bool empty = false;  // an empty query string: Execute answers EmptyQueryResponse
  sql::Prepared prepared;
  std::vector<uint32_t> param_types;                   // one per parameter the client must bind
  std::optional<std::vector<sql::SqlColumn>> columns;  // from Describe, once asked
};

struct QueryProtocol::Portal {
  std::shared_ptr<Statement> stmt;
  std::vector<sql::Param> params;
  std::vector<int16_t> result_formats;
  std::optional<sql::SqlResult> result;  // once executed
  // The columns a Describe of the portal announced before it ran: its rows
  // must match them.
  std::optional<std::vector<sql::SqlColumn>> described;
  size_t next_row = 0;
  bool complete = false;
};

QueryProtocol::QueryProtocol(SqlSession* session, BackendWriter* out, std::function<bool()> flush)
    : session_(session), out_(out), flush_(std::move(flush)) {}

QueryProtocol::~QueryProtocol() = default;

QueryProtocol::Next QueryProtocol::Handle(FrontendMessage&& message) {
  // After an error in an extended message, PostgreSQL discards everything
  // up to Sync, so that the rest of a pipelined batch does not run.
  const bool is_sync = std::holds_alternative<Sync>(message);
  const bool is_terminate = std::holds_alternative<Terminate>(message);
  if (skipping_ && !is_sync && !is_terminate) return Next::kContinue;

  absl::Status status;
  bool extended = false;
  if (auto* q = std::get_if<Query>(&message)) {
    HandleQuery(q->sql);
  } else if (auto* p = std::get_if<Parse>(&message)) {
    extended = true;
    status = HandleParse(*p);
  } else if (auto* b = std::get_if<Bind>(&message)) {
    extended = true;
    status = HandleBind(*b);
  } else if (auto* d = std::get_if<Describe>(&message)) {
    extended = true;
    status = HandleDescribe(*d);
  } else if (auto* e = std::get_if<Execute>(&message)) {
    extended = true;
    status = HandleExecute(*e);
  } else if (auto* c = std::get_if<Close>(&message)) {
    HandleClose(*c);
  } else if (is_sync) {
    HandleSync();
  } else if (std::holds_alternative<Flush>(message)) {
    if (!flush_()) client_gone_ = true;
  } else if (is_terminate) {
    return Next::kClose;
  } else if (std::holds_alternative<FunctionCall>(message)) {
    // A cycle of its own, like Query: error, then ReadyForQuery.
    SendError(PgError(sql::sqlstate::kFeatureNotSupported,
                      "the function call protocol (FunctionCall message) is not supported"));
    ReadyForQuery();
  } else if (std::holds_alternative<CopyMessage>(message)) {
    // CopyData/CopyDone/CopyFail outside COPY: ignored, as PostgreSQL does
    // (a client may still be sending data of a COPY that failed).
  } else {
    // A password message after authentication.
    SendError(ProtocolViolation("unexpected password message after authentication"), "FATAL");
    flush_();
    return Next::kClose;
  }
  if (!status.ok()) {
    if (IsClientGone(status)) return Next::kClose;
    SendError(status);
    session_->MarkFailed();
    if (extended) skipping_ = true;
  }
  return client_gone_ ? Next::kClose : Next::kContinue;
}

void QueryProtocol::ReportSettings() {
  for (const auto& [name, value] : session_->settings()) {
    auto it = reported_.find(name);
    if (it != reported_.end() && it->second == value) continue;
    out_->ParameterStatus(name, value);
    reported_[name] = value;
  }
}

void QueryProtocol::SendError(const absl::Status& status, std::string_view severity) {
  ErrorFields e;
  e.severity = std::string(severity);
  e.sqlstate = session_->SqlStateOf(status);
  e.message = std::string(status.message());
  e.position = sql::SqlPositionOf(status);
  out_->ErrorResponse(e);
}

void QueryProtocol::DropPortals() {
  // Portals belong to a transaction: outside a BEGIN block it has ended.
  if (session_->transaction_status() == 'I') portals_.clear();
}

absl::StatusOr<sql::SqlResult> QueryProtocol::Run(const sql::Prepared& stmt,
                                                  const std::vector<sql::Param>& params) {
  executing_.store(true, std::memory_order_release);
  auto result = session_->Execute(stmt, params);
  executing_.store(false, std::memory_order_release);
  if (!result.ok()) return result.status();
  if (auto s = ValidateResult(*result); !s.ok()) return s;
  if (result->columns.size() > kMaxColumns) {
    return PgError("54011", StrCat("results can have at most ", kMaxColumns, " columns"));
  }
  return result;
}

absl::Status QueryProtocol::SendRows(const sql::SqlResult& result, size_t begin, size_t end,
                                     const std::vector<int16_t>& formats) {
  const auto& table = result.table;
  const size_t ncols = result.columns.size();
  // Checked once per result, not per value: a binary column needs a binary form.
  for (size_t c = 0; c < ncols; ++c) {
    if (ResultFormat(formats, c) == kBinaryFormat && !HasBinaryOutput(result.columns[c].type_oid)) {
      return PgError(
          sql::sqlstate::kFeatureNotSupported,
          StrCat("binary format is not supported for result column ",
                 Quoted(result.columns[c].name), " of type oid ", result.columns[c].type_oid));
    }
  }
  std::string* buf = out_->buffer();
  for (size_t row = begin; row < end; ++row) {
    const size_t row_start = out_->size();
    out_->BeginDataRow(static_cast<int16_t>(ncols));
    for (size_t c = 0; c < ncols; ++c) {
      const ResultColumn& col = table.columns[c];
      if (IsNull(col, row)) {
        out_->NullValue();
        continue;
      }
      const size_t mark = out_->BeginValue();
      absl::Status s =
          AppendValue(col, row, result.columns[c].type_oid, ResultFormat(formats, c), buf);
      if (!s.ok()) {
        out_->Truncate(row_start);  // the rows before it are sent, then the error
        return s;
      }
      out_->EndValue(mark);
    }
    out_->EndDataRow();
    if (out_->size() >= kFlushBytes && !flush_()) {
      client_gone_ = true;
      return ClientGone();
    }
  }
  return absl::OkStatus();
}

void QueryProtocol::HandleQuery(const std::string& sql) {
  // A simple query drops the unnamed statement and portal (PostgreSQL's
  // exec_simple_query), whatever happens next.
  statements_.erase("");
  portals_.erase("");
  absl::Status status = [&]() -> absl::Status {
    if (!IsValidUtf8(sql))
      return PgError("22021", "invalid byte sequence for encoding \"UTF8\" in the query");
    auto statements = session_->Split(sql);
    if (!statements.ok()) return statements.status();
    if (statements->empty()) {
      out_->EmptyQueryResponse();
      return absl::OkStatus();
    }
    for (const std::string& text : *statements) {
      auto prepared = session_->Prepare(text, {});
      if (!prepared.ok()) return prepared.status();
      if (prepared->param_count > 0) {
        return PgError(sql::sqlstate::kUndefinedParameter,
                       "there is no parameter $1 (the simple query protocol binds none)");
      }
      auto result = Run(*prepared, {});
      if (!result.ok()) return result.status();
      if (result->returns_rows) {
        out_->RowDescription(result->columns, {});
        if (auto s = SendRows(*result, 0, result->table.rows, {}); !s.ok()) return s;
      }
      out_->CommandComplete(result->command_tag);
    }
    return absl::OkStatus();
  }();
  if (IsClientGone(status)) return;
  if (!status.ok()) {
    SendError(status);
    session_->MarkFailed();
  }
  DropPortals();
  ReadyForQuery();
}

absl::Status QueryProtocol::HandleParse(Parse& m) {
  if (!m.name.empty() && statements_.count(m.name)) {
    return PgError("42P05", StrCat("prepared statement ", Quoted(m.name), " already exists"));
  }
  if (!IsValidUtf8(m.sql))
    return PgError("22021", "invalid byte sequence for encoding \"UTF8\" in the query");
  auto stmt = std::make_shared<Statement>();
  auto parts = session_->Split(m.sql);
  if (!parts.ok()) return parts.status();
  if (parts->size() > 1) {
    return PgError(sql::sqlstate::kSyntaxError,
                   "cannot insert multiple commands into a prepared statement");
  }
  if (parts->empty()) {
    stmt->empty = true;
    stmt->param_types = m.param_types;
  } else {
    auto prepared = session_->Prepare(m.sql, m.param_types);
    if (!prepared.ok()) return prepared.status();
    stmt->prepared = *std::move(prepared);
    // Declared types may outnumber the parameters used; the client binds all.
    const size_t n = std::max<size_t>(static_cast<size_t>(std::max(stmt->prepared.param_count, 0)),
                                      m.param_types.size());
    stmt->param_types.assign(n, sql::oid::kUnspecified);
    for (size_t i = 0; i < n; ++i) {
      if (i < stmt->prepared.param_types.size() && stmt->prepared.param_types[i] != 0) {
        stmt->param_types[i] = stmt->prepared.param_types[i];
      } else if (i < m.param_types.size()) {
        stmt->param_types[i] = m.param_types[i];
      }
    }
  }
  statements_[m.name] = std::move(stmt);
  out_->ParseComplete();
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<QueryProtocol::Statement>> QueryProtocol::FindStatement(
    const std::string& name) {
  auto it = statements_.find(name);
  if (it != statements_.end()) return it->second;
  if (name.empty()) {
    return PgError(sql::sqlstate::kInvalidSqlStatementName,
                   "unnamed prepared statement does not exist");
  }
  return PgError(sql::sqlstate::kInvalidSqlStatementName,
                 StrCat("prepared statement ", Quoted(name), " does not exist"));
}

absl::StatusOr<const std::vector<sql::SqlColumn>*> QueryProtocol::ColumnsOf(Statement& stmt) {
  if (!stmt.columns) {
    if (stmt.empty) {
      stmt.columns.emplace();
    } else {
      auto columns = session_->Describe(stmt.prepared);
      if (!columns.ok()) return columns.status();
      stmt.columns = *std::move(columns);
    }
  }
  return &*stmt.columns;
}

absl::Status QueryProtocol::HandleBind(Bind& m) {
  auto found = FindStatement(m.statement);
  if (!found.ok()) return found.status();
  std::shared_ptr<Statement> stmt = *std::move(found);
  if (!m.portal.empty() && portals_.count(m.portal))
    return PgError("42P03", StrCat("portal ", Quoted(m.portal), " already exists"));

  const size_t nparams = m.params.size();
  if (m.param_formats.size() > 1 && m.param_formats.size() != nparams) {
    return ProtocolViolation(StrCat("bind message has ", m.param_formats.size(),
                                    " parameter formats but ", nparams, " parameters"));
  }
  if (nparams != stmt->param_types.size()) {
    return ProtocolViolation(StrCat("bind message supplies ", nparams,
                                    " parameters, but prepared statement ", Quoted(m.statement),
                                    " requires ", stmt->param_types.size()));
  }
  Portal portal;
  portal.stmt = stmt;
  portal.params.resize(nparams);
  for (size_t i = 0; i < nparams; ++i) {
    if (!m.params[i]) continue;  // NULL
    const int16_t format = ResultFormat(m.param_formats, i);
    const int index = static_cast<int>(i) + 1;
    if (format == kTextFormat) {
      if (!IsValidUtf8(*m.params[i])) {
        return PgError("22021", StrCat("invalid byte sequence for encoding \"UTF8\" in bind "
                                       "parameter ",
                                       index));
      }
      portal.params[i] = std::move(m.params[i]);
    } else if (format == kBinaryFormat) {
      auto text = BinaryParamToText(stmt->param_types[i], *m.params[i], index);
      if (!text.ok()) return text.status();
      portal.params[i] = *std::move(text);
    } else {
      return PgError(sql::sqlstate::kInvalidParameterValue,
                     StrCat("unsupported format code: ", format));
    }
  }
  // Sql sessions take exactly the parameters the statement uses.
  portal.params.resize(
      std::min(portal.params.size(), static_cast<size_t>(std::max(stmt->prepared.param_count, 0))));

  bool any_binary = false;
  for (int16_t f : m.result_formats) {
    if (f != kTextFormat && f != kBinaryFormat)
      return PgError(sql::sqlstate::kInvalidParameterValue, StrCat("unsupported format code: ", f));
    any_binary |= f == kBinaryFormat;
  }
  if (m.result_formats.size() > 1 || any_binary) {
    auto columns = ColumnsOf(*stmt);
    if (!columns.ok()) return columns.status();
    const auto& cols = **columns;
    if (m.result_formats.size() > 1 && m.result_formats.size() != cols.size()) {
      return ProtocolViolation(StrCat("bind message has ", m.result_formats.size(),
                                      " result formats but query has ", cols.size(), " columns"));
    }
    for (size_t c = 0; c < cols.size(); ++c) {
      if (ResultFormat(m.result_formats, c) == kBinaryFormat &&
          !HasBinaryOutput(cols[c].type_oid)) {
        return PgError(sql::sqlstate::kFeatureNotSupported,
                       StrCat("binary format is not supported for result column ",
                              Quoted(cols[c].name), " of type oid ", cols[c].type_oid));
      }
    }
  }
  portal.result_formats = std::move(m.result_formats);
  portals_[m.portal] = std::move(portal);
  out_->BindComplete();
  return absl::OkStatus();
}

absl::Status QueryProtocol::HandleDescribe(const Describe& m) {
  if (m.kind == 'S') {
    auto found = FindStatement(m.name);
    if (!found.ok()) return found.status();
    Statement& stmt = **found;
    auto columns = ColumnsOf(stmt);
    if (!columns.ok()) return columns.status();
    // PostgreSQL resolves parameters of unknown type to text.
    std::vector<uint32_t> types = stmt.param_types;
    for (uint32_t& t : types)
      if (t == sql::oid::kUnspecified || t == sql::oid::kUnknown) t = sql::oid::kText;
    out_->ParameterDescription(types);
    if ((*columns)->empty()) {
      out_->NoData();
    } else {
      out_->RowDescription(**columns, {});
    }
    return absl::OkStatus();
  }
  auto it = portals_.find(m.name);
  if (it == portals_.end())
    return PgError(sql::sqlstate::kInvalidCursorName,
                   StrCat("portal ", Quoted(m.name), " does not exist"));
  Portal& portal = it->second;
  const std::vector<sql::SqlColumn>* columns = nullptr;
  if (portal.result) {
    static const std::vector<sql::SqlColumn> kNone;
    columns = portal.result->returns_rows ? &portal.result->columns : &kNone;
  } else {
    auto described = ColumnsOf(*portal.stmt);
    if (!described.ok()) return described.status();
    columns = *described;
    portal.described = **described;
  }
  if (columns->empty()) {
    out_->NoData();
  } else {
    std::vector<int16_t> formats(columns->size());
    for (size_t c = 0; c < formats.size(); ++c) formats[c] = ResultFormat(portal.result_formats, c);
    out_->RowDescription(*columns, formats);
  }
  return absl::OkStatus();
}

absl::Status QueryProtocol::HandleExecute(const Execute& m) {
  auto it = portals_.find(m.portal);
  if (it == portals_.end())
    return PgError(sql::sqlstate::kInvalidCursorName,
                   StrCat("portal ", Quoted(m.portal), " does not exist"));
  Portal& portal = it->second;
  if (portal.stmt->empty) {
    out_->EmptyQueryResponse();
    return absl::OkStatus();
  }
  if (!portal.result) {
    auto result = Run(portal.stmt->prepared, portal.params);
    if (!result.ok()) {
      portal.complete = true;
      return result.status();
    }
    if (portal.described && result->returns_rows) {
      bool same = portal.described->size() == result->columns.size();
      for (size_t c = 0; same && c < result->columns.size(); ++c)
        same = (*portal.described)[c].type_oid == result->columns[c].type_oid;
      if (!same) {
        portal.complete = true;
        return PgError(sql::sqlstate::kInternalError,
                       "the statement's result columns differ from what Describe announced");
      }
    }
    portal.result = *std::move(result);
  }
  const sql::SqlResult& result = *portal.result;
  if (!result.returns_rows) {
    // A command runs once; executing its portal again repeats the tag.
    out_->CommandComplete(result.command_tag);
    portal.complete = true;
    return absl::OkStatus();
  }
  const size_t total = result.table.rows;
  const size_t begin = std::min(portal.next_row, total);
  size_t end = total;
  if (m.max_rows > 0) end = std::min(total, begin + static_cast<size_t>(m.max_rows));
  if (auto s = SendRows(result, begin, end, portal.result_formats); !s.ok()) return s;
  portal.next_row = end;
  if (end < total) {
    out_->PortalSuspended();
  } else {
    out_->CommandComplete(begin == 0 ? result.command_tag
                                     : TagForRows(result.command_tag, end - begin));
    portal.complete = true;
  }
  return absl::OkStatus();
}

void QueryProtocol::HandleClose(const Close& m) {
  // Closing something that does not exist is not an error.
  if (m.kind == 'S') {
    statements_.erase(m.name);
  } else {
    portals_.erase(m.name);
  }
  out_->CloseComplete();
}

void QueryProtocol::HandleSync() {
  skipping_ = false;
  DropPortals();
  ReadyForQuery();
}

void QueryProtocol::ReadyForQuery() {
  // Like PostgreSQL 14+, changed settings are reported once, just before
  // ReadyForQuery, whatever statements changed them.
  ReportSettings();
  out_->ReadyForQuery(session_->transaction_status());
  if (!flush_()) client_gone_ = true;
}

}  // namespace timestore::pgwire
