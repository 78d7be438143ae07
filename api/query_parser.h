// Parses a query body (API.md "Query") into a QuerySpec. Column names are
// checked later against the schema (engine/query_executor.h); this layer
// checks shape, types and units, and rejects unknown keys so typos surface.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "common/time_util.h"
#include "engine/query.h"

namespace timestore::api {

// Deepest nesting of {"or"}, {"and"} and {"not"} filter items: a top-level
// item is at depth 1, and an "or", "and" or "not" item deeper than this is
// 400 invalid_query.
inline constexpr int kMaxFilterNesting = 32;

// Filter items (docs/api.md "Filters") become spec.filters and
// spec.filter_trees through engine/filter_tree.h: NOT pushed down,
// conjunctions flattened. `offset` is at most kMaxQueryOffset
// (engine/query_executor.h).
absl::StatusOr<QuerySpec> ParseQueryBody(std::string_view body, Precision precision,
                                         uint64_t max_limit);

}  // namespace timestore::api
