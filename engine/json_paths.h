// Paths into json and array columns in queries: a column name the schema
// lacks, such as "attributes.http.status", names the value at path
// {"http", "status"} of json column "attributes" (the longest prefix that is
// a json or array column). The engine runs such a query on a query schema
// with one derived json field per path (Schema::derived), computed chunk by
// chunk from the base column's dictionary: once per distinct value, not per
// row. Filters, groupBy, columns and count-like aggregations then see an
// ordinary json column; a path that leads nowhere reads as null.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "engine/chunk.h"
#include "engine/query.h"
#include "engine/schema.h"

namespace timestore {

// `schema` itself when the query names no path; otherwise a copy with a
// derived field appended for each path it names.
SchemaPtr WithJsonPaths(const QuerySpec& spec, const SchemaPtr& schema);

// `chunk` with the derived columns of `schema` computed (the others shared,
// not copied); `chunk` itself when `schema` derives nothing.
ChunkPtr AddDerivedColumns(const ChunkPtr& chunk, const Schema& schema);

// Marks each derived field's base column needed when the field is.
void MarkDerivedBases(const Schema& schema, std::vector<bool>* need);

}  // namespace timestore
