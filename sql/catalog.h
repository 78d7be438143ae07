// The catalog tables a SELECT can read: enough of information_schema and
// pg_catalog for drivers and BI tools to list tables and columns. Each is
// built from the live datasets when a statement reads it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/schema.h"
#include "sql/plan.h"

namespace timestore {
class Dataset;
}

namespace timestore::sql {

// Object ids the catalog gives the schemas and the database (PostgreSQL's own
// for pg_catalog and public).
inline constexpr uint32_t kPgCatalogNamespaceOid = 11;
inline constexpr uint32_t kPublicNamespaceOid = 2200;
inline constexpr uint32_t kInformationSchemaNamespaceOid = 13000;
inline constexpr uint32_t kDatabaseOid = 16383;
// Datasets get oids from here up, as user tables do in PostgreSQL.
inline constexpr uint32_t kFirstRelationOid = 16384;

// A relation the catalog lists (pg_class, pg_attribute, information_schema,
// psql's \d): a dataset, as table `slug` in schema public, or one of the
// catalog tables below, in pg_catalog or information_schema.
struct CatalogRelation {
  std::string schema;
  std::string name;
  // A dataset's is stable while it lives: its 64-bit id folded into the 32
  // bits of an oid, at or above kFirstRelationOid (a collision takes the next
  // free one). A catalog table's is PostgreSQL 15's.
  uint32_t oid = 0;
  uint32_t namespace_oid = kPublicNamespaceOid;
  char relkind = 'r';                // 'r' table, 'v' view (as in PostgreSQL)
  std::vector<Field> columns;        // a dataset's: the time column first, then schema order
  std::string time_column;           // the NOT NULL column; "" for catalog tables
  std::shared_ptr<Dataset> dataset;  // null for catalog tables
};

// The live datasets by slug (none without an engine), then the catalog tables.
std::vector<CatalogRelation> CatalogRelations(const PlanContext& ctx);

struct CatalogTable {
  std::vector<InputColumn> columns;
  QueryResult rows;
};

// The table `schema.name` when it is a catalog table ("" schema: pg_catalog
// tables are found first, as on PostgreSQL's search path), nullopt otherwise.
absl::StatusOr<std::optional<CatalogTable>> ReadCatalogTable(std::string_view schema,
                                                             std::string_view name,
                                                             const PlanContext& ctx);

// PostgreSQL's name for a Timestore column type (information_schema data_type).
std::string_view PgTypeName(ColumnType t);

}  // namespace timestore::sql
