#include "engine/filters.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <type_traits>

#include "common/status_macros.h"
#include "common/status_util.h"
#include "common/strings.h"
#include "engine/typed_filters.h"

namespace timestore {
namespace {

absl::Status LiteralMismatch(const Filter& f, ColumnType type, std::string_view got) {
  return MakeError(absl::StatusCode::kInvalidArgument, "invalid_query",
                   StrCat("filter on column \"", f.column, "\" (", ColumnTypeName(type), ") has a ",
                          got, " value"),
                   ErrorDetails(-1, f.column, ColumnTypeName(type), got));
}

std::string_view LiteralKindName(Literal::Kind k) {
  switch (k) {
    case Literal::Kind::kNull:
      return "null";
    case Literal::Kind::kBool:
      return "boolean";
    case Literal::Kind::kInt:
    case Literal::Kind::kDouble:
      return "number";
    case Literal::Kind::kString:
      return "string";
  }
  return "?";
}

// Lowers `x op d` for an integer column x and a double d that is no int64
// (fractional, beyond int64, infinite or NaN) to an integer comparison with
// the same meaning. NaN is above every number (PostgreSQL's order).
void LowerFractional(FilterOp op, double d, CompiledFilter* cf) {
  constexpr double kTwo63 = 9.223372036854775808e18;
  if (std::isnan(d)) {
    const bool below = op == FilterOp::kNeq || op == FilterOp::kLt || op == FilterOp::kLte;
    (below ? cf->always : cf->never) = true;
    return;
  }
  const double lo = std::floor(d), hi = std::ceil(d);
  switch (op) {
    case FilterOp::kEq:
      cf->never = true;
      break;
    case FilterOp::kNeq:
      cf->always = true;
      break;
    case FilterOp::kLt:  // x < 2.5  <=>  x <= 2
    case FilterOp::kLte:
      if (lo >= kTwo63) {
        cf->always = true;
      } else if (lo < -kTwo63) {
        cf->never = true;
      } else {
        cf->op = FilterOp::kLte;
        cf->ints.push_back(static_cast<int64_t>(lo));
      }
      break;
    case FilterOp::kGt:  // x > 2.5  <=>  x >= 3
    case FilterOp::kGte:
      if (hi >= kTwo63) {
        cf->never = true;
      } else if (hi <= -kTwo63) {
        cf->always = true;
      } else {
        cf->op = FilterOp::kGte;
        cf->ints.push_back(static_cast<int64_t>(hi));
      }
      break;
    default:
      break;
  }
}

// Lowers `x op NaN` for a double column x to a comparison with +Inf: NaN is
// the one value above +Inf.
void LowerNaN(FilterOp op, CompiledFilter* cf) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  switch (op) {
    case FilterOp::kEq:
    case FilterOp::kGte:  // only NaN
      cf->op = FilterOp::kGt;
      cf->doubles.push_back(kInf);
      break;
    case FilterOp::kNeq:
    case FilterOp::kLt:  // every number
      cf->op = FilterOp::kLte;
      cf->doubles.push_back(kInf);
      break;
    case FilterOp::kLte:
      cf->always = true;
      break;
    case FilterOp::kGt:
      cf->never = true;
      break;
    default:
      break;
  }
}

bool IsList(FilterOp op) { return op == FilterOp::kIn || op == FilterOp::kNotIn; }

// Keeps the rows of `sel` for which keep(row) holds.
template <typename Pred>
void Narrow(std::vector<uint32_t>* sel, Pred keep) {
  size_t out = 0;
  for (uint32_t r : *sel)
    if (keep(r)) (*sel)[out++] = r;
  sel->resize(out);
}

// The literal is never NaN (LowerNaN), so `!(v <= lit)` is `v > lit` for
// numbers and true for a NaN value: NaN is above every number.
template <typename T>
void FilterValues(const CompiledFilter& f, const T* values, const ColumnVector& c,
                  const std::vector<T>& lits, std::vector<uint32_t>* sel) {
  const uint8_t* valid = c.valid.empty() ? nullptr : c.valid.data();
  if (IsList(f.op)) {
    const bool want = f.op == FilterOp::kIn;
    Narrow(sel, [&](uint32_t r) {
      if (valid && !valid[r]) return false;
      const T v = values[r];
      bool in = false;
      for (const T& l : lits) {
        if (v == l) {
          in = true;
          break;
        }
      }
      if constexpr (std::is_same_v<T, double>) in = in || (f.nan && v != v);
      return in == want;
    });
    return;
  }
  const T lit = lits[0];
  auto run = [&](auto test) {
    if (valid) {
      Narrow(sel, [&](uint32_t r) { return valid[r] && test(values[r]); });
    } else {
      Narrow(sel, [&](uint32_t r) { return test(values[r]); });
    }
  };
  switch (f.op) {
    case FilterOp::kEq:
      run([lit](T v) { return v == lit; });
      break;
    case FilterOp::kNeq:
      run([lit](T v) { return !(v == lit); });
      break;
    case FilterOp::kLt:
      run([lit](T v) { return v < lit; });
      break;
    case FilterOp::kLte:
      run([lit](T v) { return v <= lit; });
      break;
    case FilterOp::kGt:
      run([lit](T v) { return !(v <= lit); });
      break;
    case FilterOp::kGte:
      run([lit](T v) { return !(v < lit); });
      break;
    default:
      break;
  }
}

void ApplyFilter(const CompiledFilter& f, const Chunk& chunk, std::vector<uint32_t>* sel) {
  const ColumnVector* c = chunk.column(f.col);
  bool all_null = c == nullptr || c->all_null;
  if (f.op == FilterOp::kIsNull) {
    if (!all_null) Narrow(sel, [&](uint32_t r) { return c->IsNull(r); });
    return;
  }
  if (f.op == FilterOp::kIsNotNull) {
    if (all_null) {
      sel->clear();
    } else if (c->HasNulls()) {
      Narrow(sel, [&](uint32_t r) { return !c->IsNull(r); });
    }
    return;
  }
  if (all_null || f.never) {
    sel->clear();
    return;
  }
  if (f.always) {
    if (c->HasNulls()) Narrow(sel, [&](uint32_t r) { return !c->IsNull(r); });
    return;
  }
  switch (c->type) {
    case ColumnType::kDouble:
      FilterValues<double>(f, c->doubles.data(), *c, f.doubles, sel);
      break;
    case ColumnType::kInteger:
    case ColumnType::kTimestamp:
      FilterValues<int64_t>(f, c->ints.data(), *c, f.ints, sel);
      break;
    case ColumnType::kBoolean: {
      std::vector<int64_t> lits = f.ints;
      Narrow(sel, [&](uint32_t r) {
        if (c->IsNull(r)) return false;
        int64_t v = c->bools[r];
        if (IsList(f.op)) {
          return (std::find(lits.begin(), lits.end(), v) != lits.end()) == (f.op == FilterOp::kIn);
        }
        return CompareOp<int64_t>(f.op, v, lits[0]);
      });
      break;
    }
    TIMESTORE_STRING_LIKE_CASES : {
      // Decide once per dictionary entry.
      const bool typed = c->type != ColumnType::kString && c->type != ColumnType::kUuid;
      std::vector<uint8_t> match(c->dict.size());
      for (size_t id = 0; id < c->dict.size(); ++id) {
        std::string_view s = c->dict[id];
        bool m = false;
        if (typed) {
          m = MatchTypedText(f, s);
        } else if (IsList(f.op)) {
          for (const auto& l : f.strings) m |= s == l;
          m = m == (f.op == FilterOp::kIn);
        } else {
          m = CompareOp<std::string_view>(f.op, s, f.strings[0]);
        }
        match[id] = m;
      }
      Narrow(sel, [&](uint32_t r) { return !c->IsNull(r) && match[c->ids[r]]; });
      break;
    }
  }
}

// Narrows `sel` to the rows that pass `t`. An OR evaluates each child only on
// the rows no earlier child passed, and merges what passes (both lists are
// sorted row ids, so the result is too, without duplicates).
void ApplyTree(const CompiledFilterTree& t, const Chunk& chunk, std::vector<uint32_t>* sel) {
  switch (t.kind) {
    case FilterTree::Kind::kLeaf:
      ApplyFilter(t.leaf, chunk, sel);
      return;
    case FilterTree::Kind::kAnd:
      for (const CompiledFilterTree& c : t.children) {
        if (sel->empty()) return;
        ApplyTree(c, chunk, sel);
      }
      return;
    case FilterTree::Kind::kOr: {
      std::vector<uint32_t> rest = *sel, passed, part, merged;
      for (const CompiledFilterTree& c : t.children) {
        if (rest.empty()) break;
        part = rest;
        ApplyTree(c, chunk, &part);
        if (part.empty()) continue;
        merged.clear();
        std::set_union(passed.begin(), passed.end(), part.begin(), part.end(),
                       std::back_inserter(merged));
        passed.swap(merged);
        // part is a subsequence of rest: drop it in one pass.
        size_t out = 0, k = 0;
        for (uint32_t r : rest) {
          if (k < part.size() && part[k] == r) {
            ++k;
          } else {
            rest[out++] = r;
          }
        }
        rest.resize(out);
      }
      sel->swap(passed);
      return;
    }
  }
}

}  // namespace

