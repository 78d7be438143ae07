// psql's catalog queries, recognised and answered (see psql_catalog.h).
//
// A recognised query is compiled into a small plan over one source: the rows
// of one of the joins psql writes, each column of each joined table a field.
// Expressions are compiled from libpg_query's parse tree only for the node
// kinds, columns, operators and functions below, each evaluated with
// PostgreSQL's semantics (three-valued logic, untyped literals taking the
// type they meet); one node outside them and the query is not recognised.
// Clauses that are compared whole (the FROM joins, a few subqueries, the
// statements over empty catalogs) are compared as parse trees without
// positions, so layout and letter case do not matter.
#include "sql/psql_catalog.h"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>

#include "common/strings.h"
#include "engine/engine.h"
#include "re2/re2.h"
#include "simdjson.h"
#include "sql/catalog.h"
#include "sql/parse_tree.h"
#include "sql/pg_parser.h"
#include "sql/psql_catalog_internal.h"
#include "sql/value.h"

namespace timestore::sql {
namespace {

using parse_tree::Arr;
using parse_tree::Has;
using parse_tree::NodeOf;
using parse_tree::Str;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;
using namespace psql_internal;  // NOLINT: this file is its other half

// ---------------------------------------------------------------------------
// The parse tree.

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The tree as text without node positions: clauses compared whole are
// compared this way. A string literal of digits (an oid psql read from an
// earlier answer) compares equal to any other.
void Canonical(element e, std::string* out) {
  switch (e.type()) {
    case simdjson::dom::element_type::OBJECT: {
      object o = e.get_object().value();
      *out += '{';
      for (auto [k, v] : o) {
        if (k == "location") continue;
        if (k == "sval") {
          std::string_view s;
          if (!v.get(s) && AllDigits(s)) {
            *out += "sval:?oid,";
            continue;
          }
        }
        out->append(k.data(), k.size());
        *out += ':';
        Canonical(v, out);
        *out += ',';
      }
      *out += '}';
      return;
    }
    case simdjson::dom::element_type::ARRAY: {
      *out += '[';
      array a = e.get_array().value();
      for (element v : a) {
        Canonical(v, out);
        *out += ',';
      }
      *out += ']';
      return;
    }
    default:
      *out += simdjson::to_string(e);
  }
}

std::string Canonical(element e) {
  std::string s;
  Canonical(e, &s);
  return s;
}

// libpg_query's JSON parse tree of one statement, kept alive with its parser.
class ParsedStatement {
 public:
  bool Parse(std::string_view sql) {
    auto tree = ParseToJson(sql);
    if (!tree.ok()) return false;
    json_ = *std::move(tree);
    element root;
    if (parser_.parse(json_).get(root)) return false;
    array stmts;
    if (root["stmts"].get(stmts) || stmts.size() != 1) return false;
    element stmt;
    if (stmts.at_pointer("/0/stmt").get(stmt)) return false;
    std::string_view type;
    if (!NodeOf(stmt, &type, &select_) || type != "SelectStmt") return false;
    stmt_ = stmt;
    return true;
  }
  element statement() const { return stmt_; }
  object select() const { return select_; }

