// Test fixture shared by the sealing and compaction tests: a store under a
// temp root, random out-of-order rows, random queries over them, and an
// answer comparison tolerant of double summation order.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <future>
#include <random>

#include "api/result_writer.h"
#include "common/strings.h"
#include "engine/engine.h"
#include "simdjson.h"

namespace timestore {

// A store under a temp root with random rows and random queries, for tests
// that require the same answers before and after a storage change.
class RandomStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/timestore-seal-XXXXXX";
    root_ = mkdtemp(tmpl);
    options_.root = root_;
    options_.background_sealing = false;
    options_.partition_interval_ns = 3600LL * 1'000'000'000;  // several partitions
    options_.segment_options.block_rows = 64;                 // several blocks
  }
  void TearDown() override {
    engine_.reset();
    std::filesystem::remove_all(root_);
  }
  void Open(Env* env = Env::Default()) {
    engine_.reset();
    auto e = Engine::Open(env, options_);
    ASSERT_TRUE(e.ok()) << e.status().message();
    engine_ = std::move(*e);
  }
  absl::StatusOr<IngestResult> Ingest(IngestRequest r) {
    std::promise<absl::StatusOr<IngestResult>> p;
    auto f = p.get_future();
    engine_->Ingest(std::move(r), [&p](absl::StatusOr<IngestResult> res) { p.set_value(res); });
    return f.get();
  }

  // Random rows: out-of-order times over ~5 hours, nulls, repeated values.
  IngestRequest RandomBatch(std::mt19937_64& rng, int n) {
    IngestRequest r;
    r.slug = "ds";
    r.time_column = "timestamp";
    r.fields = {{"timestamp", ColumnType::kTimestamp},
                {"host", ColumnType::kString},
                {"v", ColumnType::kDouble},
                {"n", ColumnType::kInteger},
                {"ok", ColumnType::kBoolean}};
    ColumnBuilder ts(ColumnType::kTimestamp), host(ColumnType::kString), v(ColumnType::kDouble),
        i(ColumnType::kInteger), ok(ColumnType::kBoolean);
    auto pick = [&](int m) { return static_cast<int>(rng() % m); };
    for (int k = 0; k < n; ++k) {
      // Seconds that are equal modulo 8 belong to one host (7: null), so rows of
      // different series never share a timestamp: a series-ordered layout may
      // order those freely (docs/api.md, Storage), rows of one series may not.
      const int h = pick(10) ? pick(7) : 7;
      ts.AppendInt(1'700'000'000'000'000'000LL +
                   static_cast<int64_t>(pick(18000 / 8) * 8 + h) * 1'000'000'000);
      h < 7 ? host.AppendString(StrCat("h", h)) : host.AppendNull();
      pick(8) ? v.AppendDouble(pick(2000) / 8.0 - 50) : v.AppendNull();
      pick(9) ? i.AppendInt(pick(1000) - 500) : i.AppendNull();
      pick(6) ? ok.AppendBool(pick(2)) : ok.AppendNull();
    }
    r.columns.push_back(ts.Finish());
    r.columns.push_back(host.Finish());
    r.columns.push_back(v.Finish());
    r.columns.push_back(i.Finish());
    r.columns.push_back(ok.Finish());
    r.rows = static_cast<uint32_t>(n);
    return r;
  }

  std::vector<QuerySpec> Queries(std::mt19937_64& rng) {
    std::vector<QuerySpec> out;
    const int64_t base = 1'700'000'000'000'000'000LL;
    for (int q = 0; q < 30; ++q) {
      QuerySpec s;
      s.start = base + static_cast<int64_t>(rng() % 9000) * 1'000'000'000;
      s.end = s.start + static_cast<int64_t>(1 + rng() % 12000) * 1'000'000'000;
      s.limit = 1'000'000;
      s.descending = rng() % 3 == 0;
      if (rng() % 2) {
        Filter f;
        f.column = std::vector<std::string>{"host", "v", "n", "ok"}[rng() % 4];
        f.op = std::vector<FilterOp>{FilterOp::kEq, FilterOp::kGt, FilterOp::kLte,
                                     FilterOp::kIsNull, FilterOp::kNeq}[rng() % 5];
        Literal l;
        if (f.column == "host") {
          l.kind = Literal::Kind::kString;
          l.s = StrCat("h", rng() % 7);
        } else if (f.column == "ok") {
          l.kind = Literal::Kind::kBool;
          l.b = rng() % 2;
        } else {
          l.kind = Literal::Kind::kInt;
          l.i = static_cast<int64_t>(rng() % 100) - 50;
        }
        if (f.op != FilterOp::kIsNull) f.values.push_back(l);
        s.filters.push_back(f);
      }
      if (q % 3 != 0) {
        Downsample ds;
        ds.has_interval = rng() % 4 != 0;
        ds.interval_ns = static_cast<int64_t>(1 + rng() % 3600) * 1'000'000'000;
        if (rng() % 2) ds.group_by.push_back("host");
        if (rng() % 3 == 0) ds.group_by.push_back("ok");
        ds.aggregations = {{AggFn::kCount, "", 0.5, "rows"}, {AggFn::kAvg, "v", 0.5, ""},
                           {AggFn::kSum, "n", 0.5, ""},      {AggFn::kMin, "host", 0.5, ""},
                           {AggFn::kMax, "v", 0.5, ""},      {AggFn::kPercentile, "v", 0.9, ""},
                           {AggFn::kMedian, "n", 0.5, ""},   {AggFn::kCountDistinct, "n", 0.5, ""},
                           {AggFn::kFirst, "v", 0.5, ""},    {AggFn::kLast, "n", 0.5, ""}};
        s.downsample = ds;
      }
      out.push_back(s);
    }
    return out;
  }

  // Rows only, as NDJSON (no stats, no freshness).
  std::vector<std::string> Run(const std::vector<QuerySpec>& queries) {
    std::vector<std::string> out;
    for (const auto& q : queries) {
      auto r = engine_->Query("ds", q);
      EXPECT_TRUE(r.ok()) << r.status().message();
      std::string body;
      if (r.ok()) api::WriteResult(*r, "ds", true, api::ResultFormat::kNdjson, &body);
      out.push_back(std::move(body));
    }
    return out;
  }

  std::string root_;
  EngineOptions options_;
  std::unique_ptr<Engine> engine_;
};

