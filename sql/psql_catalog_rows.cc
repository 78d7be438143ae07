// The catalog rows psql's queries read (psql_catalog_internal.h): pg_class,
// pg_namespace, pg_attribute, pg_database and their joins, built from the
// live datasets and catalog tables.
#include <algorithm>
#include <functional>

#include "common/strings.h"
#include "engine/engine.h"
#include "sql/psql_catalog_internal.h"

namespace timestore::sql::psql_internal {

bool IsIntType(uint32_t t) {
  return t == oid::kBool || t == oid::kInt2 || t == oid::kInt4 || t == oid::kInt8 || t == oid::kOid;
}

bool IsStringType(uint32_t t) {
  return t == oid::kText || t == oid::kName || t == kCharOid || t == oid::kVarchar ||
         t == oid::kUnknown || t == kRegclassOid || t == kRegtypeOid || t == kRegnamespaceOid;
}

bool IsArrayType(uint32_t t) { return t == kTextArrayOid || t == kAclArrayOid; }

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
    case oid::kJson:
      return "json";
    case oid::kUuid:
      return "uuid";
    case oid::kFloat8Array:
      return "double precision[]";
    case oid::kInt8Array:
      return "bigint[]";
    case oid::kTextArray:
      return "text[]";
    case oid::kBoolArray:
      return "boolean[]";
  }
  return "???";
}

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

Row AttributeRow(const CatalogRelation& d, const Field& f, int attnum) {
  const uint32_t type = SqlTypeOid(FromColumnType(f.type));
  // Variable-length types are stored extended ('x'), as PostgreSQL's.
  const bool text = IsStringLike(f.type) && f.type != ColumnType::kUuid;
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
          Val::Int(f.type == ColumnType::kString || f.type == ColumnType::kStringArray ? 100 : 0)};
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

}  // namespace timestore::sql::psql_internal
