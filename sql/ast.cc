#include "sql/ast.h"

#include <memory>

#include "absl/strings/ascii.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "simdjson.h"
#include "sql/parse_tree.h"
#include "sql/pg_parser.h"
#include "sql/sql_result.h"

namespace timestore::sql {
namespace {

using parse_tree::Arr;
using parse_tree::Bool;
using parse_tree::Has;
using parse_tree::Int;
using parse_tree::NodeOf;
using parse_tree::Str;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

absl::Status Unsupported(std::string_view what) {
  return SqlError(sqlstate::kFeatureNotSupported, StrCat(what, " is not supported"));
}

// The strings of a list of {"String":{"sval":...}} nodes (names, funcnames).
std::vector<std::string> Strings(const std::vector<element>& a) {
  std::vector<std::string> out;
  for (element e : a) {
    std::string_view t;
    object body;
    if (!NodeOf(e, &t, &body)) continue;
    if (t == "String") out.emplace_back(Str(body, "sval"));
    if (t == "A_Star") out.emplace_back("*");
  }
  return out;
}

absl::StatusOr<SqlType> TypeFromNames(const std::vector<std::string>& names) {
  std::string n = names.empty() ? "" : AsciiLower(names.back());
  if (n == "int8" || n == "int4" || n == "int2" || n == "bigint" || n == "integer" || n == "int" ||
      n == "smallint" || n == "oid" || n == "regclass") {
    if (n == "regclass") return Unsupported("the regclass type");
    return SqlType::kInt;
  }
  if (n == "float8" || n == "float4" || n == "float" || n == "double precision" || n == "real" ||
      n == "numeric" || n == "decimal") {
    return SqlType::kDouble;
  }
  if (n == "text" || n == "varchar" || n == "char" || n == "bpchar" || n == "name" ||
      n == "character varying") {
    return SqlType::kText;
  }
  if (n == "bool" || n == "boolean") return SqlType::kBool;
  if (n == "timestamptz" || n == "timestamp" || n == "date") return SqlType::kTimestamp;
  if (n == "interval") return SqlType::kInterval;
  if (n == "json" || n == "jsonb") return SqlType::kJson;
  if (n == "uuid") return SqlType::kUuid;
  return SqlError(sqlstate::kUndefinedObject,
                  StrCat("type \"", names.empty() ? "?" : names.back(), "\" does not exist"));
}

class Converter {
 public:
  explicit Converter(std::string_view sql) : sql_(sql) {}
  int max_param = 0;

