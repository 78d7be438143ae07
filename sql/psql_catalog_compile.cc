// psql's catalog queries: the expressions of a recognised query compiled
// from libpg_query's parse tree (see psql_catalog.cc), for the node kinds,
// columns, operators and functions psql writes; nullopt for anything else.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/strings.h"
#include "re2/re2.h"
#include "simdjson.h"
#include "sql/parse_tree.h"
#include "sql/psql_catalog_internal.h"

namespace timestore::sql::psql_internal {

using parse_tree::Arr;
using parse_tree::Has;
using parse_tree::NodeOf;
using parse_tree::Str;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

class ExprCompiler::Impl {
 public:
  Impl(std::string_view sql, const SourceDef& src) : sql_(sql) {
    for (const auto& [alias, table] : src.tables) {
      for (const ColumnDef& c : ColumnsOf(table)) fields_.push_back({alias, c.name, c.type});
    }
  }

  std::optional<Node> Compile(element e) {
    if (auto t = TemplateConst(e)) return t;
    std::string_view type;
    object o;
    if (!NodeOf(e, &type, &o)) return std::nullopt;
    if (type == "ColumnRef") return Column(o);
    if (type == "A_Const") return Literal(o);
    if (type == "TypeCast") return Cast(o);
    if (type == "CollateClause") return Collate(o);
    if (type == "A_Expr") return Operator(o);
    if (type == "BoolExpr") return Boolean(o);
    if (type == "NullTest") return NullTest(o);
    if (type == "CaseExpr") return Case(o);
    if (type == "FuncCall") return Function(o);
    return std::nullopt;
  }

  // A boolean condition (WHERE, CASE WHEN).
  std::optional<Node> Condition(element e) {
    auto n = Compile(e);
    if (!n || !Coerce(&*n, oid::kBool)) return std::nullopt;
    return n;
  }

 private:
  struct FieldRef {
    std::string_view alias, name;
    uint32_t type;
  };

  std::optional<Node> Column(object o) {
    auto names = Names(Arr(o, "fields"));
    if (!names || names->empty() || names->size() > 2) return std::nullopt;
    int found = -1;
    for (size_t k = 0; k < fields_.size(); ++k) {
      const FieldRef& f = fields_[k];
      if (f.name != names->back()) continue;
      if (names->size() == 2 && f.alias != (*names)[0]) continue;
      if (found >= 0) return std::nullopt;  // ambiguous
      found = static_cast<int>(k);
    }
    if (found < 0) return std::nullopt;
    Node n;
    n.kind = Node::Kind::kField;
    n.field = found;
    n.type = fields_[found].type;
    return n;
  }

  std::optional<Node> Literal(object o) {
    if (Has(o, "isnull")) return Const(oid::kUnknown, Val());
    object v;
    if (!o["sval"].get(v)) return Const(oid::kUnknown, Val::Str(std::string(Str(v, "sval"))));
    if (!o["boolval"].get(v)) {
      bool b = false;
      if (v["boolval"].get(b)) b = false;
      return Const(oid::kBool, Bool(b));
    }
    if (!o["ival"].get(v)) {
      // libpg_query 15-4.0's JSON writes 0 and negative integers as "ival":
      // {}: the number is read back from the statement text.
      int64_t i = 0;
      if (v["ival"].get(i)) {
        int64_t loc = -1;
        if (o["location"].get(loc) || loc < 0) return std::nullopt;
        auto from_text = IntAt(static_cast<size_t>(loc));
        if (!from_text) return std::nullopt;
        i = *from_text;
      }
      return Const(oid::kInt4, Val::Int(i));
    }
    if (!o["fval"].get(v)) {
      // An integer beyond int4 is a bigint; other numbers are not read here.
      int64_t i;
      if (!SimpleAtoi(Str(v, "fval"), &i)) return std::nullopt;
      return Const(oid::kInt8, Val::Int(i));
    }
    return std::nullopt;
  }

  std::optional<int64_t> IntAt(size_t i) const {
    if (i >= sql_.size()) return std::nullopt;
    bool neg = false;
    if (sql_[i] == '-') {
      neg = true;
      ++i;
      while (i < sql_.size() && (sql_[i] == ' ' || sql_[i] == '\t' || sql_[i] == '\n')) ++i;
    }
    size_t start = i;
    while (i < sql_.size() && sql_[i] >= '0' && sql_[i] <= '9') ++i;
    int64_t v;
    if (i == start || !SimpleAtoi(sql_.substr(start, i - start), &v)) return std::nullopt;
    return neg ? -v : v;
  }

