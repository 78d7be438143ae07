#include "sql/catalog.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "common/strings.h"
#include "engine/engine.h"
#include "sql/sql_result.h"

namespace timestore::sql {
namespace {

// Builds a catalog table column by column.
class TableBuilder {
 public:
  explicit TableBuilder(CatalogTable* t) : t_(t) {}

  void Column(std::string name, SqlType type) {
    t_->columns.push_back({name, type});
    ResultColumn c;
    c.name = std::move(name);
    c.type = type == SqlType::kInt         ? ColumnType::kInteger
             : type == SqlType::kBool      ? ColumnType::kBoolean
             : type == SqlType::kDouble    ? ColumnType::kDouble
             : type == SqlType::kTimestamp ? ColumnType::kTimestamp
                                           : ColumnType::kString;
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

constexpr int64_t kNamespacePublic = 2200;
constexpr int64_t kNamespaceCatalog = 11;
constexpr int64_t kNamespaceInfo = 13000;
constexpr int64_t kTableOidBase = 16384;

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
  }
  return "text";
}

std::vector<std::shared_ptr<Dataset>> Datasets(const PlanContext& ctx) {
  if (ctx.engine == nullptr) return {};
  std::vector<std::shared_ptr<Dataset>> out;
  for (auto& ds : ctx.engine->ListDatasets())
    if (!ds->deleted()) out.push_back(ds);
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a->slug() < b->slug(); });
  return out;
}

// Columns of a dataset: the time column first, then schema order.
std::vector<Field> OrderedFields(const Dataset& ds) {
  SchemaPtr s = ds.schema();
  std::vector<Field> out;
  if (s == nullptr) return out;
  for (const Field& f : s->fields)
    if (f.name == s->time_column) out.push_back(f);
  for (const Field& f : s->fields)
    if (f.name != s->time_column) out.push_back(f);
  return out;
}

void InfoTables(const PlanContext& ctx, CatalogTable* t) {
  TableBuilder b(t);
  b.Column("table_catalog", SqlType::kText);
  b.Column("table_schema", SqlType::kText);
  b.Column("table_name", SqlType::kText);
  b.Column("table_type", SqlType::kText);
  for (auto& ds : Datasets(ctx)) {
    b.Text(ctx.database).Text("public").Text(ds->slug()).Text("BASE TABLE").EndRow();
  }
}

void InfoColumns(const PlanContext& ctx, CatalogTable* t) {
  TableBuilder b(t);
  b.Column("table_catalog", SqlType::kText);
  b.Column("table_schema", SqlType::kText);
  b.Column("table_name", SqlType::kText);
  b.Column("column_name", SqlType::kText);
  b.Column("ordinal_position", SqlType::kInt);
  b.Column("column_default", SqlType::kText);
  b.Column("is_nullable", SqlType::kText);
  b.Column("data_type", SqlType::kText);
  b.Column("udt_name", SqlType::kText);
  for (auto& ds : Datasets(ctx)) {
    SchemaPtr s = ds->schema();
    int pos = 1;
    for (const Field& f : OrderedFields(*ds)) {
      b.Text(ctx.database).Text("public").Text(ds->slug()).Text(f.name).Int(pos++).Null();
      b.Text(f.name == s->time_column ? "NO" : "YES")
          .Text(PgTypeName(f.type))
          .Text(UdtName(f.type));
      b.EndRow();
    }
  }
}

void InfoSchemata(const PlanContext& ctx, CatalogTable* t) {
  TableBuilder b(t);
  b.Column("catalog_name", SqlType::kText);
  b.Column("schema_name", SqlType::kText);
  b.Column("schema_owner", SqlType::kText);
  for (std::string_view s : {"information_schema", "pg_catalog", "public"}) {
    b.Text(ctx.database).Text(s).Text(ctx.user).EndRow();
  }
}

void PgTables(const PlanContext& ctx, CatalogTable* t) {
  TableBuilder b(t);
  b.Column("schemaname", SqlType::kText);
  b.Column("tablename", SqlType::kText);
  b.Column("tableowner", SqlType::kText);
  b.Column("tablespace", SqlType::kText);
  b.Column("hasindexes", SqlType::kBool);
  b.Column("hasrules", SqlType::kBool);
  b.Column("hastriggers", SqlType::kBool);
  b.Column("rowsecurity", SqlType::kBool);
  for (auto& ds : Datasets(ctx)) {
    b.Text("public").Text(ds->slug()).Text(ctx.user).Null().Bool(false).Bool(false).Bool(false);
    b.Bool(false).EndRow();
  }
}

