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

#include <pg_query.h>

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
#include "sql/value.h"

namespace timestore::sql {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

// Type oids beyond sql_result.h's that psql's catalog columns have.
constexpr uint32_t kCharOid = oid::kChar;
constexpr uint32_t kRegclassOid = 2205;
constexpr uint32_t kRegtypeOid = 2206;
constexpr uint32_t kRegnamespaceOid = 4089;
constexpr uint32_t kTextArrayOid = 1009;
constexpr uint32_t kAclArrayOid = 1034;  // aclitem[]: privileges, always NULL here
constexpr uint32_t kDefaultTablespaceOid = 1663;
constexpr int64_t kOwnerOid = 10;  // every object's owner: the session's user
constexpr int64_t kUtf8Encoding = 6;

bool IsIntType(uint32_t t) {
  return t == oid::kBool || t == oid::kInt2 || t == oid::kInt4 || t == oid::kInt8 || t == oid::kOid;
}
bool IsStringType(uint32_t t) {
  return t == oid::kText || t == oid::kName || t == kCharOid || t == oid::kVarchar ||
         t == oid::kUnknown || t == kRegclassOid || t == kRegtypeOid || t == kRegnamespaceOid;
}
bool IsArrayType(uint32_t t) { return t == kTextArrayOid || t == kAclArrayOid; }

// PostgreSQL's name of a type, as format_type() and a regtype print it.
std::string_view FormatTypeName(int64_t type) {
  switch (type) {
    case oid::kBool:
      return "boolean";
    case kCharOid:
      return "\"char\"";
    case oid::kName:
      return "name";
    case oid::kInt8:
      return "bigint";
    case oid::kInt2:
      return "smallint";
    case oid::kInt4:
      return "integer";
    case oid::kText:
      return "text";
    case oid::kOid:
      return "oid";
    case oid::kFloat4:
      return "real";
    case oid::kFloat8:
      return "double precision";
    case oid::kVarchar:
      return "character varying";
    case oid::kTimestamp:
      return "timestamp without time zone";
    case oid::kTimestamptz:
      return "timestamp with time zone";
    case oid::kInterval:
      return "interval";
    case oid::kNumeric:
      return "numeric";
  }
  return "???";
}

// pg_size_pretty(bigint), PostgreSQL 15's: bytes below 10 kB, then each unit
// below 20 of the next, halves rounded away from zero.
std::string SizePretty(int64_t size) {
  struct Unit {
    const char* name;
    int64_t limit;
    bool round;
    int bits;
  };
  static constexpr Unit kUnits[] = {
      {"bytes", 10 * 1024, false, 0},  {"kB", 20 * 1024 - 1, true, 10},
      {"MB", 20 * 1024 - 1, true, 20}, {"GB", 20 * 1024 - 1, true, 30},
      {"TB", 20 * 1024 - 1, true, 40}, {"PB", 20 * 1024 - 1, true, 50}};
  constexpr size_t n = sizeof(kUnits) / sizeof(kUnits[0]);
  for (size_t u = 0; u < n; ++u) {
    const Unit& unit = kUnits[u];
    if (u + 1 == n || std::llabs(size) < unit.limit) {
      if (unit.round) size = (size + (size < 0 ? -1 : 1)) / 2;
      return StrCat(size, " ", unit.name);
    }
    const Unit& next = kUnits[u + 1];
    int bits = next.bits - unit.bits - (next.round ? 1 : 0) + (unit.round ? 1 : 0);
    size /= int64_t{1} << bits;
  }
  return "";
}

// A name as regclass prints it: quoted unless it is a plain lower-case
// identifier.
std::string QuoteIdent(std::string_view name) {
  bool plain = !name.empty() && !(name[0] >= '0' && name[0] <= '9');
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) plain = false;
  }
  if (plain) return std::string(name);
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// ---------------------------------------------------------------------------
// Values and the catalog rows.

// A value of the type its expression has: integers, booleans (0/1) and oids
// in `i`, strings in `s`.
struct Val {
  bool null = true;
  int64_t i = 0;
  std::string s;
  static Val Int(int64_t v) {
    Val x;
    x.null = false;
    x.i = v;
    return x;
  }
  static Val Str(std::string v) {
    Val x;
    x.null = false;
    x.s = std::move(v);
    return x;
  }
};
using Row = std::vector<Val>;

struct ColumnDef {
  std::string_view name;
  uint32_t type;
};

