// The query executor against a straightforward reference implementation on
// random data: nulls, NaN, ±Inf, -0.0, int64 extremes, several chunks, every
// aggregation, filters, groupBy, order and limit.
#include "engine/query_executor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <type_traits>

#include "common/strings.h"

namespace timestore {
namespace {

struct Row {
  int64_t ts;
  std::optional<double> d;
  std::optional<int64_t> i;
  std::optional<std::string> s;
  std::optional<bool> b;
};

Schema TestSchema() {
  Schema s;
  s.version = 1;
  s.time_column = "ts";
  s.fields = {{"ts", ColumnType::kTimestamp},
              {"d", ColumnType::kDouble},
              {"i", ColumnType::kInteger},
              {"s", ColumnType::kString},
              {"b", ColumnType::kBoolean}};
  return s;
}

ChunkPtr MakeChunk(const std::vector<Row>& rows, const Schema& schema) {
  ColumnBuilder ts(ColumnType::kTimestamp), d(ColumnType::kDouble), i(ColumnType::kInteger),
      s(ColumnType::kString), b(ColumnType::kBoolean);
  for (const Row& r : rows) {
    ts.AppendInt(r.ts);
    r.d ? d.AppendDouble(*r.d) : d.AppendNull();
    r.i ? i.AppendInt(*r.i) : i.AppendNull();
    r.s ? s.AppendString(*r.s) : s.AppendNull();
    r.b ? b.AppendBool(*r.b) : b.AppendNull();
  }
  auto c = std::make_shared<Chunk>();
  c->rows = static_cast<uint32_t>(rows.size());
  c->time_index = 0;
  c->columns.push_back(ts.Finish());
  c->columns.push_back(d.Finish());
  c->columns.push_back(i.Finish());
  c->columns.push_back(s.Finish());
  c->columns.push_back(b.Finish());
  c->ComputeStats();
  return c;
}

// A cell rendered canonically, so results compare exactly (NaN equals NaN).
using Cell = std::string;
Cell Null() { return "null"; }
Cell D(double v) {
  if (v != v) return "d:nan";
  if (v == 0) v = 0;  // -0.0 and 0.0 print alike
  return StrCat("d:", v);
}
Cell I(int64_t v) { return StrCat("i:", v); }
Cell S(std::string_view v) { return StrCat("s:", v); }
Cell B(bool v) { return v ? "b:1" : "b:0"; }
Cell T(int64_t v) { return StrCat("t:", v); }

std::vector<std::vector<Cell>> Render(const QueryResult& r) {
  std::vector<std::vector<Cell>> out(r.rows);
  for (size_t row = 0; row < r.rows; ++row) {
    for (const auto& c : r.columns) {
      if (!c.valid[row]) {
        out[row].push_back(Null());
        continue;
      }
      switch (c.type) {
        case ColumnType::kDouble:
          out[row].push_back(D(c.doubles[row]));
          break;
        case ColumnType::kInteger:
          out[row].push_back(I(c.ints[row]));
          break;
        case ColumnType::kTimestamp:
          out[row].push_back(T(c.ints[row]));
          break;
        case ColumnType::kBoolean:
          out[row].push_back(B(c.ints[row] != 0));
          break;
        case ColumnType::kString:
          out[row].push_back(S(c.strings[row]));
          break;
      }
    }
  }
  return out;
}

// ---- the reference -------------------------------------------------------

// Doubles compare in PostgreSQL's total order (NaN = NaN, above every number).
bool Matches(const Row& r, const Filter& f) {
  auto cmp = [&](auto v, auto lit) {
    auto less = [](auto a, auto b) {
      if constexpr (std::is_same_v<decltype(a), double>) {
        return DoubleLess(a, b);
      } else {
        return a < b;
      }
    };
    switch (f.op) {
      case FilterOp::kEq:
        return !less(v, lit) && !less(lit, v);
      case FilterOp::kNeq:
        return less(v, lit) || less(lit, v);
      case FilterOp::kLt:
        return less(v, lit);
      case FilterOp::kLte:
        return !less(lit, v);
      case FilterOp::kGt:
        return less(lit, v);
      case FilterOp::kGte:
        return !less(v, lit);
      default:
        return false;
    }
  };
  bool is_null = (f.column == "d" && !r.d) || (f.column == "i" && !r.i) ||
                 (f.column == "s" && !r.s) || (f.column == "b" && !r.b);
  if (f.op == FilterOp::kIsNull) return is_null;
  if (f.op == FilterOp::kIsNotNull) return !is_null;
  if (is_null) return false;
  const bool list = f.op == FilterOp::kIn || f.op == FilterOp::kNotIn;
  auto one = [&](const Literal& l) -> bool {
    if (f.column == "d") {
      double lit = l.kind == Literal::Kind::kInt ? static_cast<double>(l.i) : l.d;
      return list ? *r.d == lit : cmp(*r.d, lit);
    }
    if (f.column == "i") {
      if (l.kind == Literal::Kind::kInt) return list ? *r.i == l.i : cmp(*r.i, l.i);
      long double v = static_cast<long double>(*r.i), lit = l.d;
      return list ? v == lit : cmp(v, lit);
    }
    if (f.column == "ts") return cmp(r.ts, l.i);
    if (f.column == "s") return list ? *r.s == l.s : cmp(*r.s, l.s);
    return list ? *r.b == l.b : cmp(*r.b, l.b);
  };
  if (list) {
    bool in = false;
    for (const auto& l : f.values) in = in || one(l);
    return in == (f.op == FilterOp::kIn);
  }
  return one(f.values[0]);
}

struct Value {  // one non-null value with its time and ingest position
  int64_t ts;
  size_t pos;
  std::optional<double> d;
  std::optional<int64_t> i;
  std::optional<std::string> s;
  std::optional<bool> b;
};

std::optional<Value> Get(const Row& r, size_t pos, const std::string& col) {
  Value v{r.ts, pos, {}, {}, {}, {}};
  if (col == "d") {
    if (!r.d) return std::nullopt;
    v.d = r.d;
  } else if (col == "i") {
    if (!r.i) return std::nullopt;
    v.i = r.i;
  } else if (col == "s") {
    if (!r.s) return std::nullopt;
    v.s = r.s;
  } else if (col == "b") {
    if (!r.b) return std::nullopt;
    v.b = r.b;
  } else {
    v.i = r.ts;  // the time column
  }
  return v;
}

Cell CellOf(const Value& v, const std::string& col) {
  if (col == "d") return D(*v.d);
  if (col == "i") return I(*v.i);
  if (col == "s") return S(*v.s);
  if (col == "b") return B(*v.b);
  return T(*v.i);
}

double AsDouble(const Value& v) { return v.d ? *v.d : static_cast<double>(*v.i); }

bool ValueLess(const Value& a, const Value& b) {
  if (a.d) return DoubleLess(*a.d, *b.d);
  if (a.s) return *a.s < *b.s;
  if (a.b) return *a.b < *b.b;
  return *a.i < *b.i;
}

// Returns the cell, or nullopt for "the query must fail" (sum overflow).
// Doubles add up a chunk at a time (each chunk is a morsel aggregated on its
// own), then the chunk sums in chunk order: `chunk_of[pos]` is a row's chunk.
double ChunkedSum(const std::vector<Value>& vals, const std::vector<uint32_t>& chunk_of) {
  double total = 0, part = 0;
  bool any = false;
  for (size_t k = 0; k < vals.size(); ++k) {
    part += *vals[k].d;
    if (k + 1 == vals.size() || chunk_of[vals[k + 1].pos] != chunk_of[vals[k].pos]) {
      total = any ? total + part : part;
      any = true;
      part = 0;
    }
  }
  return total;
}

std::optional<Cell> Aggregate(const Aggregation& a, const std::vector<Value>& vals, size_t rows,
                              const std::vector<uint32_t>& chunk_of) {
  switch (a.fn) {
    case AggFn::kCount:
      return I(a.column.empty() ? static_cast<int64_t>(rows) : static_cast<int64_t>(vals.size()));
    case AggFn::kCountDistinct: {
      std::set<std::string> seen;
      for (const auto& v : vals) seen.insert(CellOf(v, a.column));
      return I(static_cast<int64_t>(seen.size()));
    }
    default:
      break;
  }
  if (vals.empty()) return Null();
  switch (a.fn) {
    case AggFn::kSum: {
      if (a.column == "i") {
        // Exact; only a total outside int64 overflows.
        __int128 s = 0;
        for (const auto& v : vals) s += *v.i;
        if (s > std::numeric_limits<int64_t>::max() || s < std::numeric_limits<int64_t>::min())
          return std::nullopt;
        return I(static_cast<int64_t>(s));
      }
      return D(ChunkedSum(vals, chunk_of));
    }
    case AggFn::kAvg: {
      if (a.column == "i") {
        __int128 s = 0;
        for (const auto& v : vals) s += *v.i;
        return D(static_cast<double>(static_cast<long double>(s) / vals.size()));
      }
      return D(ChunkedSum(vals, chunk_of) / static_cast<double>(vals.size()));
    }
    case AggFn::kMin:
    case AggFn::kMax: {
      Value best = vals[0];
      for (const auto& v : vals) {
        if (a.fn == AggFn::kMin ? ValueLess(v, best) : ValueLess(best, v)) best = v;
      }
      return CellOf(best, a.column);
    }
    case AggFn::kFirst:
    case AggFn::kLast: {
      Value best = vals[0];
      for (const auto& v : vals) {
        if (a.fn == AggFn::kFirst ? v.ts < best.ts : v.ts >= best.ts) best = v;
      }
      return CellOf(best, a.column);
    }
    case AggFn::kMedian:
    case AggFn::kPercentile: {
      double p = a.fn == AggFn::kMedian ? 0.5 : a.percentile;
      std::vector<double> xs;
      for (const auto& v : vals) xs.push_back(AsDouble(v));
      std::sort(xs.begin(), xs.end(), DoubleLess);
      double pos = p * static_cast<double>(xs.size() - 1);
      size_t lo = static_cast<size_t>(std::floor(pos));
      size_t hi = std::min(lo + 1, xs.size() - 1);
      double frac = pos - static_cast<double>(lo);
      return D(frac == 0 ? xs[lo] : xs[lo] + frac * (xs[hi] - xs[lo]));
    }
    default:
      return Null();
  }
}

struct GroupVal {  // a group column value: null sorts last
  std::optional<Value> v;
};

// Returns nullopt when the query must fail.
std::optional<std::vector<std::vector<Cell>>> Reference(const QuerySpec& spec,
                                                        const std::vector<Row>& rows,
                                                        const std::vector<uint32_t>& chunk_of) {
  std::vector<size_t> sel;
  for (size_t p = 0; p < rows.size(); ++p) {
    const Row& r = rows[p];
    if (r.ts < spec.start || r.ts >= spec.end) continue;
    bool ok = true;
    for (const auto& f : spec.filters) ok = ok && Matches(r, f);
    if (ok) sel.push_back(p);
  }
  std::vector<std::vector<Cell>> out;
  if (!spec.downsample) {
    std::stable_sort(sel.begin(), sel.end(), [&](size_t a, size_t b) {
      return spec.descending ? rows[a].ts > rows[b].ts : rows[a].ts < rows[b].ts;
    });
    std::vector<std::string> cols = {"d", "i", "s", "b"};
    if (spec.columns) {
      cols.clear();
      for (const auto& c : *spec.columns)
        if (c != "ts" && std::find(cols.begin(), cols.end(), c) == cols.end()) cols.push_back(c);
    }
    for (size_t k = 0; k < sel.size() && k < spec.limit; ++k) {
      const Row& r = rows[sel[k]];
      std::vector<Cell> line = {T(r.ts)};
      for (const auto& c : cols) {
        auto v = Get(r, sel[k], c);
        line.push_back(v ? CellOf(*v, c) : Null());
      }
      out.push_back(std::move(line));
    }
    return out;
  }
  const Downsample& ds = *spec.downsample;
  // Group key: bucket + rendered group cells (for identity) + values (for order).
  struct Group {
    int64_t bucket;
    std::vector<std::optional<Value>> keys;
    std::vector<size_t> members;
  };
  std::map<std::pair<int64_t, std::vector<Cell>>, Group> groups;
  for (size_t p : sel) {
    const Row& r = rows[p];
    int64_t bucket = ds.has_interval ? FloorToMultiple(r.ts, ds.interval_ns) : spec.start;
    std::vector<Cell> id;
    std::vector<std::optional<Value>> keys;
    for (const auto& g : ds.group_by) {
      auto v = Get(r, p, g);
      id.push_back(v ? CellOf(*v, g) : Null());
      keys.push_back(v);
    }
    auto& grp = groups[{bucket, id}];
    grp.bucket = bucket;
    grp.keys = keys;
    grp.members.push_back(p);
  }
  std::vector<const Group*> order;
  for (const auto& [k, g] : groups) order.push_back(&g);
  std::sort(order.begin(), order.end(), [&](const Group* a, const Group* b) {
    if (a->bucket != b->bucket)
      return spec.descending ? a->bucket > b->bucket : a->bucket < b->bucket;
    for (size_t k = 0; k < a->keys.size(); ++k) {
      const auto& x = a->keys[k];
      const auto& y = b->keys[k];
      if (x.has_value() != y.has_value()) return x.has_value();  // nulls last
      if (!x) continue;
      if (ValueLess(*x, *y)) return true;
      if (ValueLess(*y, *x)) return false;
    }
    return false;
  });
  for (size_t n = 0; n < order.size() && n < spec.limit; ++n) {
    const Group& g = *order[n];
    std::vector<Cell> line = {T(g.bucket)};
    for (size_t k = 0; k < g.keys.size(); ++k)
      line.push_back(g.keys[k] ? CellOf(*g.keys[k], ds.group_by[k]) : Null());
    for (const auto& a : ds.aggregations) {
      std::vector<Value> vals;
      for (size_t p : g.members) {
        if (a.column.empty()) continue;
        if (auto v = Get(rows[p], p, a.column)) vals.push_back(*v);
      }
      auto cell = Aggregate(a, vals, g.members.size(), chunk_of);
      if (!cell) return std::nullopt;
      line.push_back(*cell);
    }
    out.push_back(std::move(line));
  }
  // A sum that overflows in any group fails the query, output or not.
  for (const auto& a : ds.aggregations) {
    if (a.fn != AggFn::kSum || a.column != "i") continue;
    for (const auto& [k, g] : groups) {
      std::vector<Value> vals;
      for (size_t p : g.members)
        if (auto v = Get(rows[p], p, "i")) vals.push_back(*v);
      if (!Aggregate(a, vals, g.members.size(), chunk_of)) return std::nullopt;
    }
  }
  return out;
}

// ---- random data and queries ------------------------------------------------

class Gen {
 public:
  explicit Gen(uint64_t seed) : rng_(seed) {}
  int64_t Int(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

  double Double() {
    static const double kSpecial[] = {std::numeric_limits<double>::quiet_NaN(),
                                      std::numeric_limits<double>::infinity(),
                                      -std::numeric_limits<double>::infinity(),
                                      -0.0,
                                      0.0,
                                      std::numeric_limits<double>::denorm_min(),
                                      1e308,
                                      -1e308};
    if (Chance(0.1)) return kSpecial[Int(0, 7)];
    return static_cast<double>(Int(-50, 50)) / 2;  // many ties
  }
  int64_t Integer(bool extremes) {
    if (extremes && Chance(0.05))
      return Chance(0.5) ? std::numeric_limits<int64_t>::max()
                         : std::numeric_limits<int64_t>::min();
    return Int(-20, 20);
  }
  std::string String() {
    static const std::string kStrings[] = {
        "", "a", "b", "host_1", "host_10", "host_2", "Ünïcödé", "zz", std::string(300, 'x')};
    int k = static_cast<int>(Int(0, 8));
    return kStrings[k];
  }

  std::vector<Row> Rows(size_t n, bool extremes) {
    std::vector<Row> rows;
    for (size_t k = 0; k < n; ++k) {
      Row r;
      r.ts = Int(-5, 200) * 1'000'000'000;  // a few seconds before 1970 too; many equal times
      if (!Chance(0.15)) r.d = Double();
      if (!Chance(0.15)) r.i = Integer(extremes);
      if (!Chance(0.15)) r.s = String();
      if (!Chance(0.15)) r.b = Chance(0.5);
      rows.push_back(r);
    }
    return rows;
  }

  Literal LiteralFor(const std::string& col) {
    Literal l;
    if (col == "d") {
      if (Chance(0.3)) {
        l.kind = Literal::Kind::kInt;
        l.i = Int(-10, 10);
      } else {
        l.kind = Literal::Kind::kDouble;
        l.d = static_cast<double>(Int(-50, 50)) / 2;
      }
    } else if (col == "i") {
      if (Chance(0.3)) {
        l.kind = Literal::Kind::kDouble;
        l.d = static_cast<double>(Int(-40, 40)) / 4;
      } else {
        l.kind = Literal::Kind::kInt;
        l.i = Int(-20, 20);
      }
    } else if (col == "s") {
      l.kind = Literal::Kind::kString;
      l.s = String();
    } else if (col == "b") {
      l.kind = Literal::Kind::kBool;
      l.b = Chance(0.5);
    } else {
      l.kind = Literal::Kind::kInt;
      l.i = Int(-5, 200) * 1'000'000'000;
    }
    return l;
  }

  QuerySpec Query() {
    QuerySpec q;
    q.precision = Precision::kNanoseconds;
    q.start = Int(-10, 100) * 1'000'000'000;
    q.end = q.start + Int(1, 250) * 1'000'000'000;
    static const std::vector<std::string> kCols = {"ts", "d", "i", "s", "b"};
    int nf = static_cast<int>(Int(0, 2));
    for (int k = 0; k < nf; ++k) {
      Filter f;
      f.column = kCols[Int(0, 4)];
      f.op = static_cast<FilterOp>(Int(0, 9));
      if (f.column == "ts" && (f.op == FilterOp::kIn || f.op == FilterOp::kNotIn ||
                               f.op == FilterOp::kIsNull || f.op == FilterOp::kIsNotNull))
        f.op = FilterOp::kGte;
      if (f.op == FilterOp::kIn || f.op == FilterOp::kNotIn) {
        int n = static_cast<int>(Int(0, 3));
        for (int j = 0; j < n; ++j) f.values.push_back(LiteralFor(f.column));
      } else if (f.op != FilterOp::kIsNull && f.op != FilterOp::kIsNotNull) {
        f.values.push_back(LiteralFor(f.column));
      }
      q.filters.push_back(f);
    }
    q.descending = Chance(0.3);
    q.limit = Chance(0.3) ? static_cast<uint64_t>(Int(0, 20)) : 100000;
    if (Chance(0.3)) {
      if (Chance(0.5)) q.columns = std::vector<std::string>{"s", "ts", "d"};
      return q;
    }
    Downsample ds;
    ds.has_interval = Chance(0.7);
    ds.interval_ns = Int(1, 60) * 1'000'000'000;
    static const std::vector<std::string> kGroups = {"s", "b", "i", "d"};
    for (const auto& g : kGroups)
      if (Chance(0.3)) ds.group_by.push_back(g);
    static const AggFn kFns[] = {
        AggFn::kAvg,           AggFn::kMin,    AggFn::kMax,        AggFn::kSum,   AggFn::kCount,
        AggFn::kCountDistinct, AggFn::kMedian, AggFn::kPercentile, AggFn::kFirst, AggFn::kLast};
    for (AggFn fn : kFns) {
      for (const std::string col : {"d", "i", "s", "b", "ts", ""}) {
        bool numeric = fn == AggFn::kAvg || fn == AggFn::kSum || fn == AggFn::kMedian ||
                       fn == AggFn::kPercentile;
        if (numeric && col != "d" && col != "i") continue;
        if (col.empty() && fn != AggFn::kCount) continue;
        if (!Chance(0.3)) continue;
        Aggregation a;
        a.fn = fn;
        a.column = col;
        a.percentile = static_cast<double>(Int(0, 100)) / 100;
        a.alias = StrCat("a", ds.aggregations.size());
        ds.aggregations.push_back(a);
      }
    }
    if (ds.aggregations.empty())
      ds.aggregations.push_back(Aggregation{AggFn::kCount, "", 0.5, "n"});
    q.downsample = ds;
    return q;
  }

 private:
  std::mt19937_64 rng_;
};

std::string Describe(const std::vector<std::vector<Cell>>& t) {
  std::string s;
  for (const auto& row : t) {
    for (const auto& c : row) StrAppend(&s, c, " | ");
    s += "\n";
  }
  return s;
}

void RunRandom(uint64_t seed, bool extremes) {
  Gen gen(seed);
  Schema schema = TestSchema();
  std::vector<Row> all;
  std::vector<uint32_t> chunk_of;
  std::vector<ChunkPtr> chunks;
  int nchunks = static_cast<int>(gen.Int(1, 5));
  for (int c = 0; c < nchunks; ++c) {
    auto rows = gen.Rows(static_cast<size_t>(gen.Int(0, 120)), extremes);
    chunks.push_back(MakeChunk(rows, schema));
    all.insert(all.end(), rows.begin(), rows.end());
    chunk_of.resize(all.size(), static_cast<uint32_t>(c));
  }
  for (int q = 0; q < 40; ++q) {
    QuerySpec spec = gen.Query();
    ASSERT_TRUE(ValidateQuery(&spec, schema).ok()) << ValidateQuery(&spec, schema).message();
    auto got = ExecuteQuery(spec, schema, chunks);
    auto want = Reference(spec, all, chunk_of);
    SCOPED_TRACE(StrCat("seed ", seed, " query ", q));
    if (!want) {
      ASSERT_FALSE(got.ok()) << "expected a sum overflow error";
      EXPECT_EQ(got.status().code(), absl::StatusCode::kOutOfRange);
      continue;
    }
    ASSERT_TRUE(got.ok()) << got.status().message();
    auto table = Render(*got);
    ASSERT_EQ(table, *want) << "got:\n" << Describe(table) << "want:\n" << Describe(*want);
  }
}

TEST(QueryExecutorTest, MatchesReferenceOnRandomData) {
  for (uint64_t seed = 1; seed <= 60; ++seed) RunRandom(seed, false);
}

TEST(QueryExecutorTest, MatchesReferenceWithInt64Extremes) {
  for (uint64_t seed = 100; seed <= 130; ++seed) RunRandom(seed, true);
}

TEST(QueryExecutorTest, EmptyAndAllNullInputs) {
  Schema schema = TestSchema();
  std::vector<Row> rows = {{5, {}, {}, {}, {}}, {6, {}, {}, {}, {}}};
  std::vector<ChunkPtr> chunks = {MakeChunk({}, schema), MakeChunk(rows, schema)};
  QuerySpec spec;
  spec.start = 0;
  spec.end = 100;
  Downsample ds;
  for (AggFn fn : {AggFn::kAvg, AggFn::kSum, AggFn::kMin, AggFn::kCount, AggFn::kCountDistinct,
                   AggFn::kMedian, AggFn::kFirst})
    ds.aggregations.push_back(Aggregation{fn, "d", 0.5, ""});
  spec.downsample = ds;
  ASSERT_TRUE(ValidateQuery(&spec, schema).ok());
  auto r = ExecuteQuery(spec, schema, chunks);
  ASSERT_TRUE(r.ok());
  // One bucket (no interval): aggregates over no values are null, counts are 0.
  EXPECT_EQ(
      Render(*r),
      (std::vector<std::vector<Cell>>{{T(0), Null(), Null(), Null(), I(0), I(0), Null(), Null()}}));
  EXPECT_EQ(r->columns[1].name, "avg_d");
}

TEST(QueryExecutorTest, PercentileIsContinuous) {
  Schema schema = TestSchema();
  std::vector<Row> rows;
  for (int k = 1; k <= 4; ++k) rows.push_back({k, static_cast<double>(k * 10), {}, {}, {}});
  std::vector<ChunkPtr> chunks = {MakeChunk(rows, schema)};
  QuerySpec spec;
  spec.start = 0;
  spec.end = 10;
  Downsample ds;
  ds.aggregations = {{AggFn::kPercentile, "d", 0.25, "p25"},
                     {AggFn::kMedian, "d", 0.5, "med"},
                     {AggFn::kPercentile, "d", 1.0, "p100"}};
  spec.downsample = ds;
  ASSERT_TRUE(ValidateQuery(&spec, schema).ok());
  auto r = ExecuteQuery(spec, schema, chunks);
  ASSERT_TRUE(r.ok());
  // PERCENTILE_CONT over 10,20,30,40: p25 = 17.5, median = 25, p100 = 40.
  EXPECT_EQ(Render(*r), (std::vector<std::vector<Cell>>{{T(0), D(17.5), D(25), D(40)}}));
}

TEST(QueryExecutorTest, WeeksStartOnThursday) {
  Schema schema = TestSchema();
  // 2024-05-01 (a Wednesday) 12:00 UTC falls in the week that began Thursday 2024-04-25.
  int64_t ts = 1714564800LL * 1'000'000'000;
  std::vector<ChunkPtr> chunks = {MakeChunk({{ts, 1.0, {}, {}, {}}}, schema)};
  QuerySpec spec;
  spec.start = ts - 1'000'000'000'000'000;
  spec.end = ts + 1;
  Downsample ds;
  ds.has_interval = true;
  ds.interval_ns = 7LL * 86400 * 1'000'000'000;
  ds.aggregations = {{AggFn::kCount, "", 0.5, "n"}};
  spec.downsample = ds;
  ASSERT_TRUE(ValidateQuery(&spec, schema).ok());
  auto r = ExecuteQuery(spec, schema, chunks);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(FormatRfc3339(r->columns[0].ints[0]), "2024-04-25T00:00:00Z");
}

}  // namespace
}  // namespace timestore