  absl::StatusOr<Expr> Convert(element node) {
    std::string_view type;
    object o;
    if (!NodeOf(node, &type, &o)) return SqlError(sqlstate::kInternalError, "bad parse tree");
    Expr e;
    e.location = static_cast<int>(Int(o, "location", -1));
    if (type == "A_Const") return Const(o);
    if (type == "ColumnRef") {
      std::vector<std::string> f = Strings(Arr(o, "fields"));
      if (f.empty()) return SqlError(sqlstate::kSyntaxError, "empty column reference");
      if (f.back() == "*") {
        e.kind = ExprKind::kStar;
        if (f.size() >= 2) e.qualifier = f[f.size() - 2];
        return e;
      }
      e.kind = ExprKind::kColumn;
      e.name = f.back();
      if (f.size() >= 2) e.qualifier = f[f.size() - 2];
      if (f.size() > 3) return Unsupported("a column reference with more than 3 parts");
      return e;
    }
    if (type == "ParamRef") {
      e.kind = ExprKind::kParam;
      e.param = static_cast<int>(Int(o, "number"));
      if (e.param <= 0 || e.param > 65535) {
        return SqlError(sqlstate::kUndefinedParameter, "parameter number out of range");
      }
      max_param = std::max(max_param, e.param);
      return e;
    }
    if (type == "TypeCast") {
      e.kind = ExprKind::kCast;
      element arg;
      if (o["arg"].get(arg)) return SqlError(sqlstate::kInternalError, "cast without argument");
      ASSIGN_OR_RETURN(Expr a, Convert(arg));
      object tn;
      if (o["typeName"].get(tn)) return SqlError(sqlstate::kInternalError, "cast without type");
      auto t = TypeFromNames(Strings(Arr(tn, "names")));
      if (!t.ok()) return t.status();
      e.cast_type = *t;
      if (Has(tn, "arrayBounds")) {
        // One-dimensional arrays of bigint, double precision, text, boolean.
        if (Arr(tn, "arrayBounds").size() != 1) return Unsupported("multidimensional arrays");
        e.cast_type = *t == SqlType::kInt      ? SqlType::kIntArray
                      : *t == SqlType::kDouble ? SqlType::kDoubleArray
                      : *t == SqlType::kText   ? SqlType::kTextArray
                      : *t == SqlType::kBool   ? SqlType::kBoolArray
                                               : SqlType::kNull;
        if (e.cast_type == SqlType::kNull) {
          return Unsupported(StrCat("arrays of ", SqlTypeName(*t)));
        }
      }
      e.args.push_back(std::move(a));
      return e;
    }
    if (type == "FuncCall") return Func(o, e);
    if (type == "A_ArrayExpr") {
      // ARRAY[a, b, ...]: the function "array" of its elements.
      e.kind = ExprKind::kFunc;
      e.name = "array";
      for (element a : Arr(o, "elements")) {
        ASSIGN_OR_RETURN(Expr c, Convert(a));
        if (c.kind == ExprKind::kFunc && c.name == "array") {
          return Unsupported("multidimensional arrays");
        }
        e.args.push_back(std::move(c));
      }
      return e;
    }
    if (type == "A_Expr") return AExpr(o, e);
    if (type == "BoolExpr") {
      std::string_view op = Str(o, "boolop");
      e.kind = op == "AND_EXPR" ? ExprKind::kAnd : op == "OR_EXPR" ? ExprKind::kOr : ExprKind::kNot;
      for (element a : Arr(o, "args")) {
        ASSIGN_OR_RETURN(Expr c, Convert(a));
        e.args.push_back(std::move(c));
      }
      return e;
    }
    if (type == "NullTest") {
      e.kind = ExprKind::kNullTest;
      e.negated = Str(o, "nulltesttype") == "IS_NOT_NULL";
      element arg;
      if (o["arg"].get(arg)) return SqlError(sqlstate::kInternalError, "bad IS NULL");
      ASSIGN_OR_RETURN(Expr a, Convert(arg));
      e.args.push_back(std::move(a));
      return e;
    }
    if (type == "BooleanTest") {
      e.kind = ExprKind::kBoolTest;
      std::string_view t = Str(o, "booltesttype");
      if (t == "IS_UNKNOWN" || t == "IS_NOT_UNKNOWN") {
        e.kind = ExprKind::kNullTest;
        e.negated = t == "IS_NOT_UNKNOWN";
      } else {
        e.name = (t == "IS_TRUE" || t == "IS_NOT_TRUE") ? "true" : "false";
        e.negated = t == "IS_NOT_TRUE" || t == "IS_NOT_FALSE";
      }
      element arg;
      if (o["arg"].get(arg)) return SqlError(sqlstate::kInternalError, "bad IS test");
      ASSIGN_OR_RETURN(Expr a, Convert(arg));
      e.args.push_back(std::move(a));
      return e;
    }
    if (type == "CaseExpr") {
      e.kind = ExprKind::kCase;
      element arg;
      if (!o["arg"].get(arg)) {
        ASSIGN_OR_RETURN(Expr a, Convert(arg));
        e.args.push_back(std::move(a));
        e.has_case_arg = true;
      }
      for (element w : Arr(o, "args")) {
        std::string_view wt;
        object wb;
        if (!NodeOf(w, &wt, &wb) || wt != "CaseWhen") return Unsupported("this CASE form");
        element we, wr;
        if (wb["expr"].get(we) || wb["result"].get(wr)) return Unsupported("this CASE form");
        ASSIGN_OR_RETURN(Expr c, Convert(we));
        ASSIGN_OR_RETURN(Expr r, Convert(wr));
        e.args.push_back(std::move(c));
        e.args.push_back(std::move(r));
      }
      element def;
      if (!o["defresult"].get(def)) {
        ASSIGN_OR_RETURN(Expr d, Convert(def));
        e.args.push_back(std::move(d));
      } else {
        e.args.push_back(Expr{});  // ELSE NULL
      }
      return e;
    }
    if (type == "CoalesceExpr") {
      e.kind = ExprKind::kFunc;
      e.name = "coalesce";
      for (element a : Arr(o, "args")) {
        ASSIGN_OR_RETURN(Expr c, Convert(a));
        e.args.push_back(std::move(c));
      }
      return e;
    }
    if (type == "MinMaxExpr") {
      e.kind = ExprKind::kFunc;
      e.name = Str(o, "op") == "IS_GREATEST" ? "greatest" : "least";
      for (element a : Arr(o, "args")) {
        ASSIGN_OR_RETURN(Expr c, Convert(a));
        e.args.push_back(std::move(c));
      }
      return e;
    }
    if (type == "SQLValueFunction") {
      std::string_view op = Str(o, "op");
      e.kind = ExprKind::kFunc;
      if (op == "SVFOP_CURRENT_TIMESTAMP" || op == "SVFOP_CURRENT_TIMESTAMP_N" ||
          op == "SVFOP_LOCALTIMESTAMP" || op == "SVFOP_LOCALTIMESTAMP_N") {
        e.name = "now";
      } else if (op == "SVFOP_CURRENT_USER" || op == "SVFOP_USER" || op == "SVFOP_SESSION_USER" ||
                 op == "SVFOP_CURRENT_ROLE") {
        e.name = "current_user";
      } else if (op == "SVFOP_CURRENT_CATALOG") {
        e.name = "current_database";
      } else if (op == "SVFOP_CURRENT_SCHEMA") {
        e.name = "current_schema";
      } else {
        return Unsupported(StrCat("the SQL value function ", op));
      }
      return e;
    }
    if (type == "SubLink") return Unsupported("subqueries");
    if (type == "A_ArrayExpr" || type == "A_Indirection") return Unsupported("arrays");
    if (type == "RowExpr") return Unsupported("row constructors");
    if (type == "CollateClause") {
      element arg;
      if (o["arg"].get(arg)) return SqlError(sqlstate::kInternalError, "bad COLLATE");
      return Convert(arg);  // one collation: byte order
    }
    if (type == "GroupingFunc") return Unsupported("GROUPING");
    return Unsupported(StrCat("the expression ", type));
  }