// The pg_catalog tables psql's queries join, with the columns read here.
enum class Table : uint8_t { kClass, kNamespace, kAm, kIndex, kAttribute, kDatabase, kTablespace };

const std::vector<ColumnDef>& ColumnsOf(Table t) {
  static const std::vector<ColumnDef> kClass = {{"oid", oid::kOid},
                                                {"relname", oid::kName},
                                                {"relnamespace", oid::kOid},
                                                {"reltype", oid::kOid},
                                                {"reloftype", oid::kOid},
                                                {"relowner", oid::kOid},
                                                {"relam", oid::kOid},
                                                {"reltablespace", oid::kOid},
                                                {"reltoastrelid", oid::kOid},
                                                {"relhasindex", oid::kBool},
                                                {"relisshared", oid::kBool},
                                                {"relpersistence", kCharOid},
                                                {"relkind", kCharOid},
                                                {"relnatts", oid::kInt2},
                                                {"relchecks", oid::kInt2},
                                                {"relhasrules", oid::kBool},
                                                {"relhastriggers", oid::kBool},
                                                {"relhassubclass", oid::kBool},
                                                {"relrowsecurity", oid::kBool},
                                                {"relforcerowsecurity", oid::kBool},
                                                {"relispopulated", oid::kBool},
                                                {"relreplident", kCharOid},
                                                {"relispartition", oid::kBool},
                                                {"reloptions", kTextArrayOid},
                                                {"relacl", kAclArrayOid}};
  static const std::vector<ColumnDef> kNamespace = {{"oid", oid::kOid},
                                                    {"nspname", oid::kName},
                                                    {"nspowner", oid::kOid},
                                                    {"nspacl", kAclArrayOid}};
  static const std::vector<ColumnDef> kAm = {
      {"oid", oid::kOid}, {"amname", oid::kName}, {"amtype", kCharOid}};
  static const std::vector<ColumnDef> kIndex = {{"indexrelid", oid::kOid}, {"indrelid", oid::kOid}};
  static const std::vector<ColumnDef> kAttribute = {
      {"attrelid", oid::kOid},       {"attname", oid::kName},      {"atttypid", oid::kOid},
      {"attstattarget", oid::kInt4}, {"attnum", oid::kInt2},       {"atttypmod", oid::kInt4},
      {"attstorage", kCharOid},      {"attcompression", kCharOid}, {"attnotnull", oid::kBool},
      {"atthasdef", oid::kBool},     {"attidentity", kCharOid},    {"attgenerated", kCharOid},
      {"attisdropped", oid::kBool},  {"attislocal", oid::kBool},   {"attcollation", oid::kOid}};
  static const std::vector<ColumnDef> kDatabase = {
      {"oid", oid::kOid},           {"datname", oid::kName},      {"datdba", oid::kOid},
      {"encoding", oid::kInt4},     {"datlocprovider", kCharOid}, {"datistemplate", oid::kBool},
      {"datallowconn", oid::kBool}, {"dattablespace", oid::kOid}, {"datcollate", oid::kText},
      {"datctype", oid::kText},     {"daticulocale", oid::kText}, {"datacl", kAclArrayOid}};
  static const std::vector<ColumnDef> kTablespace = {
      {"oid", oid::kOid}, {"spcname", oid::kName}, {"spcowner", oid::kOid}};
  switch (t) {
    case Table::kClass:
      return kClass;
    case Table::kNamespace:
      return kNamespace;
    case Table::kAm:
      return kAm;
    case Table::kIndex:
      return kIndex;
    case Table::kAttribute:
      return kAttribute;
    case Table::kDatabase:
      return kDatabase;
    case Table::kTablespace:
      return kTablespace;
  }
  return kClass;
}

// What the rows are built from: the relations (datasets and catalog
// tables), their sizes and descriptions.
struct Snapshot {
  const PlanContext* ctx = nullptr;
  std::vector<CatalogRelation> relations;
  std::vector<int64_t> bytes;  // a dataset's segments, local and in object storage
  std::vector<std::string> descriptions;
  int64_t total_bytes = 0;

  const CatalogRelation* Find(int64_t relation_oid, size_t* index = nullptr) const {
    for (size_t k = 0; k < relations.size(); ++k) {
      if (relations[k].oid == relation_oid) {
        if (index != nullptr) *index = k;
        return &relations[k];
      }
    }
    return nullptr;
  }
};

