// Tiering through the engine and the mover, over an in-memory object store
// with fault injection: answers are the same local, remote with a cold cache,
// remote with a warm cache and after a restart; a store that is down or slow
// fails only the queries that need it (503, naming the target), never the
// others; corrupt objects are reported by object and block; retention, dataset
// deletes and the orphan sweep remove objects; crash leftovers are cleaned at
// start-up.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/status_util.h"
#include "compaction/compactor.h"
#include "compaction/retention.h"
#include "compaction/tier_mover.h"
#include "tests/engine/random_store.h"
#include "tiering/memory_object_store.h"

namespace timestore {
namespace {

using compaction::TieringOptions;
using compaction::TierMover;
using tiering::MemoryObjectStore;

constexpr int64_t kHour = 3600LL * 1'000'000'000;
constexpr int64_t kBase = 1'700'000'000'000'000'000LL;
// "Now" for the mover: rows span kBase .. kBase + 5 h; with coldAfter 1 h,
// the partitions that end by kBase + 2.5 h are cold.
constexpr int64_t kNow = kBase + 3 * kHour + kHour / 2;

class TieringTest : public RandomStoreTest {
 protected:
  void SetUp() override {
    RandomStoreTest::SetUp();
    store_ = std::make_shared<MemoryObjectStore>("bucket");
    auto t =
        tiering::StorageTargets::Open(Env::Default(), root_, std::nullopt,
                                      [](const tiering::StorageTargetConfig&)
                                          -> absl::StatusOr<std::shared_ptr<tiering::ObjectStore>> {
                                        return absl::UnimplementedError("tests add their stores");
                                      });
    ASSERT_TRUE(t.ok()) << t.status();
    targets_ = *std::move(t);
    tiering::StorageTargetConfig c;
    c.id = "cold";
    c.driver = "memory";
    c.bucket = "bucket";
    targets_->AddForTest(c, store_);
    options_.targets = targets_.get();
    options_.remote.timeout = std::chrono::seconds(5);
  }
  void TearDown() override {
    mover_.reset();
    RandomStoreTest::TearDown();
  }
  void OpenAll() {
    mover_.reset();
    Open();
    TieringOptions o;
    o.orphan_grace_ns = 0;
    // Moves happen when a test asks (a background pass racing the test's own
    // moves, or its copies of the local files, made it flaky under load).
    o.enabled = false;
    mover_ = std::make_unique<TierMover>(engine_.get(), o);
  }
  Dataset* ds() { return engine_->GetDataset("ds").get(); }
  // Loads 8 batches (7 sealed), puts the dataset on "cold" with coldAfter 1h.
  void Load(uint64_t seed = 3) {
    std::mt19937_64 rng(seed);
    for (int b = 0; b < 8; ++b) {
      ASSERT_TRUE(Ingest(RandomBatch(rng, 250)).ok());
      if (b < 7) ASSERT_TRUE(engine_->Flush("ds").ok());
    }
    queries_ = Queries(rng);
    ASSERT_TRUE(engine_->SetStorageTarget(ds(), "cold").ok());
    Engine::RetentionPatch p;
    p.cold_after = std::optional<RetentionValue>(RetentionValue{kHour, "\"1h\""});
    ASSERT_TRUE(engine_->UpdateRetention(ds(), p).ok());
  }
  std::pair<int, int> LocalRemote() {
    int local = 0, remote = 0;
    for (const auto& s : ds()->segments()) (s->remote() ? remote : local)++;
    return {local, remote};
  }
  absl::StatusOr<QueryResult> QueryRange(int64_t start, int64_t end) {
    QuerySpec q;
    q.start = start;
    q.end = end;
    q.limit = 1'000'000;
    return engine_->Query("ds", q);
  }
  std::vector<std::string> Files(const std::string& suffix) {
    std::vector<std::string> out;
    for (auto& e : std::filesystem::recursive_directory_iterator(root_ + "/datasets"))
      if (e.is_regular_file() && e.path().string().ends_with(suffix)) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
  }
  void ClearCache() {
    std::filesystem::remove_all(root_ + "/cache");
    OpenAll();
  }

