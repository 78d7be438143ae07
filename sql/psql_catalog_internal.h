// Internal to psql's catalog queries (psql_catalog.h): the values, the
// catalog tables psql joins and the rows they hold (psql_catalog_rows.cc),
// expressions and their evaluation (psql_catalog_eval.cc) and compilation
// (psql_catalog_compile.cc), shared with the recogniser (psql_catalog.cc).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "re2/re2.h"
#include "simdjson.h"
#include "sql/catalog.h"
#include "sql/plan.h"
#include "sql/sql_result.h"

namespace timestore::sql::psql_internal {

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

bool IsIntType(uint32_t t);

bool IsStringType(uint32_t t);

bool IsArrayType(uint32_t t);

// PostgreSQL's name of a type, as format_type() and a regtype print it.
std::string_view FormatTypeName(int64_t type);

// pg_size_pretty(bigint), PostgreSQL 15's: bytes below 10 kB, then each unit
// below 20 of the next, halves rounded away from zero.
std::string SizePretty(int64_t size);

// A name as regclass prints it: quoted unless it is a plain lower-case
// identifier.
std::string QuoteIdent(std::string_view name);

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

const std::vector<ColumnDef>& ColumnsOf(Table t);

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

Snapshot TakeSnapshot(const PlanContext& ctx);

Row NullRow(Table t);

// A relation in pg_class: a table (a dataset) or a view (some catalog
// tables), without indexes, rules, triggers, checks, row security, storage
// options, toast table or access method.
Row ClassRow(const CatalogRelation& r);

std::string_view NamespaceName(int64_t namespace_oid);

Row NamespaceRow(int64_t namespace_oid);

// A column: the time column NOT NULL, strings stored out of line ('x', as
// text in PostgreSQL), the others in place ('p'); no defaults, identities,
// generated columns or collations but their type's.
Row AttributeRow(const CatalogRelation& d, const Field& f, int attnum);

Row DatabaseRow(const PlanContext& ctx);

Row TablespaceRow();

// The FROM clauses psql writes, and the rows each joins. The LEFT JOINs of
// pg_am, pg_class tc (toast), pg_index and pg_class c2 (an index's table)
// find nothing for a dataset, so they contribute NULLs.
enum class Rows : uint8_t { kRelations, kAttributes, kNamespaces, kDatabases };

struct SourceDef {
  std::string_view from;  // the FROM clause, as psql writes it
  Rows rows;
  std::vector<std::pair<std::string_view, Table>> tables;  // alias, table
};

const std::vector<SourceDef>& Sources();

std::vector<Row> SourceRows(const SourceDef& src, const Snapshot& snap);

// ---- Expressions over the rows (psql_catalog_eval.cc) ----

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

Node Const(uint32_t type, Val v);

// Gives an untyped literal the type it meets (an oid column compared with
// '16391' reads it as an oid); false when it cannot be one, or when a typed
// expression is not of `to`'s kind.
bool Coerce(Node* n, uint32_t to);

// The type two operands are compared as; nullopt when they do not compare.
std::optional<uint32_t> CommonType(Node* a, Node* b);

int CompareVals(const Val& a, const Val& b, uint32_t type);

Val Bool(bool b);

// The functions psql's queries call, over the catalog.
struct FnDef {
  std::string_view name;
  std::vector<uint32_t> args;  // oid::kUnknown: any string; kAclArrayOid: any array
  uint32_t result;
  Fn fn;
};

const std::vector<FnDef>& Functions();

// Three-valued: null is unknown.
std::optional<bool> Truth(const Node& n, const Row& row, const Snapshot& snap);

Val Eval(const Node& n, const Row& row, const Snapshot& snap);

// ---- Compiling the parse tree (psql_catalog_compile.cc) ----

// Compiles expressions over the fields of one source; nullopt for anything
// not understood.
class ExprCompiler {
 public:
  ExprCompiler(std::string_view sql, const SourceDef& src);
  ~ExprCompiler();
  std::optional<Node> Compile(simdjson::dom::element e);
  // A boolean condition (WHERE, CASE WHEN).
  std::optional<Node> Condition(simdjson::dom::element e);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// What the recogniser (psql_catalog.cc) gives the compiler: the constant of
// an expression psql writes whole (a template: its value here), else
// nullopt; and the strings of a list of {"String":{"sval":...}} nodes,
// nullopt if any is not one.
std::optional<Node> TemplateConst(simdjson::dom::element e);
std::optional<std::vector<std::string>> Names(const std::vector<simdjson::dom::element>& list);

}  // namespace timestore::sql::psql_internal