  absl::StatusOr<Expr> Const(object o) {
    Expr e;
    e.kind = ExprKind::kConst;
    e.location = static_cast<int>(Int(o, "location", -1));
    if (Bool(o, "isnull")) return e;
    object v;
    if (!o["ival"].get(v)) {
      // libpg_query 15-4.0's JSON drops negative integer constants ("ival":
      // {} for -5, as for 0), so the number is read back from the statement
      // text at the constant's location.
      e.value = Value::Int(Int(v, "ival"));
      if (e.value.i == 0) {
        if (auto from_text = IntAt(e.location)) e.value = Value::Int(*from_text);
      }
    } else if (!o["fval"].get(v)) {
      std::string_view s = Str(v, "fval");
      // A numeric literal too large for bigint also arrives as fval.
      auto as_int = CastValue(Value::Text(std::string(s)), SqlType::kInt);
      if (s.find_first_of(".eE") == std::string_view::npos && as_int.ok()) {
        e.value = *as_int;
      } else {
        auto d = CastValue(Value::Text(std::string(s)), SqlType::kDouble);
        if (!d.ok()) return d.status();
        e.value = *d;
      }
    } else if (!o["sval"].get(v)) {
      e.value = Value::Text(std::string(Str(v, "sval")), SqlType::kUnknown);
    } else if (!o["boolval"].get(v)) {
      e.value = Value::Bool(Bool(v, "boolval"));
    } else if (!o["bsval"].get(v)) {
      return Unsupported("bit-string literals");
    } else {
      return SqlError(sqlstate::kInternalError, "unknown constant");
    }
    return e;
  }

