#include "engine/filters.h"

#include <algorithm>
#include <cmath>

#include "common/status_macros.h"
#include "common/status_util.h"
#include "common/strings.h"

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

// Lowers a comparison with a fractional literal on an integer column to an
// integer comparison with the same meaning.
void LowerFractional(FilterOp op, double d, CompiledFilter* cf) {
  double lo = std::floor(d), hi = std::ceil(d);
  auto clamp = [](double x) -> int64_t {
    if (x <= -9.2233720368547758e18) return std::numeric_limits<int64_t>::min();
    if (x >= 9.2233720368547758e18) return std::numeric_limits<int64_t>::max();
    return static_cast<int64_t>(x);
  };
  switch (op) {
    case FilterOp::kEq:
      cf->never = true;
      break;
    case FilterOp::kNeq:
      cf->always = true;
      break;
    case FilterOp::kLt:  // x < 2.5  <=>  x <= 2
      cf->op = FilterOp::kLte;
      cf->ints.push_back(clamp(lo));
      break;
    case FilterOp::kLte:
      cf->ints.push_back(clamp(lo));
      break;
    case FilterOp::kGt:  // x > 2.5  <=>  x >= 3
      cf->op = FilterOp::kGte;
      cf->ints.push_back(clamp(hi));
      break;
    case FilterOp::kGte:
      cf->ints.push_back(clamp(hi));
      break;
    default:
      break;
  }
}

template <typename T>
bool Compare(FilterOp op, T v, T lit) {
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

// Keeps the rows of `sel` for which keep(row) holds.
template <typename Pred>
void Narrow(std::vector<uint32_t>* sel, Pred keep) {
  size_t out = 0;
  for (uint32_t r : *sel)
    if (keep(r)) (*sel)[out++] = r;
  sel->resize(out);
}

template <typename T>
void FilterValues(const CompiledFilter& f, const T* values, const ColumnVector& c,
                  const std::vector<T>& lits, std::vector<uint32_t>* sel) {
  const uint8_t* valid = c.valid.empty() ? nullptr : c.valid.data();
  if (f.op == FilterOp::kIn) {
    Narrow(sel, [&](uint32_t r) {
      if (valid && !valid[r]) return false;
      for (const T& l : lits)
        if (values[r] == l) return true;
      return false;
    });
    return;
  }
  const T lit = lits[0];
  switch (f.op) {
#define TS_FILTER_CASE(OP, EXPR)                                                 \
  case FilterOp::OP:                                                             \
    if (valid) {                                                                 \
      Narrow(sel, [&](uint32_t r) { return valid[r] && (values[r] EXPR lit); }); \
    } else {                                                                     \
      Narrow(sel, [&](uint32_t r) { return values[r] EXPR lit; });               \
    }                                                                            \
    break;
    TS_FILTER_CASE(kEq, ==)
    TS_FILTER_CASE(kNeq, !=)
    TS_FILTER_CASE(kLt, <)
    TS_FILTER_CASE(kLte, <=)
    TS_FILTER_CASE(kGt, >)
    TS_FILTER_CASE(kGte, >=)
#undef TS_FILTER_CASE
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
        if (f.op == FilterOp::kIn) return std::find(lits.begin(), lits.end(), v) != lits.end();
        return Compare<int64_t>(f.op, v, lits[0]);
      });
      break;
    }
    case ColumnType::kString: {
      // Decide once per dictionary entry.
      std::vector<uint8_t> match(c->dict.size());
      for (size_t id = 0; id < c->dict.size(); ++id) {
        std::string_view s = c->dict[id];
        bool m = false;
        if (f.op == FilterOp::kIn) {
          for (const auto& l : f.strings) m |= s == l;
        } else {
          m = Compare<std::string_view>(f.op, s, f.strings[0]);
        }
        match[id] = m;
      }
      Narrow(sel, [&](uint32_t r) { return !c->IsNull(r) && match[c->ids[r]]; });
      break;
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
    // Comparing with null is false (API.md): such a value matches nothing.
    // is_null / is_not_null are the way to test for nulls.
    if (lit.kind == Literal::Kind::kNull) {
      if (f.op != FilterOp::kIn) cf.never = true;
      continue;
    }
    switch (cf.type) {
      case ColumnType::kDouble:
        if (lit.kind == Literal::Kind::kInt) {
          cf.doubles.push_back(static_cast<double>(lit.i));
        } else if (lit.kind == Literal::Kind::kDouble) {
          cf.doubles.push_back(lit.d);
        } else {
          return LiteralMismatch(f, cf.type, LiteralKindName(lit.kind));
        }
        break;
      case ColumnType::kInteger:
        if (lit.kind == Literal::Kind::kInt) {
          cf.ints.push_back(lit.i);
        } else if (lit.kind == Literal::Kind::kDouble) {
          if (std::floor(lit.d) == lit.d && lit.d >= -9.223372036854775808e18 &&
              lit.d < 9.223372036854775808e18) {
            cf.ints.push_back(static_cast<int64_t>(lit.d));
          } else if (f.op == FilterOp::kIn) {
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
    }
  }
  if (f.op == FilterOp::kIn && cf.ints.empty() && cf.doubles.empty() && cf.strings.empty())
    cf.never = true;
  return cf;
}

absl::StatusOr<std::vector<CompiledFilter>> CompileFilters(const QuerySpec& spec,
                                                           const Schema& schema) {
  std::vector<CompiledFilter> filters;
  for (const auto& f : spec.filters) {
    ASSIGN_OR_RETURN(CompiledFilter cf, CompileFilter(f, schema, spec.precision));
    filters.push_back(std::move(cf));
  }
  return filters;
}

// Selects the rows of `chunk` inside [start, end) that pass every filter.
void SelectRows(const Chunk& chunk, const QuerySpec& spec,
                const std::vector<CompiledFilter>& filters, std::vector<uint32_t>* sel) {
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
  for (const auto& f : filters) {
    if (sel->empty()) return;
    ApplyFilter(f, chunk, sel);
  }
}

}  // namespace timestore
