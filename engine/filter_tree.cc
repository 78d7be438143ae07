#include "engine/filter_tree.h"

#include <algorithm>
#include <utility>

namespace timestore {

FilterOp ComplementOp(FilterOp op) {
  switch (op) {
    case FilterOp::kEq:
      return FilterOp::kNeq;
    case FilterOp::kNeq:
      return FilterOp::kEq;
    case FilterOp::kLt:
      return FilterOp::kGte;
    case FilterOp::kGte:
      return FilterOp::kLt;
    case FilterOp::kLte:
      return FilterOp::kGt;
    case FilterOp::kGt:
      return FilterOp::kLte;
    case FilterOp::kIn:
      return FilterOp::kNotIn;
    case FilterOp::kNotIn:
      return FilterOp::kIn;
    case FilterOp::kIsNull:
      return FilterOp::kIsNotNull;
    case FilterOp::kIsNotNull:
      return FilterOp::kIsNull;
  }
  return op;
}

FilterTree FilterLeaf(Filter f) {
  FilterTree t;
  t.kind = FilterTree::Kind::kLeaf;
  t.leaf = std::move(f);
  return t;
}

FilterTree Negate(const FilterTree& t) {
  FilterTree out;
  switch (t.kind) {
    case FilterTree::Kind::kLeaf:
      out = t;
      out.leaf.op = ComplementOp(t.leaf.op);
      return out;
    case FilterTree::Kind::kAnd:
      out.kind = FilterTree::Kind::kOr;
      break;
    case FilterTree::Kind::kOr:
      out.kind = FilterTree::Kind::kAnd;
      break;
  }
  out.children.reserve(t.children.size());
  for (const FilterTree& c : t.children) out.children.push_back(Negate(c));
  return out;
}

FilterTree Flatten(FilterTree t) {
  if (t.kind == FilterTree::Kind::kLeaf) return t;
  std::vector<FilterTree> children;
  children.reserve(t.children.size());
  for (FilterTree& c : t.children) {
    FilterTree f = Flatten(std::move(c));
    // An empty node is a constant (AND: true, OR: false) and is kept as is,
    // so that merging it cannot change what the parent means.
    if (f.kind == t.kind && !f.children.empty()) {
      for (FilterTree& g : f.children) children.push_back(std::move(g));
    } else {
      children.push_back(std::move(f));
    }
  }
  if (children.size() == 1) return std::move(children[0]);
  t.children = std::move(children);
  return t;
}

namespace {

void AddFlat(QuerySpec* spec, FilterTree t) {
  switch (t.kind) {
    case FilterTree::Kind::kLeaf:
      spec->filters.push_back(std::move(t.leaf));
      return;
    case FilterTree::Kind::kAnd:
      for (FilterTree& c : t.children) AddFlat(spec, std::move(c));
      return;
    case FilterTree::Kind::kOr:
      spec->filter_trees.push_back(std::move(t));
      return;
  }
}

}  // namespace

void AddConjunct(QuerySpec* spec, FilterTree t) { AddFlat(spec, Flatten(std::move(t))); }

int FilterTreeDepth(const FilterTree& t) {
  int deepest = 0;
  for (const FilterTree& c : t.children) deepest = std::max(deepest, FilterTreeDepth(c));
  return 1 + deepest;
}

}  // namespace timestore