  // The integer constant PostgreSQL's grammar folded a minus sign into at byte
  // `location` (doNegate): the digits after the signs, parentheses, spaces and
  // comments there (-5, - 5, -(5), -/*c*/5, -(-(-5))). libpg_query
  // drops only values <= 0, so a non-zero magnitude read here is negative.
  std::optional<int64_t> IntAt(int location) const {
    if (location < 0 || static_cast<size_t>(location) >= sql_.size()) return std::nullopt;
    size_t i = static_cast<size_t>(location);
    bool neg = false;
    while (i < sql_.size()) {
      char c = sql_[i];
      if (c == '-' && i + 1 < sql_.size() && sql_[i + 1] == '-') {
        while (i < sql_.size() && sql_[i] != '\n') ++i;  // -- comment
      } else if (c == '/' && i + 1 < sql_.size() && sql_[i + 1] == '*') {
        int depth = 0;  // /* comments */ nest in PostgreSQL
        do {
          if (sql_.compare(i, 2, "/*") == 0) {
            ++depth, i += 2;
          } else if (sql_.compare(i, 2, "*/") == 0) {
            --depth, i += 2;
          } else {
            ++i;
          }
        } while (depth > 0 && i < sql_.size());
      } else if (c == '-' || c == '(' || c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        neg = neg || c == '-';
        ++i;
      } else {
        break;
      }
    }
    size_t start = i;
    while (i < sql_.size() && sql_[i] >= '0' && sql_[i] <= '9') ++i;
    if (i == start) return std::nullopt;
    std::string digits = (neg ? "-" : "") + std::string(sql_.substr(start, i - start));
    int64_t v;
    if (!SimpleAtoi(digits, &v)) return std::nullopt;
    return v;
  }

  absl::StatusOr<Expr> Func(object o, Expr e) {
    e.kind = ExprKind::kFunc;
    std::vector<std::string> names = Strings(Arr(o, "funcname"));
    if (names.empty()) return SqlError(sqlstate::kInternalError, "function without a name");
    if (names.size() > 1 && names[0] != "pg_catalog" && names[0] != "public") {
      return SqlError(sqlstate::kUndefinedFunction,
                      StrCat("function ", names[0], ".", names.back(), " does not exist"));
    }
    e.name = AsciiLower(names.back());
    if (Has(o, "over")) return Unsupported("window functions (OVER)");
    if (Has(o, "agg_filter")) return Unsupported("aggregate FILTER clauses");
    if (Bool(o, "func_variadic")) return Unsupported("VARIADIC");
    e.star = Bool(o, "agg_star");
    e.distinct = Bool(o, "agg_distinct");
    for (element a : Arr(o, "args")) {
      std::string_view t;
      object b;
      if (NodeOf(a, &t, &b) && t == "NamedArgExpr") return Unsupported("named arguments");
      ASSIGN_OR_RETURN(Expr c, Convert(a));
      e.args.push_back(std::move(c));
    }
    std::vector<element> order = Arr(o, "agg_order");
    if (order.size() > 0) {
      if (!Bool(o, "agg_within_group")) return Unsupported("ORDER BY inside an aggregate");
      for (element s : order) {
        std::string_view t;
        object b;
        if (!NodeOf(s, &t, &b) || t != "SortBy") return Unsupported("this WITHIN GROUP form");
        if (Str(b, "sortby_dir") == "SORTBY_DESC") {
          return Unsupported("WITHIN GROUP (ORDER BY ... DESC)");
        }
        element n;
        if (b["node"].get(n)) return SqlError(sqlstate::kInternalError, "bad WITHIN GROUP");
        ASSIGN_OR_RETURN(Expr c, Convert(n));
        e.within_group.push_back(std::move(c));
      }
    }
    return e;
  }

