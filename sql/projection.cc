#include "sql/projection.h"

#include <algorithm>

#include "common/json_writer.h"
#include "common/status_macros.h"
#include "common/status_util.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "sql/ast.h"
#include "sql/executor.h"
#include "sql/plan.h"
#include "sql/sql_result.h"
#include "sql/value.h"

namespace timestore::sql {
namespace {

// A SQL error as the JSON API's error: unknown columns keep their code, the
// rest are invalid_query; both name the computed column and the SQLSTATE.
absl::Status ToApiError(const absl::Status& s, size_t i, const ComputedColumn& c) {
  const std::string state = SqlStateOf(s);
  std::string field = StrCat("computed[", i, "]");
  std::string details = "{\"field\":";
  AppendJsonString(&details, field);
  details += ",\"sqlstate\":";
  AppendJsonString(&details, state);
  details += "}";
  std::string_view code = state == sqlstate::kUndefinedColumn ? "unknown_column" : "invalid_query";
  return MakeError(absl::StatusCode::kInvalidArgument, code,
                   StrCat(field, " (\"", c.alias, "\"): ", s.message()), details);
}

absl::StatusOr<Expr> ParseExpression(const ComputedColumn& c, size_t i) {
  auto st = ParseStatement(StrCat("SELECT ", c.expr), nullptr);
  if (!st.ok()) return ToApiError(st.status(), i, c);
  const Select& s = st->select;
  if (st->kind != StatementKind::kSelect || s.targets.size() != 1 || s.from || s.where ||
      !s.group_by.empty() || s.having || !s.order_by.empty() || s.limit || s.offset || s.distinct ||
      s.targets[0].expr.kind == ExprKind::kStar) {
    return ToApiError(SqlError(sqlstate::kSyntaxError, "expr must be one scalar SQL expression"), i,
                      c);
  }
  return s.targets[0].expr;
}

void CollectColumns(const Expr& e, std::vector<std::string>* out) {
  if (e.kind == ExprKind::kColumn && std::find(out->begin(), out->end(), e.name) == out->end()) {
    out->push_back(e.name);
  }
  for (const Expr& a : e.args) CollectColumns(a, out);
  for (const Expr& a : e.within_group) CollectColumns(a, out);
}

}  // namespace

absl::StatusOr<ComputedColumns> ComputedColumns::Parse(std::vector<ComputedColumn> computed) {
  ComputedColumns out;
  for (size_t i = 0; i < computed.size(); ++i) {
    ASSIGN_OR_RETURN(Expr e, ParseExpression(computed[i], i));
    CollectColumns(e, &out.inputs_);
    out.exprs_.push_back(std::move(e));
  }
  out.columns_ = std::move(computed);
  return out;
}

absl::Status ComputedColumns::Apply(const std::vector<std::string>& drop, QueryResult* result,
                                    bool* read_clock) const {
  if (read_clock != nullptr) *read_clock = false;
  if (columns_.empty()) return absl::OkStatus();
  // Planning may fold constants ('now'::timestamptz) and evaluation reads
  // values: both count.
  const uint64_t clock_reads = ClockReadsOnThisThread();
  Select select;
  select.from = TableRef{"", "result", ""};
  for (size_t k = 0; k < result->columns.size(); ++k) {
    const std::string& name = result->columns[k].name;
    if (k > 0 && std::find(drop.begin(), drop.end(), name) != drop.end()) continue;
    Expr col;
    col.kind = ExprKind::kColumn;
    col.name = name;
    select.targets.push_back({col, name});
  }
  const size_t first_computed = select.targets.size();
  for (size_t i = 0; i < columns_.size(); ++i) {
    for (const SelectTarget& t : select.targets) {
      if (t.alias == columns_[i].alias) {
        return ToApiError(
            SqlError("42701", StrCat("alias \"", columns_[i].alias, "\" repeats an output column")),
            i, columns_[i]);
      }
    }
    select.targets.push_back({exprs_[i], columns_[i].alias});
  }
  PlanContext ctx;
  ctx.input_table = result;
  ctx.now_ns = NowNanos();
  ctx.max_rows = result->rows + 1;
  auto plan = PlanSelect(select, ctx);
  if (!plan.ok()) {
    // Name the expression at fault: bind each alone (only on this path).
    for (size_t i = 0; i < columns_.size(); ++i) {
      Select one;
      one.from = select.from;
      one.targets.push_back(select.targets[first_computed + i]);
      auto p = PlanSelect(one, ctx);
      if (!p.ok()) return ToApiError(p.status(), i, columns_[i]);
    }
    return MakeError(absl::StatusCode::kInvalidArgument, "invalid_query",
                     StrCat("computed: ", plan.status().message()));
  }
  const bool downsampled = result->downsampled;
  plan->catalog_rows = std::move(*result);
  auto out = ExecutePlan(*std::move(plan), ctx, nullptr);
  if (!out.ok()) {
    // Which expression failed is not tracked row by row; name them all.
    return MakeError(
        absl::StatusCode::kInvalidArgument, "invalid_query",
        StrCat("computed: ", out.status().message()),
        StrCat("{\"field\":\"computed\",\"sqlstate\":\"", SqlStateOf(out.status()), "\"}"));
  }
  *result = std::move(out->table);
  result->downsampled = downsampled;
  if (read_clock != nullptr) *read_clock = ClockReadsOnThisThread() != clock_reads;
  return absl::OkStatus();
}

}  // namespace timestore::sql
