// Parses a query body (API.md "Query") into a QuerySpec. Column names are
// checked later against the schema (engine/query_executor.h); this layer
// checks shape, types and units, and rejects unknown keys so typos surface.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "common/time_util.h"
#include "engine/query.h"

namespace timestore::api {

absl::StatusOr<QuerySpec> ParseQueryBody(std::string_view body, Precision precision,
                                         uint64_t max_limit);

}  // namespace timestore::api