  std::shared_ptr<MemoryObjectStore> store_;
  std::unique_ptr<tiering::StorageTargets> targets_;
  std::unique_ptr<TierMover> mover_;
  std::vector<QuerySpec> queries_;
};

TEST_F(TieringTest, AnswersAreTheSameLocalRemoteColdWarmAndAfterRestart) {
  OpenAll();
  Load();
  const auto before = Run(queries_);
  auto r = mover_->TierDataset(ds(), kNow);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->target, "cold");
  EXPECT_GT(r->segments_moved, 0u);
  EXPECT_EQ(r->segments_failed, 0u);
  auto [local, remote] = LocalRemote();
  EXPECT_GT(local, 0);
  EXPECT_EQ(remote, static_cast<int>(r->segments_moved));
  EXPECT_EQ(store_->objects().size(), r->segments_moved);
  // Every object is under this root's id.
  for (const auto& [key, bytes] : store_->objects())
    EXPECT_TRUE(key.starts_with(engine_->ObjectKeyRoot())) << key;
  EXPECT_EQ(Files(".tfoot").size(), r->segments_moved);

  ClearCache();  // cold cache
  uint64_t requests_before = store_->requests();
  ExpectSameAnswers(before, Run(queries_), "remote, cold cache");
  EXPECT_GT(store_->requests(), requests_before);

  // Warm: the same queries need no request at all.
  requests_before = store_->requests();
  ExpectSameAnswers(before, Run(queries_), "remote, warm cache");
  EXPECT_EQ(store_->requests(), requests_before);

  // A query over a cold partition only reports its remote reads.
  ClearCache();
  auto q = QueryRange(kBase, kBase + kHour / 2);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_GT(q->stats.remote_requests, 0u);
  EXPECT_GT(q->stats.remote_bytes_read, 0u);
  EXPECT_GT(q->stats.cache_misses, 0u);
  EXPECT_EQ(q->stats.segments_remote, q->stats.segments_scanned);
  q = QueryRange(kBase, kBase + kHour / 2);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->stats.remote_requests, 0u);
  EXPECT_GT(q->stats.cache_hits, 0u);

  // After a restart: remote segments reopen from their footer copies
  // without a request, and answers hold.
  requests_before = store_->requests();
  OpenAll();
  EXPECT_EQ(store_->requests(), requests_before);
  EXPECT_EQ(LocalRemote().second, remote);
  ExpectSameAnswers(before, Run(queries_), "remote, after restart");
  // Moving again moves nothing; compaction never merges remote segments.
  r = mover_->TierDataset(ds(), kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->segments_moved, 0u);
  compaction::Compactor c(engine_.get(), {});
  ASSERT_TRUE(c.CompactDataset(ds()).ok());
  EXPECT_EQ(LocalRemote().second, remote);
  ExpectSameAnswers(before, Run(queries_), "remote, then compacted");
}