Snapshot TakeSnapshot(const PlanContext& ctx) {
  Snapshot s;
  s.ctx = &ctx;
  s.relations = CatalogRelations(ctx);
  for (const CatalogRelation& r : s.relations) {
    int64_t bytes = 0;
    std::string description;
    if (r.dataset != nullptr) {
      for (const SegmentPtr& seg : r.dataset->segments()) bytes += seg->record.bytes;
      description = r.dataset->display_name_and_description().second;
    }
    s.bytes.push_back(bytes);
    s.total_bytes += bytes;
    s.descriptions.push_back(std::move(description));
  }
  return s;
}

Row NullRow(Table t) { return Row(ColumnsOf(t).size()); }

// A relation in pg_class: a table (a dataset) or a view (some catalog
// tables), without indexes, rules, triggers, checks, row security, storage
// options, toast table or access method.
Row ClassRow(const CatalogRelation& r) {
  return {Val::Int(r.oid),
          Val::Str(r.name),
          Val::Int(r.namespace_oid),
          Val::Int(0),
          Val::Int(0),
          Val::Int(kOwnerOid),
          Val::Int(0),
          Val::Int(0),
          Val::Int(0),
          Val::Int(0),
          Val::Int(0),
          Val::Str("p"),
          Val::Str(std::string(1, r.relkind)),
          Val::Int(static_cast<int64_t>(r.columns.size())),
          Val::Int(0),
          Val::Int(0),
          Val::Int(0),
          Val::Int(0),
          Val::Int(0),
          Val::Int(0),
          Val::Int(1),
          Val::Str(r.dataset != nullptr ? "d" : "n"),  // replica identity: default, nothing
          Val::Int(0),
          Val(),
          Val()};
}

std::string_view NamespaceName(int64_t namespace_oid) {
  switch (namespace_oid) {
    case kPgCatalogNamespaceOid:
      return "pg_catalog";
    case kPublicNamespaceOid:
      return "public";
    case kInformationSchemaNamespaceOid:
      return "information_schema";
  }
  return "";
}

Row NamespaceRow(int64_t namespace_oid) {
  return {Val::Int(namespace_oid), Val::Str(std::string(NamespaceName(namespace_oid))),
          Val::Int(kOwnerOid), Val()};
}

// A column: the time column NOT NULL, strings stored out of line ('x', as
// text in PostgreSQL), the others in place ('p'); no defaults, identities,
// generated columns or collations but their type's.
Row AttributeRow(const CatalogRelation& d, const Field& f, int attnum) {
  const uint32_t type = SqlTypeOid(FromColumnType(f.type));
  const bool text = f.type == ColumnType::kString;
  return {Val::Int(d.oid),
          Val::Str(f.name),
          Val::Int(type),
          Val::Int(-1),
          Val::Int(attnum),
          Val::Int(-1),
          Val::Str(text ? "x" : "p"),
          Val::Str(""),
          Val::Int(f.name == d.time_column ? 1 : 0),
          Val::Int(0),
          Val::Str(""),
          Val::Str(""),
          Val::Int(0),
          Val::Int(1),
          Val::Int(text ? 100 : 0)};
}

Row DatabaseRow(const PlanContext& ctx) {
  return {Val::Int(kDatabaseOid),
          Val::Str(ctx.database),
          Val::Int(kOwnerOid),
          Val::Int(kUtf8Encoding),
          Val::Str("c"),
          Val::Int(0),
          Val::Int(1),
          Val::Int(kDefaultTablespaceOid),
          Val::Str("C"),
          Val::Str("C"),
          Val(),
          Val()};
}

Row TablespaceRow() {
  return {Val::Int(kDefaultTablespaceOid), Val::Str("pg_default"), Val::Int(kOwnerOid)};
}

// The FROM clauses psql writes, and the rows each joins. The LEFT JOINs of
// pg_am, pg_class tc (toast), pg_index and pg_class c2 (an index's table)
// find nothing for a dataset, so they contribute NULLs.
enum class Rows : uint8_t { kRelations, kAttributes, kNamespaces, kDatabases };

struct SourceDef {
  std::string_view from;  // the FROM clause, as psql writes it
  Rows rows;
  std::vector<std::pair<std::string_view, Table>> tables;  // alias, table
};

