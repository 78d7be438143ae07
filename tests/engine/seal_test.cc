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
#include "tests/engine/random_store.h"

namespace timestore {
namespace {

using SealTest = RandomStoreTest;

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

// A manifest append cut short during a seal: the seal fails, the partial
// record is cut off (appending after it would corrupt the middle of the log),
// nothing is lost, the next seal succeeds, and a restart finds every row once.
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
  auto again = engine_->Flush("ds");
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->rows, 50u);
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
