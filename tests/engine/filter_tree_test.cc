// Filter trees (OR, AND, NOT pushed down), not_in, doubles in PostgreSQL's
// total order, and OFFSET, against a row-by-row oracle that evaluates NOT
// itself in three-valued logic: the executor over in-memory chunks (ties in
// time keep ingest order), and the engine over sealed segments and hot rows
// together, where zone maps prune blocks.
#include "engine/filter_tree.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <random>

#include "common/status_util.h"
#include "common/strings.h"
#include "engine/query_executor.h"
#include "tests/engine/random_store.h"

namespace timestore {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// ---- rows and the oracle ----------------------------------------------------

struct Row {  // the columns of RandomStoreTest's dataset
  int64_t ts = 0;
  std::optional<std::string> host;
  std::optional<double> v;
  std::optional<int64_t> n;
  std::optional<bool> ok;
};

Schema TestSchema() {
  Schema s;
  s.version = 1;
  s.time_column = "timestamp";
  s.fields = {{"timestamp", ColumnType::kTimestamp},
              {"host", ColumnType::kString},
              {"v", ColumnType::kDouble},
              {"n", ColumnType::kInteger},
              {"ok", ColumnType::kBoolean}};
  return s;
}

std::vector<ColumnVector> Columns(const std::vector<Row>& rows) {
  ColumnBuilder ts(ColumnType::kTimestamp), host(ColumnType::kString), v(ColumnType::kDouble),
      n(ColumnType::kInteger), ok(ColumnType::kBoolean);
  for (const Row& r : rows) {
    ts.AppendInt(r.ts);
    r.host ? host.AppendString(*r.host) : host.AppendNull();
    r.v ? v.AppendDouble(*r.v) : v.AppendNull();
    r.n ? n.AppendInt(*r.n) : n.AppendNull();
    r.ok ? ok.AppendBool(*r.ok) : ok.AppendNull();
  }
  std::vector<ColumnVector> cols;
  cols.push_back(ts.Finish());
  cols.push_back(host.Finish());
  cols.push_back(v.Finish());
  cols.push_back(n.Finish());
  cols.push_back(ok.Finish());
  return cols;
}

ChunkPtr MakeChunk(const std::vector<Row>& rows) {
  auto c = std::make_shared<Chunk>();
  c->rows = static_cast<uint32_t>(rows.size());
  c->time_index = 0;
  c->columns = Columns(rows);
  c->ComputeStats();
  return c;
}

IngestRequest MakeBatch(const std::vector<Row>& rows) {
  IngestRequest r;
  r.slug = "ds";
  r.time_column = "timestamp";
  r.fields = TestSchema().fields;
  r.columns = Columns(rows);
  r.rows = static_cast<uint32_t>(rows.size());
  return r;
}

// A filter expression as a user writes it: NOT is a node here, evaluated by
// the oracle directly; the engine gets it pushed down by Negate.
struct Expr {
  enum class Kind { kLeaf, kAnd, kOr, kNot };
  Kind kind = Kind::kLeaf;
  Filter leaf;
  std::vector<Expr> children;
};

FilterTree ToTree(const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::kLeaf:
      return FilterLeaf(e.leaf);
    case Expr::Kind::kNot:
      return Negate(ToTree(e.children[0]));
    default: {
      FilterTree t;
      t.kind = e.kind == Expr::Kind::kAnd ? FilterTree::Kind::kAnd : FilterTree::Kind::kOr;
      for (const Expr& c : e.children) t.children.push_back(ToTree(c));
      return t;
    }
  }
}

enum class Tv { kFalse, kTrue, kUnknown };  // SQL's three truth values

Tv Not(Tv t) { return t == Tv::kUnknown ? t : (t == Tv::kTrue ? Tv::kFalse : Tv::kTrue); }

// Three-way comparison in PostgreSQL's order for doubles.
int CmpDouble(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) - std::isnan(b);
  return a < b ? -1 : (a > b ? 1 : 0);
}

