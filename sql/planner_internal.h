// Internal to the SQL planner (sql/planner*.cc): the Planner class, whose
// parts live in one file per job: planner.cc (FROM, select list, ORDER BY,
// LIMIT, what the engine orders and limits), binder.cc (expressions, types,
// literals), lower_where.cc (WHERE to the time range and filter trees) and
// lower_groups.cc (GROUP BY buckets and aggregates to a downsample).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "engine/engine.h"
#include "engine/filter_tree.h"
#include "sql/plan.h"
#include "sql/sql_result.h"

namespace timestore::sql::planner_internal {

using K = BoundExpr::Kind;

constexpr int64_t kNanosPerDay = 86400'000'000'000;

inline absl::Status Unsupported(std::string_view what) {
  return SqlError(sqlstate::kFeatureNotSupported, StrCat(what, " is not supported"));
}

inline bool ExprEquals(const Expr& a, const Expr& b) {
  if (a.kind != b.kind || a.name != b.name || a.args.size() != b.args.size() ||
      a.negated != b.negated || a.distinct != b.distinct || a.star != b.star ||
      a.param != b.param || a.cast_type != b.cast_type ||
      a.within_group.size() != b.within_group.size()) {
    return false;
  }
  if (a.kind == ExprKind::kConst &&
      (a.value.type != b.value.type || ValueToText(a.value) != ValueToText(b.value))) {
    return false;
  }
  for (size_t i = 0; i < a.args.size(); ++i)
    if (!ExprEquals(a.args[i], b.args[i])) return false;
  for (size_t i = 0; i < a.within_group.size(); ++i)
    if (!ExprEquals(a.within_group[i], b.within_group[i])) return false;
  return true;
}

inline bool IsAggregateName(std::string_view n) {
  return n == "count" || n == "sum" || n == "avg" || n == "min" || n == "max" || n == "median" ||
         n == "percentile_cont" || n == "percentile_disc" || n == "first" || n == "last" ||
         n == "stddev" || n == "stddev_samp" || n == "stddev_pop" || n == "variance" ||
         n == "var_samp" || n == "var_pop" || n == "string_agg" || n == "array_agg" ||
         n == "bool_and" || n == "bool_or" || n == "every" || n == "mode" || n == "arg_min" ||
         n == "arg_max" || n == "json_agg";
}

inline bool ContainsAggregate(const Expr& e) {
  if (e.kind == ExprKind::kFunc && IsAggregateName(e.name)) return true;
  for (const Expr& a : e.args)
    if (ContainsAggregate(a)) return true;
  return false;
}

inline bool IsConstant(const BoundExpr& e) {
  if (e.kind == K::kInput) return false;
  for (const BoundExpr& a : e.args)
    if (!IsConstant(a)) return false;
  return true;
}

inline bool IsComparison(std::string_view op) {
  return op == "=" || op == "<>" || op == "!=" || op == "<" || op == "<=" || op == ">" ||
         op == ">=";
}

inline FilterOp CompareOp(std::string_view op) {
  if (op == "=") return FilterOp::kEq;
  if (op == "<>" || op == "!=") return FilterOp::kNeq;
  if (op == "<") return FilterOp::kLt;
  if (op == "<=") return FilterOp::kLte;
  if (op == ">") return FilterOp::kGt;
  return FilterOp::kGte;
}

// x op c  <=>  c flip(op) x
inline FilterOp Flip(FilterOp op) {
  switch (op) {
    case FilterOp::kLt:
      return FilterOp::kGt;
    case FilterOp::kLte:
      return FilterOp::kGte;
    case FilterOp::kGt:
      return FilterOp::kLt;
    case FilterOp::kGte:
      return FilterOp::kLte;
    default:
      return op;
  }
}

// One aggregate the engine computes, by its SQL spelling.
struct AggSlot {
  Expr call;
  Aggregation agg;
  SqlType type;
};

class Planner {
 public:
  Planner(const Select& s, const PlanContext& ctx) : sel_(s), ctx_(ctx) {}
  absl::StatusOr<Plan> Run();