const std::vector<SourceDef>& Sources() {
  static const std::vector<SourceDef> kSources = {
      {"pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace",
       Rows::kRelations,
       {{"c", Table::kClass}, {"n", Table::kNamespace}}},
      {"pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
       "LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam",
       Rows::kRelations,
       {{"c", Table::kClass}, {"n", Table::kNamespace}, {"am", Table::kAm}}},
      {"pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
       "LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam "
       "LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid "
       "LEFT JOIN pg_catalog.pg_class c2 ON i.indrelid = c2.oid",
       Rows::kRelations,
       {{"c", Table::kClass},
        {"n", Table::kNamespace},
        {"am", Table::kAm},
        {"i", Table::kIndex},
        {"c2", Table::kClass}}},
      {"pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_class tc ON (c.reltoastrelid = tc.oid) "
       "LEFT JOIN pg_catalog.pg_am am ON (c.relam = am.oid)",
       Rows::kRelations,
       {{"c", Table::kClass}, {"tc", Table::kClass}, {"am", Table::kAm}}},
      {"pg_catalog.pg_attribute a", Rows::kAttributes, {{"a", Table::kAttribute}}},
      {"pg_catalog.pg_namespace n", Rows::kNamespaces, {{"n", Table::kNamespace}}},
      {"pg_catalog.pg_database d", Rows::kDatabases, {{"d", Table::kDatabase}}},
      {"pg_catalog.pg_database d JOIN pg_catalog.pg_tablespace t ON d.dattablespace = t.oid",
       Rows::kDatabases,
       {{"d", Table::kDatabase}, {"t", Table::kTablespace}}},
  };
  return kSources;
}

std::vector<Row> SourceRows(const SourceDef& src, const Snapshot& snap) {
  std::vector<Row> out;
  auto joined = [&](const std::function<Row(Table, size_t)>& part) {
    Row r;
    for (size_t k = 0; k < src.tables.size(); ++k) {
      Row p = part(src.tables[k].second, k);
      r.insert(r.end(), std::make_move_iterator(p.begin()), std::make_move_iterator(p.end()));
    }
    out.push_back(std::move(r));
  };
  switch (src.rows) {
    case Rows::kRelations:
      for (const CatalogRelation& r : snap.relations) {
        joined([&](Table t, size_t k) {
          if (k == 0) return ClassRow(r);
          if (t == Table::kNamespace) return NamespaceRow(r.namespace_oid);
          return NullRow(t);
        });
      }
      break;
    case Rows::kAttributes:
      for (const CatalogRelation& r : snap.relations) {
        int attnum = 1;
        for (const Field& f : r.columns) out.push_back(AttributeRow(r, f, attnum++));
      }
      break;
    case Rows::kNamespaces:
      for (int64_t n :
           {kPgCatalogNamespaceOid, kPublicNamespaceOid, kInformationSchemaNamespaceOid}) {
        out.push_back(NamespaceRow(n));
      }
      break;
    case Rows::kDatabases:
      joined([&](Table t, size_t) {
        return t == Table::kDatabase ? DatabaseRow(*snap.ctx) : TablespaceRow();
      });
      break;
  }
  return out;
}

// ---------------------------------------------------------------------------
// The parse tree.

bool NodeOf(element e, std::string_view* type, object* body) {
  object o;
  if (e.get(o)) return false;
  for (auto [k, v] : o) {
    *type = k;
    return !v.get(*body);
  }
  return false;
}

std::string_view Str(object o, std::string_view key) {
  std::string_view s;
  if (o[key].get(s)) return {};
  return s;
}

bool Has(object o, std::string_view key) {
  element e;
  return !o[key].get(e);
}

std::vector<element> Arr(object o, std::string_view key) {
  std::vector<element> out;
  array a;
  if (o[key].get(a)) return out;
  for (element e : a) out.push_back(e);
  return out;
}

// The strings of a list of {"String":{"sval":...}} nodes; nullopt if any is not one.
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
    std::string text(sql);
    PgQueryParseResult r = pg_query_parse(text.c_str());
    bool ok = r.error == nullptr && r.parse_tree != nullptr;
    if (ok) json_ = r.parse_tree;
    pg_query_free_parse_result(r);
    if (!ok) return false;
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

// ---------------------------------------------------------------------------
// Expressions.

struct Node;
using Fn = Val (*)(const std::vector<Val>& args, const Snapshot& snap);

