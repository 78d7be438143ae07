// Binding: names to input columns, untyped literals to the types they meet,
// and constant folding, as PostgreSQL does for the subset we support.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "sql/catalog.h"
#include "sql/planner_internal.h"

namespace timestore::sql::planner_internal {

absl::StatusOr<BoundExpr> Planner::Bind(const Expr& e) {
  ASSIGN_OR_RETURN(BoundExpr b, BindRaw(e));
  if (b.kind != K::kConst && IsConstant(b)) {
    QueryResult none;
    absl::StatusOr<Value> folded = Eval(b, none, 0, ctx_);
    if (!folded.ok() && unreached_ > 0) return b;
    ASSIGN_OR_RETURN(Value v, std::move(folded));
    BoundExpr c;
    c.kind = K::kConst;
    c.type = b.type;
    c.value = std::move(v);
    return c;
  }
  return b;
}

BoundExpr Planner::Const(Value v) {
  BoundExpr c;
  c.kind = K::kConst;
  c.type = v.type;
  c.value = std::move(v);
  return c;
}

absl::Status Planner::Coerce(BoundExpr* e, SqlType to) {
  if (to == SqlType::kUnknown || to == SqlType::kNull) return absl::OkStatus();
  if (e->kind == K::kConst && (e->type == SqlType::kUnknown || e->type == SqlType::kNull)) {
    ASSIGN_OR_RETURN(e->value, CastValue(e->value, to));
    e->type = to;
  }
  return absl::OkStatus();
}

absl::Status Planner::CheckComparable(const BoundExpr& a, const BoundExpr& b, std::string_view op) {
  SqlType x = a.type, y = b.type;
  if (x == y || x == SqlType::kNull || y == SqlType::kNull || x == SqlType::kUnknown ||
      y == SqlType::kUnknown || (Numeric(x) && Numeric(y))) {
    return absl::OkStatus();
  }
  return SqlError(sqlstate::kUndefinedFunction, StrCat("operator does not exist: ", SqlTypeName(x),
                                                       " ", op, " ", SqlTypeName(y)));
}

absl::Status Planner::RequireBool(const BoundExpr& e, std::string_view where) {
  if (e.type == SqlType::kBool || e.type == SqlType::kNull || e.type == SqlType::kUnknown) {
    return absl::OkStatus();
  }
  return SqlError(
      sqlstate::kDatatypeMismatch,
      StrCat("argument of ", where, " must be type boolean, not type ", SqlTypeName(e.type)));
}

// The truth of a bound condition when it is a constant (a null one counts as
// `null_is`), or nullopt when it depends on the row.
static std::optional<bool> ConstantTruth(const BoundExpr& c, std::optional<bool> null_is) {
  if (c.kind != K::kConst) return std::nullopt;
  if (c.value.is_null()) return null_is;
  if (c.value.type == SqlType::kBool) return c.value.b;
  auto b = CastValue(c.value, SqlType::kBool);
  if (!b.ok() || b->type != SqlType::kBool) return std::nullopt;
  return b->b;
}

absl::Status Planner::Unify(BoundExpr* a, BoundExpr* b) {
  if (a->type == SqlType::kUnknown && b->type != SqlType::kUnknown) return Coerce(a, b->type);
  if (b->type == SqlType::kUnknown && a->type != SqlType::kUnknown) return Coerce(b, a->type);
  return absl::OkStatus();
}

absl::StatusOr<BoundExpr> Planner::BindRaw(const Expr& e) {
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
      // After a constant that decides AND (false) or OR (true), PostgreSQL
      // folds no further operand.
      int unreached = 0;
      for (const Expr& a : e.args) {
        unreached_ += unreached;
        absl::StatusOr<BoundExpr> bound = Bind(a);
        unreached_ -= unreached;
        ASSIGN_OR_RETURN(BoundExpr c, std::move(bound));
        RETURN_IF_ERROR(Coerce(&c, SqlType::kBool));
        RETURN_IF_ERROR(RequireBool(c, e.kind == ExprKind::kAnd  ? "AND"
                                       : e.kind == ExprKind::kOr ? "OR"
                                                                 : "NOT"));
        if (ConstantTruth(c, std::nullopt) == (e.kind == ExprKind::kOr) &&
            e.kind != ExprKind::kNot) {
          unreached = 1;
        }
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
        RETURN_IF_ERROR(CheckComparable(b.args[0], c, e.kind == ExprKind::kIn ? "IN" : "BETWEEN"));
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
      // PostgreSQL folds no arm after a constant-true condition and no result
      // under a constant-false one (CASE WHEN false THEN 1 / 0 ELSE 1 END is 1).
      size_t first = e.has_case_arg ? 1 : 0;
      bool decided = false;  // a condition was constant true
      bool dead = false;     // this arm's condition is constant false
      for (size_t i = 0; i < e.args.size(); ++i) {
        const bool is_when = i >= first && i + 1 < e.args.size() && (i - first) % 2 == 0;
        const int unreached = decided || (!is_when && dead) ? 1 : 0;
        unreached_ += unreached;
        absl::StatusOr<BoundExpr> bound = Bind(e.args[i]);
        unreached_ -= unreached;
        ASSIGN_OR_RETURN(BoundExpr c, std::move(bound));
        if (is_when && !decided) {
          std::optional<bool> truth;
          if (!e.has_case_arg) {
            truth = ConstantTruth(c, false);
          } else if (b.args[0].kind == K::kConst && c.kind == K::kConst) {
            const Value& x = b.args[0].value;
            const Value& y = c.value;
            if (x.is_null() || y.is_null()) {
              truth = false;
            } else if (x.type == y.type || (Numeric(x.type) && Numeric(y.type))) {
              truth = CompareValues(x, y) == 0;
            }
          }
          dead = truth == false;
          decided = truth == true;
        }
        b.args.push_back(std::move(c));
      }
      // Result type: the first typed THEN/ELSE.
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
      for (size_t i = first + 1; i < b.args.size(); i += 2) RETURN_IF_ERROR(Coerce(&b.args[i], t));
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

absl::StatusOr<BoundExpr> Planner::BindParam(const Expr& e) {
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

absl::StatusOr<BoundExpr> Planner::BindColumn(const Expr& e) {
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

absl::StatusOr<BoundExpr> Planner::BindOp(const Expr& e) {
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
  if (op == "->" || op == "->>" || op == "#>" || op == "#>>") {
    // json -> text|bigint, json #> text[]: json; ->> and #>> give text.
    const bool path = op[0] == '#';
    RETURN_IF_ERROR(Coerce(&l, SqlType::kJson));
    RETURN_IF_ERROR(Coerce(&r, path ? SqlType::kTextArray : SqlType::kText));
    const bool right_ok =
        r.type == SqlType::kNull || (path ? r.type == SqlType::kTextArray
                                          : r.type == SqlType::kText || r.type == SqlType::kInt);
    if ((l.type != SqlType::kJson && l.type != SqlType::kNull) || !right_ok) {
      return SqlError(sqlstate::kUndefinedFunction,
                      StrCat("operator does not exist: ", SqlTypeName(l.type), " ", op, " ",
                             SqlTypeName(r.type)));
    }
    b.type = op.back() == '>' && op.size() == 2 ? SqlType::kJson : SqlType::kText;
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
    // A constant pattern is compiled once here, not once per row.
    const bool regex = op == "~" || op == "!~" || op == "~*" || op == "!~*";
    if (regex && r.kind == K::kConst && !r.value.is_null()) {
      ASSIGN_OR_RETURN(b.regex, CompileRegex(r.value.s, op));
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

absl::StatusOr<BoundExpr> Planner::BindFunc(const Expr& e) {
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
  // COALESCE: PostgreSQL folds no argument after a non-null constant.
  int unreached = 0;
  for (const Expr& a : e.args) {
    unreached_ += unreached;
    absl::StatusOr<BoundExpr> bound = Bind(a);
    unreached_ -= unreached;
    ASSIGN_OR_RETURN(BoundExpr c, std::move(bound));
    if (e.name == "coalesce" && c.kind == K::kConst && !c.value.is_null()) unreached = 1;
    b.args.push_back(std::move(c));
  }
  const std::string& f = e.name;
  auto arity = [&](size_t lo, size_t hi) -> absl::Status {
    if (b.args.size() < lo || b.args.size() > hi) {
      return SqlError(sqlstate::kUndefinedFunction,
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
    RETURN_IF_ERROR(arity(2, 3));
    RETURN_IF_ERROR(want(0, SqlType::kText));
    RETURN_IF_ERROR(want(1, SqlType::kTimestamp));
    if (b.args.size() == 3) RETURN_IF_ERROR(want(2, SqlType::kText));  // a time zone
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
  } else if (f == "array") {
    // ARRAY[...]: bigint[], double precision[], text[] or boolean[], by the
    // elements' type (untyped literals: text; bigint with double: double).
    SqlType t = SqlType::kNull;
    for (const BoundExpr& a : b.args) {
      if (a.type == SqlType::kNull || a.type == SqlType::kUnknown) continue;
      t = t == SqlType::kNull                              ? a.type
          : (Numeric(t) && Numeric(a.type) && t != a.type) ? SqlType::kDouble
                                                           : t;
    }
    if (t == SqlType::kNull) t = SqlType::kText;
    b.type = t == SqlType::kInt      ? SqlType::kIntArray
             : t == SqlType::kDouble ? SqlType::kDoubleArray
             : t == SqlType::kText   ? SqlType::kTextArray
             : t == SqlType::kBool   ? SqlType::kBoolArray
                                     : SqlType::kNull;
    if (b.type == SqlType::kNull) return Unsupported(StrCat("arrays of ", SqlTypeName(t)));
    for (size_t i = 0; i < b.args.size(); ++i) RETURN_IF_ERROR(want(i, t));
  } else if (f == "to_timestamp") {
    RETURN_IF_ERROR(arity(1, 1));
    RETURN_IF_ERROR(want(0, SqlType::kDouble));
    b.type = SqlType::kTimestamp;
  } else {
    return SqlError(sqlstate::kUndefinedFunction, StrCat("function ", f, " does not exist"));
  }
  return b;
}

}  // namespace timestore::sql::planner_internal