void PgNamespace(const PlanContext& ctx, CatalogTable* t) {
  TableBuilder b(t);
  b.Column("oid", SqlType::kInt);
  b.Column("nspname", SqlType::kText);
  b.Column("nspowner", SqlType::kInt);
  b.Int(kNamespaceCatalog).Text("pg_catalog").Int(10).EndRow();
  b.Int(kNamespacePublic).Text("public").Int(10).EndRow();
  b.Int(kNamespaceInfo).Text("information_schema").Int(10).EndRow();
}

void PgClass(const PlanContext& ctx, CatalogTable* t) {
  TableBuilder b(t);
  b.Column("oid", SqlType::kInt);
  b.Column("relname", SqlType::kText);
  b.Column("relnamespace", SqlType::kInt);
  b.Column("relkind", SqlType::kText);
  b.Column("relowner", SqlType::kInt);
  b.Column("relnatts", SqlType::kInt);
  for (auto& ds : Datasets(ctx)) {
    b.Int(kTableOidBase + static_cast<int64_t>(ds->id())).Text(ds->slug()).Int(kNamespacePublic);
    b.Text("r").Int(10).Int(static_cast<int64_t>(OrderedFields(*ds).size())).EndRow();
  }
}

void PgAttribute(const PlanContext& ctx, CatalogTable* t) {
  TableBuilder b(t);
  b.Column("attrelid", SqlType::kInt);
  b.Column("attname", SqlType::kText);
  b.Column("atttypid", SqlType::kInt);
  b.Column("attnum", SqlType::kInt);
  b.Column("attnotnull", SqlType::kBool);
  b.Column("attisdropped", SqlType::kBool);
  for (auto& ds : Datasets(ctx)) {
    SchemaPtr s = ds->schema();
    int pos = 1;
    for (const Field& f : OrderedFields(*ds)) {
      b.Int(kTableOidBase + static_cast<int64_t>(ds->id())).Text(f.name).Int(TypeOid(f.type));
      b.Int(pos++).Bool(f.name == s->time_column).Bool(false).EndRow();
    }
  }
}

void PgType(const PlanContext& ctx, CatalogTable* t) {
  TableBuilder b(t);
  b.Column("oid", SqlType::kInt);
  b.Column("typname", SqlType::kText);
  b.Column("typnamespace", SqlType::kInt);
  b.Column("typlen", SqlType::kInt);
  b.Column("typtype", SqlType::kText);
  struct T {
    int64_t oid;
    std::string_view name;
    int64_t len;
  };
  for (T x :
       {T{16, "bool", 1}, T{19, "name", 64}, T{20, "int8", 8}, T{21, "int2", 2}, T{23, "int4", 4},
        T{25, "text", -1}, T{26, "oid", 4}, T{700, "float4", 4}, T{701, "float8", 8},
        T{705, "unknown", -2}, T{1043, "varchar", -1}, T{1114, "timestamp", 8},
        T{1184, "timestamptz", 8}, T{1186, "interval", 16}, T{1700, "numeric", -1}}) {
    b.Int(x.oid).Text(x.name).Int(kNamespaceCatalog).Int(x.len).Text("b").EndRow();
  }
}

void PgDatabase(const PlanContext& ctx, CatalogTable* t) {
  TableBuilder b(t);
  b.Column("oid", SqlType::kInt);
  b.Column("datname", SqlType::kText);
  b.Column("datdba", SqlType::kInt);
  b.Column("encoding", SqlType::kInt);
  b.Column("datallowconn", SqlType::kBool);
  b.Int(16383).Text(ctx.database).Int(10).Int(6).Bool(true).EndRow();
}

}  // namespace

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
  }
  return "text";
}

absl::StatusOr<std::optional<CatalogTable>> ReadCatalogTable(std::string_view schema_in,
                                                             std::string_view name_in,
                                                             const PlanContext& ctx) {
  std::string schema = AsciiLower(schema_in);
  std::string name = AsciiLower(name_in);
  using Builder = void (*)(const PlanContext&, CatalogTable*);
  struct Entry {
    std::string_view schema, name;
    Builder build;
  };
  static constexpr Entry kTables[] = {
      {"information_schema", "tables", InfoTables},
      {"information_schema", "columns", InfoColumns},
      {"information_schema", "schemata", InfoSchemata},
      {"pg_catalog", "pg_tables", PgTables},
      {"pg_catalog", "pg_namespace", PgNamespace},
      {"pg_catalog", "pg_class", PgClass},
      {"pg_catalog", "pg_attribute", PgAttribute},
      {"pg_catalog", "pg_type", PgType},
      {"pg_catalog", "pg_database", PgDatabase},
  };
  for (const Entry& e : kTables) {
    bool schema_ok = schema == e.schema || (schema.empty() && e.schema == "pg_catalog");
    if (schema_ok && name == e.name) {
      CatalogTable t;
      e.build(ctx, &t);
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