struct Node {
  enum class Kind : uint8_t {
    kField,
    kConst,
    kCase,
    kCompare,
    kRegex,
    kIn,
    kAnd,
    kOr,
    kNot,
    kIsNull,
    kFunc,
    kCast
  };
  Kind kind = Kind::kConst;
  uint32_t type = oid::kUnknown;
  int field = -1;
  Val value;
  std::string op;  // kCompare: = <> < <= > >=
  std::vector<Node> args;
  bool negated = false;   // !~, NOT IN, IS NOT NULL
  bool has_arg = false;   // CASE x WHEN ...
  bool has_else = false;  // CASE ... ELSE
  std::shared_ptr<const RE2> re;
  Fn fn = nullptr;
};

Node Const(uint32_t type, Val v) {
  Node n;
  n.kind = Node::Kind::kConst;
  n.type = type;
  n.value = std::move(v);
  return n;
}

// Gives an untyped literal the type it meets (an oid column compared with
// '16391' reads it as an oid); false when it cannot be one, or when a typed
// expression is not of `to`'s kind.
bool Coerce(Node* n, uint32_t to) {
  if (n->type == oid::kUnknown && n->kind == Node::Kind::kConst) {
    if (n->value.null) {
      n->type = to;
      return true;
    }
    if (IsStringType(to)) {
      n->type = to == oid::kUnknown ? oid::kText : to;
      return true;
    }
    if (to == oid::kBool) {
      std::string v = AsciiLower(n->value.s);
      if (v == "t" || v == "true" || v == "yes" || v == "on" || v == "1") {
        n->value = Val::Int(1);
      } else if (v == "f" || v == "false" || v == "no" || v == "off" || v == "0") {
        n->value = Val::Int(0);
      } else {
        return false;
      }
      n->type = to;
      return true;
    }
    if (IsIntType(to)) {
      int64_t v;
      if (!SimpleAtoi(n->value.s, &v)) return false;
      n->value = Val::Int(v);
      n->type = to;
      return true;
    }
    return false;
  }
  if (IsIntType(to)) return IsIntType(n->type) && (n->type == oid::kBool) == (to == oid::kBool);
  if (IsStringType(to)) return IsStringType(n->type);
  return n->type == to;
}

// The type two operands are compared as; nullopt when they do not compare.
std::optional<uint32_t> CommonType(Node* a, Node* b) {
  if (a->type == oid::kUnknown && b->type == oid::kUnknown) {
    if (!Coerce(a, oid::kText) || !Coerce(b, oid::kText)) return std::nullopt;
    return oid::kText;
  }
  if (a->type == oid::kUnknown) {
    if (!Coerce(a, b->type)) return std::nullopt;
    return b->type;
  }
  if (b->type == oid::kUnknown) {
    if (!Coerce(b, a->type)) return std::nullopt;
    return a->type;
  }
  if (IsStringType(a->type) && IsStringType(b->type)) return oid::kText;
  if (IsIntType(a->type) && IsIntType(b->type) &&
      (a->type == oid::kBool) == (b->type == oid::kBool)) {
    return a->type;
  }
  return std::nullopt;
}

