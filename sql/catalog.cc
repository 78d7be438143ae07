#include "sql/catalog.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "common/strings.h"
#include "engine/engine.h"
#include "sql/sql_result.h"

namespace timestore::sql {
namespace {

ColumnType StorageOf(SqlType type) { return ToColumnType(type); }

// Builds a catalog table column by column.
class TableBuilder {
 public:
  explicit TableBuilder(CatalogTable* t) : t_(t) {}

  void Column(std::string name, SqlType type) {
    t_->columns.push_back({name, type});
    ResultColumn c;
    c.name = std::move(name);
    c.type = StorageOf(type);
    t_->rows.columns.push_back(std::move(c));
  }

  // One value per column, in order; std::monostate-like nulls via Null().
  TableBuilder& Text(std::string_view s) {
    ResultColumn& c = Next();
    t_->rows.owned_strings.emplace_back(s);
    c.strings.push_back(t_->rows.owned_strings.back());
    c.valid.push_back(1);
    return *this;
  }
  TableBuilder& Int(int64_t v) {
    ResultColumn& c = Next();
    c.ints.push_back(v);
    c.valid.push_back(1);
    return *this;
  }
  TableBuilder& Bool(bool v) { return Int(v ? 1 : 0); }
  TableBuilder& Null() {
    ResultColumn& c = Next();
    c.valid.push_back(0);
    c.ints.push_back(0);
    c.doubles.push_back(0);
    c.strings.emplace_back();
    return *this;
  }
  void EndRow() {
    col_ = 0;
    ++t_->rows.rows;
  }

