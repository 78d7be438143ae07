// The catalog tables a SELECT can read: enough of information_schema and
// pg_catalog for drivers and BI tools to list tables and columns. Each is
// built from the live datasets when a statement reads it.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "sql/plan.h"

namespace timestore::sql {

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