int CompareVals(const Val& a, const Val& b, uint32_t type) {
  if (IsIntType(type)) return a.i < b.i ? -1 : a.i > b.i ? 1 : 0;
  int c = a.s.compare(b.s);  // C collation: bytes
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

Val Bool(bool b) { return Val::Int(b ? 1 : 0); }

// The functions psql's queries call, over the catalog.
struct FnDef {
  std::string_view name;
  std::vector<uint32_t> args;  // oid::kUnknown: any string; kAclArrayOid: any array
  uint32_t result;
  Fn fn;
};

const std::vector<FnDef>& Functions() {
  static const std::vector<FnDef> kFunctions = {
      {"pg_get_userbyid",
       {oid::kOid},
       oid::kName,
       [](const std::vector<Val>& a, const Snapshot& s) {
         if (a[0].null) return Val();
         if (a[0].i == kOwnerOid) return Val::Str(s.ctx->user);
         return Val::Str(StrCat("unknown (OID=", a[0].i, ")"));
       }},
      // The search path is pg_catalog, public (information_schema is not on it).
      {"pg_table_is_visible",
       {oid::kOid},
       oid::kBool,
       [](const std::vector<Val>& a, const Snapshot& s) {
         const CatalogRelation* r = a[0].null ? nullptr : s.Find(a[0].i);
         if (r == nullptr) return Val();
         return Bool(r->namespace_oid != kInformationSchemaNamespaceOid);
       }},
      {"format_type",
       {oid::kOid, oid::kInt4},
       oid::kText,
       [](const std::vector<Val>& a, const Snapshot&) {
         if (a[0].null) return Val();
         return Val::Str(std::string(FormatTypeName(a[0].i)));
       }},
      {"pg_size_pretty",
       {oid::kInt8},
       oid::kText,
       [](const std::vector<Val>& a, const Snapshot&) {
         return a[0].null ? Val() : Val::Str(SizePretty(a[0].i));
       }},
      // A dataset's size is its segments' bytes (local and in object storage).
      {"pg_table_size",
       {oid::kOid},
       oid::kInt8,
       [](const std::vector<Val>& a, const Snapshot& s) {
         size_t k;
         if (a[0].null || s.Find(a[0].i, &k) == nullptr) return Val();
         return Val::Int(s.bytes[k]);
       }},
      {"pg_total_relation_size",
       {oid::kOid},
       oid::kInt8,
       [](const std::vector<Val>& a, const Snapshot& s) {
         size_t k;
         if (a[0].null || s.Find(a[0].i, &k) == nullptr) return Val();
         return Val::Int(s.bytes[k]);
       }},
      {"pg_database_size",
       {oid::kName},
       oid::kInt8,
       [](const std::vector<Val>& a, const Snapshot& s) {
         if (a[0].null || a[0].s != s.ctx->database) return Val();
         return Val::Int(s.total_bytes);
       }},
      // A dataset's description (PUT /datasets/{slug}/settings) is its comment.
      {"obj_description",
       {oid::kOid, oid::kName},
       oid::kText,
       [](const std::vector<Val>& a, const Snapshot& s) {
         if (a[0].null || a[1].null) return Val();
         // Schemas have PostgreSQL's comments.
         if (a[1].s == "pg_namespace") {
           if (a[0].i == kPublicNamespaceOid) return Val::Str("standard public schema");
           if (a[0].i == kPgCatalogNamespaceOid) return Val::Str("system catalog schema");
           return Val();
         }
         size_t k;
         if (a[1].s != "pg_class" || s.Find(a[0].i, &k) == nullptr || s.descriptions[k].empty()) {
           return Val();
         }
         return Val::Str(s.descriptions[k]);
       }},
      {"col_description",
       {oid::kOid, oid::kInt4},
       oid::kText,
       [](const std::vector<Val>&, const Snapshot&) { return Val(); }},
      {"shobj_description",
       {oid::kOid, oid::kName},
       oid::kText,
       [](const std::vector<Val>&, const Snapshot&) { return Val(); }},
      {"pg_encoding_to_char",
       {oid::kInt4},
       oid::kName,
       [](const std::vector<Val>& a, const Snapshot&) {
         if (a[0].null) return Val();
         return Val::Str(a[0].i == kUtf8Encoding ? "UTF8" : "");
       }},
      // Arrays here are privileges and options, which are always NULL.
      {"array_to_string",
       {kAclArrayOid, oid::kText},
       oid::kText,
       [](const std::vector<Val>&, const Snapshot&) { return Val(); }},
      {"has_database_privilege",
       {oid::kName, oid::kText},
       oid::kBool,
       [](const std::vector<Val>& a, const Snapshot& s) {
         if (a[0].null || a[1].null) return Val();
         return Bool(a[0].s == s.ctx->database);
       }},
  };
  return kFunctions;
}

// Subexpressions psql writes whose answer does not depend on the row here:
// compared whole, answered by a constant.
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

// Compiles expressions over the fields of one source; nullopt for anything
// not understood.
class Compiler {
 public:
  Compiler(std::string_view sql, const SourceDef& src) : sql_(sql) {
    for (const auto& [alias, table] : src.tables) {
      for (const ColumnDef& c : ColumnsOf(table)) fields_.push_back({alias, c.name, c.type});
    }
  }

  std::optional<Node> Compile(element e) {
    auto t = GetTemplates().exprs.find(Canonical(e));
    if (t != GetTemplates().exprs.end()) {
      const ExprTemplate& x = ExprTemplates()[t->second];
      return Const(x.type, x.value);
    }
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

Val Eval(const Node& n, const Row& row, const Snapshot& snap);

// Three-valued: null is unknown.
std::optional<bool> Truth(const Node& n, const Row& row, const Snapshot& snap) {
  Val v = Eval(n, row, snap);
  if (v.null) return std::nullopt;
  return v.i != 0;
}

Val Eval(const Node& n, const Row& row, const Snapshot& snap) {
  using K = Node::Kind;
  switch (n.kind) {
    case K::kField:
      return row[n.field];
    case K::kConst:
      return n.value;
    case K::kCompare: {
      Val a = Eval(n.args[0], row, snap), b = Eval(n.args[1], row, snap);
      if (a.null || b.null) return Val();
      int c = CompareVals(a, b, static_cast<uint32_t>(n.value.i));
      if (n.op == "=") return Bool(c == 0);
      if (n.op == "<>") return Bool(c != 0);
      if (n.op == "<") return Bool(c < 0);
      if (n.op == "<=") return Bool(c <= 0);
      if (n.op == ">") return Bool(c > 0);
      return Bool(c >= 0);
    }
    case K::kRegex: {
      Val a = Eval(n.args[0], row, snap);
      if (a.null || n.re == nullptr) return Val();
      return Bool(RE2::PartialMatch(a.s, *n.re) != n.negated);
    }
    case K::kIn: {
      Val a = Eval(n.args[0], row, snap);
      if (a.null) return Val();
      const uint32_t type = IsIntType(n.args[0].type) ? n.args[0].type : oid::kText;
      bool saw_null = false;
      for (size_t k = 1; k < n.args.size(); ++k) {
        const Val& v = n.args[k].value;
        if (v.null) {
          saw_null = true;
        } else if (CompareVals(a, v, type) == 0) {
          return Bool(!n.negated);
        }
      }
      if (saw_null) return Val();
      return Bool(n.negated);
    }
    case K::kAnd: {
      bool unknown = false;
      for (const Node& a : n.args) {
        auto t = Truth(a, row, snap);
        if (t.has_value() && !*t) return Bool(false);
        if (!t.has_value()) unknown = true;
      }
      return unknown ? Val() : Bool(true);
    }
    case K::kOr: {
      bool unknown = false;
      for (const Node& a : n.args) {
        auto t = Truth(a, row, snap);
        if (t.has_value() && *t) return Bool(true);
        if (!t.has_value()) unknown = true;
      }
      return unknown ? Val() : Bool(false);
    }
    case K::kNot: {
      auto t = Truth(n.args[0], row, snap);
      return t.has_value() ? Bool(!*t) : Val();
    }
    case K::kIsNull:
      return Bool(Eval(n.args[0], row, snap).null != n.negated);
    case K::kCase: {
      size_t k = 0;
      Val operand;
      if (n.has_arg) operand = Eval(n.args[k++], row, snap);
      const size_t pairs_end = n.args.size() - (n.has_else ? 1 : 0);
      for (; k < pairs_end; k += 2) {
        bool hit;
        if (n.has_arg) {
          Val w = Eval(n.args[k], row, snap);
          const uint32_t type = IsIntType(n.args[k].type) ? n.args[k].type : oid::kText;
          hit = !operand.null && !w.null && CompareVals(operand, w, type) == 0;
        } else {
          hit = Truth(n.args[k], row, snap).value_or(false);
        }
        if (hit) return Eval(n.args[k + 1], row, snap);
      }
      return n.has_else ? Eval(n.args.back(), row, snap) : Val();
    }
    case K::kFunc: {
      std::vector<Val> args;
      for (const Node& a : n.args) args.push_back(Eval(a, row, snap));
      return n.fn(args, snap);
    }
    case K::kCast: {
      const Node& arg = n.args[0];
      Val v = Eval(arg, row, snap);
      if (v.null) return v;
      if (n.type == kRegtypeOid) return Val::Str(std::string(FormatTypeName(v.i)));
      if (n.type == kRegclassOid) {
        const CatalogRelation* rel = snap.Find(v.i);
        if (rel == nullptr) return Val::Str(StrCat(v.i));
        // Qualified when its schema is not on the search path.
        std::string name = QuoteIdent(rel->name);
        if (rel->namespace_oid == kInformationSchemaNamespaceOid) {
          name = StrCat("information_schema.", name);
        }
        return Val::Str(std::move(name));
      }
      if (IsStringType(n.type) && IsIntType(arg.type)) return Val::Str(StrCat(v.i));
      return v;
    }
  }
  return Val();
}

}  // namespace

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
  Compiler compiler(sql, *query->source);

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