  absl::StatusOr<Expr> AExpr(object o, Expr e) {
    std::string_view kind = Str(o, "kind");
    std::vector<std::string> name = Strings(Arr(o, "name"));
    std::string op = name.empty() ? "" : name.back();
    element l, r;
    bool has_l = !o["lexpr"].get(l), has_r = !o["rexpr"].get(r);
    if (kind == "AEXPR_OP" || kind == "AEXPR_LIKE" || kind == "AEXPR_ILIKE") {
      e.kind = ExprKind::kOp;
      e.name = op;
      if (name.size() > 1 && name[0] != "pg_catalog") {
        return SqlError(sqlstate::kUndefinedFunction,
                        StrCat("operator does not exist: ", name[0], ".", op));
      }
      if (has_l) {
        ASSIGN_OR_RETURN(Expr a, Convert(l));
        e.args.push_back(std::move(a));
      }
      if (has_r) {
        ASSIGN_OR_RETURN(Expr b, Convert(r));
        e.args.push_back(std::move(b));
      }
      return e;
    }
    if (kind == "AEXPR_IN") {
      e.kind = ExprKind::kIn;
      e.negated = op == "<>";
      ASSIGN_OR_RETURN(Expr a, Convert(l));
      e.args.push_back(std::move(a));
      std::string_view t;
      object b;
      if (!NodeOf(r, &t, &b) || t != "List") return Unsupported("IN with a subquery");
      for (element item : Arr(b, "items")) {
        ASSIGN_OR_RETURN(Expr c, Convert(item));
        e.args.push_back(std::move(c));
      }
      return e;
    }
    if (kind == "AEXPR_BETWEEN" || kind == "AEXPR_NOT_BETWEEN") {
      e.kind = ExprKind::kBetween;
      e.negated = kind == "AEXPR_NOT_BETWEEN";
      ASSIGN_OR_RETURN(Expr a, Convert(l));
      e.args.push_back(std::move(a));
      std::string_view t;
      object b;
      if (!NodeOf(r, &t, &b) || t != "List") return SqlError(sqlstate::kSyntaxError, "bad BETWEEN");
      for (element item : Arr(b, "items")) {
        ASSIGN_OR_RETURN(Expr c, Convert(item));
        e.args.push_back(std::move(c));
      }
      if (e.args.size() != 3) return SqlError(sqlstate::kSyntaxError, "bad BETWEEN");
      return e;
    }
    if (kind == "AEXPR_DISTINCT" || kind == "AEXPR_NOT_DISTINCT") {
      e.kind = ExprKind::kOp;
      e.name = kind == "AEXPR_DISTINCT" ? "is distinct from" : "is not distinct from";
      ASSIGN_OR_RETURN(Expr a, Convert(l));
      ASSIGN_OR_RETURN(Expr b, Convert(r));
      e.args.push_back(std::move(a));
      e.args.push_back(std::move(b));
      return e;
    }
    if (kind == "AEXPR_NULLIF") {
      e.kind = ExprKind::kFunc;
      e.name = "nullif";
      ASSIGN_OR_RETURN(Expr a, Convert(l));
      ASSIGN_OR_RETURN(Expr b, Convert(r));
      e.args.push_back(std::move(a));
      e.args.push_back(std::move(b));
      return e;
    }
    if (kind == "AEXPR_OP_ANY" || kind == "AEXPR_OP_ALL") return Unsupported("ANY/ALL");
    if (kind == "AEXPR_SIMILAR") return Unsupported("SIMILAR TO");
    return Unsupported(StrCat("the operator form ", kind));
  }