// The row's value of `col` against a literal, -1/0/1; nullopt when the
// literal is null.
std::optional<int> CompareLiteral(const Row& r, const std::string& col, const Literal& l) {
  if (l.kind == Literal::Kind::kNull) return std::nullopt;
  if (col == "v") return CmpDouble(*r.v, l.kind == Literal::Kind::kInt ? l.i : l.d);
  if (col == "n") {
    if (l.kind == Literal::Kind::kInt) return *r.n < l.i ? -1 : (*r.n > l.i ? 1 : 0);
    if (std::isnan(l.d)) return -1;       // every number is below NaN
    const long double x = *r.n, y = l.d;  // exact for int64 and double
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (col == "host") return r.host->compare(l.s) < 0 ? -1 : (*r.host == l.s ? 0 : 1);
  if (col == "ok") return static_cast<int>(*r.ok) - static_cast<int>(l.b);
  return r.ts < l.i ? -1 : (r.ts > l.i ? 1 : 0);  // timestamp, in ns
}

Tv EvalLeaf(const Row& r, const Filter& f) {
  const bool null = (f.column == "host" && !r.host) || (f.column == "v" && !r.v) ||
                    (f.column == "n" && !r.n) || (f.column == "ok" && !r.ok);
  if (f.op == FilterOp::kIsNull) return null ? Tv::kTrue : Tv::kFalse;
  if (f.op == FilterOp::kIsNotNull) return null ? Tv::kFalse : Tv::kTrue;
  if (null) return Tv::kUnknown;
  if (f.op == FilterOp::kIn || f.op == FilterOp::kNotIn) {
    Tv in = Tv::kFalse;  // SQL's IN: true if one equals, else unknown if one is null
    for (const Literal& l : f.values) {
      auto c = CompareLiteral(r, f.column, l);
      if (c && *c == 0) {
        in = Tv::kTrue;
        break;
      }
      if (!c) in = Tv::kUnknown;
    }
    return f.op == FilterOp::kIn ? in : Not(in);
  }
  auto c = CompareLiteral(r, f.column, f.values[0]);
  if (!c) return Tv::kUnknown;
  bool b = false;
  switch (f.op) {
    case FilterOp::kEq:
      b = *c == 0;
      break;
    case FilterOp::kNeq:
      b = *c != 0;
      break;
    case FilterOp::kLt:
      b = *c < 0;
      break;
    case FilterOp::kLte:
      b = *c <= 0;
      break;
    case FilterOp::kGt:
      b = *c > 0;
      break;
    default:
      b = *c >= 0;
  }
  return b ? Tv::kTrue : Tv::kFalse;
}

Tv Eval(const Row& r, const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::kLeaf:
      return EvalLeaf(r, e.leaf);
    case Expr::Kind::kNot:
      return Not(Eval(r, e.children[0]));
    case Expr::Kind::kAnd: {
      Tv t = Tv::kTrue;
      for (const Expr& c : e.children) {
        Tv x = Eval(r, c);
        if (x == Tv::kFalse) return x;
        if (x == Tv::kUnknown) t = x;
      }
      return t;
    }
    case Expr::Kind::kOr: {
      Tv t = Tv::kFalse;
      for (const Expr& c : e.children) {
        Tv x = Eval(r, c);
        if (x == Tv::kTrue) return x;
        if (x == Tv::kUnknown) t = x;
      }
      return t;
    }
  }
  return Tv::kUnknown;
}

// A query as the oracle sees it: the spec's range, order, limit, offset and
// downsample, with its conditions as expressions.
struct Case {
  QuerySpec spec;  // filters and filter_trees from `where`
  std::vector<Expr> where;
};

using Table = std::vector<std::vector<std::string>>;

std::string D(double v) {
  if (v != v) return "nan";
  if (v == 0) v = 0;
  return StrCat(v);
}

