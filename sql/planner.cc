// Binding and lowering of SELECT: names to columns, literals to the types they
// meet, WHERE to the engine's time range and filter trees, GROUP BY buckets
// and aggregates to a downsample, and the rest to the operators above it.
#include <algorithm>
#include <limits>
#include <map>

#include "absl/strings/ascii.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "engine/engine.h"
#include "sql/catalog.h"
#include "sql/plan.h"
#include "sql/sql_result.h"

namespace timestore::sql {
namespace {

using K = BoundExpr::Kind;

constexpr int64_t kNanosPerDay = 86400'000'000'000;

absl::Status Unsupported(std::string_view what) {
  return SqlError(sqlstate::kFeatureNotSupported, StrCat(what, " is not supported"));
}

bool ExprEquals(const Expr& a, const Expr& b) {
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

bool IsAggregateName(std::string_view n) {
  return n == "count" || n == "sum" || n == "avg" || n == "min" || n == "max" || n == "median" ||
         n == "percentile_cont" || n == "percentile_disc" || n == "first" || n == "last" ||
         n == "stddev" || n == "stddev_samp" || n == "stddev_pop" || n == "variance" ||
         n == "var_samp" || n == "var_pop" || n == "string_agg" || n == "array_agg" ||
         n == "bool_and" || n == "bool_or" || n == "every" || n == "mode" || n == "arg_min" ||
         n == "arg_max" || n == "json_agg";
}

bool ContainsAggregate(const Expr& e) {
  if (e.kind == ExprKind::kFunc && IsAggregateName(e.name)) return true;
  for (const Expr& a : e.args)
    if (ContainsAggregate(a)) return true;
  return false;
}

bool IsConstant(const BoundExpr& e) {
  if (e.kind == K::kInput) return false;
  for (const BoundExpr& a : e.args)
    if (!IsConstant(a)) return false;
  return true;
}

bool IsComparison(std::string_view op) {
  return op == "=" || op == "<>" || op == "!=" || op == "<" || op == "<=" || op == ">" ||
         op == ">=";
}

FilterOp CompareOp(std::string_view op) {
  if (op == "=") return FilterOp::kEq;
  if (op == "<>" || op == "!=") return FilterOp::kNeq;
  if (op == "<") return FilterOp::kLt;
  if (op == "<=") return FilterOp::kLte;
  if (op == ">") return FilterOp::kGt;
  return FilterOp::kGte;
}

FilterOp Negate(FilterOp op) {
  switch (op) {
    case FilterOp::kEq:
      return FilterOp::kNeq;
    case FilterOp::kNeq:
      return FilterOp::kEq;
    case FilterOp::kLt:
      return FilterOp::kGte;
    case FilterOp::kLte:
      return FilterOp::kGt;
    case FilterOp::kGt:
      return FilterOp::kLte;
    case FilterOp::kGte:
      return FilterOp::kLt;
    case FilterOp::kIn:
      return FilterOp::kNotIn;
    case FilterOp::kNotIn:
      return FilterOp::kIn;
    case FilterOp::kIsNull:
      return FilterOp::kIsNotNull;
    case FilterOp::kIsNotNull:
      return FilterOp::kIsNull;
  }
  return op;
}

// x op c  <=>  c flip(op) x
FilterOp Flip(FilterOp op) {
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

  absl::StatusOr<Plan> Run() {
    RETURN_IF_ERROR(ResolveSource());
    aggregate_ = !sel_.group_by.empty() || (sel_.having.has_value());
    for (const SelectTarget& t : sel_.targets)
      if (ContainsAggregate(t.expr)) aggregate_ = true;
    for (const SortItem& o : sel_.order_by)
      if (ContainsAggregate(o.expr)) aggregate_ = true;
    if (sel_.where && ContainsAggregate(*sel_.where)) {
      return SqlError(sqlstate::kGroupingError, "aggregate functions are not allowed in WHERE");
    }
    if (aggregate_ && plan_.source != Plan::Source::kDataset) {
      return Unsupported(plan_.source == Plan::Source::kCatalog
                             ? "aggregates and GROUP BY over catalog tables"
                             : "aggregates without a FROM table");
    }
    if (aggregate_ && !sel_.distinct_on.empty()) return Unsupported("DISTINCT ON with GROUP BY");
    if (plan_.source == Plan::Source::kDataset) {
      plan_.spec.start = std::numeric_limits<int64_t>::min();
      plan_.spec.end = std::numeric_limits<int64_t>::max();
      plan_.spec.precision = Precision::kNanoseconds;
      plan_.spec.columns.emplace();
      // The engine's answer starts with the time column (raw) or the bucket.
      plan_.inputs.push_back({schema_->time_column, SqlType::kTimestamp});
      RETURN_IF_ERROR(LowerWhere());
      if (aggregate_) RETURN_IF_ERROR(PlanGroups());
    } else if (sel_.where) {
      ASSIGN_OR_RETURN(BoundExpr w, Bind(*sel_.where));
      RETURN_IF_ERROR(RequireBool(w, "WHERE"));
      plan_.filter = std::move(w);
    }
    RETURN_IF_ERROR(BindTargets());
    if (sel_.having) {
      ASSIGN_OR_RETURN(BoundExpr h, Bind(*sel_.having));
      RETURN_IF_ERROR(RequireBool(h, "HAVING"));
      plan_.filter = std::move(h);
    }
    RETURN_IF_ERROR(BindOrder());
    plan_.distinct = sel_.distinct && sel_.distinct_on.empty();
    for (const Expr& d : sel_.distinct_on) {
      ASSIGN_OR_RETURN(BoundExpr b, BindOutputRef(d));
      plan_.distinct_on.push_back(std::move(b));
    }
    RETURN_IF_ERROR(PlanLimit());
    if (plan_.source == Plan::Source::kDataset) FinishSpec();
    return std::move(plan_);
  }

 private:
  // ---- FROM ----------------------------------------------------------------

  absl::Status ResolveSource() {
    if (!sel_.from) {
      plan_.source = Plan::Source::kNone;
      plan_.catalog_rows.rows = 1;
      return absl::OkStatus();
    }
    const TableRef& t = *sel_.from;
    ASSIGN_OR_RETURN(std::optional<CatalogTable> cat, ReadCatalogTable(t.schema, t.name, ctx_));
    if (cat) {
      plan_.source = Plan::Source::kCatalog;
      plan_.table = t.name;
      plan_.inputs = std::move(cat->columns);
      plan_.catalog_rows = std::move(cat->rows);
      return absl::OkStatus();
    }
    if (!t.schema.empty() && t.schema != "public") {
      return SqlError("3F000", StrCat("schema \"", t.schema, "\" does not exist"));
    }
    if (ctx_.engine == nullptr) {
      return SqlError(sqlstate::kServiceUnavailable,
                      "the server is starting up (replaying its write-ahead log)");
    }
    std::shared_ptr<Dataset> ds = ctx_.engine->GetDataset(t.name);
    if (ds == nullptr) {
      return SqlError(sqlstate::kUndefinedTable,
                      StrCat("relation \"", t.name, "\" does not exist"));
    }
    schema_ = ds->schema();
    if (schema_ == nullptr) {
      auto empty = std::make_shared<Schema>();
      empty->time_column = "timestamp";
      schema_ = empty;
    }
    plan_.source = Plan::Source::kDataset;
    plan_.table = t.name;
    return absl::OkStatus();
  }

  // A column reference of the FROM table: its schema index, or an error.
  absl::StatusOr<int> TableColumn(const Expr& e) {
    if (!e.qualifier.empty()) {
      const TableRef* t = sel_.from ? &*sel_.from : nullptr;
      bool ok = t != nullptr && (e.qualifier == t->name || e.qualifier == t->alias);
      if (!ok) {
        return SqlError(sqlstate::kUndefinedTable,
                        StrCat("missing FROM-clause entry for table \"", e.qualifier, "\""));
      }
    }
    if (plan_.source == Plan::Source::kDataset) {
      int i = schema_->IndexOf(e.name);
      if (i < 0) {
        return SqlError(sqlstate::kUndefinedColumn,
                        StrCat("column \"", e.name, "\" does not exist"));
      }
      return i;
    }
    for (size_t i = 0; i < plan_.inputs.size(); ++i)
      if (plan_.inputs[i].name == e.name) return static_cast<int>(i);
    return SqlError(sqlstate::kUndefinedColumn, StrCat("column \"", e.name, "\" does not exist"));
  }

  bool IsTimeColumn(const Expr& e) {
    return plan_.source == Plan::Source::kDataset && e.kind == ExprKind::kColumn &&
           e.name == schema_->time_column && TableColumn(e).ok();
  }

  // The input index of a raw column, fetched from the engine on first use.
  int RawInput(int schema_index) {
    const Field& f = schema_->fields[schema_index];
    if (f.name == schema_->time_column) return 0;
    for (size_t i = 1; i < plan_.inputs.size(); ++i)
      if (plan_.inputs[i].name == f.name) return static_cast<int>(i);
    plan_.inputs.push_back({f.name, FromColumnType(f.type)});
    plan_.spec.columns->push_back(f.name);
    return static_cast<int>(plan_.inputs.size()) - 1;
  }

  // ---- expressions ---------------------------------------------------------

  absl::StatusOr<BoundExpr> Bind(const Expr& e) {
    ASSIGN_OR_RETURN(BoundExpr b, BindRaw(e));
    if (b.kind != K::kConst && IsConstant(b)) {
      QueryResult none;
      ASSIGN_OR_RETURN(Value v, Eval(b, none, 0, ctx_));
      BoundExpr c;
      c.kind = K::kConst;
      c.type = b.type;
      c.value = std::move(v);
      return c;
    }
    return b;
  }

  static BoundExpr Const(Value v) {
    BoundExpr c;
    c.kind = K::kConst;
    c.type = v.type;
    c.value = std::move(v);
    return c;
  }

  // Gives an untyped literal the type it meets (PostgreSQL's "unknown").
  absl::Status Coerce(BoundExpr* e, SqlType to) {
    if (to == SqlType::kUnknown || to == SqlType::kNull) return absl::OkStatus();
    if (e->kind == K::kConst && (e->type == SqlType::kUnknown || e->type == SqlType::kNull)) {
      ASSIGN_OR_RETURN(e->value, CastValue(e->value, to));
      e->type = to;
    }
    return absl::OkStatus();
  }

  static bool Numeric(SqlType t) { return t == SqlType::kInt || t == SqlType::kDouble; }

  absl::Status CheckComparable(const BoundExpr& a, const BoundExpr& b, std::string_view op) {
    SqlType x = a.type, y = b.type;
    if (x == y || x == SqlType::kNull || y == SqlType::kNull || x == SqlType::kUnknown ||
        y == SqlType::kUnknown || (Numeric(x) && Numeric(y))) {
      return absl::OkStatus();
    }
    return SqlError(
        sqlstate::kUndefinedFunction,
        StrCat("operator does not exist: ", SqlTypeName(x), " ", op, " ", SqlTypeName(y)));
  }

  absl::Status RequireBool(const BoundExpr& e, std::string_view where) {
    if (e.type == SqlType::kBool || e.type == SqlType::kNull || e.type == SqlType::kUnknown) {
      return absl::OkStatus();
    }
    return SqlError(
        sqlstate::kDatatypeMismatch,
        StrCat("argument of ", where, " must be type boolean, not type ", SqlTypeName(e.type)));
  }

  // Makes `a` and `b` one type when one of them is an untyped literal.
  absl::Status Unify(BoundExpr* a, BoundExpr* b) {
    if (a->type == SqlType::kUnknown && b->type != SqlType::kUnknown) return Coerce(a, b->type);
    if (b->type == SqlType::kUnknown && a->type != SqlType::kUnknown) return Coerce(b, a->type);
    return absl::OkStatus();
  }

  absl::StatusOr<BoundExpr> BindRaw(const Expr& e) {
    BoundExpr b;
    switch (e.kind) {
      case ExprKind::kConst:
        return Const(e.value);
      case ExprKind::kParam:
        return BindParam(e);
      case ExprKind::kStar:
        return SqlError(sqlstate::kSyntaxError, "* is only allowed in a select list or count(*)");
      case ExprKind::kColumn:
        return BindColumn(e);
      case ExprKind::kAnd:
      case ExprKind::kOr:
      case ExprKind::kNot: {
        b.kind = e.kind == ExprKind::kAnd ? K::kAnd : e.kind == ExprKind::kOr ? K::kOr : K::kNot;
        b.type = SqlType::kBool;
        for (const Expr& a : e.args) {
          ASSIGN_OR_RETURN(BoundExpr c, Bind(a));
          RETURN_IF_ERROR(Coerce(&c, SqlType::kBool));
          RETURN_IF_ERROR(RequireBool(c, e.kind == ExprKind::kAnd  ? "AND"
                                         : e.kind == ExprKind::kOr ? "OR"
                                                                   : "NOT"));
          b.args.push_back(std::move(c));
        }
        return b;
      }
      case ExprKind::kNullTest:
      case ExprKind::kBoolTest: {
        b.kind = e.kind == ExprKind::kNullTest ? K::kNullTest : K::kBoolTest;
        b.type = SqlType::kBool;
        b.negated = e.negated;
        b.name = e.name;
        ASSIGN_OR_RETURN(BoundExpr c, Bind(e.args[0]));
        if (b.kind == K::kBoolTest) {
          RETURN_IF_ERROR(Coerce(&c, SqlType::kBool));
          RETURN_IF_ERROR(RequireBool(c, "IS TRUE/FALSE"));
        }
        b.args.push_back(std::move(c));
        return b;
      }
      case ExprKind::kIn:
      case ExprKind::kBetween: {
        b.kind = e.kind == ExprKind::kIn ? K::kIn : K::kBetween;
        b.type = SqlType::kBool;
        b.negated = e.negated;
        for (const Expr& a : e.args) {
          ASSIGN_OR_RETURN(BoundExpr c, Bind(a));
          b.args.push_back(std::move(c));
        }
        SqlType t = b.args[0].type;
        if (t == SqlType::kUnknown) {
          for (size_t i = 1; i < b.args.size(); ++i)
            if (b.args[i].type != SqlType::kUnknown && b.args[i].type != SqlType::kNull) {
              t = b.args[i].type;
            }
        }
        for (BoundExpr& c : b.args) {
          RETURN_IF_ERROR(Coerce(&c, t == SqlType::kUnknown ? SqlType::kText : t));
          RETURN_IF_ERROR(
              CheckComparable(b.args[0], c, e.kind == ExprKind::kIn ? "IN" : "BETWEEN"));
        }
        return b;
      }
      case ExprKind::kCast: {
        ASSIGN_OR_RETURN(BoundExpr c, Bind(e.args[0]));
        b.kind = K::kCast;
        b.type = e.cast_type;
        b.cast_type = e.cast_type;
        b.args.push_back(std::move(c));
        return b;
      }
      case ExprKind::kCase: {
        b.kind = K::kCase;
        b.has_case_arg = e.has_case_arg;
        for (const Expr& a : e.args) {
          ASSIGN_OR_RETURN(BoundExpr c, Bind(a));
          b.args.push_back(std::move(c));
        }
        // Result type: the first typed THEN/ELSE.
        size_t first = e.has_case_arg ? 1 : 0;
        SqlType t = SqlType::kNull;
        for (size_t i = first + 1; i < b.args.size(); i += 2) {
          if (b.args[i].type != SqlType::kNull && b.args[i].type != SqlType::kUnknown) {
            t = b.args[i].type;
            break;
          }
        }
        if (b.args.back().type != SqlType::kNull && b.args.back().type != SqlType::kUnknown &&
            t == SqlType::kNull) {
          t = b.args.back().type;
        }
        if (t == SqlType::kNull) t = SqlType::kText;
        for (size_t i = first + 1; i < b.args.size(); i += 2)
          RETURN_IF_ERROR(Coerce(&b.args[i], t));
        RETURN_IF_ERROR(Coerce(&b.args.back(), t));
        if (!e.has_case_arg) {
          for (size_t i = 0; i + 1 < b.args.size(); i += 2) {
            RETURN_IF_ERROR(Coerce(&b.args[i], SqlType::kBool));
          }
        }
        b.type = t;
        return b;
      }
      case ExprKind::kOp:
        return BindOp(e);
      case ExprKind::kFunc:
        return BindFunc(e);
    }
    return SqlError(sqlstate::kInternalError, "unknown expression");
  }

  absl::StatusOr<BoundExpr> BindParam(const Expr& e) {
    size_t i = static_cast<size_t>(e.param - 1);
    SqlType declared = SqlType::kUnknown;
    if (ctx_.param_types != nullptr && i < ctx_.param_types->size()) {
      declared = SqlTypeFromOid((*ctx_.param_types)[i]);
    }
    if (ctx_.params == nullptr) {
      BoundExpr c = Const(Value::Null());
      c.type = declared;
      return c;
    }
    if (i >= ctx_.params->size()) {
      return SqlError(sqlstate::kUndefinedParameter, StrCat("there is no parameter $", e.param));
    }
    const auto& p = (*ctx_.params)[i];
    if (!p) {
      BoundExpr c = Const(Value::Null());
      c.type = declared;
      return c;
    }
    Value v = Value::Text(*p, SqlType::kUnknown);
    if (declared != SqlType::kUnknown) {
      ASSIGN_OR_RETURN(v, CastValue(v, declared));
    }
    return Const(std::move(v));
  }

  absl::StatusOr<BoundExpr> BindColumn(const Expr& e) {
    if (aggregate_) {
      if (auto g = GroupInput(e)) return *g;
      if (plan_.source == Plan::Source::kDataset) {
        RETURN_IF_ERROR(TableColumn(e).status());
      }
      return SqlError(sqlstate::kGroupingError,
                      StrCat("column \"", e.name,
                             "\" must appear in the GROUP BY clause or be used in an aggregate "
                             "function"));
    }
    ASSIGN_OR_RETURN(int idx, TableColumn(e));
    BoundExpr b;
    b.kind = K::kInput;
    if (plan_.source == Plan::Source::kDataset) {
      b.input = RawInput(idx);
    } else {
      b.input = idx;
    }
    b.type = plan_.inputs[b.input].type;
    return b;
  }

  absl::StatusOr<BoundExpr> BindOp(const Expr& e) {
    if (aggregate_) {
      if (auto g = GroupInput(e)) return *g;
    }
    BoundExpr b;
    b.kind = K::kOp;
    b.name = e.name;
    for (const Expr& a : e.args) {
      ASSIGN_OR_RETURN(BoundExpr c, Bind(a));
      b.args.push_back(std::move(c));
    }
    const std::string& op = e.name;
    if (b.args.size() == 1) {
      b.type = b.args[0].type == SqlType::kUnknown ? SqlType::kDouble : b.args[0].type;
      RETURN_IF_ERROR(Coerce(&b.args[0], b.type));
      return b;
    }
    BoundExpr& l = b.args[0];
    BoundExpr& r = b.args[1];
    if (IsComparison(op) || op == "is distinct from" || op == "is not distinct from") {
      RETURN_IF_ERROR(Unify(&l, &r));
      RETURN_IF_ERROR(CheckComparable(l, r, op));
      b.type = SqlType::kBool;
      return b;
    }
    if (op == "~~" || op == "!~~" || op == "~~*" || op == "!~~*" || op == "~" || op == "!~" ||
        op == "~*" || op == "!~*") {
      RETURN_IF_ERROR(Coerce(&l, SqlType::kText));
      RETURN_IF_ERROR(Coerce(&r, SqlType::kText));
      if ((l.type != SqlType::kText && l.type != SqlType::kNull) ||
          (r.type != SqlType::kText && r.type != SqlType::kNull)) {
        return SqlError(sqlstate::kUndefinedFunction,
                        StrCat("operator does not exist: ", SqlTypeName(l.type), " ", op, " ",
                               SqlTypeName(r.type)));
      }
      b.type = SqlType::kBool;
      return b;
    }
    if (op == "||") {
      RETURN_IF_ERROR(Coerce(&l, SqlType::kText));
      RETURN_IF_ERROR(Coerce(&r, SqlType::kText));
      b.type = SqlType::kText;
      return b;
    }
    // Arithmetic.
    if (l.type == SqlType::kTimestamp || r.type == SqlType::kTimestamp) {
      BoundExpr& other = l.type == SqlType::kTimestamp ? r : l;
      if (other.type == SqlType::kUnknown) {
        RETURN_IF_ERROR(Coerce(
            &other, op == "-" && &other == &r && false ? SqlType::kTimestamp : SqlType::kInterval));
      }
      if (l.type == SqlType::kTimestamp && r.type == SqlType::kTimestamp && op == "-") {
        b.type = SqlType::kInterval;
      } else if (other.type == SqlType::kInterval && (op == "+" || (op == "-" && &other == &r))) {
        b.type = SqlType::kTimestamp;
      } else if (other.type != SqlType::kNull) {
        return SqlError(sqlstate::kUndefinedFunction,
                        StrCat("operator does not exist: ", SqlTypeName(l.type), " ", op, " ",
                               SqlTypeName(r.type)));
      } else {
        b.type = SqlType::kTimestamp;
      }
      return b;
    }
    if (l.type == SqlType::kInterval || r.type == SqlType::kInterval) {
      RETURN_IF_ERROR(Unify(&l, &r));
      b.type = SqlType::kInterval;
      return b;
    }
    // Untyped literals in arithmetic read as numbers.
    if (l.type == SqlType::kUnknown)
      RETURN_IF_ERROR(Coerce(&l, Numeric(r.type) ? r.type : SqlType::kDouble));
    if (r.type == SqlType::kUnknown)
      RETURN_IF_ERROR(Coerce(&r, Numeric(l.type) ? l.type : SqlType::kDouble));
    auto numeric_or_null = [](SqlType t) { return Numeric(t) || t == SqlType::kNull; };
    if (!numeric_or_null(l.type) || !numeric_or_null(r.type)) {
      return SqlError(sqlstate::kUndefinedFunction,
                      StrCat("operator does not exist: ", SqlTypeName(l.type), " ", op, " ",
                             SqlTypeName(r.type)));
    }
    b.type = (l.type == SqlType::kDouble || r.type == SqlType::kDouble || op == "^")
                 ? SqlType::kDouble
                 : SqlType::kInt;
    return b;
  }

  absl::StatusOr<BoundExpr> BindFunc(const Expr& e) {
    if (IsAggregateName(e.name)) {
      if (!aggregate_ || plan_.source != Plan::Source::kDataset) {
        return SqlError(sqlstate::kGroupingError,
                        StrCat("aggregate function ", e.name, " is not allowed here"));
      }
      return BindAggregate(e);
    }
    if (aggregate_) {
      if (auto g = GroupInput(e)) return *g;
    }
    if (e.distinct || e.star || !e.within_group.empty()) {
      return SqlError(
          sqlstate::kSyntaxError,
          StrCat("DISTINCT, * or WITHIN GROUP given for non-aggregate function ", e.name));
    }
    BoundExpr b;
    b.kind = K::kFunc;
    b.name = e.name;
    for (const Expr& a : e.args) {
      ASSIGN_OR_RETURN(BoundExpr c, Bind(a));
      b.args.push_back(std::move(c));
    }
    const std::string& f = e.name;
    auto arity = [&](size_t lo, size_t hi) -> absl::Status {
      if (b.args.size() < lo || b.args.size() > hi) {
        return SqlError(
            sqlstate::kUndefinedFunction,
            StrCat("function ", f, " with ", b.args.size(), " arguments does not exist"));
      }
      return absl::OkStatus();
    };
    auto want = [&](size_t i, SqlType t) -> absl::Status {
      RETURN_IF_ERROR(Coerce(&b.args[i], t));
      SqlType got = b.args[i].type;
      if (got == t || got == SqlType::kNull || (t == SqlType::kDouble && got == SqlType::kInt)) {
        return absl::OkStatus();
      }
      return SqlError(sqlstate::kUndefinedFunction,
                      StrCat("function ", f, " does not accept ", SqlTypeName(got), " as argument ",
                             i + 1, " (expected ", SqlTypeName(t), ")"));
    };
    if (f == "now" || f == "current_timestamp" || f == "statement_timestamp" ||
        f == "transaction_timestamp" || f == "clock_timestamp") {
      RETURN_IF_ERROR(arity(0, 0));
      b.name = "now";
      b.type = SqlType::kTimestamp;
    } else if (f == "version" || f == "current_database" || f == "current_schema" ||
               f == "current_user" || f == "session_user") {
      RETURN_IF_ERROR(arity(0, 0));
      if (f == "session_user") b.name = "current_user";
      b.type = SqlType::kText;
    } else if (f == "pg_backend_pid") {
      RETURN_IF_ERROR(arity(0, 0));
      b.type = SqlType::kInt;
    } else if (f == "abs" || f == "floor" || f == "ceil" || f == "ceiling" || f == "trunc") {
      RETURN_IF_ERROR(arity(1, 1));
      RETURN_IF_ERROR(Coerce(&b.args[0], SqlType::kDouble));
      if (!Numeric(b.args[0].type) && b.args[0].type != SqlType::kNull)
        RETURN_IF_ERROR(want(0, SqlType::kDouble));
      b.type = b.args[0].type == SqlType::kInt ? SqlType::kInt : SqlType::kDouble;
    } else if (f == "round") {
      RETURN_IF_ERROR(arity(1, 2));
      RETURN_IF_ERROR(Coerce(&b.args[0], SqlType::kDouble));
      if (!Numeric(b.args[0].type) && b.args[0].type != SqlType::kNull)
        RETURN_IF_ERROR(want(0, SqlType::kDouble));
      if (b.args.size() == 2) RETURN_IF_ERROR(want(1, SqlType::kInt));
      b.type =
          b.args.size() == 1 && b.args[0].type == SqlType::kInt ? SqlType::kInt : SqlType::kDouble;
    } else if (f == "sqrt" || f == "ln" || f == "log" || f == "log10" || f == "exp") {
      RETURN_IF_ERROR(arity(1, 1));
      RETURN_IF_ERROR(want(0, SqlType::kDouble));
      b.type = SqlType::kDouble;
    } else if (f == "power" || f == "pow") {
      RETURN_IF_ERROR(arity(2, 2));
      RETURN_IF_ERROR(want(0, SqlType::kDouble));
      RETURN_IF_ERROR(want(1, SqlType::kDouble));
      b.type = SqlType::kDouble;
    } else if (f == "lower" || f == "upper") {
      RETURN_IF_ERROR(arity(1, 1));
      RETURN_IF_ERROR(want(0, SqlType::kText));
      b.type = SqlType::kText;
    } else if (f == "length" || f == "char_length" || f == "character_length") {
      RETURN_IF_ERROR(arity(1, 1));
      RETURN_IF_ERROR(want(0, SqlType::kText));
      b.type = SqlType::kInt;
    } else if (f == "substr" || f == "substring") {
      RETURN_IF_ERROR(arity(2, 3));
      RETURN_IF_ERROR(want(0, SqlType::kText));
      RETURN_IF_ERROR(want(1, SqlType::kInt));
      if (b.args.size() == 3) RETURN_IF_ERROR(want(2, SqlType::kInt));
      b.type = SqlType::kText;
    } else if (f == "concat") {
      for (BoundExpr& a : b.args) RETURN_IF_ERROR(Coerce(&a, SqlType::kText));
      b.type = SqlType::kText;
    } else if (f == "coalesce" || f == "greatest" || f == "least" || f == "nullif") {
      if (f == "nullif") RETURN_IF_ERROR(arity(2, 2));
      if (b.args.empty()) RETURN_IF_ERROR(arity(1, 100));
      SqlType t = SqlType::kNull;
      for (BoundExpr& a : b.args)
        if (a.type != SqlType::kNull && a.type != SqlType::kUnknown) {
          t = t == SqlType::kNull
                  ? a.type
                  : (Numeric(t) && Numeric(a.type) && t != a.type ? SqlType::kDouble : t);
        }
      if (t == SqlType::kNull) t = SqlType::kText;
      for (BoundExpr& a : b.args) {
        RETURN_IF_ERROR(Coerce(&a, t));
        if (a.type != t && a.type != SqlType::kNull && !(Numeric(a.type) && Numeric(t))) {
          return SqlError(sqlstate::kDatatypeMismatch,
                          StrCat(f, " types ", SqlTypeName(t), " and ", SqlTypeName(a.type),
                                 " cannot be matched"));
        }
      }
      b.type = t;
    } else if (f == "date_trunc") {
      RETURN_IF_ERROR(arity(2, 2));
      RETURN_IF_ERROR(want(0, SqlType::kText));
      RETURN_IF_ERROR(want(1, SqlType::kTimestamp));
      b.type = SqlType::kTimestamp;
    } else if (f == "date_part" || f == "extract") {
      RETURN_IF_ERROR(arity(2, 2));
      RETURN_IF_ERROR(want(0, SqlType::kText));
      RETURN_IF_ERROR(want(1, SqlType::kTimestamp));
      b.name = "date_part";
      b.type = SqlType::kDouble;
    } else if (f == "time_bucket" || f == "date_bin") {
      RETURN_IF_ERROR(arity(2, 3));
      RETURN_IF_ERROR(want(0, SqlType::kInterval));
      RETURN_IF_ERROR(want(1, SqlType::kTimestamp));
      if (b.args.size() == 3) RETURN_IF_ERROR(want(2, SqlType::kTimestamp));
      b.type = SqlType::kTimestamp;
    } else if (f == "to_timestamp") {
      RETURN_IF_ERROR(arity(1, 1));
      RETURN_IF_ERROR(want(0, SqlType::kDouble));
      b.type = SqlType::kTimestamp;
    } else {
      return SqlError(sqlstate::kUndefinedFunction, StrCat("function ", f, " does not exist"));
    }
    return b;
  }

  // ---- aggregation ---------------------------------------------------------

  // A GROUP BY expression `e` names, as an input of the engine's answer.
  std::optional<BoundExpr> GroupInput(const Expr& e) {
    for (size_t i = 0; i < group_exprs_.size(); ++i) {
      if (ExprEquals(group_exprs_[i], e) ||
          (e.kind == ExprKind::kColumn && group_exprs_[i].kind == ExprKind::kColumn &&
           e.name == group_exprs_[i].name)) {
        BoundExpr b;
        b.kind = K::kInput;
        b.input = group_inputs_[i];
        b.type = plan_.inputs[b.input].type;
        return b;
      }
    }
    return std::nullopt;
  }

  // GROUP BY items may name a select-list item by position or alias.
  absl::StatusOr<Expr> ResolveGroupItem(const Expr& g) {
    if (g.kind == ExprKind::kConst && g.value.type == SqlType::kInt) {
      int64_t n = g.value.i;
      if (n < 1 || n > static_cast<int64_t>(sel_.targets.size())) {
        return SqlError("42P10", StrCat("GROUP BY position ", n, " is not in select list"));
      }
      return sel_.targets[n - 1].expr;
    }
    if (g.kind == ExprKind::kColumn && g.qualifier.empty() && schema_->IndexOf(g.name) < 0) {
      for (const SelectTarget& t : sel_.targets)
        if (t.alias == g.name) return t.expr;
    }
    return g;
  }

  // The argument of a bucketing function must be the time column.
  absl::Status RequireTimeArg(const Expr& f, const Expr& arg) {
    if (!IsTimeColumn(arg)) {
      return Unsupported(
          StrCat(f.name, " over anything but the time column \"", schema_->time_column, "\""));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<Value> ConstArg(const Expr& e, SqlType t) {
    ASSIGN_OR_RETURN(BoundExpr b, Bind(e));
    RETURN_IF_ERROR(Coerce(&b, t));
    if (b.kind != K::kConst) return Unsupported("a bucket width that is not a constant");
    if (b.value.type != t) {
      ASSIGN_OR_RETURN(b.value, CastValue(b.value, t));
    }
    return b.value;
  }

  // Turns a time-bucketing GROUP BY expression into the downsample's buckets.
  absl::StatusOr<bool> LowerBucket(const Expr& g, Downsample* ds) {
    if (IsTimeColumn(g)) {
      ds->has_interval = true;
      ds->interval_ns = 1;  // one bucket per distinct timestamp
      return true;
    }
    if (g.kind != ExprKind::kFunc) return false;
    if (g.name == "time_bucket" || g.name == "date_bin") {
      if (g.args.size() < 2) return false;
      RETURN_IF_ERROR(RequireTimeArg(g, g.args[1]));
      ASSIGN_OR_RETURN(Value iv, ConstArg(g.args[0], SqlType::kInterval));
      if (iv.is_null()) return Unsupported("a NULL bucket width");
      if (g.args.size() == 3) {
        ASSIGN_OR_RETURN(Value origin, ConstArg(g.args[2], SqlType::kTimestamp));
        ASSIGN_OR_RETURN(int64_t w, FixedIntervalNanos(iv.iv));
        if (origin.is_null() || w <= 0 || FloorDiv(origin.i, w) * w != origin.i) {
          return Unsupported(StrCat(g.name,
                                    " with an origin that is not a multiple of the width "
                                    "from the Unix epoch"));
        }
      }
      if (iv.iv.months != 0) {
        if (iv.iv.days != 0 || iv.iv.nanos != 0) {
          return Unsupported("a bucket width mixing months with days or time");
        }
        if (iv.iv.months < 0)
          return SqlError(sqlstate::kInvalidParameterValue, "stride must be greater than zero");
        if (iv.iv.months % 12 == 0) {
          ds->calendar = CalendarUnit::kYear;
          ds->calendar_size = iv.iv.months / 12;
        } else {
          ds->calendar = CalendarUnit::kMonth;
          ds->calendar_size = iv.iv.months;
        }
        ds->has_interval = true;
        return true;
      }
      ASSIGN_OR_RETURN(int64_t w, FixedIntervalNanos(iv.iv));
      if (w <= 0)
        return SqlError(sqlstate::kInvalidParameterValue, "stride must be greater than zero");
      ds->has_interval = true;
      ds->interval_ns = w;
      return true;
    }
    if (g.name == "date_trunc") {
      if (g.args.size() != 2) return false;
      RETURN_IF_ERROR(RequireTimeArg(g, g.args[1]));
      ASSIGN_OR_RETURN(Value unit, ConstArg(g.args[0], SqlType::kText));
      std::string u = AsciiLower(unit.s);
      static const std::map<std::string, int64_t> kFixed = {
          {"microsecond", 1000},        {"microseconds", 1000},      {"millisecond", 1'000'000},
          {"milliseconds", 1'000'000},  {"second", 1'000'000'000},   {"seconds", 1'000'000'000},
          {"minute", 60'000'000'000},   {"minutes", 60'000'000'000}, {"hour", 3'600'000'000'000},
          {"hours", 3'600'000'000'000}, {"day", kNanosPerDay},       {"days", kNanosPerDay}};
      ds->has_interval = true;
      if (auto it = kFixed.find(u); it != kFixed.end()) {
        ds->interval_ns = it->second;
      } else if (u == "week" || u == "weeks") {
        ds->calendar = CalendarUnit::kWeek;
      } else if (u == "month" || u == "months") {
        ds->calendar = CalendarUnit::kMonth;
      } else if (u == "quarter") {
        ds->calendar = CalendarUnit::kMonth;
        ds->calendar_size = 3;
      } else if (u == "year" || u == "years") {
        ds->calendar = CalendarUnit::kYear;
      } else {
        return SqlError(sqlstate::kInvalidParameterValue,
                        StrCat("unit \"", unit.s, "\" not recognized by date_trunc"));
      }
      return true;
    }
    return false;
  }

  absl::Status PlanGroups() {
    Downsample& ds = plan_.spec.downsample.emplace();
    plan_.spec.columns.reset();
    bool have_bucket = false;
    // Input 0 is the bucket (or the time range start when there is none).
    for (const Expr& raw : sel_.group_by) {
      ASSIGN_OR_RETURN(Expr g, ResolveGroupItem(raw));
      if (ContainsAggregate(g)) {
        return SqlError(sqlstate::kGroupingError,
                        "aggregate functions are not allowed in GROUP BY");
      }
      Downsample probe;
      ASSIGN_OR_RETURN(bool bucket, LowerBucket(g, &probe));
      if (bucket) {
        if (have_bucket) {
          // The same bucket twice (GROUP BY 1, t) is harmless; two different ones are not.
          bool same = probe.interval_ns == ds.interval_ns && probe.calendar == ds.calendar &&
                      probe.calendar_size == ds.calendar_size;
          if (!same) return Unsupported("grouping by two different time buckets");
        } else {
          ds.has_interval = true;
          ds.interval_ns = probe.interval_ns;
          ds.calendar = probe.calendar;
          ds.calendar_size = probe.calendar_size;
          have_bucket = true;
        }
        group_exprs_.push_back(g);
        group_inputs_.push_back(0);
        continue;
      }
      if (g.kind != ExprKind::kColumn) {
        return Unsupported(
            "GROUP BY an expression other than a column, time_bucket, date_trunc "
            "or date_bin");
      }
      ASSIGN_OR_RETURN(int idx, TableColumn(g));
      const Field& f = schema_->fields[idx];
      bool dup = false;
      for (size_t i = 0; i < ds.group_by.size(); ++i)
        if (ds.group_by[i] == f.name) {
          group_exprs_.push_back(g);
          group_inputs_.push_back(static_cast<int>(i) + 1);
          dup = true;
        }
      if (dup) continue;
      ds.group_by.push_back(f.name);
      plan_.inputs.push_back({f.name, FromColumnType(f.type)});
      group_exprs_.push_back(g);
      group_inputs_.push_back(static_cast<int>(plan_.inputs.size()) - 1);
    }
    has_bucket_ = have_bucket;
    plan_.global_aggregate = sel_.group_by.empty();
    return absl::OkStatus();
  }

  absl::StatusOr<BoundExpr> BindAggregate(const Expr& e) {
    for (const AggSlot& s : aggs_) {
      if (ExprEquals(s.call, e)) return AggInput(&s - aggs_.data());
    }
    Aggregation agg;
    SqlType type = SqlType::kDouble;
    const std::string& f = e.name;
    auto column_arg = [&](const Expr& a) -> absl::StatusOr<const Field*> {
      if (a.kind != ExprKind::kColumn) {
        return Unsupported(StrCat(f, "() over an expression (aggregate a column)"));
      }
      ASSIGN_OR_RETURN(int idx, TableColumn(a));
      return &schema_->fields[idx];
    };
    if (e.distinct && f != "count") return Unsupported(StrCat(f, "(DISTINCT ...)"));
    if (f == "count") {
      agg.fn = AggFn::kCount;
      type = SqlType::kInt;
      if (!e.star) {
        if (e.args.size() != 1)
          return SqlError(sqlstate::kUndefinedFunction, "count takes one argument");
        const Expr& a = e.args[0];
        if (a.kind == ExprKind::kConst && !a.value.is_null() && !e.distinct) {
          // count(1): every row.
        } else {
          ASSIGN_OR_RETURN(const Field* col, column_arg(a));
          agg.column = col->name;
          if (e.distinct) agg.fn = AggFn::kCountDistinct;
        }
      }
    } else if (f == "sum" || f == "avg" || f == "min" || f == "max" || f == "median") {
      if (e.args.size() != 1) {
        return SqlError(sqlstate::kUndefinedFunction, StrCat(f, " takes one argument"));
      }
      ASSIGN_OR_RETURN(const Field* col, column_arg(e.args[0]));
      agg.column = col->name;
      SqlType ct = FromColumnType(col->type);
      if ((f == "sum" || f == "avg" || f == "median") && !Numeric(ct)) {
        return SqlError(sqlstate::kUndefinedFunction,
                        StrCat("function ", f, "(", SqlTypeName(ct), ") does not exist"));
      }
      agg.fn = f == "sum"   ? AggFn::kSum
               : f == "avg" ? AggFn::kAvg
               : f == "min" ? AggFn::kMin
               : f == "max" ? AggFn::kMax
                            : AggFn::kMedian;
      type = (f == "min" || f == "max" || f == "sum") ? ct : SqlType::kDouble;
    } else if (f == "percentile_cont") {
      if (e.within_group.size() != 1 || e.args.size() != 1) {
        return SqlError(sqlstate::kSyntaxError,
                        "percentile_cont needs one fraction and WITHIN GROUP (ORDER BY column)");
      }
      ASSIGN_OR_RETURN(Value p, ConstArg(e.args[0], SqlType::kDouble));
      if (p.is_null() || !(p.d >= 0 && p.d <= 1)) {
        return SqlError("22003", "percentile value must be between 0 and 1");
      }
      ASSIGN_OR_RETURN(const Field* col, column_arg(e.within_group[0]));
      if (!Numeric(FromColumnType(col->type))) {
        return SqlError(sqlstate::kUndefinedFunction, "percentile_cont needs a numeric column");
      }
      agg.fn = AggFn::kPercentile;
      agg.percentile = p.d;
      agg.column = col->name;
    } else if (f == "first" || f == "last") {
      if (e.args.size() != 2 || !IsTimeColumn(e.args[1])) {
        return Unsupported(StrCat(f, "(value, ", schema_->time_column,
                                  ") is the only form (ordered by the time column)"));
      }
      ASSIGN_OR_RETURN(const Field* col, column_arg(e.args[0]));
      agg.fn = f == "first" ? AggFn::kFirst : AggFn::kLast;
      agg.column = col->name;
      type = FromColumnType(col->type);
    } else {
      return Unsupported(StrCat("the aggregate ", f));
    }
    agg.alias = StrCat("__agg", aggs_.size());
    aggs_.push_back({e, agg, type});
    return AggInput(aggs_.size() - 1);
  }

  BoundExpr AggInput(size_t i) {
    // Aggregates follow the bucket and group columns; their inputs are added
    // in FinishSpec, so indices are fixed here by position.
    BoundExpr b;
    b.kind = K::kInput;
    b.input = static_cast<int>(1 + plan_.spec.downsample->group_by.size() + i);
    b.type = aggs_[i].type;
    return b;
  }

  // ---- WHERE ---------------------------------------------------------------

  // The value of a column-free expression, or nullopt when it reads columns.
  absl::StatusOr<std::optional<BoundExpr>> ConstantOf(const Expr& e) {
    if (ReferencesColumns(e)) return std::nullopt;
    ASSIGN_OR_RETURN(BoundExpr b, Bind(e));
    if (b.kind != K::kConst) return std::nullopt;
    return b;
  }

  static bool ReferencesColumns(const Expr& e) {
    if (e.kind == ExprKind::kColumn || e.kind == ExprKind::kStar) return true;
    for (const Expr& a : e.args)
      if (ReferencesColumns(a)) return true;
    return false;
  }

  // The literal of a pushed-down filter on a column of type `t`, from a
  // constant already coerced to that type; nullopt when the engine cannot
  // compare exactly as SQL does.
  static std::optional<Literal> ToLiteral(const Value& v, ColumnType t) {
    Literal l;
    switch (v.type) {
      case SqlType::kNull:
        l.kind = Literal::Kind::kNull;
        return l;
      case SqlType::kBool:
        l.kind = Literal::Kind::kBool;
        l.b = v.b;
        return l;
      case SqlType::kInt:
      case SqlType::kTimestamp:
        l.kind = Literal::Kind::kInt;
        l.i = v.i;
        if (t == ColumnType::kDouble) {
          l.kind = Literal::Kind::kDouble;
          l.d = static_cast<double>(v.i);
          if (static_cast<int64_t>(l.d) != v.i) return std::nullopt;  // not exact
        }
        return l;
      case SqlType::kDouble:
        if (t == ColumnType::kInteger && !std::isfinite(v.d)) return std::nullopt;
        l.kind = Literal::Kind::kDouble;
        l.d = v.d;
        return l;
      case SqlType::kText:
        l.kind = Literal::Kind::kString;
        l.s = v.s;
        return l;
      default:
        return std::nullopt;
    }
  }

  // A constant compared with column `f`: coerced as PostgreSQL would, or an
  // error for types that do not compare.
  absl::StatusOr<Value> ForColumn(BoundExpr c, const Field& f, std::string_view op) {
    SqlType ct = FromColumnType(f.type);
    RETURN_IF_ERROR(Coerce(&c, ct));
    BoundExpr col;
    col.type = ct;
    RETURN_IF_ERROR(CheckComparable(col, c, op));
    return c.value;
  }

  static FilterTree Leaf(Filter f) {
    FilterTree t;
    t.kind = FilterTree::Kind::kLeaf;
    t.leaf = std::move(f);
    return t;
  }

  static FilterTree Node(FilterTree::Kind k, std::vector<FilterTree> children) {
    FilterTree t;
    t.kind = k;
    t.children = std::move(children);
    return t;
  }

  static FilterTree Never(const std::string& column) {
    Filter f;
    f.column = column;
    f.op = FilterOp::kEq;
    f.values.push_back(Literal{});  // a null literal matches nothing
    return Leaf(std::move(f));
  }

  // Lowers a predicate (under `negate` NOTs) to a filter tree the engine
  // evaluates with SQL's meaning, or nullopt when it cannot.
  absl::StatusOr<std::optional<FilterTree>> LowerPredicate(const Expr& e, bool negate) {
    if (!ReferencesColumns(e)) {
      // A constant condition: true drops out, false or null matches nothing.
      ASSIGN_OR_RETURN(std::optional<BoundExpr> c, ConstantOf(e));
      if (!c) return std::nullopt;
      RETURN_IF_ERROR(Coerce(&*c, SqlType::kBool));
      RETURN_IF_ERROR(RequireBool(*c, "WHERE"));
      bool pass = !c->value.is_null() && (c->value.b != negate);
      if (pass) return Node(FilterTree::Kind::kAnd, {});
      return Never(schema_->time_column);
    }
    switch (e.kind) {
      case ExprKind::kNot:
        return LowerPredicate(e.args[0], !negate);
      case ExprKind::kAnd:
      case ExprKind::kOr: {
        bool is_and = (e.kind == ExprKind::kAnd) != negate;
        std::vector<FilterTree> kids;
        for (const Expr& a : e.args) {
          ASSIGN_OR_RETURN(std::optional<FilterTree> c, LowerPredicate(a, negate));
          if (!c) return std::nullopt;
          kids.push_back(std::move(*c));
        }
        return Node(is_and ? FilterTree::Kind::kAnd : FilterTree::Kind::kOr, std::move(kids));
      }
      case ExprKind::kColumn: {
        // A boolean column on its own.
        ASSIGN_OR_RETURN(int idx, TableColumn(e));
        const Field& f = schema_->fields[idx];
        if (f.type != ColumnType::kBoolean) {
          return SqlError(sqlstate::kDatatypeMismatch,
                          StrCat("argument of WHERE must be type boolean, not type ",
                                 SqlTypeName(FromColumnType(f.type))));
        }
        Filter flt;
        flt.column = f.name;
        flt.op = FilterOp::kEq;
        flt.values.push_back(*ToLiteral(Value::Bool(!negate), f.type));
        return Leaf(std::move(flt));
      }
      case ExprKind::kNullTest: {
        if (e.args[0].kind != ExprKind::kColumn) return std::nullopt;
        ASSIGN_OR_RETURN(int idx, TableColumn(e.args[0]));
        Filter flt;
        flt.column = schema_->fields[idx].name;
        flt.op = (e.negated != negate) ? FilterOp::kIsNotNull : FilterOp::kIsNull;
        return Leaf(std::move(flt));
      }
      case ExprKind::kBoolTest: {
        if (e.args[0].kind != ExprKind::kColumn) return std::nullopt;
        ASSIGN_OR_RETURN(int idx, TableColumn(e.args[0]));
        const Field& f = schema_->fields[idx];
        if (f.type != ColumnType::kBoolean) return std::nullopt;
        // x IS TRUE: x = true. x IS NOT TRUE: x = false OR x IS NULL.
        bool want = e.name == "true";
        bool is_not = e.negated != negate;
        Filter eq;
        eq.column = f.name;
        eq.op = FilterOp::kEq;
        eq.values.push_back(*ToLiteral(Value::Bool(is_not ? !want : want), f.type));
        if (!is_not) return Leaf(std::move(eq));
        Filter null;
        null.column = f.name;
        null.op = FilterOp::kIsNull;
        std::vector<FilterTree> kids;
        kids.push_back(Leaf(std::move(eq)));
        kids.push_back(Leaf(std::move(null)));
        return Node(FilterTree::Kind::kOr, std::move(kids));
      }
      case ExprKind::kIn: {
        if (e.args[0].kind != ExprKind::kColumn) return std::nullopt;
        ASSIGN_OR_RETURN(int idx, TableColumn(e.args[0]));
        const Field& f = schema_->fields[idx];
        Filter flt;
        flt.column = f.name;
        bool not_in = e.negated != negate;
        flt.op = not_in ? FilterOp::kNotIn : FilterOp::kIn;
        bool has_null = false;
        for (size_t i = 1; i < e.args.size(); ++i) {
          ASSIGN_OR_RETURN(std::optional<BoundExpr> c, ConstantOf(e.args[i]));
          if (!c) return std::nullopt;
          ASSIGN_OR_RETURN(Value v, ForColumn(*c, f, "IN"));
          if (v.is_null()) {
            has_null = true;
            continue;
          }
          std::optional<Literal> l = ToLiteral(v, f.type);
          if (!l) return std::nullopt;
          flt.values.push_back(std::move(*l));
        }
        // x NOT IN (.., NULL) is never true.
        if (not_in && has_null) return Never(f.name);
        return Leaf(std::move(flt));
      }
      case ExprKind::kBetween: {
        if (e.args[0].kind != ExprKind::kColumn) return std::nullopt;
        ASSIGN_OR_RETURN(int idx, TableColumn(e.args[0]));
        const Field& f = schema_->fields[idx];
        ASSIGN_OR_RETURN(std::optional<BoundExpr> lo, ConstantOf(e.args[1]));
        ASSIGN_OR_RETURN(std::optional<BoundExpr> hi, ConstantOf(e.args[2]));
        if (!lo || !hi) return std::nullopt;
        ASSIGN_OR_RETURN(Value lv, ForColumn(*lo, f, "BETWEEN"));
        ASSIGN_OR_RETURN(Value hv, ForColumn(*hi, f, "BETWEEN"));
        auto l1 = ToLiteral(lv, f.type), l2 = ToLiteral(hv, f.type);
        if (!l1 || !l2) return std::nullopt;
        bool neg = e.negated != negate;
        Filter a, b;
        a.column = b.column = f.name;
        a.op = neg ? FilterOp::kLt : FilterOp::kGte;
        b.op = neg ? FilterOp::kGt : FilterOp::kLte;
        a.values.push_back(std::move(*l1));
        b.values.push_back(std::move(*l2));
        std::vector<FilterTree> kids;
        kids.push_back(Leaf(std::move(a)));
        kids.push_back(Leaf(std::move(b)));
        // NOT BETWEEN with a null bound: x < NULL OR x > hi is three-valued
        // OR, which the engine's "null literal never matches" gets right.
        return Node(neg ? FilterTree::Kind::kOr : FilterTree::Kind::kAnd, std::move(kids));
      }
      case ExprKind::kOp: {
        if (e.args.size() != 2 || !IsComparison(e.name)) return std::nullopt;
        const Expr* col = &e.args[0];
        const Expr* other = &e.args[1];
        bool flipped = false;
        if (col->kind != ExprKind::kColumn) {
          std::swap(col, other);
          flipped = true;
        }
        if (col->kind != ExprKind::kColumn) return std::nullopt;
        ASSIGN_OR_RETURN(std::optional<BoundExpr> c, ConstantOf(*other));
        if (!c) return std::nullopt;
        ASSIGN_OR_RETURN(int idx, TableColumn(*col));
        const Field& f = schema_->fields[idx];
        ASSIGN_OR_RETURN(Value v, ForColumn(*c, f, e.name));
        std::optional<Literal> l = ToLiteral(v, f.type);
        if (!l) return std::nullopt;
        Filter flt;
        flt.column = f.name;
        flt.op = CompareOp(e.name);
        if (flipped) flt.op = Flip(flt.op);
        if (negate) flt.op = Negate(flt.op);
        flt.values.push_back(std::move(*l));
        return Leaf(std::move(flt));
      }
      default:
        return std::nullopt;
    }
  }

  // Narrows the time range with a top-level `time op constant`; true when
  // the conjunct was consumed.
  absl::StatusOr<bool> NarrowTimeRange(const Expr& e) {
    auto narrow = [&](FilterOp op, const Value& v) {
      if (v.is_null()) {
        plan_.skip_engine = true;
        return;
      }
      int64_t t = v.i;
      QuerySpec& s = plan_.spec;
      switch (op) {
        case FilterOp::kGt:
          s.start = std::max(s.start, SaturatingAdd(t, 1));
          if (t == std::numeric_limits<int64_t>::max()) plan_.skip_engine = true;
          break;
        case FilterOp::kGte:
          s.start = std::max(s.start, t);
          break;
        case FilterOp::kLt:
          s.end = std::min(s.end, t);
          break;
        case FilterOp::kLte:
          // end is exclusive; INT64_MAX itself is never a stored timestamp.
          s.end = std::min(s.end, SaturatingAdd(t, 1));
          break;
        case FilterOp::kEq:
          s.start = std::max(s.start, t);
          s.end = std::min(s.end, SaturatingAdd(t, 1));
          break;
        default:
          break;
      }
    };
    if (e.kind == ExprKind::kOp && e.args.size() == 2 && IsComparison(e.name) && e.name != "<>" &&
        e.name != "!=") {
      bool left = IsTimeColumn(e.args[0]);
      bool right = IsTimeColumn(e.args[1]);
      if (left == right) return false;
      ASSIGN_OR_RETURN(std::optional<BoundExpr> c, ConstantOf(e.args[left ? 1 : 0]));
      if (!c) return false;
      ASSIGN_OR_RETURN(Value v, ForColumn(*c, schema_->fields[schema_->time_index()], e.name));
      FilterOp op = CompareOp(e.name);
      narrow(left ? op : Flip(op), v);
      return true;
    }
    if (e.kind == ExprKind::kBetween && !e.negated && IsTimeColumn(e.args[0])) {
      ASSIGN_OR_RETURN(std::optional<BoundExpr> lo, ConstantOf(e.args[1]));
      ASSIGN_OR_RETURN(std::optional<BoundExpr> hi, ConstantOf(e.args[2]));
      if (!lo || !hi) return false;
      const Field& tf = schema_->fields[schema_->time_index()];
      ASSIGN_OR_RETURN(Value lv, ForColumn(*lo, tf, "BETWEEN"));
      ASSIGN_OR_RETURN(Value hv, ForColumn(*hi, tf, "BETWEEN"));
      narrow(FilterOp::kGte, lv);
      narrow(FilterOp::kLte, hv);
      return true;
    }
    return false;
  }

  static void Conjuncts(const Expr& e, std::vector<const Expr*>* out) {
    if (e.kind == ExprKind::kAnd) {
      for (const Expr& a : e.args) Conjuncts(a, out);
    } else {
      out->push_back(&e);
    }
  }

  // Adds a lowered tree to the spec: conjunctions flatten into `filters`.
  void AddConjunct(FilterTree t) {
    if (t.kind == FilterTree::Kind::kLeaf) {
      plan_.spec.filters.push_back(std::move(t.leaf));
    } else if (t.kind == FilterTree::Kind::kAnd) {
      for (FilterTree& c : t.children) AddConjunct(std::move(c));
    } else {
      plan_.spec.filter_trees.push_back(std::move(t));
    }
  }

  absl::Status LowerWhere() {
    if (!sel_.where) return absl::OkStatus();
    std::vector<const Expr*> conj;
    Conjuncts(*sel_.where, &conj);
    std::vector<BoundExpr> residual;
    for (const Expr* c : conj) {
      ASSIGN_OR_RETURN(bool ranged, NarrowTimeRange(*c));
      if (ranged) continue;
      ASSIGN_OR_RETURN(std::optional<FilterTree> t, LowerPredicate(*c, false));
      if (t) {
        AddConjunct(std::move(*t));
        continue;
      }
      if (aggregate_) {
        return Unsupported(
            StrCat("this WHERE condition in an aggregate query (it cannot be "
                   "pushed into the scan: compare a column with constants, "
                   "combined with AND, OR and NOT)"));
      }
      ASSIGN_OR_RETURN(BoundExpr b, Bind(*c));
      RETURN_IF_ERROR(Coerce(&b, SqlType::kBool));
      RETURN_IF_ERROR(RequireBool(b, "WHERE"));
      residual.push_back(std::move(b));
    }
    if (plan_.spec.start >= plan_.spec.end) plan_.skip_engine = true;
    if (!residual.empty()) {
      if (residual.size() == 1) {
        plan_.filter = std::move(residual[0]);
      } else {
        BoundExpr a;
        a.kind = K::kAnd;
        a.type = SqlType::kBool;
        a.args = std::move(residual);
        plan_.filter = std::move(a);
      }
      plan_.notes.push_back("residual WHERE evaluated above the scan");
    }
    return absl::OkStatus();
  }

  // ---- select list, ORDER BY, LIMIT ----------------------------------------

  absl::Status BindTargets() {
    for (const SelectTarget& t : sel_.targets) {
      if (t.expr.kind == ExprKind::kStar) {
        if (aggregate_) return SqlError(sqlstate::kGroupingError, "SELECT * with GROUP BY");
        if (!t.expr.qualifier.empty() && sel_.from && t.expr.qualifier != sel_.from->name &&
            t.expr.qualifier != sel_.from->alias) {
          return SqlError(sqlstate::kUndefinedTable,
                          StrCat("missing FROM-clause entry for table \"", t.expr.qualifier, "\""));
        }
        if (plan_.source == Plan::Source::kNone) {
          return SqlError(sqlstate::kSyntaxError, "SELECT * with no tables specified is not valid");
        }
        if (plan_.source == Plan::Source::kDataset) {
          // The time column first, then the others in schema order (the JSON API's raw order).
          int ti = schema_->time_index();
          if (ti >= 0) AddOutput(schema_->time_column, InputRef(RawInput(ti)));
          for (size_t i = 0; i < schema_->fields.size(); ++i) {
            if (static_cast<int>(i) == ti) continue;
            AddOutput(schema_->fields[i].name, InputRef(RawInput(static_cast<int>(i))));
          }
        } else {
          for (size_t i = 0; i < plan_.inputs.size(); ++i) {
            AddOutput(plan_.inputs[i].name, InputRef(static_cast<int>(i)));
          }
        }
        continue;
      }
      ASSIGN_OR_RETURN(BoundExpr b, Bind(t.expr));
      if (b.type == SqlType::kUnknown) {
        RETURN_IF_ERROR(Coerce(&b, SqlType::kText));
        b.type = SqlType::kText;
      }
      AddOutput(t.alias.empty() ? DefaultColumnName(t.expr) : t.alias, std::move(b));
    }
    return absl::OkStatus();
  }

  BoundExpr InputRef(int i) {
    BoundExpr b;
    b.kind = K::kInput;
    b.input = i;
    b.type = plan_.inputs[i].type;
    return b;
  }

  void AddOutput(std::string name, BoundExpr e) {
    plan_.outputs.push_back({std::move(name), std::move(e)});
  }

  // An ORDER BY or DISTINCT ON item: an output position, an output name, or
  // an expression over the input.
  absl::StatusOr<BoundExpr> BindOutputRef(const Expr& e) {
    if (e.kind == ExprKind::kConst && e.value.type == SqlType::kInt) {
      int64_t n = e.value.i;
      if (n < 1 || n > static_cast<int64_t>(plan_.outputs.size())) {
        return SqlError("42P10", StrCat("ORDER BY position ", n, " is not in select list"));
      }
      return plan_.outputs[n - 1].expr;
    }
    if (e.kind == ExprKind::kColumn && e.qualifier.empty()) {
      const OutputColumn* match = nullptr;
      for (const OutputColumn& o : plan_.outputs) {
        if (o.name != e.name) continue;
        if (match != nullptr && !(o.expr.kind == K::kInput && match->expr.kind == K::kInput &&
                                  o.expr.input == match->expr.input)) {
          return SqlError(sqlstate::kAmbiguousColumn,
                          StrCat("ORDER BY \"", e.name, "\" is ambiguous"));
        }
        match = &o;
      }
      if (match != nullptr) return match->expr;
    }
    ASSIGN_OR_RETURN(BoundExpr b, Bind(e));
    if (plan_.distinct) {
      bool found = false;
      for (const OutputColumn& o : plan_.outputs)
        if (o.expr.kind == K::kInput && b.kind == K::kInput && o.expr.input == b.input)
          found = true;
      if (!found && b.kind != K::kConst) {
        return SqlError("42P10",
                        "for SELECT DISTINCT, ORDER BY expressions must appear in select list");
      }
    }
    return b;
  }

  absl::Status BindOrder() {
    plan_.distinct = sel_.distinct && sel_.distinct_on.empty();
    for (const SortItem& s : sel_.order_by) {
      ASSIGN_OR_RETURN(BoundExpr b, BindOutputRef(s.expr));
      SortKey k;
      k.expr = std::move(b);
      k.desc = s.desc;
      k.nulls_first = s.nulls_first.value_or(s.desc);
      plan_.order.push_back(std::move(k));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<uint64_t>> Count(const std::optional<Expr>& e, std::string_view what,
                                                std::string_view state) {
    if (!e) return std::nullopt;
    ASSIGN_OR_RETURN(std::optional<BoundExpr> c, ConstantOf(*e));
    if (!c) return SqlError("42P10", StrCat("argument of ", what, " must not contain variables"));
    RETURN_IF_ERROR(Coerce(&*c, SqlType::kInt));
    if (c->value.is_null()) return std::nullopt;  // LIMIT ALL / NULL
    Value v = c->value;
    if (v.type == SqlType::kDouble) {
      ASSIGN_OR_RETURN(v, CastValue(v, SqlType::kInt));
    }
    if (v.type != SqlType::kInt) {
      return SqlError(sqlstate::kDatatypeMismatch,
                      StrCat("argument of ", what, " must be a number"));
    }
    if (v.i < 0) return SqlError(state, StrCat(what, " must not be negative"));
    return static_cast<uint64_t>(v.i);
  }

  absl::Status PlanLimit() {
    ASSIGN_OR_RETURN(plan_.limit, Count(sel_.limit, "LIMIT", "2201W"));
    ASSIGN_OR_RETURN(std::optional<uint64_t> off, Count(sel_.offset, "OFFSET", "2201X"));
    plan_.offset = off.value_or(0);
    return absl::OkStatus();
  }

  // Decides what the engine orders and limits, and fixes the aggregate inputs.
  void FinishSpec() {
    QuerySpec& s = plan_.spec;
    if (s.downsample) {
      for (const AggSlot& a : aggs_) {
        s.downsample->aggregations.push_back(a.agg);
        plan_.inputs.push_back({a.agg.alias, a.type});
        if (a.agg.fn == AggFn::kCount || a.agg.fn == AggFn::kCountDistinct) {
          plan_.count_inputs.push_back(static_cast<int>(plan_.inputs.size()) - 1);
        }
      }
      if (aggs_.empty()) {
        // GROUP BY without aggregates (SELECT DISTINCT-like): count rows.
        Aggregation c;
        c.fn = AggFn::kCount;
        c.alias = "__groups";
        s.downsample->aggregations.push_back(c);
        plan_.inputs.push_back({c.alias, SqlType::kInt});
      }
    }
    // Can the engine's order stand for the ORDER BY? Raw: time, either way.
    // Aggregated: the bucket either way, then group columns ascending (nulls
    // last), as the engine sorts them.
    bool order_ok = false;
    if (plan_.order.empty()) {
      order_ok = true;
    } else if (!s.downsample) {
      const SortKey& k = plan_.order[0];
      order_ok = plan_.order.size() == 1 && k.expr.kind == K::kInput && k.expr.input == 0;
      if (order_ok) s.descending = k.desc;
    } else {
      size_t next_group = 1;
      size_t i = 0;
      if (has_bucket_ && plan_.order[0].expr.kind == K::kInput && plan_.order[0].expr.input == 0) {
        s.descending = plan_.order[0].desc;
        i = 1;
      } else if (has_bucket_) {
        next_group = static_cast<size_t>(-1);  // groups are sorted within buckets only
      }
      order_ok = next_group != static_cast<size_t>(-1);
      for (; order_ok && i < plan_.order.size(); ++i) {
        const SortKey& k = plan_.order[i];
        if (k.expr.kind != K::kInput || k.expr.input != static_cast<int>(next_group) || k.desc ||
            k.nulls_first) {
          order_ok = false;
        }
        ++next_group;
      }
    }
    plan_.order_pushed = order_ok;
    const bool top_ops = plan_.filter.has_value() || plan_.distinct || !plan_.distinct_on.empty();
    if (order_ok && !top_ops && !(plan_.global_aggregate && s.downsample)) {
      uint64_t want =
          plan_.limit ? std::min<uint64_t>(*plan_.limit, ctx_.max_rows + 1) : ctx_.max_rows + 1;
      s.limit = SaturatingAdd(static_cast<int64_t>(want), static_cast<int64_t>(plan_.offset));
      plan_.limit_pushed = true;
      if (plan_.order_pushed) plan_.order.clear();
    } else {
      // Everything the statement could return, and one more row to tell
      // that it would return too many.
      s.limit = SaturatingAdd(static_cast<int64_t>(ctx_.max_rows),
                              1 + static_cast<int64_t>(plan_.offset));
      if (order_ok && !plan_.filter && !plan_.distinct && plan_.distinct_on.empty()) {
        plan_.order.clear();
      }
    }
  }

  const Select& sel_;
  const PlanContext& ctx_;
  Plan plan_;
  SchemaPtr schema_;
  bool aggregate_ = false;
  bool has_bucket_ = false;
  std::vector<Expr> group_exprs_;
  std::vector<int> group_inputs_;
  std::vector<AggSlot> aggs_;
};

}  // namespace

absl::StatusOr<Plan> PlanSelect(const Select& select, const PlanContext& ctx) {
  Planner p(select, ctx);
  return p.Run();
}

}  // namespace timestore::sql
