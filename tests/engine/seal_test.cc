// Sealing: the same random rows and queries give the same answers in memory,
// sealed, mixed (sealed + hot) and after a restart; WAL files go once sealed;
// idempotency keys outlive their WAL files; damaged or stray files are handled.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <future>
#include <random>
#include <thread>

#include "api/result_writer.h"
#include "common/strings.h"
#include "engine/engine.h"
#include "simdjson.h"

namespace timestore {
namespace {

class SealTest : public ::testing::Test {
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
      ts.AppendInt(1'700'000'000'000'000'000LL + static_cast<int64_t>(pick(18000)) * 1'000'000'000);
      pick(10) ? host.AppendString(StrCat("h", pick(7))) : host.AppendNull();
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
void ExpectSameAnswers(const std::vector<std::string>& want, const std::vector<std::string>& got,
                       const std::string& stage) {
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
        if (va.is_double() && vb.is_number()) {
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

TEST_F(SealTest, AnswersAreUnchangedBySealingMixingAndRestart) {
  Open();
  std::mt19937_64 rng(7);
  for (int b = 0; b < 6; ++b) ASSERT_TRUE(Ingest(RandomBatch(rng, 300)).ok());
  auto queries = Queries(rng);
  auto in_memory = Run(queries);
  int answered = 0;
  for (const auto& body : in_memory) answered += !body.empty();
  ASSERT_GE(answered, 20) << "the queries must return rows for the comparison to mean anything";

  auto flushed = engine_->Flush("ds");
  ASSERT_TRUE(flushed.ok()) << flushed.status().message();
  EXPECT_EQ(flushed->rows, 1800u);
  EXPECT_GT(flushed->segments.size(), 1u);  // one per hour partition
  ExpectSameAnswers(in_memory, Run(queries), "sealed");

  // Mixed: more rows stay hot, answers computed from both.
  for (int b = 0; b < 3; ++b) ASSERT_TRUE(Ingest(RandomBatch(rng, 200)).ok());
  auto mixed = Run(queries);
  ASSERT_TRUE(engine_->Flush("ds").ok());
  ExpectSameAnswers(mixed, Run(queries), "mixed then sealed");

  Open();  // restart: everything from segments, nothing replayed twice
  EXPECT_EQ(engine_->recovery().rows, 0u);
  ExpectSameAnswers(mixed, Run(queries), "after restart");
}

TEST_F(SealTest, RestartReplaysOnlyTheUnsealedTailAndDropsWalFiles) {
  options_.wal_max_file_bytes = 4096;  // many WAL files
  Open();
  std::mt19937_64 rng(3);
  for (int b = 0; b < 10; ++b) ASSERT_TRUE(Ingest(RandomBatch(rng, 100)).ok());
  size_t wal_before = std::distance(std::filesystem::directory_iterator(root_ + "/wal"),
                                    std::filesystem::directory_iterator());
  auto f = engine_->Flush("ds");
  ASSERT_TRUE(f.ok());
  EXPECT_GT(f->wal_files_deleted, 0);
  size_t wal_after = std::distance(std::filesystem::directory_iterator(root_ + "/wal"),
                                   std::filesystem::directory_iterator());
  EXPECT_LT(wal_after, wal_before);
  for (int b = 0; b < 2; ++b) ASSERT_TRUE(Ingest(RandomBatch(rng, 100)).ok());
  Open();
  EXPECT_EQ(engine_->recovery().rows, 200u);  // only the tail
  QuerySpec q;
  q.start = 0;
  q.end = std::numeric_limits<int64_t>::max();
  Downsample ds;
  ds.aggregations = {{AggFn::kCount, "", 0.5, "n"}};
  q.downsample = ds;
  auto r = engine_->Query("ds", q);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->columns[1].ints[0], 1200);
}

TEST_F(SealTest, IdempotencyKeysOutliveTheirWalFiles) {
  Open();
  std::mt19937_64 rng(5);
  IngestRequest r = RandomBatch(rng, 10);
  r.idempotency_key = "once";
  r.request_hash = 99;
  auto first = Ingest(std::move(r));
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(engine_->Flush("ds").ok());
  Open();
  auto dup = engine_->CheckIdempotency("ds", "once", 99);
  ASSERT_TRUE(dup.ok());
  ASSERT_TRUE(dup->has_value());
  EXPECT_EQ((*dup)->rows, 10u);
  EXPECT_EQ((*dup)->watermark, first->watermark);
  Open();  // and across a second restart (the manifest is rewritten each time)
  dup = engine_->CheckIdempotency("ds", "once", 99);
  ASSERT_TRUE(dup.ok() && dup->has_value());
}

TEST_F(SealTest, DamagedSegmentStopsStartupNamingTheFile) {
  Open();
  std::mt19937_64 rng(9);
  ASSERT_TRUE(Ingest(RandomBatch(rng, 50)).ok());
  auto f = engine_->Flush("ds");
  ASSERT_TRUE(f.ok());
  engine_.reset();
  std::string victim;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root_ + "/datasets"))
    if (e.path().extension() == ".tseg") victim = e.path();
  ASSERT_FALSE(victim.empty());
  // Damage the trailer magic.
  auto bytes = Env::Default()->ReadFile(victim);
  ASSERT_TRUE(bytes.ok());
  std::string b = *bytes;
  b[b.size() - 1] ^= 0x5a;
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), victim, b).ok());
  auto e = Engine::Open(Env::Default(), options_);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(ToStd(e.status().message()).find(victim), std::string_view::npos)
      << e.status().message();
}

