// Runs a QuerySpec over a list of chunks (in ingest order) under one schema:
// validation, time-range and zone-map pruning, column-wise filters, raw row
// output or downsampling with every aggregation of API.md. The chunks may come
// from any tier; the executor never touches a file.
//
// Thread-compatible: one call per query; chunks are immutable.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "engine/chunk.h"
#include "engine/query.h"
#include "engine/schema.h"

namespace timestore {

// Validates `spec` against `schema` (unknown columns, type mismatches, bad
// aggregations) with errors naming the column; fills Filter::index.
absl::Status ValidateQuery(QuerySpec* spec, const Schema& schema);

// REQUIRES: ValidateQuery(spec, schema) succeeded.
absl::StatusOr<QueryResult> ExecuteQuery(const QuerySpec& spec, const Schema& schema,
                                         const std::vector<ChunkPtr>& chunks);

// Total order for doubles used by min/max/percentile/sorting: -Inf < ... < +Inf < NaN
// (as in PostgreSQL), with -0.0 == 0.0.
inline bool DoubleLess(double a, double b) {
  if (a != a) return false;  // NaN is never less
  if (b != b) return true;
  return a < b;
}

}  // namespace timestore
