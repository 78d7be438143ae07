// The engine through its public API: ingest, schema evolution, idempotency,
// back-pressure and recovery from the write-ahead log (clean restart, torn
// tail, simulated power loss, corruption).
#include "engine/engine.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <future>

#include "common/strings.h"
#include "wal/wal_writer.h"

namespace timestore {
namespace {

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/timestore-engine-XXXXXX";
    root_ = mkdtemp(tmpl);
    options_.root = root_;
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

  // A batch of `n` rows: ts = base + k seconds, v = k, host = "h<k%3>".
  IngestRequest Batch(const std::string& slug, int n, int64_t base_s = 1000) {
    IngestRequest r;
    r.slug = slug;
    r.time_column = "timestamp";
    r.fields = {{"timestamp", ColumnType::kTimestamp},
                {"v", ColumnType::kDouble},
                {"host", ColumnType::kString}};
    ColumnBuilder ts(ColumnType::kTimestamp), v(ColumnType::kDouble), h(ColumnType::kString);
    for (int k = 0; k < n; ++k) {
      ts.AppendInt((base_s + k) * 1'000'000'000);
      v.AppendDouble(k);
      h.AppendString(StrCat("h", k % 3));
    }
    r.columns.push_back(ts.Finish());
    r.columns.push_back(v.Finish());
    r.columns.push_back(h.Finish());
    r.rows = static_cast<uint32_t>(n);
    return r;
  }

  absl::StatusOr<IngestResult> Ingest(IngestRequest r) {
    std::promise<absl::StatusOr<IngestResult>> p;
    auto f = p.get_future();
    engine_->Ingest(std::move(r), [&p](absl::StatusOr<IngestResult> res) { p.set_value(res); });
    return f.get();
  }

  uint64_t CountRows(const std::string& slug) {
    QuerySpec q;
    q.start = std::numeric_limits<int64_t>::min();
    q.end = std::numeric_limits<int64_t>::max();
    Downsample ds;
    ds.aggregations = {{AggFn::kCount, "", 0.5, "n"}};
    q.downsample = ds;
    auto r = engine_->Query(slug, q);
    EXPECT_TRUE(r.ok()) << r.status().message();
    if (!r.ok() || r->rows == 0) return 0;
    return static_cast<uint64_t>(r->columns[1].ints[0]);
  }

  std::string WalFile(uint64_t n) { return StrCat(root_, "/wal/", wal::WalFileName(n)); }

  std::string root_;
  EngineOptions options_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineTest, IngestQueryAndRestart) {
  Open();
  auto r = Ingest(Batch("cpu", 100));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->rows, 100u);
  EXPECT_EQ(r->schema_version, 1u);
  EXPECT_EQ(*r->watermark, 1099LL * 1'000'000'000);
  EXPECT_EQ(CountRows("cpu"), 100u);
  Open();  // restart: replay
  EXPECT_EQ(CountRows("cpu"), 100u);
  EXPECT_EQ(engine_->recovery().rows, 100u);
  EXPECT_EQ(engine_->GetSchema("cpu")->fields.size(), 3u);
}

TEST_F(EngineTest, SchemaEvolutionAndConflict) {
  Open();
  ASSERT_TRUE(Ingest(Batch("cpu", 3)).ok());
  IngestRequest more = Batch("cpu", 2);
  more.fields.push_back({"extra", ColumnType::kInteger});
  ColumnBuilder x(ColumnType::kInteger);
  x.AppendInt(7);
  x.AppendNull();
  more.columns.push_back(x.Finish());
  auto r = Ingest(std::move(more));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->schema_version, 2u);
  IngestRequest conflict = Batch("cpu", 1);
  conflict.fields[1].type = ColumnType::kInteger;  // v is double
  ColumnBuilder iv(ColumnType::kInteger);
  iv.AppendInt(1);
  conflict.columns[1] = iv.Finish();
  auto c = Ingest(std::move(conflict));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CountRows("cpu"), 5u);  // the conflicting batch stored nothing
  Open();
  auto schema = engine_->GetSchema("cpu");
  EXPECT_EQ(schema->version, 2u);
  EXPECT_EQ(schema->fields[3].name, "extra");
  EXPECT_EQ(CountRows("cpu"), 5u);
}