 private:
  std::string json_;
  simdjson::dom::parser parser_;
  element stmt_;
  object select_;
};

struct ExprTemplate {
  std::string_view sql;  // an expression
  uint32_t type;
  Val value;
  std::string_view name;  // the column name PostgreSQL gives it
};

const std::vector<ExprTemplate>& ExprTemplates() {
  static const std::vector<ExprTemplate> kTemplates = {
      // \d+ NAME: storage options. A NULL array || an empty one is empty.
      {"pg_catalog.array_to_string(c.reloptions || array(select 'toast.' || x from "
       "pg_catalog.unnest(tc.reloptions) x), ', ')",
       oid::kText, Val::Str(""), "array_to_string"},
      // \d NAME: a column's default. No column has one.
      {"(SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid, true) FROM pg_catalog.pg_attrdef d "
       "WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef)",
       oid::kText, Val(), "pg_get_expr"},
      // \d NAME: a collation other than the type's. No column has one.
      {"(SELECT c.collname FROM pg_catalog.pg_collation c, pg_catalog.pg_type t WHERE c.oid = "
       "a.attcollation AND t.oid = a.atttypid AND a.attcollation <> t.typcollation)",
       oid::kName, Val(), "collname"},
  };
  return kTemplates;
}

// Statements over catalogs that are empty in Timestore: no rows, whatever
// the relation. `columns` are PostgreSQL's ("name type, ...").
struct EmptyTemplate {
  std::string_view columns;
  std::string_view sql;
};

const std::vector<EmptyTemplate>& EmptyTemplates() {
  static const std::vector<EmptyTemplate> kTemplates = {
      // \d NAME: row-level security policies.
      {"polname name, polpermissive boolean, array_to_string text, pg_get_expr text, "
       "pg_get_expr text, cmd text",
       R"(SELECT pol.polname, pol.polpermissive,
  CASE WHEN pol.polroles = '{0}' THEN NULL ELSE pg_catalog.array_to_string(array(select rolname from pg_catalog.pg_roles where oid = any (pol.polroles) order by 1),',') END,
  pg_catalog.pg_get_expr(pol.polqual, pol.polrelid),
  pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid),
  CASE pol.polcmd
    WHEN 'r' THEN 'SELECT'
    WHEN 'a' THEN 'INSERT'
    WHEN 'w' THEN 'UPDATE'
    WHEN 'd' THEN 'DELETE'
    END AS cmd
FROM pg_catalog.pg_policy pol
WHERE pol.polrelid = '16391' ORDER BY 1)"},
      // \d NAME: extended statistics.
      {"oid oid, stxrelid regclass, nsp text, stxname name, columns text, ndist_enabled boolean, "
       "deps_enabled boolean, mcv_enabled boolean, stxstattarget integer",
       R"(SELECT oid, stxrelid::pg_catalog.regclass, stxnamespace::pg_catalog.regnamespace::pg_catalog.text AS nsp, stxname,
pg_catalog.pg_get_statisticsobjdef_columns(oid) AS columns,
  'd' = any(stxkind) AS ndist_enabled,
  'f' = any(stxkind) AS deps_enabled,
  'm' = any(stxkind) AS mcv_enabled,
stxstattarget
FROM pg_catalog.pg_statistic_ext
WHERE stxrelid = '16391'
ORDER BY nsp, stxname)"},
      // \d NAME: publications.
      {"pubname name, ?column? text, ?column? text",
       R"(SELECT pubname
     , NULL
     , NULL
FROM pg_catalog.pg_publication p
     JOIN pg_catalog.pg_publication_namespace pn ON p.oid = pn.pnpubid
     JOIN pg_catalog.pg_class pc ON pc.relnamespace = pn.pnnspid
WHERE pc.oid ='16391' and pg_catalog.pg_relation_is_publishable('16391')
UNION
SELECT pubname
     , pg_get_expr(pr.prqual, c.oid)
     , (CASE WHEN pr.prattrs IS NOT NULL THEN
         (SELECT string_agg(attname, ', ')
           FROM pg_catalog.generate_series(0, pg_catalog.array_upper(pr.prattrs::pg_catalog.int2[], 1)) s,
                pg_catalog.pg_attribute
          WHERE attrelid = pr.prrelid AND attnum = prattrs[s])
        ELSE NULL END) FROM pg_catalog.pg_publication p
     JOIN pg_catalog.pg_publication_rel pr ON p.oid = pr.prpubid
     JOIN pg_catalog.pg_class c ON c.oid = pr.prrelid
WHERE pr.prrelid = '16391'
UNION
SELECT pubname
     , NULL
     , NULL
FROM pg_catalog.pg_publication p
WHERE p.puballtables AND pg_catalog.pg_relation_is_publishable('16391')
ORDER BY 1)"},
      // \d NAME: the tables it inherits from.
      {"oid regclass",
       R"(SELECT c.oid::pg_catalog.regclass
FROM pg_catalog.pg_class c, pg_catalog.pg_inherits i
WHERE c.oid = i.inhparent AND i.inhrelid = '16391'
  AND c.relkind != 'p' AND c.relkind != 'I'
ORDER BY inhseqno)"},
      // \d NAME: its partitions and child tables.
      {"oid regclass, relkind \"char\", inhdetachpending boolean, pg_get_expr text",
       R"(SELECT c.oid::pg_catalog.regclass, c.relkind, inhdetachpending, pg_catalog.pg_get_expr(c.relpartbound, c.oid)
FROM pg_catalog.pg_class c, pg_catalog.pg_inherits i
WHERE c.oid = i.inhrelid AND i.inhparent = '16391'
ORDER BY pg_catalog.pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT', c.oid::pg_catalog.regclass::pg_catalog.text)"},
  };
  return kTemplates;
}

uint32_t TypeByName(std::string_view name) {
  static const std::map<std::string_view, uint32_t> kTypes = {{"name", oid::kName},
                                                              {"text", oid::kText},
                                                              {"oid", oid::kOid},
                                                              {"boolean", oid::kBool},
                                                              {"integer", oid::kInt4},
                                                              {"smallint", oid::kInt2},
                                                              {"bigint", oid::kInt8},
                                                              {"\"char\"", kCharOid},
                                                              {"regclass", kRegclassOid},
                                                              {"regtype", kRegtypeOid},
                                                              {"regnamespace", kRegnamespaceOid}};
  auto it = kTypes.find(name);
  return it == kTypes.end() ? oid::kText : it->second;
}

// "name type, name type": the columns of an EmptyTemplate.
std::vector<SqlColumn> ParseColumns(std::string_view spec) {
  std::vector<SqlColumn> out;
  while (!spec.empty()) {
    size_t comma = spec.find(',');
    std::string_view item = StripWhitespace(spec.substr(0, comma));
    spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
    size_t sp = item.find(' ');
    out.push_back({std::string(item.substr(0, sp)), TypeByName(item.substr(sp + 1))});
  }
  return out;
}

// The parsed forms of the clauses compared whole, built once.
struct Templates {
  std::vector<std::string> sources;  // canonical FROM clause, parallel to Sources()
  std::map<std::string, size_t> exprs;
  std::map<std::string, std::vector<SqlColumn>> empty;
};

const Templates& GetTemplates() {
  static const Templates* t = [] {
    auto* out = new Templates;
    for (const SourceDef& s : Sources()) {
      ParsedStatement p;
      std::string canon;
      if (p.Parse(StrCat("SELECT 1 FROM ", s.from))) {
        element from;
        if (!p.select()["fromClause"].get(from)) canon = Canonical(from);
      }
      out->sources.push_back(std::move(canon));
    }
    for (size_t k = 0; k < ExprTemplates().size(); ++k) {
      ParsedStatement p;
      if (!p.Parse(StrCat("SELECT ", ExprTemplates()[k].sql))) continue;
      element val;
      array targets;
      if (p.select()["targetList"].get(targets) || targets.size() != 1) continue;
      if (targets.at_pointer("/0/ResTarget/val").get(val)) continue;
      out->exprs[Canonical(val)] = k;
    }
    for (const EmptyTemplate& e : EmptyTemplates()) {
      ParsedStatement p;
      if (p.Parse(e.sql)) out->empty[Canonical(p.statement())] = ParseColumns(e.columns);
    }
    return out;
  }();
  return *t;
}

// PostgreSQL's FigureColname: the name of an output column without an alias,
// with the strength of the guess (2 a name, 1 a type or "case", 0 none).
int FigureColname(element e, std::string* name) {
  std::string_view type;
  object o;
  if (!NodeOf(e, &type, &o)) return 0;
  if (type == "ColumnRef") {
    auto fields = Arr(o, "fields");
    if (fields.empty()) return 0;
    std::string_view t;
    object last;
    if (!NodeOf(fields.back(), &t, &last) || t != "String") return 0;
    *name = std::string(Str(last, "sval"));
    return 2;
  }
  if (type == "FuncCall") {
    auto names = Names(Arr(o, "funcname"));
    if (!names || names->empty()) return 0;
    *name = names->back();
    return 2;
  }
  if (type == "TypeCast") {
    element arg;
    int strength = o["arg"].get(arg) ? 0 : FigureColname(arg, name);
    if (strength <= 1) {
      object tn;
      if (!o["typeName"].get(tn)) {
        auto names = Names(Arr(tn, "names"));
        if (names && !names->empty()) {
          *name = names->back();
          return 1;
        }
      }
    }
    return strength;
  }
  if (type == "CollateClause") {
    element arg;
    return o["arg"].get(arg) ? 0 : FigureColname(arg, name);
  }
  if (type == "CaseExpr") {
    element def;
    int strength = o["defresult"].get(def) ? 0 : FigureColname(def, name);
    if (strength <= 1) {
      *name = "case";
      return 1;
    }
    return strength;
  }
  if (type == "SubLink") {
    std::string_view kind = Str(o, "subLinkType");
    if (kind == "EXISTS_SUBLINK") return *name = "exists", 2;
    if (kind == "ARRAY_SUBLINK") return *name = "array", 2;
    if (kind == "EXPR_SUBLINK") {
      element target;
      if (o.at_pointer("/subselect/SelectStmt/targetList/0/ResTarget").get(target)) return 0;
      object rt = target.get_object().value();
      if (Has(rt, "name")) {
        *name = std::string(Str(rt, "name"));
      } else {
        element val;
        if (rt["val"].get(val) || FigureColname(val, name) == 0) *name = "?column?";
      }
      return 2;
    }
    return 0;
  }
  if (type == "A_Expr" && Str(o, "kind") == "AEXPR_NULLIF") return *name = "nullif", 2;
  if (type == "A_ArrayExpr") return *name = "array", 2;
  if (type == "CoalesceExpr") return *name = "coalesce", 2;
  return 0;
}

}  // namespace

namespace psql_internal {

std::optional<Node> TemplateConst(element e) {
  auto t = GetTemplates().exprs.find(Canonical(e));
  if (t == GetTemplates().exprs.end()) return std::nullopt;
  const ExprTemplate& x = ExprTemplates()[t->second];
  return Const(x.type, x.value);
}

std::optional<std::vector<std::string>> Names(const std::vector<element>& list) {
  std::vector<std::string> out;
  for (element e : list) {
    std::string_view t;
    object body;
    if (!NodeOf(e, &t, &body) || t != "String") return std::nullopt;
    out.emplace_back(Str(body, "sval"));
  }
  return out;
}

}  // namespace psql_internal

struct PsqlCatalogQuery {
  std::vector<SqlColumn> columns;
  bool empty = false;  // one of EmptyTemplates(): no rows
  const SourceDef* source = nullptr;
  std::vector<Node> outputs;
  std::optional<Node> where;
  struct Key {
    int output = -1;  // ORDER BY position (0-based), or -1 and `expr`
    Node expr;
    bool desc = false;
    bool nulls_first = false;
  };
  std::vector<Key> order;
};

std::shared_ptr<const PsqlCatalogQuery> RecognizePsqlCatalogQuery(std::string_view sql) {
  // psql qualifies every catalog name: other statements are not parsed twice.
  constexpr std::string_view kNeedle = "pg_catalog";
  auto it = std::search(sql.begin(), sql.end(), kNeedle.begin(), kNeedle.end(),
                        [](char a, char b) { return (a >= 'A' && a <= 'Z' ? a + 32 : a) == b; });
  if (it == sql.end()) return nullptr;
  ParsedStatement parsed;
  if (!parsed.Parse(sql)) return nullptr;
  const Templates& templates = GetTemplates();
  auto query = std::make_shared<PsqlCatalogQuery>();

  auto empty = templates.empty.find(Canonical(parsed.statement()));
  if (empty != templates.empty.end()) {
    query->empty = true;
    query->columns = empty->second;
    return query;
  }

  object sel = parsed.select();
  for (auto [k, v] : sel) {
    if (k == "targetList" || k == "fromClause" || k == "whereClause" || k == "sortClause") continue;
    std::string_view s;
    if (k == "limitOption" && !v.get(s) && s == "LIMIT_OPTION_DEFAULT") continue;
    if (k == "op" && !v.get(s) && s == "SETOP_NONE") continue;
    return nullptr;  // DISTINCT, GROUP BY, LIMIT, WITH, UNION, ...
  }
  element from;
  if (sel["fromClause"].get(from)) return nullptr;
  const std::string from_canon = Canonical(from);
  for (size_t k = 0; k < templates.sources.size(); ++k) {
    if (!templates.sources[k].empty() && templates.sources[k] == from_canon) {
      query->source = &Sources()[k];
    }
  }
  if (query->source == nullptr) return nullptr;
  ExprCompiler compiler(sql, *query->source);

  for (element t : Arr(sel, "targetList")) {
    object rt;
    element val;
    if (t["ResTarget"].get(rt) || rt["val"].get(val)) return nullptr;
    std::string name;
    if (Has(rt, "name")) {
      name = std::string(Str(rt, "name"));
    } else {
      auto tmpl = templates.exprs.find(Canonical(val));
      if (tmpl != templates.exprs.end()) {
        name = std::string(ExprTemplates()[tmpl->second].name);
      } else if (FigureColname(val, &name) == 0) {
        name = "?column?";
      }
    }
    auto n = compiler.Compile(val);
    if (!n) return nullptr;
    if (n->type == oid::kUnknown) n->type = oid::kText;  // an untyped literal is text
    query->columns.push_back({name, n->type});
    query->outputs.push_back(std::move(*n));
  }
  if (query->outputs.empty()) return nullptr;

  element where;
  if (!sel["whereClause"].get(where)) {
    query->where = compiler.Condition(where);
    if (!query->where) return nullptr;
  }

  for (element s : Arr(sel, "sortClause")) {
    object sb;
    element node;
    if (s["SortBy"].get(sb) || sb["node"].get(node) || Has(sb, "useOp")) return nullptr;
    PsqlCatalogQuery::Key key;
    std::string_view dir = Str(sb, "sortby_dir"), nulls = Str(sb, "sortby_nulls");
    key.desc = dir == "SORTBY_DESC";
    key.nulls_first = nulls == "SORTBY_NULLS_FIRST" || (nulls != "SORTBY_NULLS_LAST" && key.desc);
    int64_t position;
    if (!node["A_Const"]["ival"]["ival"].get(position)) {
      if (position < 1 || position > static_cast<int64_t>(query->outputs.size())) return nullptr;
      key.output = static_cast<int>(position - 1);
    } else {
      auto e = compiler.Compile(node);
      if (!e || e->kind == Node::Kind::kConst) return nullptr;
      key.expr = std::move(*e);
    }
    query->order.push_back(std::move(key));
  }
  return query;
}

std::vector<SqlColumn> PsqlCatalogColumns(const PsqlCatalogQuery& query) { return query.columns; }

absl::StatusOr<SqlResult> AnswerPsqlCatalogQuery(const PsqlCatalogQuery& query,
                                                 const PlanContext& ctx) {
  SqlResult r;
  r.returns_rows = true;
  r.columns = query.columns;
  for (const SqlColumn& c : query.columns) {
    ResultColumn col;
    col.name = c.name;
    col.type = c.type_oid == oid::kBool ? ColumnType::kBoolean
               : IsIntType(c.type_oid)  ? ColumnType::kInteger
                                        : ColumnType::kString;
    r.table.columns.push_back(std::move(col));
  }
  std::vector<std::pair<Row, Row>> rows;  // outputs, sort keys
  if (!query.empty) {
    Snapshot snap = TakeSnapshot(ctx);
    for (const Row& in : SourceRows(*query.source, snap)) {
      if (query.where && !Truth(*query.where, in, snap).value_or(false)) continue;
      Row out, keys;
      for (const Node& o : query.outputs) out.push_back(Eval(o, in, snap));
      for (const auto& k : query.order)
        keys.push_back(k.output >= 0 ? out[k.output] : Eval(k.expr, in, snap));
      rows.emplace_back(std::move(out), std::move(keys));
    }
    if (rows.size() > ctx.max_rows) {
      return SqlError(sqlstate::kProgramLimitExceeded,
                      StrCat("the answer has more than ", ctx.max_rows, " rows"));
    }
    std::stable_sort(rows.begin(), rows.end(), [&](const auto& a, const auto& b) {
      for (size_t k = 0; k < query.order.size(); ++k) {
        const auto& key = query.order[k];
        const Val &x = a.second[k], &y = b.second[k];
        if (x.null || y.null) {
          if (x.null == y.null) continue;
          return x.null == key.nulls_first;
        }
        uint32_t type = key.output >= 0 ? query.columns[key.output].type_oid : key.expr.type;
        int c = CompareVals(x, y, type);
        if (c != 0) return key.desc ? c > 0 : c < 0;
      }
      return false;
    });
  }
  for (const auto& [out, keys] : rows) {
    for (size_t k = 0; k < out.size(); ++k) {
      ResultColumn& c = r.table.columns[k];
      c.valid.push_back(out[k].null ? 0 : 1);
      if (c.type == ColumnType::kString) {
        r.table.owned_strings.push_back(out[k].s);
        c.strings.push_back(r.table.owned_strings.back());
      } else {
        c.ints.push_back(out[k].i);
      }
    }
  }
  r.table.rows = rows.size();
  r.command_tag = StrCat("SELECT ", rows.size());
  return r;
}

}  // namespace timestore::sql