  std::optional<Node> Cast(object o) {
    element arg;
    object tn;
    if (o["arg"].get(arg) || o["typeName"].get(tn)) return std::nullopt;
    if (Has(tn, "arrayBounds") || Has(tn, "typmods")) return std::nullopt;
    auto names = Names(Arr(tn, "names"));
    if (!names || names->empty() || names->size() > 2) return std::nullopt;
    if (names->size() == 2 && (*names)[0] != "pg_catalog") return std::nullopt;
    static const std::map<std::string, uint32_t> kTargets = {
        {"text", oid::kText},    {"name", oid::kName}, {"oid", oid::kOid},
        {"int2", oid::kInt2},    {"int4", oid::kInt4}, {"int8", oid::kInt8},
        {"bool", oid::kBool},    {"char", kCharOid},   {"regclass", kRegclassOid},
        {"regtype", kRegtypeOid}};
    auto target = kTargets.find(names->back());
    if (target == kTargets.end()) return std::nullopt;
    auto n = Compile(arg);
    if (!n) return std::nullopt;
    const uint32_t to = target->second;
    if (n->type == oid::kUnknown) {
      if (to == kRegclassOid || to == kRegtypeOid || !Coerce(&*n, to)) return std::nullopt;
      return n;
    }
    // Casts whose answer is plain: an oid to regclass / regtype (its name),
    // strings and integers to text or name, an integer to one as wide.
    bool ok;
    if (to == kRegclassOid || to == kRegtypeOid) {
      ok = n->type == oid::kOid;
    } else if (to == oid::kText || to == oid::kName) {
      ok = IsStringType(n->type) || (IsIntType(n->type) && n->type != oid::kBool);
    } else if (to == kCharOid) {
      ok = n->type == kCharOid;
    } else {
      ok = n->type == to || (to == oid::kInt8 && (n->type == oid::kInt2 || n->type == oid::kInt4 ||
                                                  n->type == oid::kOid));
    }
    if (!ok) return std::nullopt;
    Node c;
    c.kind = Node::Kind::kCast;
    c.type = to;
    c.args.push_back(std::move(*n));
    return c;
  }

  std::optional<Node> Collate(object o) {
    element arg;
    if (o["arg"].get(arg)) return std::nullopt;
    auto names = Names(Arr(o, "collname"));
    if (!names || names->empty()) return std::nullopt;
    // The database's collation is C: "default", "C" and "POSIX" compare bytes.
    const std::string& c = names->back();
    if (c != "default" && c != "C" && c != "POSIX") return std::nullopt;
    if (names->size() == 2 && (*names)[0] != "pg_catalog") return std::nullopt;
    return Compile(arg);
  }

  std::optional<Node> Operator(object o) {
    std::string_view kind = Str(o, "kind");
    auto names = Names(Arr(o, "name"));
    if (!names || names->empty() || names->size() > 2) return std::nullopt;
    if (names->size() == 2 && (*names)[0] != "pg_catalog") return std::nullopt;
    const std::string op = names->back();
    element l, r;
    if (o["lexpr"].get(l) || o["rexpr"].get(r)) return std::nullopt;
    auto left = Compile(l);
    if (!left) return std::nullopt;
    if (kind == "AEXPR_IN") {
      Node n;
      n.kind = Node::Kind::kIn;
      n.type = oid::kBool;
      n.negated = op == "<>";
      if (op != "=" && op != "<>") return std::nullopt;
      std::string_view t;
      object list;
      if (!NodeOf(r, &t, &list) || t != "List") return std::nullopt;
      n.args.push_back(std::move(*left));
      for (element item : Arr(list, "items")) {
        auto v = Compile(item);
        if (!v || v->kind != Node::Kind::kConst) return std::nullopt;
        if (!CommonType(&n.args[0], &*v)) return std::nullopt;
        n.args.push_back(std::move(*v));
      }
      if (n.args.size() < 2) return std::nullopt;
      return n;
    }
    if (kind != "AEXPR_OP") return std::nullopt;
    auto right = Compile(r);
    if (!right) return std::nullopt;
    if (op == "~" || op == "!~" || op == "~*" || op == "!~*") {
      // The pattern is a constant; the left side a string.
      if (right->kind != Node::Kind::kConst || !Coerce(&*left, oid::kText) ||
          !Coerce(&*right, oid::kText)) {
        return std::nullopt;
      }
      Node n;
      n.kind = Node::Kind::kRegex;
      n.type = oid::kBool;
      n.negated = op[0] == '!';
      n.args.push_back(std::move(*left));
      if (!right->value.null) {
        RE2::Options options;
        options.set_log_errors(false);
        options.set_case_sensitive(op.back() != '*');
        auto re = std::make_shared<RE2>(right->value.s, options);
        if (!re->ok()) return std::nullopt;
        n.re = std::move(re);
      }
      return n;
    }
    if (op == "=" || op == "<>" || op == "!=" || op == "<" || op == "<=" || op == ">" ||
        op == ">=") {
      auto common = CommonType(&*left, &*right);
      if (!common) return std::nullopt;
      Node n;
      n.kind = Node::Kind::kCompare;
      n.type = oid::kBool;
      n.op = op == "!=" ? "<>" : op;
      n.value = Val::Int(*common);  // the type compared as
      n.args.push_back(std::move(*left));
      n.args.push_back(std::move(*right));
      return n;
    }
    return std::nullopt;
  }