TEST_F(EngineTest, IdempotencySurvivesRestart) {
  Open();
  IngestRequest r = Batch("cpu", 10);
  r.idempotency_key = "k1";
  r.request_hash = 42;
  auto first = Ingest(std::move(r));
  ASSERT_TRUE(first.ok());
  Open();
  auto dup = engine_->CheckIdempotency("cpu", "k1", 42);
  ASSERT_TRUE(dup.ok());
  ASSERT_TRUE(dup->has_value());
  EXPECT_TRUE((*dup)->duplicate);
  EXPECT_EQ((*dup)->rows, 10u);
  EXPECT_EQ((*dup)->watermark, first->watermark);
  auto conflict = engine_->CheckIdempotency("cpu", "k1", 43);
  EXPECT_EQ(conflict.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(CountRows("cpu"), 10u);
}

TEST_F(EngineTest, BackPressureRefusesWithoutStoring) {
  options_.memtable_max_bytes = 64 * 1024;
  Open();
  int refused = 0;
  for (int k = 0; k < 50; ++k) {
    auto r = Ingest(Batch("cpu", 500, 1000 + k * 1000));
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
      ++refused;
    }
  }
  EXPECT_GT(refused, 0);
  EXPECT_EQ(CountRows("cpu"), static_cast<uint64_t>(50 - refused) * 500);
}

TEST_F(EngineTest, TornTailIsDroppedAndReported) {
  Open();
  for (int k = 0; k < 5; ++k) ASSERT_TRUE(Ingest(Batch("cpu", 10, 1000 + k * 100)).ok());
  engine_.reset();
  // Cut the last record in half, as a crash during its write would.
  std::string path = WalFile(1);
  uint64_t size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, size - 50);
  Open();
  EXPECT_EQ(CountRows("cpu"), 40u);
  EXPECT_GT(engine_->recovery().dropped_bytes, 0u);
  // The cut file is now an older file: a second restart must read it cleanly.
  ASSERT_TRUE(Ingest(Batch("cpu", 1, 5000)).ok());
  Open();
  EXPECT_EQ(CountRows("cpu"), 41u);
}

TEST_F(EngineTest, MidFileCorruptionRefusesToStartUnlessTruncating) {
  Open();
  for (int k = 0; k < 5; ++k) ASSERT_TRUE(Ingest(Batch("cpu", 10, 1000 + k * 100)).ok());
  engine_.reset();
  std::string path = WalFile(1);
  auto contents = Env::Default()->ReadFile(path);
  ASSERT_TRUE(contents.ok());
  std::string bytes = *contents;
  bytes[wal::kFileHeaderSize + wal::kRecordHeaderSize + 20] ^= 0x40;  // inside record 1
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), path, bytes).ok());
  auto e = Engine::Open(Env::Default(), options_);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(ToStd(e.status().message()).find(path), std::string_view::npos);
  EXPECT_NE(ToStd(e.status().message()).find("offset 16"), std::string_view::npos)
      << e.status().message();
  options_.wal_recovery = wal::TailPolicy::kTruncate;
  Open();
  EXPECT_EQ(CountRows("cpu"), 0u);  // everything from the first record on was dropped
}

TEST_F(EngineTest, AcknowledgedRowsSurvivePowerLoss) {
  FaultInjectionEnv env(Env::Default());
  Open(&env);
  std::vector<std::future<absl::StatusOr<IngestResult>>> acks;
  for (int k = 0; k < 20; ++k) {
    auto p = std::make_shared<std::promise<absl::StatusOr<IngestResult>>>();
    acks.push_back(p->get_future());
    engine_->Ingest(Batch("cpu", 10, 1000 + k * 100),
                    [p](absl::StatusOr<IngestResult> r) { p->set_value(r); });
  }
  uint64_t acked = 0;
  for (auto& f : acks) acked += f.get().ok() ? 10 : 0;
  EXPECT_EQ(acked, 200u);
  // Power loss: everything not fsynced disappears. Acknowledged rows must not.
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  engine_.reset();
  Open();
  EXPECT_EQ(CountRows("cpu"), acked);
}

TEST_F(EngineTest, FailedWalWriteStoresNothingAndRecovers) {
  FaultInjectionEnv env(Env::Default());
  Open(&env);
  ASSERT_TRUE(Ingest(Batch("cpu", 10)).ok());
  env.FailAppends(absl::ResourceExhaustedError("injected ENOSPC"));
  auto r = Ingest(Batch("cpu", 10, 2000));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(CountRows("cpu"), 10u);
  env.ClearFaults();
  ASSERT_TRUE(Ingest(Batch("cpu", 10, 3000)).ok());
  EXPECT_EQ(CountRows("cpu"), 20u);
  engine_.reset();
  Open();
  EXPECT_EQ(CountRows("cpu"), 20u);
}

