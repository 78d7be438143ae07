// Runs a QuerySpec over a list of chunks (in ingest order) under one schema:
// validation, time-range and zone-map pruning, column-wise filters, raw row
// output or downsampling with every aggregation of API.md. The chunks may come
// from any tier; the executor never touches a file.
//
// Thread-compatible: one call per query; chunks are immutable.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/chunk.h"
#include "engine/query.h"
#include "engine/schema.h"

namespace timestore {

// The largest QuerySpec::offset: skipped rows are still found and ranked,
// so a bound keeps one request's work bounded by more than the data alone.
inline constexpr uint64_t kMaxQueryOffset = 1'000'000'000;

// Validates `spec` against `schema` (unknown columns, type mismatches, bad
// aggregations, filter trees deeper than kMaxFilterTreeDepth, an offset
// beyond kMaxQueryOffset) with errors naming the column; fills
// Filter::index in `filters` and in every leaf of `filter_trees`.
absl::Status ValidateQuery(QuerySpec* spec, const Schema& schema);

// Runs `spec` over `chunks`: `offset` rows (output rows when downsampling)
// skipped after ordering, then at most `limit`. For a raw query,
// `offset_skipped` (if not null) is set to the rows the offset skipped:
// fewer than `offset` when fewer rows matched.
// The JSON API's name of an aggregation ("avg", "count_distinct", ...).
std::string_view AggFnName(AggFn fn);

// REQUIRES: ValidateQuery(spec, schema) succeeded.
absl::StatusOr<QueryResult> ExecuteQuery(const QuerySpec& spec, const Schema& schema,
                                         const std::vector<ChunkPtr>& chunks,
                                         uint64_t* offset_skipped = nullptr);

// The rows an ordered answer must rank before dropping the offset:
// offset + limit, saturating (a front end may pass limit UINT64_MAX).
inline uint64_t RowsToRank(const QuerySpec& spec) {
  uint64_t n;
  if (__builtin_add_overflow(spec.limit, spec.offset, &n)) return UINT64_MAX;
  return n;
}

// Total order for doubles used by min/max/percentile/sorting: -Inf < ... < +Inf < NaN
// (as in PostgreSQL), with -0.0 == 0.0.
inline bool DoubleLess(double a, double b) {
  if (a != a) return false;  // NaN is never less
  if (b != b) return true;
  return a < b;
}

}  // namespace timestore