 private:
  absl::Status ResolveSource();
  // A column reference of the FROM table: its schema index, or an error.
  absl::StatusOr<int> TableColumn(const Expr& e);
  bool IsTimeColumn(const Expr& e);
  // The input index of a raw column, fetched from the engine on first use.
  int RawInput(int schema_index);
  absl::StatusOr<BoundExpr> Bind(const Expr& e);
  static BoundExpr Const(Value v);
  // Gives an untyped literal the type it meets (PostgreSQL's "unknown").
  absl::Status Coerce(BoundExpr* e, SqlType to);
  absl::Status CheckComparable(const BoundExpr& a, const BoundExpr& b, std::string_view op);
  absl::Status RequireBool(const BoundExpr& e, std::string_view where);
  // Makes `a` and `b` one type when one of them is an untyped literal.
  absl::Status Unify(BoundExpr* a, BoundExpr* b);
  absl::StatusOr<BoundExpr> BindRaw(const Expr& e);
  absl::StatusOr<BoundExpr> BindParam(const Expr& e);
  absl::StatusOr<BoundExpr> BindColumn(const Expr& e);
  absl::StatusOr<BoundExpr> BindOp(const Expr& e);
  absl::StatusOr<BoundExpr> BindFunc(const Expr& e);
  // A GROUP BY expression `e` names, as an input of the engine's answer.
  std::optional<BoundExpr> GroupInput(const Expr& e);
  // GROUP BY items may name a select-list item by position or alias.
  absl::StatusOr<Expr> ResolveGroupItem(const Expr& g);
  // The argument of a bucketing function must be the time column.
  absl::Status RequireTimeArg(const Expr& f, const Expr& arg);
  absl::StatusOr<Value> ConstArg(const Expr& e, SqlType t);
  // Turns a time-bucketing GROUP BY expression into the downsample's buckets.
  absl::StatusOr<bool> LowerBucket(const Expr& g, Downsample* ds);
  absl::Status PlanGroups();
  absl::StatusOr<BoundExpr> BindAggregate(const Expr& e);
  BoundExpr AggInput(size_t i);
  // The value of a column-free expression, or nullopt when it reads columns.
  absl::StatusOr<std::optional<BoundExpr>> ConstantOf(const Expr& e);
  static bool ReferencesColumns(const Expr& e);
  // The literal of a pushed-down filter on a column of type `t`, from a
  // constant already coerced to that type; nullopt when the engine cannot
  // compare exactly as SQL does.
  static std::optional<Literal> ToLiteral(const Value& v, ColumnType t);
  // A constant compared with column `f`: coerced as PostgreSQL would, or an
  // error for types that do not compare.
  absl::StatusOr<Value> ForColumn(BoundExpr c, const Field& f, std::string_view op);
  static FilterTree Node(FilterTree::Kind k, std::vector<FilterTree> children);
  static FilterTree Never(const std::string& column);
  // Lowers a predicate (under `negate` NOTs) to a filter tree the engine
  // evaluates with SQL's meaning, or nullopt when it cannot.
  absl::StatusOr<std::optional<FilterTree>> LowerPredicate(const Expr& e, bool negate);
  // `json_col ->> 'a' = constant` (or IN constants, or ->), not negated, as a
  // filter on the engine's json path "json_col.a" (lower_json_path.cc);
  // nullopt when the engine's json comparison would not mean the same.
  absl::StatusOr<std::optional<FilterTree>> LowerJsonPath(const Expr& e, bool negate);
  // Narrows the time range with a top-level `time op constant`; true when
  // the conjunct was consumed.
  absl::StatusOr<bool> NarrowTimeRange(const Expr& e);
  static void Conjuncts(const Expr& e, std::vector<const Expr*>* out);
  absl::Status LowerWhere();
  absl::Status BindTargets();
  BoundExpr InputRef(int i);
  void AddOutput(std::string name, BoundExpr e);
  // An ORDER BY or DISTINCT ON item: an output position, an output name, or
  // an expression over the input.
  absl::StatusOr<BoundExpr> BindOutputRef(const Expr& e);
  absl::Status BindOrder();
  absl::StatusOr<std::optional<uint64_t>> Count(const std::optional<Expr>& e, std::string_view what,
                                                std::string_view state);
  absl::Status PlanLimit();
  // Decides what the engine orders and limits, and fixes the aggregate inputs.
  void FinishSpec();
  static bool Numeric(SqlType t) { return t == SqlType::kInt || t == SqlType::kDouble; }

  const Select& sel_;
  const PlanContext& ctx_;
  Plan plan_;
  SchemaPtr schema_;
  bool aggregate_ = false;
  bool has_bucket_ = false;
  std::vector<Expr> group_exprs_;
  std::vector<int> group_inputs_;
  std::vector<AggSlot> aggs_;
  // > 0 while binding what PostgreSQL's constant folding never reaches (a CASE
  // arm after a constant-true or under a constant-false condition, AND/OR
  // operands after a deciding constant, COALESCE arguments after a non-null
  // constant): a constant there that fails to evaluate stays unfolded, and
  // fails only if a row evaluates it.
  int unreached_ = 0;
};

}  // namespace timestore::sql::planner_internal