Table Oracle(const Case& c, const std::vector<Row>& rows) {
  const QuerySpec& s = c.spec;
  std::vector<size_t> sel;
  for (size_t k = 0; k < rows.size(); ++k) {
    if (rows[k].ts < s.start || rows[k].ts >= s.end) continue;
    bool pass = true;
    for (const Expr& e : c.where) pass = pass && Eval(rows[k], e) == Tv::kTrue;
    if (pass) sel.push_back(k);
  }
  Table all;
  if (!s.downsample) {
    std::stable_sort(sel.begin(), sel.end(), [&](size_t a, size_t b) {
      return s.descending ? rows[a].ts > rows[b].ts : rows[a].ts < rows[b].ts;
    });
    for (size_t k : sel) {
      const Row& r = rows[k];
      all.push_back({StrCat(r.ts), r.host ? *r.host : "null", r.v ? D(*r.v) : "null",
                     r.n ? StrCat(*r.n) : "null", r.ok ? StrCat(*r.ok ? 1 : 0) : "null"});
    }
  } else {
    // Buckets, then host ascending with null last; count, min(v), max(n).
    const Downsample& ds = *s.downsample;
    struct Group {
      int64_t count = 0;
      std::optional<double> min_v;
      std::optional<int64_t> max_n;
    };
    std::map<std::tuple<int64_t, bool, std::string>, Group> groups;
    for (size_t k : sel) {
      const Row& r = rows[k];
      const int64_t bucket = ds.has_interval ? FloorToMultiple(r.ts, ds.interval_ns) : s.start;
      const bool grouped = !ds.group_by.empty();
      Group& g = groups[{bucket, grouped && !r.host, grouped && r.host ? *r.host : ""}];
      ++g.count;
      if (r.v && (!g.min_v || DoubleLess(*r.v, *g.min_v))) g.min_v = r.v;
      if (r.n && (!g.max_n || *r.n > *g.max_n)) g.max_n = r.n;
    }
    for (const auto& [key, g] : groups) {
      std::vector<std::string> line = {StrCat(std::get<0>(key))};
      if (!ds.group_by.empty()) line.push_back(std::get<1>(key) ? "null" : std::get<2>(key));
      line.push_back(StrCat(g.count));
      line.push_back(g.min_v ? D(*g.min_v) : "null");
      line.push_back(g.max_n ? StrCat(*g.max_n) : "null");
      all.push_back(std::move(line));
    }
    if (s.descending) {  // buckets newest first, groups still ascending
      std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
        return std::stoll(a[0]) > std::stoll(b[0]);
      });
    }
  }
  Table out;
  for (size_t k = s.offset; k < all.size() && out.size() < s.limit; ++k) out.push_back(all[k]);
  return out;
}

Table Render(const QueryResult& r) {
  Table out(r.rows);
  for (size_t row = 0; row < r.rows; ++row) {
    for (const ResultColumn& c : r.columns) {
      if (!c.valid[row]) {
        out[row].push_back("null");
        continue;
      }
      switch (c.type) {
        case ColumnType::kDouble:
          out[row].push_back(D(c.doubles[row]));
          break;
        case ColumnType::kString:
          out[row].push_back(std::string(c.strings[row]));
          break;
        default:
          out[row].push_back(StrCat(c.ints[row]));
      }
    }
  }
  return out;
}

std::string Describe(const Table& t) {
  std::string s;
  for (const auto& row : t) {
    for (const auto& c : row) StrAppend(&s, c, " | ");
    s += "\n";
  }
  return s.substr(0, 3000);
}

// ---- random rows and queries --------------------------------------------------