TEST_F(TieringTest, StoreDownFailsOnlyQueriesThatNeedItAndNamesTheTarget) {
  options_.remote.timeout = std::chrono::milliseconds(300);
  OpenAll();
  Load();
  ASSERT_TRUE(mover_->TierDataset(ds(), kNow).ok());
  ClearCache();
  store_->FailOps(MemoryObjectStore::kAll, absl::UnavailableError("connection refused"));
  // Local partitions and the rows in memory answer as before.
  auto local = QueryRange(kBase + 3 * kHour, kBase + 6 * kHour);
  ASSERT_TRUE(local.ok()) << local.status();
  EXPECT_GT(local->rows, 0u);
  EXPECT_EQ(local->stats.remote_requests, 0u);
  // A query that needs remote blocks fails with 503's status, the code the
  // API answers with, and the target named.
  auto remote = QueryRange(kBase, kBase + kHour);
  ASSERT_FALSE(remote.ok());
  EXPECT_TRUE(absl::IsUnavailable(remote.status())) << remote.status();
  EXPECT_EQ(std::string(*remote.status().GetPayload(ToAbsl(kErrorCodePayload))),
            "remote_unavailable");
  EXPECT_NE(std::string(remote.status().message()).find("storage target \"cold\""),
            std::string::npos)
      << remote.status();

  // Slow: the query gives up at the timeout, not later.
  store_->ClearFaults();
  store_->SetLatency(std::chrono::seconds(20));
  const auto t0 = std::chrono::steady_clock::now();
  remote = QueryRange(kBase, kBase + kHour);
  EXPECT_FALSE(remote.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_TRUE(absl::IsUnavailable(remote.status())) << remote.status();
  store_->ClearFaults();
  EXPECT_TRUE(QueryRange(kBase, kBase + kHour).ok());
}

TEST_F(TieringTest, UploadFailuresLeaveLocalDataAndRetryLater) {
  OpenAll();
  Load();
  const auto before = Run(queries_);
  const auto local_files = Files(".tseg");
  store_->FailOps(MemoryObjectStore::kPut, absl::UnavailableError("503 SlowDown"));
  auto r = mover_->TierDataset(ds(), kNow);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->segments_moved, 0u);
  EXPECT_EQ(r->segments_failed, 1u);  // stops at the first: the store is down
  EXPECT_NE(r->error.find("SlowDown"), std::string::npos) << r->error;
  EXPECT_EQ(LocalRemote().second, 0);
  // Nothing local went (the rows in memory of cold partitions were sealed).
  const auto after = Files(".tseg");
  for (const auto& f : local_files)
    EXPECT_TRUE(std::find(after.begin(), after.end(), f) != after.end()) << f;
  EXPECT_TRUE(Files(".tfoot").empty());
  ExpectSameAnswers(before, Run(queries_), "after failed uploads");
  // A verification that fails (the object comes back short) drops the object.
  store_->ClearFaults();
  store_->FailNext(MemoryObjectStore::kHead, 1, absl::UnavailableError("reset"));
  r = mover_->TierDataset(ds(), kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->segments_failed, 1u);
  EXPECT_TRUE(store_->objects().empty());
  // Later it goes through.
  r = mover_->TierDataset(ds(), kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_GT(r->segments_moved, 0u);
  EXPECT_EQ(r->segments_failed, 0u);
  ExpectSameAnswers(before, Run(queries_), "after the retry");
}

TEST_F(TieringTest, CorruptObjectNamesObjectAndBlockAndDropsTheCacheEntry) {
  OpenAll();
  Load();
  ASSERT_TRUE(mover_->TierDataset(ds(), kNow).ok());
  ClearCache();
  // The first remote segment: damage one byte of its first block of "v".
  SegmentPtr seg;
  for (const auto& s : ds()->segments())
    if (s->remote()) {
      seg = s;
      break;
    }
  ASSERT_NE(seg, nullptr);
  const auto& meta = seg->reader->meta();
  const int vc = meta.ColumnIndex("v");
  const auto block = meta.columns[vc].blocks[0];
  std::string bytes = store_->objects()[seg->record.key];
  const std::string good = bytes;
  bytes[block.offset + block.length / 2] ^= 0x55;
  store_->SetObject(seg->record.key, bytes);

  QuerySpec q;
  q.start = seg->record.min_ts;
  q.end = seg->record.max_ts + 1;
  q.limit = 1'000'000;
  q.columns = std::vector<std::string>{"v"};
  auto r = engine_->Query("ds", q);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::IsDataLoss(r.status())) << r.status();
  const std::string msg(r.status().message());
  EXPECT_NE(msg.find("memory://bucket/" + seg->record.key), std::string::npos) << msg;
  EXPECT_NE(msg.find("column v, block 0"), std::string::npos) << msg;
  EXPECT_NE(msg.find("checksum"), std::string::npos) << msg;
  std::string cached;
  EXPECT_FALSE(engine_->cache()->Lookup(StrCat("cold/", seg->record.key), block.offset,
                                        block.length, &cached));
  // Repaired: answers again.
  store_->SetObject(seg->record.key, good);
  EXPECT_TRUE(engine_->Query("ds", q).ok());
}

TEST_F(TieringTest, RetentionAndDeletesRemoveObjects) {
  OpenAll();
  Load();
  ASSERT_TRUE(mover_->TierDataset(ds(), kNow).ok());
  const size_t objects = store_->objects().size();
  ASSERT_GT(objects, 0u);
  // deleteAfter 2h at kNow: the partitions ending by kBase + 1.5 h go.
  Engine::RetentionPatch p;
  p.delete_after = std::optional<RetentionValue>(RetentionValue{2 * kHour, "\"2h\""});
  ASSERT_TRUE(engine_->UpdateRetention(ds(), p).ok());
  auto dropped = compaction::EnforceRetention(engine_.get(), ds(), kNow);
  ASSERT_TRUE(dropped.ok()) << dropped.status();
  ASSERT_GT(dropped->segments_dropped, 0u);
  mover_->DrainGarbage();
  EXPECT_EQ(store_->objects().size(), objects - dropped->segments_dropped);
  EXPECT_EQ(mover_->stats().objects_deleted, dropped->segments_dropped);
  EXPECT_EQ(Files(".tfoot").size(), store_->objects().size());
  // Deleting the dataset deletes the rest.
  auto held = engine_->GetDataset("ds");
  ASSERT_TRUE(engine_->DeleteDataset(held.get()).ok());
  mover_->DrainGarbage();
  EXPECT_TRUE(store_->objects().empty());
}

