#include "engine/query_executor.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "common/status_macros.h"
#include "common/status_util.h"
#include "common/strings.h"

namespace timestore {
namespace {

absl::Status Invalid(std::string_view message, std::string_view column = "") {
  std::string details;
  if (!column.empty()) details = ErrorDetails(-1, column, "", "");
  return MakeError(absl::StatusCode::kInvalidArgument, "invalid_query", message, details);
}

absl::Status UnknownColumn(std::string_view where, std::string_view column) {
  return MakeError(absl::StatusCode::kInvalidArgument, "unknown_column",
                   StrCat("unknown column \"", column, "\" in ", where),
                   ErrorDetails(-1, column, "", ""));
}

std::string_view FnName(AggFn fn) {
  switch (fn) {
    case AggFn::kAvg:
      return "avg";
    case AggFn::kMin:
      return "min";
    case AggFn::kMax:
      return "max";
    case AggFn::kSum:
      return "sum";
    case AggFn::kCount:
      return "count";
    case AggFn::kCountDistinct:
      return "count_distinct";
    case AggFn::kMedian:
      return "median";
    case AggFn::kPercentile:
      return "percentile";
    case AggFn::kFirst:
      return "first";
    case AggFn::kLast:
      return "last";
  }
  return "?";
}

bool IsNumeric(ColumnType t) { return t == ColumnType::kDouble || t == ColumnType::kInteger; }

// Normalises a double for hashing and grouping: -0.0 -> 0.0, every NaN -> one NaN.
uint64_t DoubleKey(double d) {
  if (d == 0) d = 0;
  if (d != d) d = std::numeric_limits<double>::quiet_NaN();
  uint64_t bits;
  std::memcpy(&bits, &d, 8);
  return bits;
}

// ---------------------------------------------------------------------------
// Filters

// A filter lowered to the column's domain. Numeric comparisons run on int64
// (integer, timestamp, boolean columns) or double (double columns); strings are
// matched once per dictionary entry, then per row by id.
struct CompiledFilter {
  int col = -1;
  ColumnType type;
  FilterOp op;
  bool never = false;   // no non-null row can match (e.g. eq 2.5 on an integer column)
  bool always = false;  // every non-null row matches
  std::vector<int64_t> ints;
  std::vector<double> doubles;
  std::vector<std::string> strings;
};

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
          if (!ts.ok()) return Invalid(ToStd(ts.status().message()), f.column);
          cf.ints.push_back(*ts);
        } else if (lit.kind == Literal::Kind::kInt) {
          auto ts = ScaleToNanos(lit.i, precision);
          if (!ts.ok()) return Invalid(ToStd(ts.status().message()), f.column);
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

// ---------------------------------------------------------------------------
// Aggregators: one instance per aggregation, state per group, updated a chunk
// at a time over the selected rows.

class Aggregator {
 public:
  virtual ~Aggregator() = default;
  virtual void Grow(size_t groups) = 0;
  // `col` is null when the chunk predates the column (all null).
  virtual void Update(const Chunk& chunk, const ColumnVector* col, const uint32_t* rows,
                      const uint32_t* gids, size_t n) = 0;
  virtual void Emit(const std::vector<uint32_t>& groups, ResultColumn* out) = 0;
  virtual absl::Status status() const { return absl::OkStatus(); }
  ColumnType out_type = ColumnType::kDouble;
};

inline bool Valid(const ColumnVector* c, uint32_t r) { return !c->IsNull(r); }

class CountAgg : public Aggregator {
 public:
  explicit CountAgg(bool rows) : rows_(rows) { out_type = ColumnType::kInteger; }
  void Grow(size_t g) override { counts_.resize(g, 0); }
  void Update(const Chunk&, const ColumnVector* col, const uint32_t* rows, const uint32_t* gids,
              size_t n) override {
    if (rows_ || (col != nullptr && !col->HasNulls())) {
      for (size_t i = 0; i < n; ++i) ++counts_[gids[i]];
      return;
    }
    if (col == nullptr || col->all_null) return;
    for (size_t i = 0; i < n; ++i) counts_[gids[i]] += Valid(col, rows[i]);
  }
  void Emit(const std::vector<uint32_t>& groups, ResultColumn* out) override {
    for (uint32_t g : groups) {
      out->valid.push_back(1);
      out->ints.push_back(counts_[g]);
    }
  }

 private:
  bool rows_;
  std::vector<int64_t> counts_;
};

// Calls fn(gid, value) for every selected non-null numeric value as double.
template <typename Fn>
void ForEachNumeric(const ColumnVector* col, const uint32_t* rows, const uint32_t* gids, size_t n,
                    Fn fn) {
  if (col == nullptr || col->all_null) return;
  bool nulls = col->HasNulls();
  if (col->type == ColumnType::kDouble) {
    const double* v = col->doubles.data();
    for (size_t i = 0; i < n; ++i)
      if (!nulls || Valid(col, rows[i])) fn(gids[i], v[rows[i]]);
  } else {
    const int64_t* v = col->ints.data();
    for (size_t i = 0; i < n; ++i)
      if (!nulls || Valid(col, rows[i])) fn(gids[i], static_cast<double>(v[rows[i]]));
  }
}

// Calls add(g, value) for the valid rows of runs of equal group: `begin(g)`
// before a run of group g and `end(g)` after it, so an aggregate keeps its
// running state in registers across a run (rows of a series come in runs when
// segments are sorted by it). Values are visited in the same order as one by
// one, so sums come out bit for bit the same.
template <typename Begin, typename Add, typename End>
void ForEachNumericRun(const ColumnVector* col, const uint32_t* rows, const uint32_t* gids,
                       size_t n, Begin begin, Add add, End end) {
  if (col == nullptr || col->all_null) return;
  const bool nulls = col->HasNulls();
  auto loop = [&](auto value) {
    size_t i = 0;
    while (i < n) {
      const uint32_t g = gids[i];
      begin(g);
      for (; i < n && gids[i] == g; ++i) {
        if (!nulls || Valid(col, rows[i])) add(value(rows[i]));
      }
      end(g);
    }
  };
  if (col->type == ColumnType::kDouble) {
    const double* v = col->doubles.data();
    loop([v](uint32_t r) { return v[r]; });
  } else {
    const int64_t* v = col->ints.data();
    loop([v](uint32_t r) { return static_cast<double>(v[r]); });
  }
}

class SumAgg : public Aggregator {
 public:
  SumAgg(ColumnType t, std::string column) : column_(std::move(column)) {
    out_type = t == ColumnType::kInteger ? ColumnType::kInteger : ColumnType::kDouble;
  }
  void Grow(size_t g) override {
    has_.resize(g, 0);
    dsum_.resize(g, 0);
    isum_.resize(g, 0);
  }
  void Update(const Chunk&, const ColumnVector* col, const uint32_t* rows, const uint32_t* gids,
              size_t n) override {
    if (col == nullptr || col->all_null) return;
    if (out_type == ColumnType::kInteger) {
      const int64_t* v = col->ints.data();
      for (size_t i = 0; i < n; ++i) {
        if (!Valid(col, rows[i])) continue;
        uint32_t g = gids[i];
        has_[g] = 1;
        if (__builtin_add_overflow(isum_[g], v[rows[i]], &isum_[g])) overflow_ = true;
      }
    } else {
      bool has = false;
      double sum = 0;
      ForEachNumericRun(
          col, rows, gids, n,
          [&](uint32_t g) {
            has = has_[g];
            sum = dsum_[g];
          },
          [&](double d) {
            has = true;
            sum += d;
          },
          [&](uint32_t g) {
            has_[g] = has;
            dsum_[g] = sum;
          });
    }
  }
  void Emit(const std::vector<uint32_t>& groups, ResultColumn* out) override {
    for (uint32_t g : groups) {
      out->valid.push_back(has_[g]);
      if (out_type == ColumnType::kInteger) {
        out->ints.push_back(isum_[g]);
      } else {
        out->doubles.push_back(dsum_[g]);
      }
    }
  }
  absl::Status status() const override {
    if (!overflow_) return absl::OkStatus();
    return MakeError(absl::StatusCode::kOutOfRange, "sum_overflow",
                     StrCat("sum of integer column \"", column_,
                            "\" overflows int64; use avg or a narrower time range"),
                     ErrorDetails(-1, column_, "", ""));
  }

 private:
  std::string column_;
  bool overflow_ = false;
  std::vector<uint8_t> has_;
  std::vector<double> dsum_;
  std::vector<int64_t> isum_;
};

class AvgAgg : public Aggregator {
 public:
  explicit AvgAgg(ColumnType t) : int_(t == ColumnType::kInteger) {}
  void Grow(size_t g) override {
    count_.resize(g, 0);
    dsum_.resize(g, 0);
    isum_.resize(g, 0);
  }
  void Update(const Chunk&, const ColumnVector* col, const uint32_t* rows, const uint32_t* gids,
              size_t n) override {
    if (col == nullptr || col->all_null) return;
    if (int_) {
      // Exact 128-bit sums: an average of int64 values never overflows.
      const int64_t* v = col->ints.data();
      for (size_t i = 0; i < n; ++i) {
        if (!Valid(col, rows[i])) continue;
        ++count_[gids[i]];
        isum_[gids[i]] += v[rows[i]];
      }
    } else {
      int64_t count = 0;
      double sum = 0;
      ForEachNumericRun(
          col, rows, gids, n,
          [&](uint32_t g) {
            count = count_[g];
            sum = dsum_[g];
          },
          [&](double d) {
            ++count;
            sum += d;
          },
          [&](uint32_t g) {
            count_[g] = count;
            dsum_[g] = sum;
          });
    }
  }
  void Emit(const std::vector<uint32_t>& groups, ResultColumn* out) override {
    for (uint32_t g : groups) {
      out->valid.push_back(count_[g] > 0);
      double avg = 0;
      if (count_[g] > 0) {
        avg = int_ ? static_cast<double>(static_cast<long double>(isum_[g]) / count_[g])
                   : dsum_[g] / static_cast<double>(count_[g]);
      }
      out->doubles.push_back(avg);
    }
  }

 private:
  bool int_;
  std::vector<int64_t> count_;
  std::vector<double> dsum_;
  std::vector<__int128> isum_;
};

// min, max, first, last: they keep the column's type.
class PickAgg : public Aggregator {
 public:
  enum class Mode { kMin, kMax, kFirst, kLast };
  PickAgg(ColumnType t, Mode mode) : mode_(mode) { out_type = t; }
  void Grow(size_t g) override {
    has_.resize(g, 0);
    ints_.resize(g, 0);
    doubles_.resize(g, 0);
    strings_.resize(g);
    ts_.resize(g, 0);
  }
  void Update(const Chunk& chunk, const ColumnVector* col, const uint32_t* rows,
              const uint32_t* gids, size_t n) override {
    if (col == nullptr || col->all_null) return;
    const int64_t* ts = chunk.timestamps();
    for (size_t i = 0; i < n; ++i) {
      uint32_t r = rows[i];
      if (!Valid(col, r)) continue;
      uint32_t g = gids[i];
      bool take;
      if (!has_[g]) {
        take = true;
      } else if (mode_ == Mode::kFirst) {
        take = ts[r] < ts_[g];  // ties keep the earlier ingest
      } else if (mode_ == Mode::kLast) {
        take = ts[r] >= ts_[g];  // ties take the later ingest
      } else {
        bool less = ValueLess(col, r, g);
        bool greater = ValueGreater(col, r, g);
        take = mode_ == Mode::kMin ? less : greater;
      }
      if (!take) continue;
      has_[g] = 1;
      ts_[g] = ts[r];
      switch (col->type) {
        case ColumnType::kDouble:
          doubles_[g] = col->doubles[r];
          break;
        case ColumnType::kInteger:
        case ColumnType::kTimestamp:
          ints_[g] = col->ints[r];
          break;
        case ColumnType::kBoolean:
          ints_[g] = col->bools[r];
          break;
        case ColumnType::kString:
          strings_[g] = col->dict[col->ids[r]];
          break;
      }
    }
  }
  void Emit(const std::vector<uint32_t>& groups, ResultColumn* out) override {
    for (uint32_t g : groups) {
      out->valid.push_back(has_[g]);
      switch (out_type) {
        case ColumnType::kDouble:
          out->doubles.push_back(doubles_[g]);
          break;
        case ColumnType::kString:
          out->strings.push_back(strings_[g]);
          break;
        default:
          out->ints.push_back(ints_[g]);
      }
    }
  }

 private:
  bool ValueLess(const ColumnVector* col, uint32_t r, uint32_t g) const {
    switch (col->type) {
      case ColumnType::kDouble:
        return DoubleLess(col->doubles[r], doubles_[g]);
      case ColumnType::kInteger:
      case ColumnType::kTimestamp:
        return col->ints[r] < ints_[g];
      case ColumnType::kBoolean:
        return col->bools[r] < ints_[g];
      case ColumnType::kString:
        return std::string_view(col->dict[col->ids[r]]) < strings_[g];
    }
    return false;
  }
  bool ValueGreater(const ColumnVector* col, uint32_t r, uint32_t g) const {
    switch (col->type) {
      case ColumnType::kDouble:
        return DoubleLess(doubles_[g], col->doubles[r]);
      case ColumnType::kInteger:
      case ColumnType::kTimestamp:
        return col->ints[r] > ints_[g];
      case ColumnType::kBoolean:
        return col->bools[r] > ints_[g];
      case ColumnType::kString:
        return std::string_view(col->dict[col->ids[r]]) > strings_[g];
    }
    return false;
  }

  Mode mode_;
  std::vector<uint8_t> has_;
  std::vector<int64_t> ints_;
  std::vector<double> doubles_;
  std::vector<std::string_view> strings_;  // views into chunk dictionaries (kept alive)
  std::vector<int64_t> ts_;
};

class PercentileAgg : public Aggregator {
 public:
  explicit PercentileAgg(double p) : p_(p) {}
  void Grow(size_t g) override { values_.resize(g); }
  void Update(const Chunk&, const ColumnVector* col, const uint32_t* rows, const uint32_t* gids,
              size_t n) override {
    ForEachNumeric(col, rows, gids, n, [this](uint32_t g, double d) { values_[g].push_back(d); });
  }
  void Emit(const std::vector<uint32_t>& groups, ResultColumn* out) override {
    for (uint32_t g : groups) {
      std::vector<double>& v = values_[g];
      if (v.empty()) {
        out->valid.push_back(0);
        out->doubles.push_back(0);
        continue;
      }
      // PERCENTILE_CONT: linear interpolation between the closest ranks.
      double pos = p_ * static_cast<double>(v.size() - 1);
      size_t lo = static_cast<size_t>(std::floor(pos));
      size_t hi = std::min(lo + 1, v.size() - 1);
      std::nth_element(v.begin(), v.begin() + lo, v.end(), DoubleLess);
      double a = v[lo];
      double b = a;
      if (hi != lo) b = *std::min_element(v.begin() + lo + 1, v.end(), DoubleLess);
      double frac = pos - static_cast<double>(lo);
      out->valid.push_back(1);
      out->doubles.push_back(frac == 0 ? a : a + frac * (b - a));
    }
  }

 private:
  double p_;
  std::vector<std::vector<double>> values_;
};

class CountDistinctAgg : public Aggregator {
 public:
  CountDistinctAgg() { out_type = ColumnType::kInteger; }
  void Grow(size_t g) override {
    keys_.resize(g);
    strings_.resize(g);
  }
  void Update(const Chunk&, const ColumnVector* col, const uint32_t* rows, const uint32_t* gids,
              size_t n) override {
    if (col == nullptr || col->all_null) return;
    for (size_t i = 0; i < n; ++i) {
      uint32_t r = rows[i];
      if (!Valid(col, r)) continue;
      switch (col->type) {
        case ColumnType::kDouble:
          keys_[gids[i]].insert(DoubleKey(col->doubles[r]));
          break;
        case ColumnType::kInteger:
        case ColumnType::kTimestamp:
          keys_[gids[i]].insert(static_cast<uint64_t>(col->ints[r]));
          break;
        case ColumnType::kBoolean:
          keys_[gids[i]].insert(col->bools[r]);
          break;
        case ColumnType::kString:
          strings_[gids[i]].insert(col->dict[col->ids[r]]);
          break;
      }
    }
  }
  void Emit(const std::vector<uint32_t>& groups, ResultColumn* out) override {
    for (uint32_t g : groups) {
      out->valid.push_back(1);
      out->ints.push_back(static_cast<int64_t>(keys_[g].size() + strings_[g].size()));
    }
  }

 private:
  std::vector<absl::flat_hash_set<uint64_t>> keys_;
  std::vector<absl::flat_hash_set<std::string_view>> strings_;
};

std::unique_ptr<Aggregator> MakeAggregator(const Aggregation& a, ColumnType t) {
  switch (a.fn) {
    case AggFn::kCount:
      return std::make_unique<CountAgg>(a.column.empty());
    case AggFn::kSum:
      return std::make_unique<SumAgg>(t, a.column);
    case AggFn::kAvg:
      return std::make_unique<AvgAgg>(t);
    case AggFn::kMin:
      return std::make_unique<PickAgg>(t, PickAgg::Mode::kMin);
    case AggFn::kMax:
      return std::make_unique<PickAgg>(t, PickAgg::Mode::kMax);
    case AggFn::kFirst:
      return std::make_unique<PickAgg>(t, PickAgg::Mode::kFirst);
    case AggFn::kLast:
      return std::make_unique<PickAgg>(t, PickAgg::Mode::kLast);
    case AggFn::kMedian:
      return std::make_unique<PercentileAgg>(0.5);
    case AggFn::kPercentile:
      return std::make_unique<PercentileAgg>(a.percentile);
    case AggFn::kCountDistinct:
      return std::make_unique<CountDistinctAgg>();
  }
  return nullptr;
}

// ---------------------------------------------------------------------------
// Output helpers

void AppendValue(const ColumnVector* c, uint32_t r, ResultColumn* out) {
  bool null = c == nullptr || c->IsNull(r);
  out->valid.push_back(null ? 0 : 1);
  switch (out->type) {
    case ColumnType::kDouble:
      out->doubles.push_back(null ? 0 : c->doubles[r]);
      break;
    case ColumnType::kInteger:
    case ColumnType::kTimestamp:
      out->ints.push_back(null ? 0 : c->ints[r]);
      break;
    case ColumnType::kBoolean:
      out->ints.push_back(null ? 0 : c->bools[r]);
      break;
    case ColumnType::kString:
      out->strings.push_back(null ? std::string_view() : std::string_view(c->dict[c->ids[r]]));
      break;
  }
}

absl::StatusOr<QueryResult> ExecuteRaw(const QuerySpec& spec, const Schema& schema,
                                       const std::vector<ChunkPtr>& chunks,
                                       const std::vector<CompiledFilter>& filters,
                                       QueryResult result) {
  // Output columns: the time column, then `columns` (or every other column).
  const int time_index = schema.time_index();
  std::vector<int> out_cols = {time_index};
  if (spec.columns) {
    for (const auto& name : *spec.columns) {
      int idx = schema.IndexOf(name);
      if (idx != time_index && std::find(out_cols.begin(), out_cols.end(), idx) == out_cols.end())
        out_cols.push_back(idx);
    }
  } else {
    for (int i = 0; i < static_cast<int>(schema.fields.size()); ++i)
      if (i != time_index) out_cols.push_back(i);
  }

  struct RowRef {
    int64_t ts;
    uint32_t chunk;
    uint32_t row;
  };
  std::vector<RowRef> refs;
  std::vector<uint32_t> sel;
  for (uint32_t ci = 0; ci < chunks.size(); ++ci) {
    const Chunk& c = *chunks[ci];
    if (c.rows == 0 || c.max_ts < spec.start || c.min_ts >= spec.end) {
      ++result.stats.hot_chunks_pruned;
      continue;
    }
    ++result.stats.hot_chunks_scanned;
    result.stats.rows_scanned += c.rows;
    SelectRows(c, spec, filters, &sel);
    const int64_t* ts = c.timestamps();
    for (uint32_t r : sel) refs.push_back(RowRef{ts[r], ci, r});
  }
  // (chunk, row) is ingest order, so the sort key is unique and ties in time
  // keep ingest order in both directions.
  auto less = [desc = spec.descending](const RowRef& a, const RowRef& b) {
    if (a.ts != b.ts) return desc ? a.ts > b.ts : a.ts < b.ts;
    if (a.chunk != b.chunk) return a.chunk < b.chunk;
    return a.row < b.row;
  };
  size_t n = std::min<uint64_t>(refs.size(), spec.limit);
  if (n < refs.size()) {
    std::partial_sort(refs.begin(), refs.begin() + static_cast<ptrdiff_t>(n), refs.end(), less);
    refs.resize(n);
  } else {
    std::sort(refs.begin(), refs.end(), less);
  }

  result.columns.resize(out_cols.size());
  for (size_t k = 0; k < out_cols.size(); ++k) {
    ResultColumn& out = result.columns[k];
    out.name = schema.fields[out_cols[k]].name;
    out.type = schema.fields[out_cols[k]].type;
    out.valid.reserve(n);
    for (const RowRef& ref : refs)
      AppendValue(chunks[ref.chunk]->column(out_cols[k]), ref.row, &out);
  }
  result.rows = n;
  return result;
}

// A group's key: bucket start, one code per groupBy column, and a null mask.
// Codes: strings -> per-query string id; doubles -> normalised bits; others -> value.
absl::StatusOr<QueryResult> ExecuteDownsample(const QuerySpec& spec, const Schema& schema,
                                              const std::vector<ChunkPtr>& chunks,
                                              const std::vector<CompiledFilter>& filters,
                                              QueryResult result) {
  const Downsample& ds = *spec.downsample;
  std::vector<int> group_cols;
  for (const auto& g : ds.group_by) group_cols.push_back(schema.IndexOf(g));
  const size_t ng = group_cols.size();
  std::vector<int> agg_cols;
  std::vector<std::unique_ptr<Aggregator>> aggs;
  for (const auto& a : ds.aggregations) {
    int idx = a.column.empty() ? -1 : schema.IndexOf(a.column);
    agg_cols.push_back(idx);
    aggs.push_back(MakeAggregator(a, idx < 0 ? ColumnType::kInteger : schema.fields[idx].type));
  }

  // Per-query string ids for group values.
  absl::flat_hash_map<std::string_view, uint32_t> string_ids;
  std::vector<std::string_view> strings;
  // Group table.
  const size_t key_words = 2 + ng;  // bucket, codes..., null mask
  StringMap<uint32_t> group_index;
  std::vector<uint64_t> group_keys;  // key_words per group
  uint32_t num_groups = 0;

  std::vector<uint32_t> sel, gids;
  std::vector<std::vector<uint64_t>> local_codes(ng);  // per chunk dict id -> string id
  std::string keybuf(key_words * 8, '\0');
  uint64_t* key = reinterpret_cast<uint64_t*>(keybuf.data());
  std::string prev_key(key_words * 8, '\0');

  for (const ChunkPtr& cp : chunks) {
    const Chunk& c = *cp;
    if (c.rows == 0 || c.max_ts < spec.start || c.min_ts >= spec.end) {
      ++result.stats.hot_chunks_pruned;
      continue;
    }
    ++result.stats.hot_chunks_scanned;
    result.stats.rows_scanned += c.rows;
    SelectRows(c, spec, filters, &sel);
    if (sel.empty()) continue;
    std::vector<const ColumnVector*> gcol(ng);
    for (size_t k = 0; k < ng; ++k) {
      gcol[k] = c.column(group_cols[k]);
      if (gcol[k] != nullptr && gcol[k]->all_null) gcol[k] = nullptr;
      if (gcol[k] != nullptr && gcol[k]->type == ColumnType::kString) {
        local_codes[k].resize(gcol[k]->dict.size());
        for (size_t id = 0; id < gcol[k]->dict.size(); ++id) {
          std::string_view s = gcol[k]->dict[id];
          auto [it, inserted] = string_ids.try_emplace(s, static_cast<uint32_t>(strings.size()));
          if (inserted) strings.push_back(s);
          local_codes[k][id] = it->second;
        }
      }
    }
    const int64_t* ts = c.timestamps();
    gids.resize(sel.size());
    for (size_t i = 0; i < sel.size(); ++i) {
      uint32_t r = sel[i];
      key[0] = static_cast<uint64_t>(ds.has_interval ? FloorToMultiple(ts[r], ds.interval_ns)
                                                     : spec.start);
      uint64_t nulls = 0;
      for (size_t k = 0; k < ng; ++k) {
        const ColumnVector* g = gcol[k];
        uint64_t code = 0;
        if (g == nullptr || g->IsNull(r)) {
          nulls |= uint64_t{1} << (k & 63);
        } else {
          switch (g->type) {
            case ColumnType::kString:
              code = local_codes[k][g->ids[r]];
              break;
            case ColumnType::kDouble:
              code = DoubleKey(g->doubles[r]);
              break;
            case ColumnType::kBoolean:
              code = g->bools[r];
              break;
            default:
              code = static_cast<uint64_t>(g->ints[r]);
          }
        }
        key[1 + k] = code;
      }
      key[1 + ng] = nulls;
      // Rows of one bucket and series come in runs (segments are sorted by
      // series, then time): the previous row's group is the likely one.
      if (i > 0 && std::memcmp(prev_key.data(), keybuf.data(), keybuf.size()) == 0) {
        gids[i] = gids[i - 1];
        continue;
      }
      auto it = group_index.find(keybuf);
      if (it == group_index.end()) {
        it = group_index.emplace(keybuf, num_groups++).first;
        group_keys.insert(group_keys.end(), key, key + key_words);
      }
      gids[i] = it->second;
      std::memcpy(prev_key.data(), keybuf.data(), keybuf.size());
    }
    for (size_t a = 0; a < aggs.size(); ++a) {
      aggs[a]->Grow(num_groups);
      const ColumnVector* col = agg_cols[a] < 0 ? nullptr : c.column(agg_cols[a]);
      aggs[a]->Update(c, col, sel.data(), gids.data(), sel.size());
    }
  }
  for (auto& a : aggs) {
    a->Grow(num_groups);
    RETURN_IF_ERROR(a->status());
  }

  // Order: bucket (asc/desc), then group values ascending, nulls last.
  std::vector<uint32_t> order(num_groups);
  for (uint32_t g = 0; g < num_groups; ++g) order[g] = g;
  auto key_of = [&](uint32_t g) { return &group_keys[static_cast<size_t>(g) * key_words]; };
  std::vector<ColumnType> gtypes;
  for (int idx : group_cols) gtypes.push_back(schema.fields[idx].type);
  auto less = [&](uint32_t a, uint32_t b) {
    const uint64_t* ka = key_of(a);
    const uint64_t* kb = key_of(b);
    int64_t ba = static_cast<int64_t>(ka[0]), bb = static_cast<int64_t>(kb[0]);
    if (ba != bb) return spec.descending ? ba > bb : ba < bb;
    for (size_t k = 0; k < ng; ++k) {
      bool na = (ka[1 + ng] >> (k & 63)) & 1, nb = (kb[1 + ng] >> (k & 63)) & 1;
      if (na != nb) return nb;  // nulls last
      if (na) continue;
      uint64_t ca = ka[1 + k], cb = kb[1 + k];
      if (ca == cb) continue;
      switch (gtypes[k]) {
        case ColumnType::kString:
          return strings[ca] < strings[cb];
        case ColumnType::kDouble: {
          double da, db;
          std::memcpy(&da, &ca, 8);
          std::memcpy(&db, &cb, 8);
          return DoubleLess(da, db);
        }
        case ColumnType::kBoolean:
          return ca < cb;
        default:
          return static_cast<int64_t>(ca) < static_cast<int64_t>(cb);
      }
    }
    return false;
  };
  size_t n = std::min<uint64_t>(order.size(), spec.limit);
  if (n < order.size()) {
    std::partial_sort(order.begin(), order.begin() + static_cast<ptrdiff_t>(n), order.end(), less);
    order.resize(n);
  } else {
    std::sort(order.begin(), order.end(), less);
  }

  // Columns: time (bucket start), groupBy columns, aggregations.
  result.columns.resize(1 + ng + aggs.size());
  ResultColumn& tcol = result.columns[0];
  tcol.name = schema.time_column;
  tcol.type = ColumnType::kTimestamp;
  for (uint32_t g : order) {
    tcol.valid.push_back(1);
    tcol.ints.push_back(static_cast<int64_t>(key_of(g)[0]));
  }
  for (size_t k = 0; k < ng; ++k) {
    ResultColumn& out = result.columns[1 + k];
    out.name = ds.group_by[k];
    out.type = gtypes[k];
    for (uint32_t g : order) {
      const uint64_t* key_g = key_of(g);
      bool null = (key_g[1 + ng] >> (k & 63)) & 1;
      uint64_t code = key_g[1 + k];
      out.valid.push_back(null ? 0 : 1);
      switch (out.type) {
        case ColumnType::kString:
          out.strings.push_back(null ? std::string_view() : strings[code]);
          break;
        case ColumnType::kDouble: {
          double d;
          std::memcpy(&d, &code, 8);
          out.doubles.push_back(null ? 0 : d);
          break;
        }
        default:
          out.ints.push_back(null ? 0 : static_cast<int64_t>(code));
      }
    }
  }
  for (size_t a = 0; a < aggs.size(); ++a) {
    ResultColumn& out = result.columns[1 + ng + a];
    out.name = ds.aggregations[a].alias;
    out.type = aggs[a]->out_type;
    aggs[a]->Emit(order, &out);
  }
  result.rows = n;
  return result;
}

}  // namespace

absl::Status ValidateQuery(QuerySpec* spec, const Schema& schema) {
  if (spec->end <= spec->start) {
    return Invalid("timeRange.end must be later than timeRange.start (the range is [start, end))");
  }
  if (spec->columns) {
    for (const auto& c : *spec->columns)
      if (schema.IndexOf(c) < 0) return UnknownColumn("columns", c);
  }
  for (auto& f : spec->filters) {
    f.index = schema.IndexOf(f.column);
    if (f.index < 0) return UnknownColumn("filters", f.column);
    if ((f.op == FilterOp::kEq || f.op == FilterOp::kNeq || f.op == FilterOp::kLt ||
         f.op == FilterOp::kLte || f.op == FilterOp::kGt || f.op == FilterOp::kGte) &&
        f.values.size() != 1) {
      return Invalid(StrCat("filter on column \"", f.column, "\" needs exactly one value"),
                     f.column);
    }
    RETURN_IF_ERROR(CompileFilter(f, schema, spec->precision).status());
  }
  if (!spec->downsample) return absl::OkStatus();
  Downsample& ds = *spec->downsample;
  if (ds.aggregations.empty()) return Invalid("downsample.aggregations must not be empty");
  std::vector<std::string> names = {schema.time_column};
  for (const auto& g : ds.group_by) {
    if (schema.IndexOf(g) < 0) return UnknownColumn("downsample.groupBy", g);
    if (std::find(names.begin(), names.end(), g) != names.end())
      return Invalid(StrCat("column \"", g, "\" appears twice in the output"), g);
    names.push_back(g);
  }
  for (auto& a : ds.aggregations) {
    if (a.column.empty()) {
      if (a.fn != AggFn::kCount) {
        return Invalid(StrCat("aggregation \"", FnName(a.fn), "\" needs a column"));
      }
    } else {
      int idx = schema.IndexOf(a.column);
      if (idx < 0) return UnknownColumn("downsample.aggregations", a.column);
      ColumnType t = schema.fields[idx].type;
      bool numeric_only = a.fn == AggFn::kAvg || a.fn == AggFn::kSum || a.fn == AggFn::kMedian ||
                          a.fn == AggFn::kPercentile;
      if (numeric_only && !IsNumeric(t)) {
        return MakeError(absl::StatusCode::kInvalidArgument, "invalid_query",
                         StrCat("aggregation \"", FnName(a.fn), "\" needs a numeric column; \"",
                                a.column, "\" is ", ColumnTypeName(t)),
                         ErrorDetails(-1, a.column, "double or integer", ColumnTypeName(t)));
      }
    }
    if (a.fn == AggFn::kPercentile && !(a.percentile >= 0 && a.percentile <= 1)) {
      return Invalid("percentile must be between 0 and 1", a.column);
    }
    if (a.alias.empty()) {
      a.alias = a.column.empty() ? std::string(FnName(a.fn)) : StrCat(FnName(a.fn), "_", a.column);
    }
    if (std::find(names.begin(), names.end(), a.alias) != names.end()) {
      return Invalid(StrCat("output column \"", a.alias,
                            "\" appears twice; give the aggregation a distinct alias"),
                     a.alias);
    }
    names.push_back(a.alias);
  }
  return absl::OkStatus();
}

absl::StatusOr<QueryResult> ExecuteQuery(const QuerySpec& spec, const Schema& schema,
                                         const std::vector<ChunkPtr>& chunks) {
  auto t0 = std::chrono::steady_clock::now();
  std::vector<CompiledFilter> filters;
  for (const auto& f : spec.filters) {
    ASSIGN_OR_RETURN(CompiledFilter cf, CompileFilter(f, schema, spec.precision));
    filters.push_back(std::move(cf));
  }
  QueryResult result;
  result.downsampled = spec.downsample.has_value();
  result.keepalive = chunks;
  absl::StatusOr<QueryResult> out =
      spec.downsample ? ExecuteDownsample(spec, schema, chunks, filters, std::move(result))
                      : ExecuteRaw(spec, schema, chunks, filters, std::move(result));
  if (out.ok()) {
    out->stats.elapsed_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  }
  return out;
}

}  // namespace timestore
