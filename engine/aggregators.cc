#include "engine/aggregators.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/container/flat_hash_set.h"
#include "common/status_util.h"
#include "common/strings.h"
#include "engine/filters.h"
#include "engine/query_executor.h"

namespace timestore {
namespace {

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
  void Merge(const Aggregator& from, const uint32_t* map, StringArena*) override {
    const auto& f = static_cast<const CountAgg&>(from);
    for (size_t g = 0; g < f.counts_.size(); ++g) counts_[map[g]] += f.counts_[g];
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
      // Exact 128-bit sums: only a total outside int64 overflows, whatever
      // the order the values come in.
      const int64_t* v = col->ints.data();
      for (size_t i = 0; i < n; ++i) {
        if (!Valid(col, rows[i])) continue;
        uint32_t g = gids[i];
        has_[g] = 1;
        isum_[g] += v[rows[i]];
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
  void Merge(const Aggregator& from, const uint32_t* map, StringArena*) override {
    const auto& f = static_cast<const SumAgg&>(from);
    for (size_t g = 0; g < f.has_.size(); ++g) {
      if (!f.has_[g]) continue;
      const uint32_t t = map[g];
      if (out_type == ColumnType::kInteger) {
        isum_[t] += f.isum_[g];
      } else {
        dsum_[t] = has_[t] ? dsum_[t] + f.dsum_[g] : f.dsum_[g];
      }
      has_[t] = 1;
    }
  }
  void Emit(const std::vector<uint32_t>& groups, ResultColumn* out) override {
    for (uint32_t g : groups) {
      out->valid.push_back(has_[g]);
      if (out_type == ColumnType::kInteger) {
        out->ints.push_back(static_cast<int64_t>(isum_[g]));
      } else {
        out->doubles.push_back(dsum_[g]);
      }
    }
  }
  absl::Status status() const override {
    bool overflow = false;
    for (size_t g = 0; g < isum_.size() && out_type == ColumnType::kInteger; ++g) {
      overflow = overflow || isum_[g] > std::numeric_limits<int64_t>::max() ||
                 isum_[g] < std::numeric_limits<int64_t>::min();
    }
    if (!overflow) return absl::OkStatus();
    return MakeError(absl::StatusCode::kOutOfRange, "sum_overflow",
                     StrCat("sum of integer column \"", column_,
                            "\" overflows int64; use avg or a narrower time range"),
                     ErrorDetails(-1, column_, "", ""));
  }

 private:
  std::string column_;
  std::vector<uint8_t> has_;
  std::vector<double> dsum_;
  std::vector<__int128> isum_;
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
  void Merge(const Aggregator& from, const uint32_t* map, StringArena*) override {
    const auto& f = static_cast<const AvgAgg&>(from);
    for (size_t g = 0; g < f.count_.size(); ++g) {
      if (f.count_[g] == 0) continue;
      const uint32_t t = map[g];
      if (int_) {
        isum_[t] += f.isum_[g];
      } else {
        dsum_[t] = count_[t] > 0 ? dsum_[t] + f.dsum_[g] : f.dsum_[g];
      }
      count_[t] += f.count_[g];
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
        TIMESTORE_STRING_LIKE_CASES:
          strings_[g] = col->dict[col->ids[r]];
          break;
      }
    }
  }
  // `from` holds later rows: ties go as in Update.
  void Merge(const Aggregator& from, const uint32_t* map, StringArena* arena) override {
    const auto& f = static_cast<const PickAgg&>(from);
    for (size_t g = 0; g < f.has_.size(); ++g) {
      if (!f.has_[g]) continue;
      const uint32_t t = map[g];
      bool take;
      if (!has_[t]) {
        take = true;
      } else if (mode_ == Mode::kFirst) {
        take = f.ts_[g] < ts_[t];
      } else if (mode_ == Mode::kLast) {
        take = f.ts_[g] >= ts_[t];
      } else {
        const bool less = out_type == ColumnType::kDouble ? DoubleLess(f.doubles_[g], doubles_[t])
                          : IsStringLike(out_type)        ? f.strings_[g] < strings_[t]
                                                          : f.ints_[g] < ints_[t];
        const bool greater = out_type == ColumnType::kDouble
                                 ? DoubleLess(doubles_[t], f.doubles_[g])
                             : IsStringLike(out_type) ? f.strings_[g] > strings_[t]
                                                      : f.ints_[g] > ints_[t];
        take = mode_ == Mode::kMin ? less : greater;
      }
      if (!take) continue;
      has_[t] = 1;
      ts_[t] = f.ts_[g];
      doubles_[t] = f.doubles_[g];
      ints_[t] = f.ints_[g];
      strings_[t] = IsStringLike(out_type) ? arena->Intern(f.strings_[g]) : "";
    }
  }
  void Emit(const std::vector<uint32_t>& groups, ResultColumn* out) override {
    for (uint32_t g : groups) {
      out->valid.push_back(has_[g]);
      switch (out_type) {
        case ColumnType::kDouble:
          out->doubles.push_back(doubles_[g]);
          break;
        TIMESTORE_STRING_LIKE_CASES:
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
      TIMESTORE_STRING_LIKE_CASES:
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
      TIMESTORE_STRING_LIKE_CASES:
        return std::string_view(col->dict[col->ids[r]]) > strings_[g];
    }
    return false;
  }

  Mode mode_;
  std::vector<uint8_t> has_;
  std::vector<int64_t> ints_;
  std::vector<double> doubles_;
  // Views into chunk dictionaries (Update) or the query's arena (Merge).
  std::vector<std::string_view> strings_;
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
  void Merge(const Aggregator& from, const uint32_t* map, StringArena*) override {
    const auto& f = static_cast<const PercentileAgg&>(from);
    for (size_t g = 0; g < f.values_.size(); ++g) {
      auto& v = values_[map[g]];
      v.insert(v.end(), f.values_[g].begin(), f.values_[g].end());
    }
  }
  size_t MemoryBytes() const override {
    size_t bytes = values_.capacity() * sizeof(values_[0]);
    for (const auto& v : values_) bytes += v.capacity() * sizeof(double);
    return bytes;
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
        TIMESTORE_STRING_LIKE_CASES:
          strings_[gids[i]].insert(col->dict[col->ids[r]]);
          break;
      }
    }
  }
  void Merge(const Aggregator& from, const uint32_t* map, StringArena* arena) override {
    const auto& f = static_cast<const CountDistinctAgg&>(from);
    for (size_t g = 0; g < f.keys_.size(); ++g) {
      const uint32_t t = map[g];
      keys_[t].insert(f.keys_[g].begin(), f.keys_[g].end());
      for (std::string_view s : f.strings_[g]) {
        if (!strings_[t].contains(s)) strings_[t].insert(arena->Intern(s));
      }
    }
  }
  size_t MemoryBytes() const override {
    size_t bytes = keys_.capacity() * (sizeof(keys_[0]) + sizeof(strings_[0]));
    for (const auto& k : keys_) bytes += k.capacity() * 9;
    for (const auto& s : strings_) bytes += s.capacity() * 17;
    return bytes;
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

}  // namespace

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

}  // namespace timestore