class Gen {
 public:
  explicit Gen(uint64_t seed) : rng_(seed) {}
  int64_t Int(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

  double Double(double around) {
    static const double kOdd[] = {kNaN, kNaN, kInf, -kInf, -0.0, 0.0};
    if (Chance(0.15)) return kOdd[Int(0, 5)];
    return around + static_cast<double>(Int(-4, 4)) / 2;  // many ties
  }
  // Row k of `count`: v and n drift with k, so sealed blocks (series, then
  // time) have narrow min/max that filters can prune by.
  Row MakeRow(int64_t ts, int64_t k) {
    Row r;
    r.ts = ts;
    if (!Chance(0.1)) r.host = std::vector<std::string>{"a", "b", "c", "host_1", ""}[Int(0, 4)];
    if (!Chance(0.1)) r.v = Double(static_cast<double>(k % 200) / 10 - 10);
    if (!Chance(0.1)) {
      r.n = Chance(0.03) ? (Chance(0.5) ? std::numeric_limits<int64_t>::max()
                                        : std::numeric_limits<int64_t>::min())
                         : k % 50 - 25 + Int(-2, 2);
    }
    if (!Chance(0.1)) r.ok = Chance(0.5);
    return r;
  }

  Literal LiteralFor(const std::string& col, int64_t ts_lo, int64_t ts_hi) {
    Literal l;
    if (Chance(0.04)) return l;  // null
    if (col == "v") {
      if (Chance(0.2)) {
        l.kind = Literal::Kind::kInt;
        l.i = Int(-12, 12);
      } else {
        static const double kOdd[] = {kNaN, -0.0, kInf, -kInf};
        l.kind = Literal::Kind::kDouble;
        l.d = Chance(0.15) ? kOdd[Int(0, 3)] : static_cast<double>(Int(-24, 24)) / 2;
      }
    } else if (col == "n") {
      if (Chance(0.3)) {
        static const double kOdd[] = {2.5, -3.5, 1e19, -1e19, 9.223372036854775808e18, kNaN};
        l.kind = Literal::Kind::kDouble;
        l.d = Chance(0.5) ? kOdd[Int(0, 5)] : static_cast<double>(Int(-30, 30)) / 4;
      } else {
        l.kind = Literal::Kind::kInt;
        l.i = Chance(0.05) ? std::numeric_limits<int64_t>::max() : Int(-30, 30);
      }
    } else if (col == "host") {
      l.kind = Literal::Kind::kString;
      l.s = std::vector<std::string>{"a", "b", "c", "host_1", "", "zz"}[Int(0, 5)];
    } else if (col == "ok") {
      l.kind = Literal::Kind::kBool;
      l.b = Chance(0.5);
    } else {
      l.kind = Literal::Kind::kInt;
      l.i = Int(ts_lo, ts_hi);
    }
    return l;
  }

  Filter Leaf(int64_t ts_lo, int64_t ts_hi) {
    static const std::vector<std::string> kCols = {"timestamp", "host", "v", "n", "ok"};
    Filter f;
    f.column = kCols[Int(0, 4)];
    f.op = static_cast<FilterOp>(Int(0, 9));
    if (f.column == "timestamp" && (f.op == FilterOp::kIsNull || f.op == FilterOp::kIsNotNull))
      f.op = FilterOp::kLt;
    if (f.op == FilterOp::kIn || f.op == FilterOp::kNotIn) {
      const int64_t n = Int(0, 3);
      for (int64_t k = 0; k < n; ++k) f.values.push_back(LiteralFor(f.column, ts_lo, ts_hi));
    } else if (f.op != FilterOp::kIsNull && f.op != FilterOp::kIsNotNull) {
      f.values.push_back(LiteralFor(f.column, ts_lo, ts_hi));
    }
    return f;
  }

  Expr RandomExpr(int depth, int64_t ts_lo, int64_t ts_hi) {
    Expr e;
    if (depth >= 4 || Chance(0.35 + 0.15 * depth)) {
      e.leaf = Leaf(ts_lo, ts_hi);
      return e;
    }
    const int64_t k = Int(0, 2);
    e.kind = k == 0 ? Expr::Kind::kAnd : k == 1 ? Expr::Kind::kOr : Expr::Kind::kNot;
    const int64_t n = e.kind == Expr::Kind::kNot ? 1 : Int(1, 4);
    for (int64_t c = 0; c < n; ++c) e.children.push_back(RandomExpr(depth + 1, ts_lo, ts_hi));
    return e;
  }

  // ts_lo, ts_hi: the data's time range.
  Case RandomCase(int64_t ts_lo, int64_t ts_hi, int64_t second) {
    Case c;
    QuerySpec& s = c.spec;
    s.precision = Precision::kNanoseconds;
    const int64_t span = ts_hi - ts_lo + 1;
    s.start = Chance(0.3) ? ts_lo - second : ts_lo + Int(0, span / 2);
    s.end = Chance(0.3) ? ts_hi + second : s.start + Int(1, span);
    const int64_t conjuncts = Int(0, 3);
    for (int64_t k = 0; k < conjuncts; ++k) {
      c.where.push_back(RandomExpr(0, ts_lo, ts_hi));
      AddConjunct(&s, ToTree(c.where.back()));
    }
    s.descending = Chance(0.4);
    s.limit = Chance(0.5) ? static_cast<uint64_t>(Int(0, 30)) : 1'000'000;
    s.offset = Chance(0.4) ? 0 : static_cast<uint64_t>(Chance(0.8) ? Int(0, 40) : Int(0, 3000));
    if (Chance(0.4)) {
      Downsample ds;
      ds.has_interval = Chance(0.85);
      ds.interval_ns = Int(1, 600) * second;
      if (Chance(0.4)) ds.group_by.push_back("host");
      ds.aggregations = {{AggFn::kCount, "", 0.5, "rows"},
                         {AggFn::kMin, "v", 0.5, ""},
                         {AggFn::kMax, "n", 0.5, ""}};
      s.downsample = ds;
    }
    return c;
  }

 private:
  std::mt19937_64 rng_;
};

// ---- the query model -----------------------------------------------------------

Filter F(std::string column, FilterOp op, int64_t v) {
  Literal l;
  l.kind = Literal::Kind::kInt;
  l.i = v;
  return Filter{std::move(column), op, {l}, -1};
}

FilterTree Node(FilterTree::Kind kind, std::vector<FilterTree> children) {
  FilterTree t;
  t.kind = kind;
  t.children = std::move(children);
  return t;
}

constexpr auto kAnd = FilterTree::Kind::kAnd;
constexpr auto kOr = FilterTree::Kind::kOr;

TEST(FilterTreeTest, NegatePushesNotToTheLeaves) {
  const FilterTree t = Node(kAnd, {FilterLeaf(F("n", FilterOp::kLt, 5)),
                                   Node(kOr, {FilterLeaf(F("n", FilterOp::kIn, 1)),
                                              FilterLeaf(F("v", FilterOp::kIsNull, 0))})});
  const FilterTree n = Negate(t);
  ASSERT_EQ(n.kind, kOr);
  EXPECT_EQ(n.children[0].leaf.op, FilterOp::kGte);
  ASSERT_EQ(n.children[1].kind, kAnd);
  EXPECT_EQ(n.children[1].children[0].leaf.op, FilterOp::kNotIn);
  EXPECT_EQ(n.children[1].children[1].leaf.op, FilterOp::kIsNotNull);
  for (FilterOp op :
       {FilterOp::kEq, FilterOp::kNeq, FilterOp::kLt, FilterOp::kLte, FilterOp::kGt, FilterOp::kGte,
        FilterOp::kIn, FilterOp::kNotIn, FilterOp::kIsNull, FilterOp::kIsNotNull}) {
    EXPECT_NE(ComplementOp(op), op);
    EXPECT_EQ(ComplementOp(ComplementOp(op)), op);
  }
}

TEST(FilterTreeTest, ConjunctionsFlattenIntoFiltersAndOrsStayTrees) {
  QuerySpec s;
  // a AND (b AND c): three filters.
  AddConjunct(&s, Node(kAnd, {FilterLeaf(F("a", FilterOp::kEq, 1)),
                              Node(kAnd, {FilterLeaf(F("b", FilterOp::kEq, 2)),
                                          FilterLeaf(F("c", FilterOp::kEq, 3))})}));
  // NOT (d OR e): two more filters.
  AddConjunct(&s, Negate(Node(kOr, {FilterLeaf(F("d", FilterOp::kLt, 4)),
                                    FilterLeaf(F("e", FilterOp::kGt, 5))})));
  // An OR of one: a filter.
  AddConjunct(&s, Node(kOr, {FilterLeaf(F("f", FilterOp::kEq, 6))}));
  ASSERT_EQ(s.filters.size(), 6u);
  EXPECT_EQ(s.filters[3].column, "d");
  EXPECT_EQ(s.filters[3].op, FilterOp::kGte);
  EXPECT_EQ(s.filters[4].op, FilterOp::kLte);
  EXPECT_EQ(s.filters[5].column, "f");
  EXPECT_TRUE(s.filter_trees.empty());
  // g OR (h OR (i AND j)): one tree, the inner OR merged.
  AddConjunct(&s, Node(kOr, {FilterLeaf(F("g", FilterOp::kEq, 7)),
                             Node(kOr, {FilterLeaf(F("h", FilterOp::kEq, 8)),
                                        Node(kAnd, {FilterLeaf(F("i", FilterOp::kEq, 9)),
                                                    FilterLeaf(F("j", FilterOp::kEq, 10))})})}));
  ASSERT_EQ(s.filter_trees.size(), 1u);
  const FilterTree& t = s.filter_trees[0];
  ASSERT_EQ(t.kind, kOr);
  ASSERT_EQ(t.children.size(), 3u);
  EXPECT_EQ(t.children[1].leaf.column, "h");
  EXPECT_EQ(t.children[2].kind, kAnd);
  EXPECT_EQ(FilterTreeDepth(t), 3);
}

TEST(FilterTreeTest, ValidationChecksEveryLeafAndTheDepth) {
  const Schema schema = TestSchema();
  QuerySpec s;
  s.start = 0;
  s.end = 10;
  AddConjunct(&s, Node(kOr, {FilterLeaf(F("n", FilterOp::kEq, 1)),
                             FilterLeaf(F("nope", FilterOp::kEq, 2))}));
  absl::Status st = ValidateQuery(&s, schema);
  EXPECT_EQ(ErrorCodeOf(st), "unknown_column");
  EXPECT_NE(st.message().find("\"nope\""), std::string::npos) << st.message();

  s.filter_trees[0].children[1] = FilterLeaf(F("host", FilterOp::kEq, 2));  // a number
  st = ValidateQuery(&s, schema);
  EXPECT_EQ(ErrorCodeOf(st), "invalid_query");
  EXPECT_NE(st.message().find("\"host\""), std::string::npos) << st.message();

  s.filter_trees[0].children[1] = FilterLeaf(F("n", FilterOp::kEq, 2));
  s.filter_trees[0].children[1].leaf.values.clear();
  EXPECT_EQ(ErrorCodeOf(ValidateQuery(&s, schema)), "invalid_query");

  s.filter_trees[0].children[1] = FilterLeaf(F("n", FilterOp::kEq, 2));
  ASSERT_TRUE(ValidateQuery(&s, schema).ok());
  EXPECT_EQ(s.filter_trees[0].children[1].leaf.index, 3);

  FilterTree deep = FilterLeaf(F("n", FilterOp::kEq, 1));
  for (int k = 1; k < kMaxFilterTreeDepth + 1; ++k)
    deep = Node(k % 2 ? kOr : kAnd, {std::move(deep), FilterLeaf(F("n", FilterOp::kEq, 2))});
  s.filter_trees = {deep};
  st = ValidateQuery(&s, schema);
  EXPECT_EQ(ErrorCodeOf(st), "invalid_query");
  EXPECT_NE(st.message().find("64"), std::string::npos) << st.message();

  s.filter_trees.clear();
  s.offset = kMaxQueryOffset + 1;
  st = ValidateQuery(&s, schema);
  EXPECT_EQ(ErrorCodeOf(st), "invalid_query");
  EXPECT_NE(st.message().find("offset"), std::string::npos) << st.message();
}

// ---- the executor over chunks ------------------------------------------------

TEST(FilterTreeTest, ExecutorMatchesTheOracleOnRandomTrees) {
  const Schema schema = TestSchema();
  const int64_t sec = 1'000'000'000;
  int cases = 0, nonempty = 0, with_trees = 0;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    Gen gen(seed);
    std::vector<Row> all;
    std::vector<ChunkPtr> chunks;
    const int64_t nchunks = gen.Int(1, 5);
    for (int64_t c = 0; c < nchunks; ++c) {
      std::vector<Row> rows;
      const int64_t n = gen.Int(0, 150);
      for (int64_t k = 0; k < n; ++k) {
        // Few distinct times: many ties, which keep ingest order.
        rows.push_back(gen.MakeRow(gen.Int(0, 60) * sec, static_cast<int64_t>(all.size()) + k));
      }
      chunks.push_back(MakeChunk(rows));
      all.insert(all.end(), rows.begin(), rows.end());
    }
    for (int q = 0; q < 60; ++q) {
      Case c = gen.RandomCase(0, 60 * sec, sec);
      SCOPED_TRACE(StrCat("seed ", seed, " query ", q));
      ASSERT_TRUE(ValidateQuery(&c.spec, schema).ok()) << ValidateQuery(&c.spec, schema);
      auto got = ExecuteQuery(c.spec, schema, chunks);
      ASSERT_TRUE(got.ok()) << got.status();
      const Table want = Oracle(c, all);
      const Table table = Render(*got);
      ASSERT_EQ(table, want) << "got:\n" << Describe(table) << "want:\n" << Describe(want);
      ++cases;
      nonempty += !want.empty();
      with_trees += !c.spec.filter_trees.empty();
    }
  }
  EXPECT_GT(nonempty, cases / 3);
  EXPECT_GT(with_trees, cases / 5);
}