absl::Status InvalidQuery(std::string_view message, std::string_view column) {
  std::string details;
  if (!column.empty()) details = ErrorDetails(-1, column, "", "");
  return MakeError(absl::StatusCode::kInvalidArgument, "invalid_query", message, details);
}

absl::StatusOr<CompiledFilter> CompileFilter(const Filter& f, const Schema& schema,
                                             Precision precision) {
  CompiledFilter cf;
  cf.col = f.index;
  cf.type = schema.fields[f.index].type;
  cf.op = f.op;
  if (f.op == FilterOp::kIsNull || f.op == FilterOp::kIsNotNull) return cf;
  for (const Literal& lit : f.values) {
    // Comparing with null is unknown (API.md): such a comparison matches
    // nothing, a null in an `in` list equals nothing, and one in a `not_in`
    // list makes it match nothing (SQL's NOT IN). is_null / is_not_null are
    // the way to test for nulls.
    if (lit.kind == Literal::Kind::kNull) {
      if (f.op != FilterOp::kIn) cf.never = true;
      continue;
    }
    switch (cf.type) {
      case ColumnType::kDouble: {
        double d;
        if (lit.kind == Literal::Kind::kInt) {
          d = static_cast<double>(lit.i);
        } else if (lit.kind == Literal::Kind::kDouble) {
          d = lit.d;
        } else {
          return LiteralMismatch(f, cf.type, LiteralKindName(lit.kind));
        }
        if (!std::isnan(d)) {
          cf.doubles.push_back(d);
        } else if (IsList(f.op)) {
          cf.nan = true;
        } else {
          LowerNaN(f.op, &cf);
        }
        break;
      }
      case ColumnType::kInteger:
        if (lit.kind == Literal::Kind::kInt) {
          cf.ints.push_back(lit.i);
        } else if (lit.kind == Literal::Kind::kDouble) {
          if (std::floor(lit.d) == lit.d && lit.d >= -9.223372036854775808e18 &&
              lit.d < 9.223372036854775808e18) {
            cf.ints.push_back(static_cast<int64_t>(lit.d));
          } else if (IsList(f.op)) {
            // A fractional value in a list can never equal an integer.
          } else {
            LowerFractional(f.op, lit.d, &cf);
          }
        } else {
          return LiteralMismatch(f, cf.type, LiteralKindName(lit.kind));
        }
        break;
      case ColumnType::kTimestamp:
        if (lit.kind == Literal::Kind::kString) {
          auto ts = ParseRfc3339(lit.s);
          if (!ts.ok()) return InvalidQuery(ToStd(ts.status().message()), f.column);
          cf.ints.push_back(*ts);
        } else if (lit.kind == Literal::Kind::kInt) {
          auto ts = ScaleToNanos(lit.i, precision);
          if (!ts.ok()) return InvalidQuery(ToStd(ts.status().message()), f.column);
          cf.ints.push_back(*ts);
        } else {
          return LiteralMismatch(f, cf.type, LiteralKindName(lit.kind));
        }
        break;
      case ColumnType::kBoolean:
        if (lit.kind != Literal::Kind::kBool)
          return LiteralMismatch(f, cf.type, LiteralKindName(lit.kind));
        cf.ints.push_back(lit.b ? 1 : 0);
        break;
      case ColumnType::kString:
        if (lit.kind != Literal::Kind::kString)
          return LiteralMismatch(f, cf.type, LiteralKindName(lit.kind));
        cf.strings.push_back(lit.s);
        break;
      case ColumnType::kUuid:
      case ColumnType::kJson:
      case ColumnType::kDoubleArray:
      case ColumnType::kIntegerArray:
      case ColumnType::kStringArray:
      case ColumnType::kBooleanArray:
        RETURN_IF_ERROR(CompileTypedLiteral(f, cf.type, lit, &cf));
        break;
    }
  }
  const bool empty_list =
      cf.ints.empty() && cf.doubles.empty() && cf.strings.empty() && cf.literals.empty() && !cf.nan;
  if (f.op == FilterOp::kIn && empty_list) cf.never = true;
  if (f.op == FilterOp::kNotIn && empty_list && !cf.never) cf.always = true;
  return cf;
}