// One request for several datasets (line protocol with several measurements)
// is one WAL record: all of it or none, through errors, restarts and power
// loss; its Idempotency-Key lives on the first dataset.
TEST_F(EngineTest, IngestManyIsAllOrNothingAcrossDatasets) {
  FaultInjectionEnv env(Env::Default());
  Open(&env);
  auto many = [&](std::vector<IngestRequest> reqs) {
    std::promise<absl::StatusOr<std::vector<IngestResult>>> p;
    auto f = p.get_future();
    engine_->IngestMany(std::move(reqs), [&p](auto res) { p.set_value(std::move(res)); });
    return f.get();
  };
  std::vector<IngestRequest> reqs;
  reqs.push_back(Batch("cpu", 10));
  reqs.push_back(Batch("mem", 5));
  reqs.push_back(Batch("disk", 3));
  auto r = many(std::move(reqs));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[1].dataset, "mem");
  EXPECT_EQ((*r)[1].rows, 5u);

  // A conflict in the last batch stores nothing of the first two.
  std::vector<IngestRequest> bad;
  bad.push_back(Batch("cpu", 10, 5000));
  bad.push_back(Batch("mem", 5, 5000));
  IngestRequest conflict = Batch("disk", 1, 5000);
  conflict.fields[1].type = ColumnType::kInteger;  // v is double in "disk"
  ColumnBuilder iv(ColumnType::kInteger);
  iv.AppendInt(1);
  conflict.columns[1] = iv.Finish();
  bad.push_back(std::move(conflict));
  EXPECT_FALSE(many(std::move(bad)).ok());
  EXPECT_EQ(CountRows("cpu"), 10u);
  EXPECT_EQ(CountRows("mem"), 5u);

  // The key on the first batch makes a repeat a duplicate that stores nothing.
  std::vector<IngestRequest> keyed;
  keyed.push_back(Batch("cpu", 2, 9000));
  keyed.push_back(Batch("mem", 2, 9000));
  keyed[0].idempotency_key = "k";
  keyed[0].request_hash = 7;
  std::vector<IngestRequest> again;
  again.push_back(Batch("cpu", 2, 9000));
  again.push_back(Batch("mem", 2, 9000));
  again[0].idempotency_key = "k";
  again[0].request_hash = 7;
  ASSERT_TRUE(many(std::move(keyed)).ok());
  auto dup = many(std::move(again));
  ASSERT_TRUE(dup.ok());
  ASSERT_EQ(dup->size(), 1u);
  EXPECT_TRUE(dup->front().duplicate);
  EXPECT_EQ(CountRows("cpu"), 12u);
  EXPECT_EQ(CountRows("mem"), 7u);

  // Acknowledged multi-dataset records survive power loss and replay whole.
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  engine_.reset();
  Open();
  EXPECT_EQ(CountRows("cpu"), 12u);
  EXPECT_EQ(CountRows("mem"), 7u);
  EXPECT_EQ(CountRows("disk"), 3u);
  auto key = engine_->CheckIdempotency("cpu", "k", 7);
  ASSERT_TRUE(key.ok());
  EXPECT_TRUE(key->has_value());
}

// A record of several batches torn by a crash in the middle of its write is
// dropped whole: no dataset gets part of the request.
TEST_F(EngineTest, TornMultiDatasetRecordStoresNothing) {
  Open();
  std::vector<IngestRequest> reqs;
  reqs.push_back(Batch("cpu", 100));
  reqs.push_back(Batch("mem", 100));
  std::promise<absl::StatusOr<std::vector<IngestResult>>> p;
  engine_->IngestMany(std::move(reqs), [&p](auto res) { p.set_value(std::move(res)); });
  ASSERT_TRUE(p.get_future().get().ok());
  engine_.reset();
  // Cut the newest WAL file inside the record's second batch.
  std::string newest;
  for (const auto& e : std::filesystem::directory_iterator(root_ + "/wal")) {
    if (newest.empty() || e.path().string() > newest) newest = e.path().string();
  }
  auto size = std::filesystem::file_size(newest);
  std::filesystem::resize_file(newest, size - 200);
  Open();
  EXPECT_EQ(engine_->GetDataset("cpu") == nullptr ? 0u : CountRows("cpu"), 0u);
  EXPECT_EQ(engine_->GetDataset("mem") == nullptr ? 0u : CountRows("mem"), 0u);
  EXPECT_GT(engine_->recovery().dropped_bytes, 0u);
}