TEST_F(TieringTest, SweepDeletesOrphansAndAbortsStaleUploadsOnly) {
  OpenAll();
  Load();
  ASSERT_TRUE(mover_->TierDataset(ds(), kNow).ok());
  const auto live = store_->objects();
  const std::string orphan = engine_->ObjectKeyRoot() + "0000000000000001/0/1.tseg";
  store_->SetObject(orphan, "left by a crash");
  store_->SetObject("another-root/x.tseg", "not ours");
  store_->AddPendingUpload({engine_->ObjectKeyRoot() + "k", "u1", 1});
  auto s = mover_->Sweep(NowNanos());
  EXPECT_EQ(s.orphans_deleted, 1u);
  EXPECT_EQ(s.uploads_aborted, 1u);
  EXPECT_EQ(s.failures, 0u);
  auto now = store_->objects();
  EXPECT_FALSE(now.contains(orphan));
  EXPECT_TRUE(now.contains("another-root/x.tseg"));
  for (const auto& [k, v] : live) EXPECT_TRUE(now.contains(k)) << k;
  EXPECT_TRUE(store_->ListPendingUploads("")->empty());
}

TEST_F(TieringTest, StartUpRemovesCrashLeftoversAndRefetchesAMissingFooter) {
  OpenAll();
  Load();
  const auto before = Run(queries_);
  // Keep copies of the local files, to put back as a crash would leave them.
  std::map<std::string, std::string> copies;
  for (const auto& f : Files(".tseg")) {
    std::ifstream in(f, std::ios::binary);
    copies[f] = std::string(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_TRUE(mover_->TierDataset(ds(), kNow).ok());
  const auto footers = Files(".tfoot");
  ASSERT_FALSE(footers.empty());
  // 1. a local file of a segment recorded as remote (one sealed before the
  // copies: the move also seals the hot rows of cold partitions, under new ids);
  std::string remote_local;
  for (const auto& f : footers) {
    const std::string seg = f.substr(0, f.size() - 6) + ".tseg";
    if (copies.contains(seg)) remote_local = seg;
  }
  ASSERT_FALSE(remote_local.empty());
  std::ofstream(remote_local, std::ios::binary) << copies.at(remote_local);
  // 2. a footer copy of a segment still recorded as local;
  const std::string local_seg = Files(".tseg").back();
  const std::string stray_footer = local_seg.substr(0, local_seg.size() - 5) + ".tfoot";
  std::ofstream(stray_footer) << "x";
  // 3. a lost footer copy of another remote segment.
  std::string lost = footers[0];
  if (lost.substr(0, lost.size() - 6) + ".tseg" == remote_local) lost = footers[1];
  std::filesystem::remove(lost);
  OpenAll();
  EXPECT_FALSE(std::filesystem::exists(remote_local));
  EXPECT_FALSE(std::filesystem::exists(stray_footer));
  EXPECT_TRUE(std::filesystem::exists(lost));
  ExpectSameAnswers(before, Run(queries_), "after start-up cleanup");
  // A lost footer copy with the store down stops start-up with a clear error.
  std::filesystem::remove(lost);
  store_->FailOps(MemoryObjectStore::kAll, absl::UnavailableError("down"));
  engine_.reset();
  mover_.reset();
  auto e = Engine::Open(Env::Default(), options_);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(
      std::string(e.status().message()).find("could not be fetched again from storage target"),
      std::string::npos)
      << e.status();
}

TEST_F(TieringTest, InterruptedMultipartUploadIsAbortedOrSwept) {
  OpenAll();
  Load();
  store_->SetMultipart(1000, 500);  // every segment goes up in parts
  store_->FailNext(MemoryObjectStore::kPut, 1, absl::UnavailableError("reset"), /*skip=*/2);
  auto r = mover_->TierDataset(ds(), kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->segments_failed, 1u);
  EXPECT_TRUE(store_->ListPendingUploads("")->empty());  // aborted at once
  // When the abort fails too, the sweep aborts it later.
  store_->FailOps(MemoryObjectStore::kAbort, absl::UnavailableError("down"));
  store_->FailNext(MemoryObjectStore::kPut, 1, absl::UnavailableError("reset"), /*skip=*/2);
  r = mover_->TierDataset(ds(), kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(store_->ListPendingUploads("")->size(), 1u);
  store_->ClearFaults();
  EXPECT_EQ(mover_->Sweep(NowNanos()).uploads_aborted, 1u);
  r = mover_->TierDataset(ds(), kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_GT(r->segments_moved, 0u);
  EXPECT_EQ(r->segments_failed, 0u);
}

TEST_F(TieringTest, StorageTargetIsValidatedPersistedAndLocalOptsOut) {
  OpenAll();
  Load();
  auto bad = engine_->SetStorageTarget(ds(), "nope");
  EXPECT_TRUE(absl::IsInvalidArgument(bad)) << bad;
  EXPECT_NE(std::string(bad.message()).find("known targets: local, cold"), std::string::npos)
      << bad;
  ASSERT_TRUE(engine_->SetStorageTarget(ds(), "local").ok());
  auto r = mover_->TierDataset(ds(), kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->target, "");
  EXPECT_EQ(r->segments_moved, 0u);
  OpenAll();
  EXPECT_EQ(ds()->storage_target(), "local");
  ASSERT_TRUE(engine_->SetStorageTarget(ds(), "cold").ok());
  OpenAll();
  EXPECT_EQ(engine_->EffectiveStorageTarget(*ds()), "cold");
}

}  // namespace
}  // namespace timestore

namespace timestore {
namespace {

TEST_F(TieringTest, AnUnconfiguredTargetFailsQueriesNotStartUp) {
  OpenAll();
  Load();
  const auto before = Run(queries_);
  ASSERT_TRUE(mover_->TierDataset(ds(), kNow).ok());
  ClearCache();
  // Restart with a registry that no longer has "cold" (its settings lost).
  mover_.reset();
  engine_.reset();
  auto empty = tiering::StorageTargets::Open(Env::Default(), root_ + "/elsewhere", std::nullopt);
  ASSERT_TRUE(empty.ok());
  options_.targets = empty->get();
  Open();
  auto local = QueryRange(kBase + 3 * kHour, kBase + 6 * kHour);
  ASSERT_TRUE(local.ok()) << local.status();
  auto remote = QueryRange(kBase, kBase + kHour);
  ASSERT_FALSE(remote.ok());
  EXPECT_TRUE(absl::IsUnavailable(remote.status())) << remote.status();
  EXPECT_NE(std::string(remote.status().message()).find("\"cold\" is not configured"),
            std::string::npos)
      << remote.status();
  // Configured again: everything answers as before.
  engine_.reset();
  options_.targets = targets_.get();
  OpenAll();
  ExpectSameAnswers(before, Run(queries_), "target configured again");
}

TEST_F(TieringTest, SweepKeepsObjectsARunningQueryStillReads) {
  OpenAll();
  Load();
  ASSERT_TRUE(mover_->TierDataset(ds(), kNow).ok());
  const size_t objects = store_->objects().size();
  // A query's snapshot: the segments as they are now.
  std::vector<SegmentPtr> snapshot = ds()->segments();
  Engine::RetentionPatch p;
  p.delete_after = std::optional<RetentionValue>(RetentionValue{2 * kHour, "\"2h\""});
  ASSERT_TRUE(engine_->UpdateRetention(ds(), p).ok());
  auto dropped = compaction::EnforceRetention(engine_.get(), ds(), kNow);
  ASSERT_TRUE(dropped.ok());
  ASSERT_GT(dropped->segments_dropped, 0u);
  mover_->DrainGarbage();
  EXPECT_EQ(mover_->Sweep(NowNanos()).orphans_deleted, 0u);  // grace 0, yet held
  EXPECT_EQ(store_->objects().size(), objects);
  // Once the query lets go, the objects go.
  snapshot.clear();
  mover_->DrainGarbage();
  EXPECT_EQ(store_->objects().size(), objects - dropped->segments_dropped);
}

TEST_F(TieringTest, StatsCountEveryWindowOfALatestBucketsQuery) {
  OpenAll();
  Load();
  ASSERT_TRUE(mover_->TierDataset(ds(), kNow).ok());
  ClearCache();
  QuerySpec q;
  q.start = kBase;
  q.end = kBase + 2 * kHour;  // all of it cold
  q.limit = 5;
  q.descending = true;
  Filter f;
  f.column = "v";
  f.op = FilterOp::kGt;
  Literal l;
  l.kind = Literal::Kind::kInt;
  l.i = 195;  // rare: the windows widen several times
  f.values.push_back(l);
  q.filters.push_back(f);
  Downsample d;
  d.has_interval = true;
  d.interval_ns = 60'000'000'000;
  d.aggregations = {{AggFn::kMax, "v", 0.5, ""}};
  q.downsample = d;
  const uint64_t before = store_->requests();
  auto r = engine_->Query("ds", q);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->stats.remote_requests, store_->requests() - before);
  EXPECT_GT(r->stats.elapsed_ms, 0);
}

}  // namespace
}  // namespace timestore
