// Computed columns of the JSON query API (API.md "computed"): SQL scalar
// expressions over the columns of a query's answer, evaluated above the
// engine by the same binder and evaluator as SQL's select lists.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/query.h"
#include "sql/ast.h"

namespace timestore::sql {

class ComputedColumns {
 public:
  // Parses every expression once. A statement that is not one scalar
  // expression is 400 invalid_query naming computed[i]; a syntax error
  // carries its SQLSTATE in details.
  static absl::StatusOr<ComputedColumns> Parse(std::vector<ComputedColumn> computed);

  // The column names the expressions read (so a raw query can fetch them).
  const std::vector<std::string>& inputs() const { return inputs_; }

  // Appends one column per expression to `result`, after dropping the
  // columns named in `drop` (fetched only for the expressions; never column
  // 0). An unknown column is 400 unknown_column; an evaluation error
  // (division by zero, a bad cast) is 400 invalid_query naming `computed`.
  // `read_clock` (when given) says whether an expression read the clock
  // (now(), a text that became 'now'): the answer is then of its moment.
  absl::Status Apply(const std::vector<std::string>& drop, QueryResult* result,
                     bool* read_clock = nullptr) const;

 private:
  std::vector<ComputedColumn> columns_;
  std::vector<Expr> exprs_;
  std::vector<std::string> inputs_;
};

}  // namespace timestore::sql
