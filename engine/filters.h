// Filters lowered to a column's domain and run a chunk at a time: the
// selection of rows a query's operators (aggregation, raw output) consume.
// Leaves (QuerySpec::filters) narrow the selection one after another; a
// filter tree (QuerySpec::filter_trees, engine/filter_tree.h) narrows it
// through AND (each child in turn) and OR (the union of its children's
// selections from the same input). Doubles compare in PostgreSQL's total
// order: NaN equals NaN and is above every number, -0.0 equals 0.0.
//
// Thread-compatible: compiled filters are immutable and may be shared by the
// threads of one query.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/chunk.h"
#include "engine/query.h"
#include "engine/schema.h"

namespace timestore {

// A filter lowered to the column's domain. Numeric comparisons run on int64
// (integer, timestamp, boolean columns) or double (double columns); strings are
// matched once per dictionary entry, then per row by id.
// A comparison with a NaN literal is lowered to one on +Inf (eq NaN: > +Inf),
// so `doubles` hold no NaN: an in / not_in list records it in `nan`.
struct CompiledFilter {
  int col = -1;
  ColumnType type;
  FilterOp op;
  bool never = false;   // no non-null row can match (e.g. eq 2.5 on an integer column)
  bool always = false;  // every non-null row matches
  bool nan = false;     // in / not_in on a double column: the list holds NaN
  std::vector<int64_t> ints;
  std::vector<double> doubles;
  std::vector<std::string> strings;
  std::vector<Literal> literals;  // json columns (engine/typed_filters.h)
};

struct CompiledFilterTree {
  FilterTree::Kind kind = FilterTree::Kind::kLeaf;
  CompiledFilter leaf;  // kLeaf
  std::vector<CompiledFilterTree> children;
};

// Everything a row must pass: every filter and every tree.
struct CompiledPredicate {
  std::vector<CompiledFilter> filters;
  std::vector<CompiledFilterTree> trees;
};

// `v op lit` for a comparison op (false for the others).
template <typename T>
bool CompareOp(FilterOp op, const T& v, const T& lit) {
  switch (op) {
    case FilterOp::kEq:
      return v == lit;
    case FilterOp::kNeq:
      return v != lit;
    case FilterOp::kLt:
      return v < lit;
    case FilterOp::kLte:
      return v <= lit;
    case FilterOp::kGt:
      return v > lit;
    case FilterOp::kGte:
      return v >= lit;
    default:
      return false;
  }
}

// 400 invalid_query naming `column` when given.
absl::Status InvalidQuery(std::string_view message, std::string_view column = "");

// REQUIRES: f.index resolved by ValidateQuery.
absl::StatusOr<CompiledFilter> CompileFilter(const Filter& f, const Schema& schema,
                                             Precision precision);
// REQUIRES: every leaf's index resolved by ValidateQuery.
absl::StatusOr<CompiledFilterTree> CompileFilterTree(const FilterTree& t, const Schema& schema,
                                                     Precision precision);
// spec.filters and spec.filter_trees. REQUIRES: ValidateQuery(spec) succeeded.
absl::StatusOr<CompiledPredicate> CompileFilters(const QuerySpec& spec, const Schema& schema);

// Selects the rows of `chunk` inside [start, end) that pass `pred`, in row order.
void SelectRows(const Chunk& chunk, const QuerySpec& spec, const CompiledPredicate& pred,
                std::vector<uint32_t>* sel);

// Normalises a double for hashing and grouping: -0.0 -> 0.0, every NaN -> one NaN.
inline uint64_t DoubleKey(double d) {
  if (d == 0) d = 0;
  if (d != d) d = std::numeric_limits<double>::quiet_NaN();
  uint64_t bits;
  std::memcpy(&bits, &d, 8);
  return bits;
}

}  // namespace timestore
