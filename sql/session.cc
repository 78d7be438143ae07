#include "sql/session.h"

#include "absl/strings/ascii.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "engine/engine.h"
#include "sql/ast.h"
#include "sql/executor.h"
#include "sql/plan.h"
#include "sql/psql_catalog.h"

namespace timestore::sql {
namespace {

// Settings drivers read at connect (ParameterStatus) or with SHOW.
std::map<std::string, std::string> DefaultSettings(const SessionOptions& o) {
  return {
      {"server_version", o.server_version},
      {"server_version_num", "150000"},
      {"server_encoding", "UTF8"},
      {"client_encoding", "UTF8"},
      {"datestyle", "ISO, MDY"},
      {"timezone", "UTC"},
      {"intervalstyle", "postgres"},
      {"integer_datetimes", "on"},
      {"standard_conforming_strings", "on"},
      {"application_name", o.application_name},
      {"is_superuser", "off"},
      {"session_authorization", o.user},
      {"search_path", "\"$user\", public"},
      {"transaction_isolation", "read committed"},
      {"default_transaction_isolation", "read committed"},
      {"default_transaction_read_only", "on"},
      {"transaction_read_only", "on"},
      {"extra_float_digits", "1"},
      {"max_identifier_length", "63"},
      {"lc_collate", "C"},
      {"lc_ctype", "C"},
      {"statement_timeout", "0"},
  };
}

// ParameterStatus spells some names with capitals, as PostgreSQL does.
std::string CanonicalName(std::string_view lower) {
  if (lower == "datestyle") return "DateStyle";
  if (lower == "timezone") return "TimeZone";
  if (lower == "intervalstyle") return "IntervalStyle";
  return std::string(lower);
}

SqlResult TextRows(std::string column, const std::vector<std::string>& lines, std::string tag) {
  SqlResult r;
  r.returns_rows = true;
  r.columns.push_back({column, oid::kText});
  ResultColumn c;
  c.name = std::move(column);
  c.type = ColumnType::kString;
  for (const std::string& l : lines) {
    r.table.owned_strings.push_back(l);
    c.strings.push_back(r.table.owned_strings.back());
    c.valid.push_back(1);
  }
  r.table.columns.push_back(std::move(c));
  r.table.rows = lines.size();
  r.command_tag = std::move(tag);
  return r;
}

// psql's catalog queries need the scope that reading a table needs.
bool HasScope(const SessionOptions& o) {
  return o.require_scope.empty() ||
         std::find(o.scopes.begin(), o.scopes.end(), o.require_scope) != o.scopes.end();
}
absl::Status ScopeDenied(const SessionOptions& o, std::string_view table) {
  return SqlError(sqlstate::kInsufficientPrivilege,
                  StrCat("permission denied for table ", table, ": the scope \"", o.require_scope,
                         "\" is required"));
}

struct PreparedImpl {
  Statement stmt;
  // psql's describe queries (joins of pg_catalog tables): see psql_catalog.h.
  std::shared_ptr<const PsqlCatalogQuery> psql;
};

}  // namespace

Session::Session(Engine* engine, SessionOptions options)
    : engine_(engine),
      options_(std::move(options)),
      cancelled_(options_.cancel_flag != nullptr ? options_.cancel_flag
                                                 : std::make_shared<std::atomic<bool>>(false)) {
  for (auto& [k, v] : DefaultSettings(options_)) settings_[CanonicalName(k)] = v;
}

Session::~Session() = default;

absl::StatusOr<std::vector<std::string>> Session::Split(std::string_view sql) const {
  return SplitStatements(sql);
}

absl::StatusOr<Prepared> Session::Prepare(std::string_view sql, std::vector<uint32_t> param_types) {
  int params = 0;
  auto psql = RecognizePsqlCatalogQuery(sql);
  Statement st;
  if (psql != nullptr) {
    st.tag = "SELECT";
  } else {
    ASSIGN_OR_RETURN(st, ParseStatement(sql, &params));
  }
  Prepared p;
  p.sql = std::string(sql);
  p.param_count = std::max<int>(params, static_cast<int>(param_types.size()));
  p.param_types = std::move(param_types);
  p.param_types.resize(p.param_count, oid::kUnspecified);
  auto impl = std::make_shared<PreparedImpl>();
  impl->stmt = std::move(st);
  impl->psql = std::move(psql);
  p.impl = std::move(impl);
  return p;
}

namespace {

const Statement& StatementOf(const Prepared& p) {
  return static_cast<const PreparedImpl*>(p.impl.get())->stmt;
}

const PsqlCatalogQuery* PsqlQueryOf(const Prepared& p) {
  return static_cast<const PreparedImpl*>(p.impl.get())->psql.get();
}

}  // namespace

absl::StatusOr<std::vector<SqlColumn>> Session::Describe(const Prepared& stmt) {
  const Statement& st = StatementOf(stmt);
  if (const PsqlCatalogQuery* psql = PsqlQueryOf(stmt)) return PsqlCatalogColumns(*psql);
  switch (st.kind) {
    case StatementKind::kSelect: {
      PlanContext ctx = MakePlanContext(stmt);
      ASSIGN_OR_RETURN(Plan plan, PlanSelect(st.select, ctx));
      // Describing a statement shows the table's columns: the same check as
      // running it.
      if (plan.source == Plan::Source::kDataset && options_.table_access) {
        if (auto denied = options_.table_access(plan.table)) {
          return SqlError(sqlstate::kInsufficientPrivilege,
                          StrCat("permission denied for table ", plan.table, ": ", *denied));
        }
      }
      std::vector<SqlColumn> cols;
      for (const OutputColumn& o : plan.outputs) {
        SqlType t = o.expr.type;
        if (t == SqlType::kNull || t == SqlType::kUnknown || t == SqlType::kInterval)
          t = SqlType::kText;
        cols.push_back({o.name, SqlTypeOid(t)});
      }
      return cols;
    }
    case StatementKind::kExplain:
      return std::vector<SqlColumn>{{"QUERY PLAN", oid::kText}};
    case StatementKind::kShow:
      if (st.name == "all") {
        return std::vector<SqlColumn>{
            {"name", oid::kText}, {"setting", oid::kText}, {"description", oid::kText}};
      }
      return std::vector<SqlColumn>{{st.name, oid::kText}};
    default:
      return std::vector<SqlColumn>{};
  }
}

PlanContext Session::MakePlanContext(const Prepared& stmt) const {
  PlanContext ctx;
  ctx.engine = engine();
  ctx.param_types = &stmt.param_types;
  ctx.user = options_.user;
  ctx.database = options_.database;
  ctx.table_access = &options_.table_access;
  ctx.server_version = options_.server_version;
  ctx.max_rows = options_.max_rows;
  ctx.now_ns = NowNanos();  // one now() per statement, as in PostgreSQL
  return ctx;
}

void Session::Cancel() { cancelled_->store(true, std::memory_order_relaxed); }

absl::StatusOr<SqlResult> Session::Execute(const Prepared& stmt, const std::vector<Param>& params) {
  const Statement& st = StatementOf(stmt);
  if (static_cast<int>(params.size()) != stmt.param_count) {
    return SqlError(sqlstate::kProtocolViolation, StrCat("bind message supplies ", params.size(),
                                                         " parameters, but prepared "
                                                         "statement requires ",
                                                         stmt.param_count));
  }
  if (tx_status_ == 'E' &&
      !(st.kind == StatementKind::kTransaction && st.tx != TransactionKind::kBegin)) {
    return SqlError(
        "25P02", "current transaction is aborted, commands ignored until end of transaction block");
  }
  // Cancel() applies to the statement running when it arrives.
  if (options_.cancel_flag == nullptr) cancelled_->store(false, std::memory_order_relaxed);
  auto result = ExecuteStatement(st, stmt, params);
  if (!result.ok()) MarkFailed();
  return result;
}

absl::StatusOr<SqlResult> Session::ExecuteStatement(const Statement& st, const Prepared& stmt,
                                                    const std::vector<Param>& params) {
  SqlResult r;
  r.command_tag = st.tag;
  switch (st.kind) {
    case StatementKind::kSelect:
    case StatementKind::kExplain: {
      PlanContext ctx = MakePlanContext(stmt);
      ctx.params = &params;
      if (const PsqlCatalogQuery* psql = PsqlQueryOf(stmt)) {  // psql's \d, \dt, \l, ...
        if (!HasScope(options_)) return ScopeDenied(options_, "pg_catalog");
        return AnswerPsqlCatalogQuery(*psql, ctx);
      }
      ASSIGN_OR_RETURN(Plan plan, PlanSelect(st.select, ctx));
      if (plan.source == Plan::Source::kDataset && options_.table_access) {
        if (auto denied = options_.table_access(plan.table)) {
          return SqlError(sqlstate::kInsufficientPrivilege,
                          StrCat("permission denied for table ", plan.table, ": ", *denied));
        }
      } else if (plan.source != Plan::Source::kNone && !options_.require_scope.empty() &&
                 std::find(options_.scopes.begin(), options_.scopes.end(),
                           options_.require_scope) == options_.scopes.end()) {
        return SqlError(sqlstate::kInsufficientPrivilege,
                        StrCat("permission denied for table ", plan.table, ": the scope \"",
                               options_.require_scope, "\" is required"));
      }
      if (st.kind == StatementKind::kExplain) {
        if (!st.explain_analyze)
          return TextRows("QUERY PLAN", ExplainPlan(plan, nullptr, 0), "EXPLAIN");
        QueryStats stats;
        ASSIGN_OR_RETURN(SqlResult run, ExecutePlan(plan, ctx, cancelled_, &stats));
        return TextRows("QUERY PLAN", ExplainPlan(plan, &stats, run.table.rows), "EXPLAIN");
      }
      return ExecutePlan(std::move(plan), ctx, cancelled_);
    }
    case StatementKind::kSet: {
      if (st.name.empty()) return r;  // SET TRANSACTION ...: reads need no isolation level
      if (st.name == "all") {
        auto defaults = DefaultSettings(options_);
        settings_.clear();
        for (auto& [k, v] : defaults) settings_[CanonicalName(k)] = v;
        return r;
      }
      std::string key = CanonicalName(st.name);
      if (st.set_default) {
        auto defaults = DefaultSettings(options_);
        if (auto it = defaults.find(st.name); it != defaults.end()) {
          settings_[key] = it->second;
        } else {
          settings_.erase(key);
        }
        return r;
      }
      std::string value;
      for (size_t i = 0; i < st.set_values.size(); ++i) {
        if (i) value += ", ";
        value += ValueToText(st.set_values[i]);
      }
      if (st.name == "client_encoding") {
        std::string v = AsciiUpper(value);
        if (v != "UTF8" && v != "UTF-8" && v != "UNICODE") {
          return SqlError(sqlstate::kFeatureNotSupported,
                          StrCat("client_encoding ", value, " (only UTF8 is supported)"));
        }
        value = "UTF8";
      }
      settings_[key] = value;
      return r;
    }
    case StatementKind::kShow: {
      if (st.name == "all") {
        SqlResult all;
        all.returns_rows = true;
        all.command_tag = "SHOW";
        for (std::string_view c : {"name", "setting", "description"}) {
          all.columns.push_back({std::string(c), oid::kText});
          ResultColumn col;
          col.name = std::string(c);
          col.type = ColumnType::kString;
          all.table.columns.push_back(std::move(col));
        }
        for (auto& [k, v] : settings_) {
          for (std::string_view x :
               {std::string_view(k), std::string_view(v), std::string_view()}) {
            all.table.owned_strings.emplace_back(x);
          }
          for (int i = 0; i < 3; ++i) {
            all.table.columns[i].strings.push_back(
                all.table.owned_strings[all.table.owned_strings.size() - 3 + i]);
            all.table.columns[i].valid.push_back(1);
          }
          ++all.table.rows;
        }
        return all;
      }
      auto it = settings_.find(CanonicalName(st.name));
      if (it == settings_.end()) {
        return SqlError(sqlstate::kUndefinedObject,
                        StrCat("unrecognized configuration parameter \"", st.name, "\""));
      }
      return TextRows(st.name, {it->second}, "SHOW");
    }
    case StatementKind::kTransaction:
      if (st.tx == TransactionKind::kBegin) {
        tx_status_ = 'T';
      } else {
        if (tx_status_ == 'E' && st.tx == TransactionKind::kCommit) r.command_tag = "ROLLBACK";
        tx_status_ = 'I';
      }
      return r;
    case StatementKind::kDiscard:
    case StatementKind::kDeallocate:
      return r;
  }
  return SqlError(sqlstate::kInternalError, "unknown statement");
}

}  // namespace timestore::sql