absl::StatusOr<CompiledFilterTree> CompileFilterTree(const FilterTree& t, const Schema& schema,
                                                     Precision precision) {
  CompiledFilterTree ct;
  ct.kind = t.kind;
  if (t.kind == FilterTree::Kind::kLeaf) {
    ASSIGN_OR_RETURN(ct.leaf, CompileFilter(t.leaf, schema, precision));
    return ct;
  }
  ct.children.reserve(t.children.size());
  for (const FilterTree& c : t.children) {
    ASSIGN_OR_RETURN(CompiledFilterTree cc, CompileFilterTree(c, schema, precision));
    ct.children.push_back(std::move(cc));
  }
  return ct;
}

absl::StatusOr<CompiledPredicate> CompileFilters(const QuerySpec& spec, const Schema& schema) {
  CompiledPredicate pred;
  for (const auto& f : spec.filters) {
    ASSIGN_OR_RETURN(CompiledFilter cf, CompileFilter(f, schema, spec.precision));
    pred.filters.push_back(std::move(cf));
  }
  for (const auto& t : spec.filter_trees) {
    ASSIGN_OR_RETURN(CompiledFilterTree ct, CompileFilterTree(t, schema, spec.precision));
    pred.trees.push_back(std::move(ct));
  }
  return pred;
}

void SelectRows(const Chunk& chunk, const QuerySpec& spec, const CompiledPredicate& pred,
                std::vector<uint32_t>* sel) {
  sel->clear();
  const int64_t* ts = chunk.timestamps();
  if (chunk.min_ts >= spec.start && chunk.max_ts < spec.end) {
    sel->resize(chunk.rows);
    for (uint32_t i = 0; i < chunk.rows; ++i) (*sel)[i] = i;
  } else {
    sel->reserve(chunk.rows);
    for (uint32_t i = 0; i < chunk.rows; ++i)
      if (ts[i] >= spec.start && ts[i] < spec.end) sel->push_back(i);
  }
  for (const auto& f : pred.filters) {
    if (sel->empty()) return;
    ApplyFilter(f, chunk, sel);
  }
  for (const auto& t : pred.trees) {
    if (sel->empty()) return;
    ApplyTree(t, chunk, sel);
  }
}

}  // namespace timestore