  absl::StatusOr<Select> ConvertSelect(object o) {
    Select s;
    if (Str(o, "op") != "SETOP_NONE" && !Str(o, "op").empty()) {
      return Unsupported("UNION, INTERSECT and EXCEPT");
    }
    if (Has(o, "withClause")) return Unsupported("WITH (common table expressions)");
    if (Has(o, "intoClause")) return Unsupported("SELECT INTO");
    if (Has(o, "lockingClause")) return Unsupported("FOR UPDATE/SHARE");
    if (Has(o, "windowClause")) return Unsupported("WINDOW");
    if (Has(o, "valuesLists")) return Unsupported("VALUES");
    if (Has(o, "groupingSets")) return Unsupported("GROUPING SETS");
    if (Str(o, "limitOption") == "LIMIT_OPTION_WITH_TIES")
      return Unsupported("FETCH ... WITH TIES");
    array distinct;
    if (!o["distinctClause"].get(distinct)) {
      s.distinct = true;
      for (element d : distinct) {
        std::string_view t;
        object b;
        // Plain DISTINCT is a list holding one empty node.
        if (!NodeOf(d, &t, &b)) continue;
        ASSIGN_OR_RETURN(Expr c, Convert(d));
        s.distinct_on.push_back(std::move(c));
      }
    }
    for (element t : Arr(o, "targetList")) {
      std::string_view tt;
      object tb;
      if (!NodeOf(t, &tt, &tb) || tt != "ResTarget") return Unsupported("this select list");
      SelectTarget target;
      target.alias = std::string(Str(tb, "name"));
      element val;
      if (tb["val"].get(val)) return SqlError(sqlstate::kSyntaxError, "empty select item");
      ASSIGN_OR_RETURN(target.expr, Convert(val));
      s.targets.push_back(std::move(target));
    }
    std::vector<element> from = Arr(o, "fromClause");
    if (from.size() > 1) return Unsupported("joins (several tables in FROM)");
    for (element f : from) {
      std::string_view ft;
      object fb;
      if (!NodeOf(f, &ft, &fb)) return SqlError(sqlstate::kInternalError, "bad FROM");
      if (ft == "JoinExpr") return Unsupported("JOIN");
      if (ft == "RangeSubselect") return Unsupported("subqueries in FROM");
      if (ft == "RangeFunction") return Unsupported("functions in FROM");
      if (ft != "RangeVar") return Unsupported(StrCat("FROM ", ft));
      TableRef ref;
      ref.schema = std::string(Str(fb, "schemaname"));
      ref.name = std::string(Str(fb, "relname"));
      if (Has(fb, "catalogname")) ref.schema = std::string(Str(fb, "schemaname"));
      object alias;
      if (!fb["alias"].get(alias)) {
        ref.alias = std::string(Str(alias, "aliasname"));
        if (Has(alias, "colnames")) return Unsupported("column aliases in FROM");
      }
      s.from = std::move(ref);
    }
    element w;
    if (!o["whereClause"].get(w)) {
      ASSIGN_OR_RETURN(Expr c, Convert(w));
      s.where = std::move(c);
    }
    for (element g : Arr(o, "groupClause")) {
      std::string_view gt;
      object gb;
      if (NodeOf(g, &gt, &gb) && gt == "GroupingSet") {
        return Unsupported("ROLLUP, CUBE and GROUPING SETS");
      }
      ASSIGN_OR_RETURN(Expr c, Convert(g));
      s.group_by.push_back(std::move(c));
    }
    element h;
    if (!o["havingClause"].get(h)) {
      ASSIGN_OR_RETURN(Expr c, Convert(h));
      s.having = std::move(c);
    }
    for (element sb : Arr(o, "sortClause")) {
      std::string_view st;
      object b;
      if (!NodeOf(sb, &st, &b) || st != "SortBy") return Unsupported("this ORDER BY");
      if (Str(b, "sortby_dir") == "SORTBY_USING") return Unsupported("ORDER BY ... USING");
      SortItem item;
      item.desc = Str(b, "sortby_dir") == "SORTBY_DESC";
      std::string_view nulls = Str(b, "sortby_nulls");
      if (nulls == "SORTBY_NULLS_FIRST") item.nulls_first = true;
      if (nulls == "SORTBY_NULLS_LAST") item.nulls_first = false;
      element n;
      if (b["node"].get(n)) return SqlError(sqlstate::kInternalError, "bad ORDER BY");
      ASSIGN_OR_RETURN(item.expr, Convert(n));
      s.order_by.push_back(std::move(item));
    }
    element lim, off;
    if (!o["limitCount"].get(lim)) {
      ASSIGN_OR_RETURN(Expr c, Convert(lim));
      s.limit = std::move(c);
    }
    if (!o["limitOffset"].get(off)) {
      ASSIGN_OR_RETURN(Expr c, Convert(off));
      s.offset = std::move(c);
    }
    return s;
  }

  std::string_view sql_;

