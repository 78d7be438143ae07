// A SELECT lowered onto Timestore's query plan: the part the engine runs
// (QuerySpec: time range, pushed-down filters, grouping and aggregation,
// order and limit when they match the engine's), and the operators above it
// that run over the engine's answer (residual predicates, expressions in the
// select list, HAVING, ORDER BY on anything, DISTINCT, OFFSET/LIMIT).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/query.h"
#include "sql/ast.h"
#include "sql/value.h"

namespace re2 {
class RE2;
}

namespace timestore {
class Engine;
}
using re2::RE2;

namespace timestore::sql {

// An expression over the rows of the input table (the engine's answer, a
// catalog table, or one empty row for a SELECT without FROM).
struct BoundExpr {
  enum class Kind : uint8_t {
    kInput,
    kConst,
    kFunc,
    kOp,
    kAnd,
    kOr,
    kNot,
    kIn,
    kBetween,
    kNullTest,
    kBoolTest,
    kCast,
    kCase
  };
  Kind kind = Kind::kConst;
  SqlType type = SqlType::kNull;
  int input = -1;
  Value value;
  std::string name;
  std::vector<BoundExpr> args;
  bool negated = false;
  bool has_case_arg = false;
  SqlType cast_type = SqlType::kNull;
  // kOp ~ ~* !~ !~* with a constant pattern: compiled once, when bound.
  std::shared_ptr<const RE2> regex;
};

struct OutputColumn {
  std::string name;
  BoundExpr expr;
};

struct SortKey {
  BoundExpr expr;
  bool desc = false;
  bool nulls_first = false;
};

// The input table of the top operators: name and type of each column.
struct InputColumn {
  std::string name;
  SqlType type;
};

struct Plan {
  enum class Source : uint8_t { kNone, kDataset, kCatalog };
  Source source = Source::kNone;
  std::string table;         // dataset slug or catalog table name
  QuerySpec spec;            // kDataset
  bool skip_engine = false;  // the WHERE is constantly false: no rows
  QueryResult catalog_rows;  // kCatalog: the table's rows, built while planning
  std::vector<InputColumn> inputs;

  std::optional<BoundExpr> filter;  // residual WHERE (raw) or HAVING (aggregated)
  // Aggregate without GROUP BY: one row even when nothing matched (count 0,
  // other aggregates null). Lists the inputs that are counts.
  bool global_aggregate = false;
  std::vector<int> count_inputs;
  std::vector<SortKey> order;
  std::vector<BoundExpr> distinct_on;
  bool distinct = false;
  std::vector<OutputColumn> outputs;
  uint64_t offset = 0;
  std::optional<uint64_t> limit;
  bool limit_pushed = false;       // the engine applied offset+limit already (spec.limit)
  bool order_pushed = false;       // the engine's order is the ORDER BY
  std::vector<std::string> notes;  // for EXPLAIN: decisions and why
};

struct PlanContext {
  Engine* engine = nullptr;  // null: only tables-free SELECTs and catalogs without datasets
  const std::vector<std::optional<std::string>>* params = nullptr;  // null: unknown (Describe)
  const std::vector<uint32_t>* param_types = nullptr;
  std::string user;
  std::string database;
  std::string server_version;
  uint64_t max_rows = 1'000'000;
  int64_t now_ns = 0;  // now() for the whole statement, as in PostgreSQL
  // When set, FROM names this table (computed columns over a JSON query's
  // answer): its columns are the inputs, its rows go in Plan::catalog_rows.
  const QueryResult* input_table = nullptr;
  // When set, catalog tables (pg_class, information_schema.columns, psql's
  // \dt) list only the datasets it allows (SessionOptions::table_access).
  const std::function<std::optional<std::string>(std::string_view)>* table_access = nullptr;
};

absl::StatusOr<Plan> PlanSelect(const Select& select, const PlanContext& ctx);

// A regular expression of the ~ family (`op` "~*" or "!~*": case-blind);
// 2201B when it does not compile.
absl::StatusOr<std::shared_ptr<const RE2>> CompileRegex(const std::string& pattern,
                                                        std::string_view op);

// date_trunc(unit, ts, zone) as the engine's buckets: civil days, weeks
// (from Monday), months, quarters and years in IANA zone `zone` ("" or "UTC":
// UTC), or fixed units below a day when the zone is UTC. 22023 for an unknown
// zone or unit; 0A000 for units below a day in another zone.
absl::StatusOr<Downsample> ZonedTrunc(std::string_view unit, std::string_view zone);

// Evaluates `e` on `row` of `input` (its columns parallel to plan.inputs).
absl::StatusOr<Value> Eval(const BoundExpr& e, const QueryResult& input, size_t row,
                           const PlanContext& ctx);
// PostgreSQL's ordering of two values of one type: NULLs aside (callers
// handle them), NaN is the largest double and equal to itself.
int CompareValues(const Value& a, const Value& b);

}  // namespace timestore::sql
