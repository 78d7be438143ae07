// WHERE conditions on a json column's members pushed into the scan: the
// engine reads "attrs.http.status" as the value at that path
// (engine/json_paths.h) and compares it with a literal by the value's JSON
// kind (engine/typed_filters.h). SQL compares `->>` text and `->` json
// instead, so a condition is lowered only where the two agree:
//   attrs->'a'->>'b' = 't'   a JSON string with content t, OR (when t is the
//                            canonical text of a number or boolean) that
//                            number or boolean;
//   attrs->'a'->'b' = 'j'    j a JSON string, number or boolean: that value;
// and IN lists as an OR of those. Only one member key: on a longer path the
// engine prefers a flat key spelling several segments ({"http.status": 1}
// for "attrs.http.status", OpenTelemetry's attribute names), which SQL's
// attrs->'http'->'status' never reads. Negations, other operators, keys the
// engine reads otherwise (empty, holding '.', all digits: an array index
// there) and text that is an object or array stay above the scan.
#include <cmath>

#include "common/json_writer.h"
#include "segment/typed_text.h"
#include "sql/planner_internal.h"

namespace timestore::sql::planner_internal {
namespace {

// The base column, keys and final operator of `col -> 'k1' -> ... ->(>) 'kn'`.
bool JsonPathOf(const Expr& e, const Expr** base, std::vector<std::string>* keys, bool* text) {
  if (e.kind != ExprKind::kOp || e.args.size() != 2 || (e.name != "->" && e.name != "->>")) {
    return false;
  }
  const Expr& key = e.args[1];
  if (key.kind != ExprKind::kConst ||
      (key.value.type != SqlType::kUnknown && key.value.type != SqlType::kText)) {
    return false;
  }
  const std::string& k = key.value.s;
  if (k.empty() || k.find('.') != std::string::npos ||
      k.find_first_not_of("0123456789") == std::string::npos) {
    return false;
  }
  const Expr& inner = e.args[0];
  if (inner.kind == ExprKind::kColumn) {
    *base = &inner;
  } else if (!(inner.kind == ExprKind::kOp && inner.name == "->" &&
               JsonPathOf(inner, base, keys, text))) {
    return false;
  }
  keys->push_back(k);
  *text = e.name == "->>";
  return true;
}

// The engine literal of a canonical JSON number, when it compares exactly.
// The engine compares numbers as doubles, which from 2^53 tell fewer values
// apart than the text does (12345678901234567890 and ...891, 1e+20 and
// 100000000000000000000 are one double): those, and any text that is not
// the double's own canonical spelling, stay above the scan.
std::optional<Literal> NumberLiteral(std::string_view canonical) {
  constexpr double kExact = 9007199254740992.0;  // 2^53
  Literal l;
  int64_t i;
  double d;
  if (SimpleAtoi(canonical, &i)) {
    if (i > (int64_t{1} << 53) || i < -(int64_t{1} << 53)) return std::nullopt;
    l.kind = Literal::Kind::kInt;
    l.i = i;
    return l;
  }
  if (!SimpleAtod(canonical, &d) || !std::isfinite(d) || std::fabs(d) >= kExact) {
    return std::nullopt;
  }
  std::string spelled;
  AppendJsonDouble(&spelled, d);
  if (spelled != canonical) return std::nullopt;
  l.kind = Literal::Kind::kDouble;
  l.d = d;
  return l;
}

// The literals a value at the path must equal one of for `path = v` (`text`:
// ->> with text v; else -> with json v); nullopt when not expressible.
std::optional<std::vector<Literal>> LiteralsFor(const Value& v, bool text) {
  std::vector<Literal> out;
  if (text) {
    const std::string& t = v.s;
    Literal s;
    s.kind = Literal::Kind::kString;
    s.s = t;
    out.push_back(std::move(s));
    if (t == "true" || t == "false") {
      Literal b;
      b.kind = Literal::Kind::kBool;
      b.b = t == "true";
      out.push_back(std::move(b));
      return out;
    }
    // Objects and arrays print as text the engine does not compare: left
    // above the scan.
    if (!t.empty() && (t[0] == '{' || t[0] == '[')) return std::nullopt;
    absl::StatusOr<std::string> canonical = CanonicalJsonText(t);
    if (canonical.ok() && *canonical == t && JsonKindOf(t) == JsonKind::kNumber) {
      std::optional<Literal> n = NumberLiteral(t);
      if (!n) return std::nullopt;
      out.push_back(std::move(*n));
    }
    return out;
  }
  switch (JsonKindOf(v.s)) {
    case JsonKind::kString: {
      std::optional<std::string> content = JsonStringContent(v.s);
      if (!content) return std::nullopt;
      Literal s;
      s.kind = Literal::Kind::kString;
      s.s = std::move(*content);
      out.push_back(std::move(s));
      return out;
    }
    case JsonKind::kBool: {
      Literal b;
      b.kind = Literal::Kind::kBool;
      b.b = v.s == "true";
      out.push_back(std::move(b));
      return out;
    }
    case JsonKind::kNumber: {
      std::optional<Literal> n = NumberLiteral(v.s);
      if (!n) return std::nullopt;
      out.push_back(std::move(*n));
      return out;
    }
    default:
      return std::nullopt;
  }
}

}  // namespace

absl::StatusOr<std::optional<FilterTree>> Planner::LowerJsonPath(const Expr& e, bool negate) {
  if (negate || e.negated) return std::nullopt;
  const bool in = e.kind == ExprKind::kIn;
  if (!in && !(e.kind == ExprKind::kOp && e.name == "=" && e.args.size() == 2)) {
    return std::nullopt;
  }
  const Expr* path_expr = &e.args[0];
  std::vector<const Expr*> constants;
  if (in) {
    for (size_t i = 1; i < e.args.size(); ++i) constants.push_back(&e.args[i]);
  } else {
    constants.push_back(&e.args[1]);
    if (path_expr->kind != ExprKind::kOp) std::swap(path_expr, constants[0]);
  }
  const Expr* base = nullptr;
  std::vector<std::string> keys;
  bool text = false;
  if (!JsonPathOf(*path_expr, &base, &keys, &text) || keys.size() != 1) return std::nullopt;
  ASSIGN_OR_RETURN(int idx, TableColumn(*base));
  const Field& f = schema_->fields[idx];
  if (f.type != ColumnType::kJson) return std::nullopt;
  // The engine takes the longest prefix of the dotted name that is a column:
  // none but the base may be one.
  std::string name = f.name;
  for (const std::string& k : keys) {
    name += "." + k;
    if (schema_->IndexOf(name) >= 0) return std::nullopt;
  }
  std::vector<FilterTree> kids;
  for (const Expr* c : constants) {
    ASSIGN_OR_RETURN(std::optional<BoundExpr> b, ConstantOf(*c));
    if (!b) return std::nullopt;
    RETURN_IF_ERROR(Coerce(&*b, text ? SqlType::kText : SqlType::kJson));
    const SqlType want = text ? SqlType::kText : SqlType::kJson;
    if (b->value.is_null()) continue;          // = NULL matches nothing
    if (b->type != want) return std::nullopt;  // the binder reports the mismatch
    std::optional<std::vector<Literal>> lits = LiteralsFor(b->value, text);
    if (!lits) return std::nullopt;
    for (Literal& l : *lits) {
      Filter flt;
      flt.column = name;
      flt.op = FilterOp::kEq;
      flt.values.push_back(std::move(l));
      kids.push_back(FilterLeaf(std::move(flt)));
    }
  }
  if (kids.empty()) return Never(schema_->time_column);
  if (kids.size() == 1) return std::move(kids[0]);
  return Node(FilterTree::Kind::kOr, std::move(kids));
}

}  // namespace timestore::sql::planner_internal