  std::optional<Node> Boolean(object o) {
    std::string_view op = Str(o, "boolop");
    Node n;
    n.type = oid::kBool;
    n.kind = op == "AND_EXPR"   ? Node::Kind::kAnd
             : op == "OR_EXPR"  ? Node::Kind::kOr
             : op == "NOT_EXPR" ? Node::Kind::kNot
                                : Node::Kind::kConst;
    if (n.kind == Node::Kind::kConst) return std::nullopt;
    for (element a : Arr(o, "args")) {
      auto c = Condition(a);
      if (!c) return std::nullopt;
      n.args.push_back(std::move(*c));
    }
    if (n.args.empty() || (n.kind == Node::Kind::kNot && n.args.size() != 1)) return std::nullopt;
    return n;
  }

  std::optional<Node> NullTest(object o) {
    element arg;
    if (o["arg"].get(arg) || Has(o, "argisrow")) return std::nullopt;
    auto a = Compile(arg);
    if (!a) return std::nullopt;
    Node n;
    n.kind = Node::Kind::kIsNull;
    n.type = oid::kBool;
    n.negated = Str(o, "nulltesttype") == "IS_NOT_NULL";
    n.args.push_back(std::move(*a));
    return n;
  }

  // args: [operand], then when/then pairs, then the else (when has_else).
  std::optional<Node> Case(object o) {
    Node n;
    n.kind = Node::Kind::kCase;
    element e;
    std::optional<Node> operand;
    if (!o["arg"].get(e)) {
      operand = Compile(e);
      if (!operand) return std::nullopt;
      n.has_arg = true;
    }
    std::vector<Node> results;
    std::vector<Node> whens;
    for (element w : Arr(o, "args")) {
      std::string_view t;
      object cw;
      element expr, result;
      if (!NodeOf(w, &t, &cw) || t != "CaseWhen" || cw["expr"].get(expr) ||
          cw["result"].get(result)) {
        return std::nullopt;
      }
      std::optional<Node> cond = operand ? Compile(expr) : Condition(expr);
      auto res = Compile(result);
      if (!cond || !res) return std::nullopt;
      if (operand && !CommonType(&*operand, &*cond)) return std::nullopt;
      whens.push_back(std::move(*cond));
      results.push_back(std::move(*res));
    }
    if (whens.empty()) return std::nullopt;
    if (!o["defresult"].get(e)) {
      auto d = Compile(e);
      if (!d) return std::nullopt;
      results.push_back(std::move(*d));
      n.has_else = true;
    }
    // The result type: the results' common type, text when all are literals.
    uint32_t type = oid::kUnknown;
    for (const Node& r : results) {
      if (r.type == oid::kUnknown) continue;
      if (type == oid::kUnknown) {
        type = r.type;
      } else if (IsStringType(type) && IsStringType(r.type)) {
        if (type != r.type) type = oid::kText;
      } else if (type != r.type) {
        return std::nullopt;
      }
    }
    if (type == oid::kUnknown) type = oid::kText;
    for (Node& r : results)
      if (!Coerce(&r, type)) return std::nullopt;
    n.type = type;
    if (operand) n.args.push_back(std::move(*operand));
    for (size_t k = 0; k < whens.size(); ++k) {
      n.args.push_back(std::move(whens[k]));
      n.args.push_back(std::move(results[k]));
    }
    if (n.has_else) n.args.push_back(std::move(results.back()));
    return n;
  }

  std::optional<Node> Function(object o) {
    for (std::string_view k : {"agg_order", "agg_filter", "over", "agg_within_group", "agg_star",
                               "agg_distinct", "func_variadic"}) {
      if (Has(o, k)) return std::nullopt;
    }
    auto names = Names(Arr(o, "funcname"));
    if (!names || names->empty() || names->size() > 2) return std::nullopt;
    if (names->size() == 2 && (*names)[0] != "pg_catalog") return std::nullopt;
    const FnDef* def = nullptr;
    for (const FnDef& f : Functions())
      if (f.name == names->back()) def = &f;
    auto args = Arr(o, "args");
    if (def == nullptr || args.size() != def->args.size()) return std::nullopt;
    Node n;
    n.kind = Node::Kind::kFunc;
    n.type = def->result;
    n.fn = def->fn;
    for (size_t k = 0; k < args.size(); ++k) {
      auto a = Compile(args[k]);
      if (!a) return std::nullopt;
      const uint32_t want = def->args[k];
      if (want == kAclArrayOid) {
        // An array column (always NULL here), or a NULL literal.
        if (!IsArrayType(a->type) && !(a->type == oid::kUnknown && a->value.null)) {
          return std::nullopt;
        }
      } else if (!Coerce(&*a, want)) {
        return std::nullopt;
      }
      n.args.push_back(std::move(*a));
    }
    return n;
  }

  std::string_view sql_;
  std::vector<FieldRef> fields_;
};

ExprCompiler::ExprCompiler(std::string_view sql, const SourceDef& src)
    : impl_(std::make_unique<Impl>(sql, src)) {}

ExprCompiler::~ExprCompiler() = default;

std::optional<Node> ExprCompiler::Compile(element e) { return impl_->Compile(e); }

std::optional<Node> ExprCompiler::Condition(element e) { return impl_->Condition(e); }

}  // namespace timestore::sql::psql_internal