TEST_F(SealTest, StrayFileFromAnInterruptedSealIsRemoved) {
  Open();
  std::mt19937_64 rng(11);
  ASSERT_TRUE(Ingest(RandomBatch(rng, 50)).ok());
  ASSERT_TRUE(engine_->Flush("ds").ok());
  std::string dir;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root_ + "/datasets"))
    if (e.path().extension() == ".tseg") dir = e.path().parent_path();
  engine_.reset();
  std::string stray = dir + "/00000000deadbeef.tseg";
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), stray, "half a segment").ok());
  Open();
  EXPECT_FALSE(std::filesystem::exists(stray));
}

uint64_t CountAll(Engine* e) {
  QuerySpec q;
  q.start = 0;
  q.end = std::numeric_limits<int64_t>::max();
  Downsample ds;
  ds.aggregations = {{AggFn::kCount, "", 0.5, "n"}};
  q.downsample = ds;
  auto r = e->Query("ds", q);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() && r->rows > 0 ? static_cast<uint64_t>(r->columns[1].ints[0]) : 0;
}

// A seal freezing the in-memory segment while the WAL thread appends to it
// must not strand a row in the frozen segment after its snapshot (the row
// would vanish from queries, and its WAL file could be deleted).
TEST_F(SealTest, SealsRacingIngestLoseNoRows) {
  options_.wal_max_file_bytes = 8192;
  Open();
  std::mt19937_64 rng(13);
  std::vector<IngestRequest> batches;
  for (int b = 0; b < 300; ++b) batches.push_back(RandomBatch(rng, 7));
  ASSERT_TRUE(Ingest(std::move(batches[0])).ok());  // creates the dataset
  std::atomic<bool> done{false};
  std::thread sealer([&] {
    while (!done) {
      auto r = engine_->Flush("ds");
      ASSERT_TRUE(r.ok()) << r.status().message();
    }
  });
  for (size_t b = 1; b < batches.size(); ++b) ASSERT_TRUE(Ingest(std::move(batches[b])).ok());
  done = true;
  sealer.join();
  EXPECT_EQ(CountAll(engine_.get()), 2100u);
  Open();
  EXPECT_EQ(CountAll(engine_.get()), 2100u);
}

// A manifest append cut short during a seal: the seal fails, later manifest
// edits are refused (appending after a partial record would corrupt the middle
// of the log), nothing is lost, and a restart drops the torn tail and works.
TEST_F(SealTest, FailedManifestWriteDuringSealLosesNothing) {
  FaultInjectionEnv env(Env::Default());
  Open(&env);
  std::mt19937_64 rng(17);
  ASSERT_TRUE(Ingest(RandomBatch(rng, 50)).ok());
  ASSERT_TRUE(engine_->Flush("ds").ok());
  ASSERT_TRUE(Ingest(RandomBatch(rng, 50)).ok());
  env.ShortWriteNext(5, "MANIFEST-");  // the segment file is written; its manifest edit is not
  auto failed = engine_->Flush("ds");
  ASSERT_FALSE(failed.ok());
  env.ClearFaults();
  EXPECT_EQ(CountAll(engine_.get()), 100u);
  auto refused = engine_->Flush("ds");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(ToStd(refused.status().message()).find("manifest could not be written"),
            std::string_view::npos)
      << refused.status().message();
  EXPECT_EQ(CountAll(engine_.get()), 100u);
  Open();
  EXPECT_EQ(CountAll(engine_.get()), 100u);
  ASSERT_TRUE(engine_->Flush("ds").ok());
  Open();
  EXPECT_EQ(CountAll(engine_.get()), 100u);
}

// Review finding: a flush after a failed seal sealed only the rows the failed
// seal had left frozen, answered 200, and left newer rows in memory.
TEST_F(SealTest, FlushAfterAFailedSealSealsEverything) {
  FaultInjectionEnv env(Env::Default());
  Open(&env);
  std::mt19937_64 rng(21);
  ASSERT_TRUE(Ingest(RandomBatch(rng, 40)).ok());
  env.FailSyncs(absl::InternalError("injected EIO"));  // the segment file cannot be made durable
  EXPECT_FALSE(engine_->Flush("ds").ok());
  env.ClearFaults();
  ASSERT_TRUE(Ingest(RandomBatch(rng, 25)).ok());  // arrives after the failed seal
  auto ds = engine_->GetDataset("ds");
  ASSERT_NE(ds, nullptr);
  EXPECT_EQ(ds->hot_rows(), 65u);  // 40 frozen by the failed seal + 25 active
  auto f = engine_->Flush("ds");
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->rows, 65u);
  EXPECT_EQ(ds->hot_rows(), 0u);
  EXPECT_EQ(CountAll(engine_.get()), 65u);
}

}  // namespace
}  // namespace timestore
