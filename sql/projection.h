// Computed columns of the JSON query API (API.md "computed"): SQL scalar
// expressions over the columns of a query's answer, evaluated above the
// engine by the same binder and evaluator as SQL's select lists.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/query.h"

namespace timestore::sql {

// The column names the expressions read (so a raw query can fetch them).
// A statement that is not one scalar expression is 400 invalid_query naming
// computed[i]; a syntax error carries its SQLSTATE in details.
absl::StatusOr<std::vector<std::string>> ComputedColumnInputs(
    const std::vector<ComputedColumn>& computed);

// Appends one column per expression to `result`, after dropping the columns
// named in `drop` (fetched only for the expressions; never column 0). An
// unknown column is 400 unknown_column; an evaluation error (division by
// zero, a bad cast) is 400 invalid_query naming computed[i].
absl::Status ApplyComputedColumns(const std::vector<ComputedColumn>& computed,
                                  const std::vector<std::string>& drop, QueryResult* result);

}  // namespace timestore::sql