 private:
  ResultColumn& Next() { return t_->rows.columns[col_++]; }
  CatalogTable* t_;
  size_t col_ = 0;
};

uint32_t TypeOid(ColumnType t) { return SqlTypeOid(FromColumnType(t)); }

std::string_view UdtName(ColumnType t) {
  switch (t) {
    case ColumnType::kTimestamp:
      return "timestamptz";
    case ColumnType::kDouble:
      return "float8";
    case ColumnType::kInteger:
      return "int8";
    case ColumnType::kString:
      return "text";
    case ColumnType::kBoolean:
      return "bool";
    case ColumnType::kJson:
      return "json";
    case ColumnType::kUuid:
      return "uuid";
    case ColumnType::kDoubleArray:
      return "_float8";
    case ColumnType::kIntegerArray:
      return "_int8";
    case ColumnType::kStringArray:
      return "_text";
    case ColumnType::kBooleanArray:
      return "_bool";
  }
  return "text";
}

// information_schema.tables and .columns have PostgreSQL 15's columns, in its
// order, so that SELECT * has its shape. Datasets are read-only to SQL: not
// insertable, not updatable.
void InfoTables(const PlanContext& ctx, TableBuilder& b) {
  for (const CatalogRelation& r : CatalogRelations(ctx)) {
    b.Text(ctx.database).Text(r.schema).Text(r.name);
    b.Text(r.relkind == 'v' ? "VIEW" : "BASE TABLE");
    b.Null().Null().Null().Null().Null().Text("NO").Text("NO").Null().EndRow();
  }
}

void InfoColumns(const PlanContext& ctx, TableBuilder& b) {
  auto nulls = [&b](int n) {
    for (int i = 0; i < n; ++i) b.Null();
  };
  for (const CatalogRelation& r : CatalogRelations(ctx)) {
    int pos = 1;
    for (const Field& f : r.columns) {
      b.Text(ctx.database).Text(r.schema).Text(r.name).Text(f.name).Int(pos).Null();
      b.Text(f.name == r.time_column ? "NO" : "YES").Text(PgTypeName(f.type));
      // character_maximum_length, character_octet_length (text: 1 GB, as in PostgreSQL)
      b.Null();
      if (f.type == ColumnType::kString || f.type == ColumnType::kJson) {
        b.Int(1073741824);
      } else {
        b.Null();
      }
      // numeric_precision, _radix, _scale: bits, as for PostgreSQL's binary types
      if (f.type == ColumnType::kInteger) {
        b.Int(64).Int(2).Int(0);
      } else if (f.type == ColumnType::kDouble) {
        b.Int(53).Int(2).Null();
      } else {
        nulls(3);
      }
      // datetime_precision: microseconds, as PostgreSQL's timestamptz
      if (f.type == ColumnType::kTimestamp) {
        b.Int(6);
      } else {
        b.Null();
      }
      nulls(11);  // interval_type .. domain_name
      b.Text(ctx.database).Text("pg_catalog").Text(UdtName(f.type));
      nulls(4);  // scope_*, maximum_cardinality
      b.Text(std::to_string(pos)).Text("NO").Text("NO");
      nulls(5);  // identity_generation .. identity_minimum
      b.Text("NO").Text("NEVER").Null().Text("NO").EndRow();
      ++pos;
    }
  }
}

void InfoSchemata(const PlanContext& ctx, TableBuilder& b) {
  for (std::string_view s : {"information_schema", "pg_catalog", "public"}) {
    b.Text(ctx.database).Text(s).Text(ctx.user).EndRow();
  }
}

void PgTables(const PlanContext& ctx, TableBuilder& b) {
  for (const CatalogRelation& r : CatalogRelations(ctx)) {
    if (r.relkind != 'r') continue;
    b.Text(r.schema).Text(r.name).Text(ctx.user).Null();
    b.Bool(false).Bool(false).Bool(false).Bool(false).EndRow();
  }
}

void PgNamespace(const PlanContext&, TableBuilder& b) {
  b.Int(kPgCatalogNamespaceOid).Text("pg_catalog").Int(10).EndRow();
  b.Int(kPublicNamespaceOid).Text("public").Int(10).EndRow();
  b.Int(kInformationSchemaNamespaceOid).Text("information_schema").Int(10).EndRow();
}

void PgClass(const PlanContext& ctx, TableBuilder& b) {
  for (const CatalogRelation& r : CatalogRelations(ctx)) {
    b.Int(r.oid).Text(r.name).Int(r.namespace_oid).Text(std::string(1, r.relkind)).Int(10);
    b.Int(static_cast<int64_t>(r.columns.size())).EndRow();
  }
}

void PgAttribute(const PlanContext& ctx, TableBuilder& b) {
  for (const CatalogRelation& r : CatalogRelations(ctx)) {
    int pos = 1;
    for (const Field& f : r.columns) {
      b.Int(r.oid).Text(f.name).Int(TypeOid(f.type));
      b.Int(pos++).Bool(f.name == r.time_column).Bool(false).EndRow();
    }
  }
}

void PgType(const PlanContext&, TableBuilder& b) {
  struct T {
    int64_t oid;
    std::string_view name;
    int64_t len;
  };
  for (T x : {T{16, "bool", 1},          T{19, "name", 64},       T{20, "int8", 8},
              T{21, "int2", 2},          T{23, "int4", 4},        T{25, "text", -1},
              T{26, "oid", 4},           T{700, "float4", 4},     T{701, "float8", 8},
              T{705, "unknown", -2},     T{1043, "varchar", -1},  T{1114, "timestamp", 8},
              T{1184, "timestamptz", 8}, T{1186, "interval", 16}, T{1700, "numeric", -1},
              T{114, "json", -1},        T{2950, "uuid", 16},     T{1000, "_bool", -1},
              T{1009, "_text", -1},      T{1016, "_int8", -1},    T{1022, "_float8", -1}}) {
    b.Int(x.oid).Text(x.name).Int(kPgCatalogNamespaceOid).Int(x.len).Text("b").EndRow();
  }
}

void PgDatabase(const PlanContext& ctx, TableBuilder& b) {
  b.Int(kDatabaseOid).Text(ctx.database).Int(10).Int(6).Bool(true).EndRow();
}

// The catalog tables: where they live, their oid and kind in PostgreSQL 15,
// their columns (a subset of PostgreSQL's, in its order) and their rows.
struct TableDef {
  std::string_view schema, name;
  uint32_t oid;
  char relkind;
  std::vector<std::pair<std::string_view, SqlType>> columns;
  void (*rows)(const PlanContext&, TableBuilder&);
};

const std::vector<TableDef>& TableDefs() {
  constexpr SqlType kText = SqlType::kText, kInt = SqlType::kInt, kBool = SqlType::kBool;
  static const std::vector<TableDef> kDefs = {
      {"information_schema",
       "tables",
       13425,
       'v',
       {{"table_catalog", kText},
        {"table_schema", kText},
        {"table_name", kText},
        {"table_type", kText},
        {"self_referencing_column_name", kText},
        {"reference_generation", kText},
        {"user_defined_type_catalog", kText},
        {"user_defined_type_schema", kText},
        {"user_defined_type_name", kText},
        {"is_insertable_into", kText},
        {"is_typed", kText},
        {"commit_action", kText}},
       InfoTables},
      {"information_schema",
       "columns",
       13295,
       'v',
       {{"table_catalog", kText},
        {"table_schema", kText},
        {"table_name", kText},
        {"column_name", kText},
        {"ordinal_position", kInt},
        {"column_default", kText},
        {"is_nullable", kText},
        {"data_type", kText},
        {"character_maximum_length", kInt},
        {"character_octet_length", kInt},
        {"numeric_precision", kInt},
        {"numeric_precision_radix", kInt},
        {"numeric_scale", kInt},
        {"datetime_precision", kInt},
        {"interval_type", kText},
        {"interval_precision", kInt},
        {"character_set_catalog", kText},
        {"character_set_schema", kText},
        {"character_set_name", kText},
        {"collation_catalog", kText},
        {"collation_schema", kText},
        {"collation_name", kText},
        {"domain_catalog", kText},
        {"domain_schema", kText},
        {"domain_name", kText},
        {"udt_catalog", kText},
        {"udt_schema", kText},
        {"udt_name", kText},
        {"scope_catalog", kText},
        {"scope_schema", kText},
        {"scope_name", kText},
        {"maximum_cardinality", kInt},
        {"dtd_identifier", kText},
        {"is_self_referencing", kText},
        {"is_identity", kText},
        {"identity_generation", kText},
        {"identity_start", kText},
        {"identity_increment", kText},
        {"identity_maximum", kText},
        {"identity_minimum", kText},
        {"identity_cycle", kText},
        {"is_generated", kText},
        {"generation_expression", kText},
        {"is_updatable", kText}},
       InfoColumns},
      {"information_schema",
       "schemata",
       13382,
       'v',
       {{"catalog_name", kText}, {"schema_name", kText}, {"schema_owner", kText}},
       InfoSchemata},
      {"pg_catalog",
       "pg_tables",
       12033,
       'v',
       {{"schemaname", kText},
        {"tablename", kText},
        {"tableowner", kText},
        {"tablespace", kText},
        {"hasindexes", kBool},
        {"hasrules", kBool},
        {"hastriggers", kBool},
        {"rowsecurity", kBool}},
       PgTables},
      {"pg_catalog",
       "pg_namespace",
       2615,
       'r',
       {{"oid", kInt}, {"nspname", kText}, {"nspowner", kInt}},
       PgNamespace},
      {"pg_catalog",
       "pg_class",
       1259,
       'r',
       {{"oid", kInt},
        {"relname", kText},
        {"relnamespace", kInt},
        {"relkind", kText},
        {"relowner", kInt},
        {"relnatts", kInt}},
       PgClass},
      {"pg_catalog",
       "pg_attribute",
       1249,
       'r',
       {{"attrelid", kInt},
        {"attname", kText},
        {"atttypid", kInt},
        {"attnum", kInt},
        {"attnotnull", kBool},
        {"attisdropped", kBool}},
       PgAttribute},
      {"pg_catalog",
       "pg_type",
       1247,
       'r',
       {{"oid", kInt},
        {"typname", kText},
        {"typnamespace", kInt},
        {"typlen", kInt},
        {"typtype", kText}},
       PgType},
      {"pg_catalog",
       "pg_database",
       1262,
       'r',
       {{"oid", kInt},
        {"datname", kText},
        {"datdba", kInt},
        {"encoding", kInt},
        {"datallowconn", kBool}},
       PgDatabase},
  };
  return kDefs;
}

}  // namespace

std::vector<CatalogRelation> CatalogRelations(const PlanContext& ctx) {
  std::vector<CatalogRelation> out;
  if (ctx.engine != nullptr) {
    for (auto& ds : ctx.engine->ListDatasets()) {
      if (ds->deleted()) continue;
      // A caller that may not read a dataset does not see it in catalogs.
      if (ctx.table_access != nullptr && *ctx.table_access && (*ctx.table_access)(ds->slug())) {
        continue;
      }
      CatalogRelation r;
      r.schema = "public";
      r.name = ds->slug();
      r.dataset = ds;
      if (SchemaPtr s = ds->schema()) {
        r.time_column = s->time_column;
        for (const Field& f : s->fields)
          if (f.name == s->time_column) r.columns.push_back(f);
        for (const Field& f : s->fields)
          if (f.name != s->time_column) r.columns.push_back(f);
      }
      out.push_back(std::move(r));
    }
    // Oids in id order, so that a collision resolves the same way every time.
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.dataset->id() < b.dataset->id(); });
    constexpr uint64_t kSpan = (uint64_t{1} << 32) - kFirstRelationOid;
    absl::flat_hash_set<uint32_t> used;
    for (CatalogRelation& r : out) {
      uint64_t k = r.dataset->id() % kSpan;
      while (!used.insert(static_cast<uint32_t>(kFirstRelationOid + k)).second) {
        k = (k + 1) % kSpan;
      }
      r.oid = static_cast<uint32_t>(kFirstRelationOid + k);
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  }
  for (const TableDef& d : TableDefs()) {
    CatalogRelation r;
    r.schema = std::string(d.schema);
    r.name = std::string(d.name);
    r.oid = d.oid;
    r.namespace_oid =
        d.schema == "pg_catalog" ? kPgCatalogNamespaceOid : kInformationSchemaNamespaceOid;
    r.relkind = d.relkind;
    for (const auto& [name, type] : d.columns)
      r.columns.push_back({std::string(name), StorageOf(type)});
    out.push_back(std::move(r));
  }
  return out;
}