TEST(FilterTreeTest, DoublesCompareInPostgresOrder) {
  const Schema schema = TestSchema();
  std::vector<Row> rows;
  for (double d : {kNaN, 1.0, -0.0, 0.0, kInf, -kInf, 7.0}) rows.push_back(Row{0, {}, d, {}, {}});
  rows.push_back(Row{0, {}, {}, {}, {}});  // null passes nothing
  auto count = [&](FilterOp op, double lit) {
    QuerySpec s;
    s.start = 0;
    s.end = 1;
    Filter f{"v", op, {Literal{Literal::Kind::kDouble, false, 0, lit, ""}}, -1};
    s.filters.push_back(f);
    EXPECT_TRUE(ValidateQuery(&s, schema).ok());
    auto r = ExecuteQuery(s, schema, {MakeChunk(rows)});
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->rows : 99;
  };
  EXPECT_EQ(count(FilterOp::kGt, 5), 3u);   // 7, +Inf, NaN
  EXPECT_EQ(count(FilterOp::kGte, 7), 3u);  // 7, +Inf, NaN
  EXPECT_EQ(count(FilterOp::kLt, 5), 4u);   // 1, -0, 0, -Inf
  EXPECT_EQ(count(FilterOp::kNeq, 5), 7u);  // NaN included
  EXPECT_EQ(count(FilterOp::kEq, 0), 2u);   // -0.0 = 0.0
  EXPECT_EQ(count(FilterOp::kEq, kNaN), 1u);
  EXPECT_EQ(count(FilterOp::kNeq, kNaN), 6u);
  EXPECT_EQ(count(FilterOp::kLt, kNaN), 6u);
  EXPECT_EQ(count(FilterOp::kLte, kNaN), 7u);
  EXPECT_EQ(count(FilterOp::kGt, kNaN), 0u);
  EXPECT_EQ(count(FilterOp::kGte, kNaN), 1u);
  EXPECT_EQ(count(FilterOp::kGt, kInf), 1u);  // NaN alone is above +Inf
}

