// Runs a lowered SELECT: the engine's part, then the operators above it,
// into a SqlResult; and describes a plan for EXPLAIN.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sql/plan.h"
#include "sql/sql_result.h"

namespace timestore::sql {

// `stats` (optional) receives the engine's statistics, for EXPLAIN ANALYZE.
absl::StatusOr<SqlResult> ExecutePlan(Plan plan, const PlanContext& ctx,
                                      std::shared_ptr<const std::atomic<bool>> cancelled,
                                      QueryStats* stats = nullptr);

// The plan as EXPLAIN prints it, one line per row; with `stats`, what the
// run did (EXPLAIN ANALYZE).
std::vector<std::string> ExplainPlan(const Plan& plan, const QueryStats* stats,
                                     uint64_t result_rows);

}  // namespace timestore::sql
