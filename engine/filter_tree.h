// Boolean filter trees (engine/query.h FilterTree) in the one shape the
// engine runs: NOT pushed down to the leaves, plain conjunctions flattened
// into QuerySpec::filters, only trees holding an OR left in
// QuerySpec::filter_trees. Every front end (the JSON parser,
// api/query_parser.cc, and the SQL layer) builds a query's filters through
// these functions:
//
//   FilterTree t = ...;                 // leaves, AND and OR as parsed
//   t = Negate(t);                      // for NOT t
//   AddConjunct(&spec, std::move(t));   // spec must pass t as well
//
// Semantics (docs/api.md "Filters"). A comparison leaf is unknown on a row
// whose column is null, and so is its complement; a query keeps the rows
// where every conjunct is true (SQL's WHERE). `in` is SQL's IN: a null in
// its list never equals anything. `not_in` is SQL's NOT IN: the value is not
// null and differs from every element, and a null element makes it match
// nothing. Doubles compare in PostgreSQL's total order (NaN equals NaN and
// is above every number; -0.0 equals 0.0). Under these rules NOT commutes
// exactly with the pushdown (De Morgan holds in three-valued logic, and
// NOT x < 5 is x >= 5 for every non-null x, NaN included), so Negate(t)
// passes exactly the rows where t is false.
//
// Thread-compatible: plain functions of values.
#pragma once

#include <vector>

#include "engine/query.h"

namespace timestore {

// Deepest tree (counting leaves as depth 1) the engine runs; ValidateQuery
// refuses deeper ones (400 invalid_query) so evaluation cannot exhaust the
// stack. Front ends should refuse sooner with their own message.
inline constexpr int kMaxFilterTreeDepth = 64;

// The op that passes exactly the non-null rows `op` fails: eq <-> neq,
// lt <-> gte, lte <-> gt, in <-> not_in, is_null <-> is_not_null.
FilterOp ComplementOp(FilterOp op);

// A leaf holding `f`.
FilterTree FilterLeaf(Filter f);

// NOT t, pushed down: AND <-> OR (De Morgan), each leaf's op complemented.
FilterTree Negate(const FilterTree& t);

// Nested ANDs (ORs) merged into their parent AND (OR), single-child AND/OR
// nodes replaced by their child. Same rows pass.
FilterTree Flatten(FilterTree t);

// Adds `t` as one more condition every row must pass: its leaves and AND
// branches go to spec->filters (flattened), each OR to spec->filter_trees.
// An AND without children adds nothing (true); an OR without children is
// kept and matches nothing.
void AddConjunct(QuerySpec* spec, FilterTree t);

// Depth of `t`: 1 for a leaf.
int FilterTreeDepth(const FilterTree& t);

// Calls fn(const Filter&) / fn(Filter&) for every leaf of `t`.
template <typename Tree, typename Fn>
void ForEachLeaf(Tree& t, Fn&& fn) {
  if (t.kind == FilterTree::Kind::kLeaf) {
    fn(t.leaf);
    return;
  }
  for (auto& c : t.children) ForEachLeaf(c, fn);
}

}  // namespace timestore
