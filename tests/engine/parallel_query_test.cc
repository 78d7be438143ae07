// Queries on many threads (TIMESTORE_QUERY_THREADS): the same answers, bit for
// bit, as on one thread, over sealed, hot and mixed data with nulls, NaN and
// infinities; the per-query memory limit and timeout stop a query with a
// clear error.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "common/status_util.h"
#include "engine/engine.h"
#include "tests/engine/random_store.h"

namespace timestore {
namespace {

class ParallelQueryTest : public RandomStoreTest {
 protected:
  // Rows whose doubles include NaN, ±Inf, -0.0 and values of very different
  // magnitude (so summation order would show in the last bits).
  IngestRequest OddDoubles(std::mt19937_64& rng, int n) {
    IngestRequest r = RandomBatch(rng, n);
    ColumnBuilder v(ColumnType::kDouble);
    const double odd[] = {std::numeric_limits<double>::quiet_NaN(),
                          std::numeric_limits<double>::infinity(),
                          -0.0,
                          1e300,
                          1e-300,
                          0.1};
    for (int k = 0; k < n; ++k) {
      if (rng() % 7 == 0) {
        v.AppendNull();
      } else if (rng() % 5 == 0) {
        v.AppendDouble(odd[rng() % 6]);
      } else {
        v.AppendDouble(static_cast<double>(rng() % 100000) / 7.0);
      }
    }
    r.columns[2] = v.Finish();  // "v"
    return r;
  }
  // Every row, raw.
  static QuerySpec AllRows() {
    QuerySpec q;
    q.start = std::numeric_limits<int64_t>::min();
    q.end = std::numeric_limits<int64_t>::max();
    q.limit = 1'000'000;
    return q;
  }
  // Every row, as the average of v per host (per second when `per_second`).
  static QuerySpec AvgPerHost(bool per_second) {
    QuerySpec q = AllRows();
    Downsample d;
    d.has_interval = per_second;
    d.interval_ns = 1'000'000'000;
    d.group_by = {"host"};
    d.aggregations = {{AggFn::kAvg, "v", 0.5, "avg_v"}};
    q.downsample = d;
    return q;
  }
  std::vector<QuerySpec> DownsampleQueries(std::mt19937_64& rng) {
    std::vector<QuerySpec> out;
    for (const QuerySpec& q : Queries(rng)) {
      if (q.downsample) out.push_back(q);
    }
    return out;
  }
};

TEST_F(ParallelQueryTest, AnswersAreBitIdenticalOnOneAndManyThreads) {
  options_.query_threads = 1;
  Open();
  std::mt19937_64 rng(11);
  for (int b = 0; b < 6; ++b) ASSERT_TRUE(Ingest(RandomBatch(rng, 300)).ok());
  ASSERT_TRUE(Ingest(OddDoubles(rng, 400)).ok());
  ASSERT_TRUE(engine_->Flush("ds").ok());
  // Mixed: hot rows next to the segments.
  for (int b = 0; b < 3; ++b) ASSERT_TRUE(Ingest(OddDoubles(rng, 150)).ok());
  std::vector<QuerySpec> queries = DownsampleQueries(rng);
  ASSERT_GE(queries.size(), 20u);
  const std::vector<std::string> one = Run(queries);
  int answered = 0;
  for (const auto& body : one) answered += !body.empty();
  ASSERT_GE(answered, 15);
  for (int threads : {2, 3, 8}) {
    options_.query_threads = threads;
    Open();
    const std::vector<std::string> many = Run(queries);
    for (size_t q = 0; q < queries.size(); ++q) {
      EXPECT_EQ(one[q], many[q]) << threads << " threads, query " << q;
    }
  }
}

TEST_F(ParallelQueryTest, DedupAndFootersGiveTheSameAnswersOnManyThreads) {
  options_.query_threads = 1;
  Open();
  std::mt19937_64 rng(12);
  for (int b = 0; b < 4; ++b) ASSERT_TRUE(Ingest(RandomBatch(rng, 400)).ok());
  ASSERT_TRUE(engine_->Flush("ds").ok());
  ASSERT_TRUE(Ingest(RandomBatch(rng, 400)).ok());
  Engine::Settings dedup;
  dedup.dedup = std::optional<DedupSettings>(DedupSettings{{"host"}, true});
  ASSERT_TRUE(engine_->UpdateSettings(engine_->GetDataset("ds").get(), dedup).ok());
  std::vector<QuerySpec> queries = DownsampleQueries(rng);
  const std::vector<std::string> one = Run(queries);
  options_.query_threads = 4;
  Open();
  EXPECT_EQ(one, Run(queries));
}

TEST_F(ParallelQueryTest, TheMemoryLimitStopsAQueryWithAClearError) {
  options_.query_max_memory = 64 << 10;
  options_.partition_interval_ns = 86'400LL * 1'000'000'000;  // one partition: one window
  Open();
  std::mt19937_64 rng(13);
  for (int b = 0; b < 8; ++b) ASSERT_TRUE(Ingest(RandomBatch(rng, 500)).ok());
  ASSERT_TRUE(engine_->Flush("ds").ok());
  const QuerySpec grouped = AvgPerHost(/*per_second=*/true);  // thousands of groups
  for (const QuerySpec& q : {AllRows(), grouped}) {
    auto r = engine_->Query("ds", q);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kOutOfRange);
    EXPECT_EQ(ErrorCodeOf(r.status()), "query_memory_limit");
    EXPECT_NE(r.status().message().find("TIMESTORE_QUERY_MAX_MEMORY (65536 bytes)"),
              std::string::npos)
        << r.status().message();
  }
  // A small query still answers.
  QuerySpec small = grouped;
  small.downsample->has_interval = false;
  small.downsample->group_by.clear();
  EXPECT_TRUE(engine_->Query("ds", small).ok());
}

// Raw rows stream a partition at a time: every row of a dataset far larger
// than the limit comes out when each partition fits, and a `limit` stops the
// scan early.
TEST_F(ParallelQueryTest, RawRowsStreamAPartitionAtATime) {
  options_.query_max_memory = 64 << 10;  // hourly partitions of the fixture fit
  Open();
  std::mt19937_64 rng(17);
  for (int b = 0; b < 8; ++b) ASSERT_TRUE(Ingest(RandomBatch(rng, 500)).ok());
  ASSERT_TRUE(engine_->Flush("ds").ok());
  ASSERT_TRUE(Ingest(RandomBatch(rng, 100)).ok());  // hot rows in several partitions
  auto all = engine_->Query("ds", AllRows());
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->rows, 4100u);
  QuerySpec first = AllRows();
  first.limit = 10;
  auto r = engine_->Query("ds", first);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows, 10u);
  EXPECT_LT(r->stats.rows_scanned, 4000u) << "the scan went past the first partition";
}

