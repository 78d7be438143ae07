// WHERE: top-level time comparisons narrow the time range; predicates over
// one column and constants become filter trees the engine evaluates with
// SQL's three-valued meaning (NOT pushed down to the leaves); the rest stays
// above the scan.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "sql/catalog.h"
#include "sql/planner_internal.h"

namespace timestore::sql::planner_internal {

namespace {

// `x -> k` or `x ->> k`: what LowerJsonPath reads.
bool IsJsonMember(const Expr& e) {
  return e.kind == ExprKind::kOp && (e.name == "->" || e.name == "->>");
}

}  // namespace

absl::StatusOr<std::optional<BoundExpr>> Planner::ConstantOf(const Expr& e) {
  if (ReferencesColumns(e)) return std::nullopt;
  ASSIGN_OR_RETURN(BoundExpr b, Bind(e));
  if (b.kind != K::kConst) return std::nullopt;
  return b;
}

bool Planner::ReferencesColumns(const Expr& e) {
  if (e.kind == ExprKind::kColumn || e.kind == ExprKind::kStar) return true;
  for (const Expr& a : e.args)
    if (ReferencesColumns(a)) return true;
  return false;
}

std::optional<Literal> Planner::ToLiteral(const Value& v, ColumnType t) {
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
    case SqlType::kUuid:
      // Canonical text (the literal was cast to uuid): the engine compares
      // uuids as their text, whose byte order is PostgreSQL's uuid order.
      l.kind = Literal::Kind::kString;
      l.s = v.s;
      return l;
    default:
      // json and arrays compare above the scan (sql/evaluator.cc), with
      // SQL's meaning: equality of canonical text, arrays element-wise.
      return std::nullopt;
  }
}

absl::StatusOr<Value> Planner::ForColumn(BoundExpr c, const Field& f, std::string_view op) {
  SqlType ct = FromColumnType(f.type);
  RETURN_IF_ERROR(Coerce(&c, ct));
  BoundExpr col;
  col.type = ct;
  RETURN_IF_ERROR(CheckComparable(col, c, op));
  return c.value;
}

FilterTree Planner::Node(FilterTree::Kind k, std::vector<FilterTree> children) {
  FilterTree t;
  t.kind = k;
  t.children = std::move(children);
  return t;
}

FilterTree Planner::Never(const std::string& column) {
  Filter f;
  f.column = column;
  f.op = FilterOp::kEq;
  f.values.push_back(Literal{});  // a null literal matches nothing
  return FilterLeaf(std::move(f));
}

absl::StatusOr<std::optional<FilterTree>> Planner::LowerPredicate(const Expr& e, bool negate) {
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
      return FilterLeaf(std::move(flt));
    }
    case ExprKind::kNullTest: {
      if (e.args[0].kind != ExprKind::kColumn) return std::nullopt;
      ASSIGN_OR_RETURN(int idx, TableColumn(e.args[0]));
      Filter flt;
      flt.column = schema_->fields[idx].name;
      flt.op = (e.negated != negate) ? FilterOp::kIsNotNull : FilterOp::kIsNull;
      return FilterLeaf(std::move(flt));
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
      if (!is_not) return FilterLeaf(std::move(eq));
      Filter null;
      null.column = f.name;
      null.op = FilterOp::kIsNull;
      std::vector<FilterTree> kids;
      kids.push_back(FilterLeaf(std::move(eq)));
      kids.push_back(FilterLeaf(std::move(null)));
      return Node(FilterTree::Kind::kOr, std::move(kids));
    }
    case ExprKind::kIn: {
      if (IsJsonMember(e.args[0])) return LowerJsonPath(e, negate);
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
      return FilterLeaf(std::move(flt));
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
      kids.push_back(FilterLeaf(std::move(a)));
      kids.push_back(FilterLeaf(std::move(b)));
      // NOT BETWEEN with a null bound: x < NULL OR x > hi is three-valued
      // OR, which the engine's "null literal never matches" gets right.
      return Node(neg ? FilterTree::Kind::kOr : FilterTree::Kind::kAnd, std::move(kids));
    }
    case ExprKind::kOp: {
      if (e.args.size() != 2 || !IsComparison(e.name)) return std::nullopt;
      // A json member (`col->>'k' = 'x'`) on either side; other operators
      // (`k > 1 + 0`) fold to constants below.
      if (IsJsonMember(e.args[0]) || IsJsonMember(e.args[1])) return LowerJsonPath(e, negate);
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
      if (negate) flt.op = ComplementOp(flt.op);
      flt.values.push_back(std::move(*l));
      return FilterLeaf(std::move(flt));
    }
    default:
      return std::nullopt;
  }
}

absl::StatusOr<bool> Planner::NarrowTimeRange(const Expr& e) {
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

void Planner::Conjuncts(const Expr& e, std::vector<const Expr*>* out) {
  if (e.kind == ExprKind::kAnd) {
    for (const Expr& a : e.args) Conjuncts(a, out);
  } else {
    out->push_back(&e);
  }
}

absl::Status Planner::LowerWhere() {
  if (!sel_.where) return absl::OkStatus();
  std::vector<const Expr*> conj;
  Conjuncts(*sel_.where, &conj);
  std::vector<BoundExpr> residual;
  for (const Expr* c : conj) {
    ASSIGN_OR_RETURN(bool ranged, NarrowTimeRange(*c));
    if (ranged) continue;
    ASSIGN_OR_RETURN(std::optional<FilterTree> t, LowerPredicate(*c, false));
    if (t) {
      timestore::AddConjunct(&plan_.spec, std::move(*t));
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

}  // namespace timestore::sql::planner_internal