// Equal, except that double sums and averages may differ in the last bits:
// their summation follows storage order, which sealing changes for rows that
// arrived out of time order.
inline void ExpectSameAnswers(const std::vector<std::string>& want,
                              const std::vector<std::string>& got, const std::string& stage) {
  ASSERT_EQ(want.size(), got.size());
  for (size_t q = 0; q < want.size(); ++q) {
    if (want[q] == got[q]) continue;
    simdjson::dom::parser pa, pb;
    auto a = pa.parse_many(want[q]);
    auto b = pb.parse_many(got[q]);
    std::vector<std::string> la, lb;
    auto ita = a.begin(), itb = b.begin();
    for (; ita != a.end() && itb != b.end(); ++ita, ++itb) {
      simdjson::dom::object oa = (*ita).get_object(), ob = (*itb).get_object();
      for (auto [k, va] : oa) {
        simdjson::dom::element vb = ob[k];
        // Only values written as doubles get the tolerance (is_double() is
        // also true of integers, which must match exactly).
        if (va.type() == simdjson::dom::element_type::DOUBLE &&
            vb.type() == simdjson::dom::element_type::DOUBLE) {
          double x = va.get_double(), y = vb.get_double();
          ASSERT_NEAR(x, y, 1e-9 * std::max(1.0, std::fabs(x)))
              << stage << " query " << q << " " << k;
        } else {
          ASSERT_EQ(simdjson::to_string(va), simdjson::to_string(vb))
              << stage << " query " << q << " key " << k << "\nwant " << want[q].substr(0, 500)
              << "\ngot  " << got[q].substr(0, 500);
        }
      }
    }
    ASSERT_TRUE(!(ita != a.end()) && !(itb != b.end()))
        << stage << " query " << q << ": row counts differ";
  }
}

}  // namespace timestore