TEST_F(ParallelQueryTest, TheTimeoutStopsAQuery) {
  options_.query_timeout = std::chrono::nanoseconds(1);
  Open();
  std::mt19937_64 rng(14);
  for (int b = 0; b < 4; ++b) ASSERT_TRUE(Ingest(RandomBatch(rng, 500)).ok());
  ASSERT_TRUE(engine_->Flush("ds").ok());
  for (const QuerySpec& q : {AllRows(), AvgPerHost(false)}) {
    auto r = engine_->Query("ds", q);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
    EXPECT_EQ(ErrorCodeOf(r.status()), "query_timeout");
  }
}

// A query whose client has gone stops at its next wave of blocks.
TEST_F(ParallelQueryTest, ACancelledQueryStops) {
  Open();
  std::mt19937_64 rng(15);
  for (int b = 0; b < 4; ++b) ASSERT_TRUE(Ingest(RandomBatch(rng, 500)).ok());
  ASSERT_TRUE(engine_->Flush("ds").ok());
  QuerySpec q = AvgPerHost(false);
  auto gone = std::make_shared<std::atomic<bool>>(false);
  q.cancelled = gone;
  ASSERT_TRUE(engine_->Query("ds", q).ok());
  gone->store(true);
  auto r = engine_->Query("ds", q);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(ErrorCodeOf(r.status()), "query_cancelled");
}

// The decoded-block cache changes no answer: off, cold and warm agree bit for
// bit, raw rows and downsamples, on one thread and many.
TEST_F(ParallelQueryTest, TheDecodedCacheChangesNoAnswer) {
  options_.decoded_cache_bytes = 0;
  options_.query_threads = 1;
  Open();
  std::mt19937_64 rng(16);
  for (int b = 0; b < 5; ++b) ASSERT_TRUE(Ingest(OddDoubles(rng, 300)).ok());
  ASSERT_TRUE(engine_->Flush("ds").ok());
  ASSERT_TRUE(Ingest(OddDoubles(rng, 200)).ok());
  const std::vector<QuerySpec> queries = Queries(rng);
  const std::vector<std::string> off = Run(queries);
  for (int threads : {1, 3}) {
    options_.decoded_cache_bytes = 64 << 20;
    options_.query_threads = threads;
    Open();
    EXPECT_EQ(off, Run(queries)) << "cold, " << threads << " threads";
    EXPECT_EQ(off, Run(queries)) << "warm, " << threads << " threads";
  }
  // A cache too small for the data evicts as it goes and still agrees.
  options_.decoded_cache_bytes = 8 << 10;
  Open();
  EXPECT_EQ(off, Run(queries)) << "tiny cache";
  EXPECT_EQ(off, Run(queries)) << "tiny cache, again";
}

}  // namespace
}  // namespace timestore