TEST_F(EngineTest, ManifestIsRewrittenAndStrayFilesRemoved) {
  Open();
  ASSERT_TRUE(Ingest(Batch("cpu", 5)).ok());
  ASSERT_TRUE(Ingest(Batch("mem", 5)).ok());
  engine_.reset();
  // A leftover of a crash between a CURRENT swap and the cleanup.
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), root_ + "/MANIFEST-000099", "junk").ok());
  Open();
  EXPECT_FALSE(std::filesystem::exists(root_ + "/MANIFEST-000099"));
  int manifests = 0;
  for (const auto& e : std::filesystem::directory_iterator(root_))
    manifests += e.path().filename().string().rfind("MANIFEST-", 0) == 0;
  EXPECT_EQ(manifests, 1);
  EXPECT_EQ(engine_->ListDatasets().size(), 2u);
  EXPECT_EQ(CountRows("mem"), 5u);
}

// A crash while a new WAL file was being created can leave it shorter than
// its header. The first restart must remove it, or the second restart reads it
// strictly as an older file and refuses to start.
TEST_F(EngineTest, WalFileCutInsideItsHeaderSurvivesTwoRestarts) {
  Open();
  ASSERT_TRUE(Ingest(Batch("cpu", 10)).ok());
  engine_.reset();
  // Recovery opened 000002.wal; fake a crash that left only part of its header.
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), WalFile(3), "TSWL\x01").ok());
  Open();
  EXPECT_EQ(CountRows("cpu"), 10u);
  EXPECT_FALSE(std::filesystem::exists(WalFile(3)));
  ASSERT_TRUE(Ingest(Batch("cpu", 5, 5000)).ok());
  Open();
  EXPECT_EQ(CountRows("cpu"), 15u);
}

// Found by the kill -9 soak: a crash between creating a WAL file and writing
// its header leaves it empty. Nothing is dropped from an empty file, so the
// first restart kept it, and the second read it strictly as an older file
// and refused to start ("file is 0 bytes, shorter than the log file header").
TEST_F(EngineTest, EmptyWalFileFromACrashSurvivesTwoRestarts) {
  Open();
  ASSERT_TRUE(Ingest(Batch("cpu", 10)).ok());
  engine_.reset();
  // Recovery opened 000002.wal; fake a crash that left 000003.wal empty.
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), WalFile(3), "").ok());
  Open();
  EXPECT_EQ(CountRows("cpu"), 10u);
  EXPECT_FALSE(std::filesystem::exists(WalFile(3)));
  ASSERT_TRUE(Ingest(Batch("cpu", 5, 5000)).ok());
  Open();
  EXPECT_EQ(CountRows("cpu"), 15u);
}

// Review finding: an ingest after the WAL was closed called back on the same
// thread while the dataset lock was held, and the callback took it again.
TEST_F(EngineTest, IngestAfterCloseFailsInsteadOfHanging) {
  Open();
  ASSERT_TRUE(Ingest(Batch("cpu", 3)).ok());
  engine_->Close();
  IngestRequest r = Batch("cpu", 3, 5000);
  r.idempotency_key = "late";
  r.request_hash = 1;
  auto res = Ingest(std::move(r));
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), absl::StatusCode::kUnavailable);
}

// After a failed fsync the request's outcome is unknown until a restart
// replays the log, so its Idempotency-Key stays reserved (503) rather than
// free for a retry that could store the rows twice.
TEST_F(EngineTest, FailedFsyncKeepsTheKeyReserved) {
  FaultInjectionEnv env(Env::Default());
  Open(&env);
  ASSERT_TRUE(Ingest(Batch("cpu", 2)).ok());  // dataset and schema exist: only the WAL syncs next
  env.FailSyncs(absl::InternalError("injected EIO on fdatasync"));
  IngestRequest r = Batch("cpu", 4, 7000);
  r.idempotency_key = "k";
  r.request_hash = 7;
  auto res = Ingest(std::move(r));
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), absl::StatusCode::kDataLoss);
  auto again = engine_->CheckIdempotency("cpu", "k", 7);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kUnavailable);
  env.ClearFaults();
}

TEST_F(EngineTest, UnknownDatasetQueryIsNotFound) {
  Open();
  QuerySpec q;
  q.start = 0;
  q.end = 1;
  auto r = engine_->Query("nope", q);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace timestore