// A fractional, out-of-range or NaN literal on an integer column: `gt 1e19`
// used to become `>= INT64_MAX` and match INT64_MAX.
TEST(FilterTreeTest, IntegerColumnAgainstLiteralsBeyondInt64) {
  const Schema schema = TestSchema();
  const int64_t kMax = std::numeric_limits<int64_t>::max();
  const int64_t kMin = std::numeric_limits<int64_t>::min();
  std::vector<Row> rows;
  for (int64_t n : {kMin, int64_t{-3}, int64_t{2}, int64_t{3}, kMax})
    rows.push_back(Row{0, {}, {}, n, {}});
  auto count = [&](FilterOp op, double lit) {
    QuerySpec s;
    s.start = 0;
    s.end = 1;
    s.filters.push_back(Filter{"n", op, {Literal{Literal::Kind::kDouble, false, 0, lit, ""}}, -1});
    EXPECT_TRUE(ValidateQuery(&s, schema).ok());
    auto r = ExecuteQuery(s, schema, {MakeChunk(rows)});
    return r.ok() ? r->rows : 99;
  };
  EXPECT_EQ(count(FilterOp::kGt, 1e19), 0u);
  EXPECT_EQ(count(FilterOp::kGte, 9.223372036854775808e18), 0u);
  EXPECT_EQ(count(FilterOp::kLt, 9.223372036854775808e18), 5u);
  EXPECT_EQ(count(FilterOp::kLt, -1e19), 0u);
  EXPECT_EQ(count(FilterOp::kGt, -kInf), 5u);
  EXPECT_EQ(count(FilterOp::kGt, 2.5), 2u);
  EXPECT_EQ(count(FilterOp::kLte, 2.5), 3u);
  EXPECT_EQ(count(FilterOp::kLt, kNaN), 5u);
  EXPECT_EQ(count(FilterOp::kGte, kNaN), 0u);
}