  absl::StatusOr<Statement> ConvertStatement(std::string_view type, object o) {
    Statement st;
    if (type == "SelectStmt") {
      st.kind = StatementKind::kSelect;
      ASSIGN_OR_RETURN(st.select, ConvertSelect(o));
      st.tag = "SELECT";
      return st;
    }
    if (type == "ExplainStmt") {
      st.kind = StatementKind::kExplain;
      for (element opt : Arr(o, "options")) {
        std::string_view t;
        object b;
        if (NodeOf(opt, &t, &b) && t == "DefElem") {
          std::string_view n = Str(b, "defname");
          if (n == "analyze")
            st.explain_analyze = true;
          else if (n != "verbose" && n != "costs" && n != "format" && n != "buffers" &&
                   n != "timing" && n != "summary" && n != "settings" && n != "wal") {
            return SqlError(sqlstate::kSyntaxError,
                            StrCat("unrecognized EXPLAIN option \"", n, "\""));
          }
        }
      }
      element q;
      std::string_view qt;
      object qb;
      if (o["query"].get(q) || !NodeOf(q, &qt, &qb) || qt != "SelectStmt") {
        return Unsupported("EXPLAIN of anything but SELECT");
      }
      ASSIGN_OR_RETURN(st.select, ConvertSelect(qb));
      st.tag = "EXPLAIN";
      return st;
    }
    if (type == "VariableSetStmt") {
      st.kind = StatementKind::kSet;
      std::string_view kind = Str(o, "kind");
      st.name = AsciiLower(Str(o, "name"));
      st.tag = kind == "VAR_RESET" || kind == "VAR_RESET_ALL" ? "RESET" : "SET";
      if (kind == "VAR_RESET_ALL") st.name = "all";
      if (kind == "VAR_SET_DEFAULT" || kind == "VAR_RESET" || kind == "VAR_RESET_ALL") {
        st.set_default = true;
        return st;
      }
      if (kind == "VAR_SET_MULTI") {
        // SET TRANSACTION ..., SET SESSION CHARACTERISTICS: nothing to keep.
        st.name = "";
        return st;
      }
      if (kind != "VAR_SET_VALUE" && kind != "VAR_SET_CURRENT") {
        return Unsupported(StrCat("SET form ", kind));
      }
      for (element a : Arr(o, "args")) {
        ASSIGN_OR_RETURN(Expr c, Convert(a));
        if (c.kind == ExprKind::kCast && !c.args.empty()) c = c.args[0];  // SET TIME ZONE INTERVAL
        if (c.kind != ExprKind::kConst) return Unsupported("SET to an expression");
        st.set_values.push_back(c.value);
      }
      return st;
    }
    if (type == "VariableShowStmt") {
      st.kind = StatementKind::kShow;
      st.name = AsciiLower(Str(o, "name"));
      st.tag = "SHOW";
      return st;
    }
    if (type == "TransactionStmt") {
      st.kind = StatementKind::kTransaction;
      std::string_view k = Str(o, "kind");
      if (k == "TRANS_STMT_BEGIN" || k == "TRANS_STMT_START") {
        st.tx = TransactionKind::kBegin;
        st.tag = k == "TRANS_STMT_BEGIN" ? "BEGIN" : "START TRANSACTION";
      } else if (k == "TRANS_STMT_COMMIT") {
        st.tx = TransactionKind::kCommit;
        st.tag = "COMMIT";
      } else if (k == "TRANS_STMT_ROLLBACK") {
        st.tx = TransactionKind::kRollback;
        st.tag = "ROLLBACK";
      } else {
        return Unsupported("savepoints and two-phase commit");
      }
      return st;
    }
    if (type == "DiscardStmt") {
      st.kind = StatementKind::kDiscard;
      st.tag = StrCat("DISCARD ", Str(o, "target") == "DISCARD_ALL" ? "ALL" : "PLANS");
      return st;
    }
    if (type == "DeallocateStmt") {
      st.kind = StatementKind::kDeallocate;
      st.name = std::string(Str(o, "name"));
      st.tag = st.name.empty() ? "DEALLOCATE ALL" : "DEALLOCATE";
      return st;
    }
    if (type == "InsertStmt") {
      return Unsupported(
          "INSERT (ingest over HTTP: JSON, line protocol or Prometheus remote write)");
    }
    if (type == "UpdateStmt" || type == "DeleteStmt" || type == "MergeStmt") {
      return Unsupported(StrCat(type.substr(0, type.size() - 4),
                                " (data is append-only; see retention and DELETE /datasets)"));
    }
    if (type == "CreateStmt" || type == "CreateTableAsStmt") {
      return Unsupported("CREATE TABLE (a dataset is created by its first ingest)");
    }
    std::string name(type);
    if (name.size() > 4 && name.substr(name.size() - 4) == "Stmt") name.resize(name.size() - 4);
    return Unsupported(StrCat("the statement ", name));
  }
};

}  // namespace

absl::StatusOr<Statement> ParseStatement(std::string_view sql, int* param_count) {
  ASSIGN_OR_RETURN(const std::string tree, ParseToJson(sql));
  simdjson::dom::parser parser;
  element doc;
  if (auto err = parser.parse(tree).get(doc)) {
    // The tree nests two levels per expression level: past the reader's
    // depth the statement is refused as PostgreSQL refuses one that exceeds
    // its stack, not reported as our own failure.
    if (err == simdjson::DEPTH_ERROR) {
      return SqlError(sqlstate::kStatementTooComplex,
                      StrCat("the statement nests expressions too deeply (its parse tree has more "
                             "than ",
                             parser.max_depth(), " levels)"));
    }
    return SqlError(sqlstate::kInternalError, "unreadable parse tree");
  }
  array stmts;
  if (doc["stmts"].get(stmts) || stmts.size() == 0) {
    return SqlError(sqlstate::kSyntaxError, "empty statement");
  }
  if (stmts.size() > 1) {
    return SqlError(sqlstate::kSyntaxError,
                    "cannot insert multiple commands into a prepared statement");
  }
  element stmt;
  object wrapper;
  if ((*stmts.begin()).get(wrapper) || wrapper["stmt"].get(stmt)) {
    return SqlError(sqlstate::kSyntaxError, "empty statement");
  }
  std::string_view type;
  object body;
  if (!NodeOf(stmt, &type, &body)) return SqlError(sqlstate::kInternalError, "bad parse tree");
  Converter c(sql);
  auto st = c.ConvertStatement(type, body);
  if (!st.ok()) return st.status();
  st->raw = std::string(sql);
  if (param_count != nullptr) *param_count = c.max_param;
  return st;
}

absl::StatusOr<std::vector<std::string>> SplitStatements(std::string_view sql) {
  ASSIGN_OR_RETURN(const auto ranges, SplitToRanges(sql));
  std::vector<std::string> out;
  for (const auto& [location, length] : ranges) {
    // A length of 0 means "to the end of the string".
    size_t len = length == 0 ? std::string_view::npos : static_cast<size_t>(length);
    std::string_view s = sql.substr(location, len);
    if (StripWhitespace(s).empty()) continue;
    out.emplace_back(s);
  }
  return out;
}

std::string DefaultColumnName(const Expr& e) {
  switch (e.kind) {
    case ExprKind::kColumn:
      return e.name;
    case ExprKind::kFunc:
      return e.name;
    case ExprKind::kCast:
      if (!e.args.empty() &&
          (e.args[0].kind == ExprKind::kColumn || e.args[0].kind == ExprKind::kFunc ||
           e.args[0].kind == ExprKind::kCast)) {
        return DefaultColumnName(e.args[0]);
      }
      switch (e.cast_type) {
        case SqlType::kInt:
          return "int8";
        case SqlType::kDouble:
          return "float8";
        case SqlType::kText:
          return "text";
        case SqlType::kBool:
          return "bool";
        case SqlType::kTimestamp:
          return "timestamptz";
        case SqlType::kInterval:
          return "interval";
        case SqlType::kJson:
          return "json";
        case SqlType::kUuid:
          return "uuid";
        case SqlType::kIntArray:
          return "int8";
        case SqlType::kDoubleArray:
          return "float8";
        case SqlType::kTextArray:
          return "text";
        case SqlType::kBoolArray:
          return "bool";
        default:
          return "?column?";
      }
    case ExprKind::kCase:
      return "case";
    default:
      return "?column?";
  }
}

}  // namespace timestore::sql