std::string_view PgTypeName(ColumnType t) {
  switch (t) {
    case ColumnType::kTimestamp:
      return "timestamp with time zone";
    case ColumnType::kDouble:
      return "double precision";
    case ColumnType::kInteger:
      return "bigint";
    case ColumnType::kString:
      return "text";
    case ColumnType::kBoolean:
      return "boolean";
    case ColumnType::kJson:
      return "json";
    case ColumnType::kUuid:
      return "uuid";
    case ColumnType::kDoubleArray:
    case ColumnType::kIntegerArray:
    case ColumnType::kStringArray:
    case ColumnType::kBooleanArray:
      return "ARRAY";  // information_schema's data_type; udt_name says of what
  }
  return "text";
}

absl::StatusOr<std::optional<CatalogTable>> ReadCatalogTable(std::string_view schema_in,
                                                             std::string_view name_in,
                                                             const PlanContext& ctx) {
  std::string schema = AsciiLower(schema_in);
  std::string name = AsciiLower(name_in);
  for (const TableDef& d : TableDefs()) {
    bool schema_ok = schema == d.schema || (schema.empty() && d.schema == "pg_catalog");
    if (schema_ok && name == d.name) {
      CatalogTable t;
      TableBuilder b(&t);
      for (const auto& [column, type] : d.columns) b.Column(std::string(column), type);
      d.rows(ctx, b);
      return std::optional<CatalogTable>(std::move(t));
    }
  }
  if (schema == "pg_catalog" || schema == "information_schema") {
    return SqlError(sqlstate::kFeatureNotSupported,
                    StrCat("the catalog table ", schema, ".", name, " is not available"));
  }
  return std::optional<CatalogTable>();
}

}  // namespace timestore::sql