TEST(FilterTreeTest, NotInIsSqlNotIn) {
  const Schema schema = TestSchema();
  std::vector<Row> rows;
  for (int64_t n : {1, 2, 3}) rows.push_back(Row{0, {}, {}, n, {}});
  rows.push_back(Row{0, {}, {}, {}, {}});
  auto count = [&](std::vector<Literal> values) {
    QuerySpec s;
    s.start = 0;
    s.end = 1;
    s.filters.push_back(Filter{"n", FilterOp::kNotIn, std::move(values), -1});
    EXPECT_TRUE(ValidateQuery(&s, schema).ok());
    auto r = ExecuteQuery(s, schema, {MakeChunk(rows)});
    return r.ok() ? r->rows : 99;
  };
  Literal one{Literal::Kind::kInt, false, 1, 0, ""};
  Literal half{Literal::Kind::kDouble, false, 0, 0.5, ""};
  EXPECT_EQ(count({one}), 2u);
  EXPECT_EQ(count({}), 3u);                // every non-null value
  EXPECT_EQ(count({half}), 3u);            // never equal to an integer
  EXPECT_EQ(count({one, Literal{}}), 0u);  // a null in the list: nothing
}

// ---- the engine: sealed segments, hot rows, pruning ------------------------------

class FilterTreeStoreTest : public RandomStoreTest {};

TEST_F(FilterTreeStoreTest, EngineMatchesTheOracleOverSealedAndHotRows) {
  Open();
  const int64_t sec = 1'000'000'000;
  const int64_t base = 1'700'000'000LL * sec;
  Gen gen(77);
  // Distinct times (sealing may reorder rows of equal time), out of order,
  // over ~4 hours: several partitions, each of several 64-row blocks.
  std::vector<int64_t> seconds(2400);
  for (size_t k = 0; k < seconds.size(); ++k) seconds[k] = static_cast<int64_t>(k) * 6;
  std::shuffle(seconds.begin() + 200, seconds.end(), std::mt19937_64(5));
  std::vector<Row> all;
  for (size_t k = 0; k < seconds.size(); ++k)
    all.push_back(gen.MakeRow(base + seconds[k] * sec, seconds[k] / 6));
  for (size_t first = 0; first < all.size(); first += 400) {
    std::vector<Row> batch(all.begin() + first, all.begin() + std::min(all.size(), first + 400));
    ASSERT_TRUE(Ingest(MakeBatch(batch)).ok());
    if (first == 1200) {
      ASSERT_TRUE(engine_->Flush("ds").ok());  // the rest stays hot
    }
  }
  const int64_t lo = base, hi = base + 2400 * 6 * sec;
  int cases = 0, nonempty = 0;
  for (int q = 0; q < 400; ++q) {
    Case c = gen.RandomCase(lo, hi, sec);
    if (q % 4 == 0 && c.spec.downsample) {  // the newest-buckets-first path
      c.spec.downsample->group_by.clear();
      c.spec.downsample->has_interval = true;
      c.spec.descending = true;
      c.spec.limit = static_cast<uint64_t>(gen.Int(1, 8));
    }
    SCOPED_TRACE(StrCat("query ", q));
    auto got = engine_->Query("ds", c.spec);
    ASSERT_TRUE(got.ok()) << got.status();
    const Table want = Oracle(c, all);
    const Table table = Render(*got);
    ASSERT_EQ(table, want) << "got:\n" << Describe(table) << "want:\n" << Describe(want);
    ++cases;
    nonempty += !want.empty();
  }
  EXPECT_GT(nonempty, cases / 3);
}

// A sealed block's double min/max leave NaN out, and NaN is above every
// number: `v > 5` must still read a block whose numbers are all below 5.
TEST_F(FilterTreeStoreTest, SealedBlockWithNaNIsNotPrunedByGt) {
  Open();
  std::vector<Row> rows;
  for (int k = 0; k < 10; ++k) rows.push_back(Row{(k + 1) * 1'000'000'000LL, "a", k % 5, k, true});
  rows[3].v = kNaN;
  ASSERT_TRUE(Ingest(MakeBatch(rows)).ok());
  ASSERT_TRUE(engine_->Flush("ds").ok());
  QuerySpec s;
  s.start = 0;
  s.end = 100'000'000'000;
  s.filters.push_back(Filter{"v", FilterOp::kGt, {Literal{Literal::Kind::kInt, false, 5, 0, ""}}});
  auto r = engine_->Query("ds", s);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rows, 1u);
  EXPECT_TRUE(std::isnan(r->columns[2].doubles[0]));
  // `v < 0` may still prune it: NaN is not below anything.
  s.filters[0].op = FilterOp::kLt;
  s.filters[0].values[0].i = 0;
  r = engine_->Query("ds", s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows, 0u);
  EXPECT_EQ(r->stats.segments_pruned, 1u);
}

// Raw rows stream a time window at a time; the offset carries across windows.
TEST_F(FilterTreeStoreTest, OffsetSpansPartitions) {
  Open();
  std::vector<Row> rows;
  const int64_t hour = 3600LL * 1'000'000'000;
  for (int k = 0; k < 40; ++k) rows.push_back(Row{(k / 10) * hour + k, "a", k * 1.0, k, true});
  ASSERT_TRUE(Ingest(MakeBatch(rows)).ok());
  ASSERT_TRUE(engine_->Flush("ds").ok());
  for (bool desc : {false, true}) {
    QuerySpec s;
    s.start = 0;
    s.end = 5 * hour;
    s.descending = desc;
    s.offset = 15;
    s.limit = 12;
    auto r = engine_->Query("ds", s);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->rows, 12u);
    for (int64_t k = 0; k < 12; ++k) EXPECT_EQ(r->columns[3].ints[k], desc ? 39 - 15 - k : 15 + k);
    s.offset = 38;
    r = engine_->Query("ds", s);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->rows, 2u);
    s.offset = 40;
    r = engine_->Query("ds", s);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->rows, 0u);
    EXPECT_EQ(r->columns.size(), 5u);
  }
}

}  // namespace
}  // namespace timestore
