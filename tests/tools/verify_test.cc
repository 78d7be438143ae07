// `timestore verify` on a root built by the Engine: intact, then with one byte
// flipped in a segment, a WAL file or the manifest, a listed segment missing,
// and a stray file; verify changes nothing on disk.
#include "tools/verify.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <random>

#include "common/strings.h"
#include "common/time_util.h"
#include "compaction/compactor.h"
#include "compaction/tier_mover.h"
#include "engine/engine.h"
#include "segment/segment_reader.h"
#include "tiering/memory_object_store.h"

namespace timestore::tools {
namespace {

namespace fs = std::filesystem;

class VerifyTest : public ::testing::Test {
 public:  // Ingest is shared with VerifyRemoteTest
  void SetUp() override {
    char tmpl[] = "/tmp/timestore-verify-XXXXXX";
    root_ = mkdtemp(tmpl);
    EngineOptions o;
    o.root = root_;
    o.background_sealing = false;
    o.partition_interval_ns = 3600LL * 1'000'000'000;  // two partitions
    o.segment_options.block_rows = 64;                 // several blocks
    auto e = Engine::Open(Env::Default(), o);
    ASSERT_TRUE(e.ok()) << e.status().message();
    std::unique_ptr<Engine> engine = std::move(*e);
    ASSERT_TRUE(Ingest(engine.get(), 0, 400).ok());
    auto flushed = engine->Flush("cpu");
    ASSERT_TRUE(flushed.ok()) << flushed.status().message();
    ASSERT_GE(flushed->segments.size(), 2u);
    // Two records that stay in the WAL (the flush emptied and rotated it).
    ASSERT_TRUE(Ingest(engine.get(), 400, 50).ok());
    ASSERT_TRUE(Ingest(engine.get(), 450, 50).ok());
    engine->Close();
  }
  void TearDown() override { fs::remove_all(root_); }

  static absl::StatusOr<IngestResult> Ingest(Engine* engine, int first, int n) {
    IngestRequest r;
    r.slug = "cpu";
    r.time_column = "timestamp";
    r.fields = {{"timestamp", ColumnType::kTimestamp},
                {"hostname", ColumnType::kString},
                {"usage_user", ColumnType::kDouble}};
    ColumnBuilder ts(ColumnType::kTimestamp), host(ColumnType::kString), v(ColumnType::kDouble);
    for (int i = first; i < first + n; ++i) {
      ts.AppendInt(1'700'000'000'000'000'000LL + int64_t{i} * 15'000'000'000);  // 15 s apart
      host.AppendString(StrCat("host_", i % 5));
      i % 11 ? v.AppendDouble(i % 100 + 0.5) : v.AppendNull();
    }
    r.columns.push_back(ts.Finish());
    r.columns.push_back(host.Finish());
    r.columns.push_back(v.Finish());
    r.rows = static_cast<uint32_t>(n);
    std::promise<absl::StatusOr<IngestResult>> p;
    auto f = p.get_future();
    engine->Ingest(std::move(r), [&p](absl::StatusOr<IngestResult> res) { p.set_value(res); });
    return f.get();
  }

  std::vector<std::string> Files(std::string_view ext) const {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(root_)) {
      if (e.is_regular_file() && e.path().extension() == ext) out.push_back(e.path().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  // Every file's bytes, to show verify changes nothing.
  std::map<std::string, std::string> Snapshot() const {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(root_)) {
      if (!e.is_regular_file()) continue;
      auto bytes = Env::Default()->ReadFile(e.path().string());
      out[e.path().string()] = bytes.ok() ? *bytes : "?";
    }
    return out;
  }

  static void FlipByte(const std::string& path, uint64_t at) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(at));
    char c;
    f.get(c);
    f.seekp(static_cast<std::streamoff>(at));
    f.put(static_cast<char>(c ^ 0x08));
  }

  VerifyReport Verify() {
    std::vector<std::string> lines;
    auto r = VerifyRoot(Env::Default(), root_,
                        [&](const VerifiedFile& f) { lines.push_back(FormatVerifiedFile(f)); });
    EXPECT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(lines.size(), r->files.size());
    return *std::move(r);
  }

  const VerifiedFile* Find(const VerifyReport& r, const std::string& path) {
    for (const auto& f : r.files)
      if (f.path == path) return &f;
    return nullptr;
  }

  std::string root_;
};

TEST_F(VerifyTest, IntactRootIsOkAndUntouched) {
  const auto before = Snapshot();
  VerifyReport r = Verify();
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.Count(VerifiedFile::Kind::kCurrent), 1u);
  EXPECT_EQ(r.Count(VerifiedFile::Kind::kManifest), 1u);
  EXPECT_EQ(r.Count(VerifiedFile::Kind::kSegment), Files(".tseg").size());
  EXPECT_GE(r.Count(VerifiedFile::Kind::kSegment), 2u);
  EXPECT_EQ(r.Count(VerifiedFile::Kind::kWal), Files(".wal").size());
  EXPECT_GE(r.Count(VerifiedFile::Kind::kWal), 1u);
  EXPECT_EQ(r.Count(VerifiedFile::Kind::kStray), 0u);
  for (const auto& f : r.files) {
    EXPECT_TRUE(f.status.ok()) << FormatVerifiedFile(f);
    EXPECT_EQ(FormatVerifiedFile(f).find(f.path + ": ok"), 0u) << FormatVerifiedFile(f);
  }
  const std::string summary = FormatVerifySummary(r);
  EXPECT_NE(summary.find("all ok"), std::string::npos) << summary;
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(VerifyTest, FlippedSegmentByteIsReportedWithFileAndOffset) {
  const std::string seg = Files(".tseg").back();
  auto reader = segment::SegmentReader::Open(Env::Default(), seg);
  ASSERT_TRUE(reader.ok());
  const segment::BlockInfo b = (*reader)->meta().columns[1].blocks[0];
  const std::string column = (*reader)->meta().columns[1].name;
  reader->reset();
  FlipByte(seg, b.offset + b.length / 2);
  const auto before = Snapshot();

  VerifyReport r = Verify();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.corrupt(), 1u);
  const VerifiedFile* f = Find(r, seg);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->status.code(), absl::StatusCode::kDataLoss);
  const std::string line = FormatVerifiedFile(*f);
  EXPECT_EQ(line, StrCat(seg, ": CORRUPT: corrupt segment at offset ", b.offset,
                         ": block checksum mismatch (column ", column, ", block 0)"));
  const std::string summary = FormatVerifySummary(r);
  EXPECT_NE(summary.find(StrCat("1 CORRUPT: ", seg)), std::string::npos) << summary;
  // Every other file still reads ok.
  for (const auto& other : r.files) {
    EXPECT_TRUE(other.path == seg || other.status.ok()) << FormatVerifiedFile(other);
  }
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(VerifyTest, FlippedFooterByteFailsTheSegment) {
  const std::string seg = Files(".tseg").front();
  const uint64_t size = fs::file_size(seg);
  FlipByte(seg, size - segment::kTrailerSize - 5);  // inside the footer
  VerifyReport r = Verify();
  const VerifiedFile* f = Find(r, seg);
  ASSERT_NE(f, nullptr);
  EXPECT_NE(FormatVerifiedFile(*f).find("footer checksum mismatch"), std::string::npos)
      << FormatVerifiedFile(*f);
  EXPECT_EQ(r.corrupt(), 1u);
}

TEST_F(VerifyTest, DamagedWalRecordIsReported) {
  const std::string wal = Files(".wal").back();
  // Inside the first record's payload, with the rest of the file intact:
  // corruption, not a torn tail.
  FlipByte(wal, 16 + 10);
  VerifyReport r = Verify();
  EXPECT_FALSE(r.ok());
  const VerifiedFile* f = Find(r, wal);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->status.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(FormatVerifiedFile(*f).find("offset 16"), std::string::npos) << FormatVerifiedFile(*f);
}

TEST_F(VerifyTest, TornWalTailIsOk) {
  const std::string wal = Files(".wal").back();
  fs::resize_file(wal, fs::file_size(wal) - 7);
  VerifyReport r = Verify();
  EXPECT_TRUE(r.ok()) << FormatVerifySummary(r);
  const VerifiedFile* f = Find(r, wal);
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->detail.find("torn tail"), std::string::npos) << f->detail;
}

TEST_F(VerifyTest, MissingListedSegmentIsCorruptAndStrayFileIsReported) {
  const std::vector<std::string> segs = Files(".tseg");
  fs::rename(segs[0], segs[0] + ".moved");
  VerifyReport r = Verify();
  EXPECT_EQ(r.corrupt(), 1u);
  const VerifiedFile* missing = Find(r, segs[0]);
  ASSERT_NE(missing, nullptr);
  EXPECT_NE(FormatVerifiedFile(*missing).find("listed in the manifest but missing"),
            std::string::npos);
  const VerifiedFile* stray = Find(r, segs[0] + ".moved");
  ASSERT_NE(stray, nullptr);
  EXPECT_EQ(stray->kind, VerifiedFile::Kind::kStray);
  EXPECT_TRUE(stray->status.ok());
  EXPECT_NE(FormatVerifySummary(r).find("1 stray file"), std::string::npos);
}

TEST_F(VerifyTest, DamagedManifestIsReportedAndSegmentsStillChecked) {
  const std::vector<std::string> manifests = [&] {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(root_)) {
      if (e.path().filename().string().rfind("MANIFEST-", 0) == 0) out.push_back(e.path());
    }
    return out;
  }();
  ASSERT_EQ(manifests.size(), 1u);
  FlipByte(manifests[0], 16 + 21 + 3);  // the first edit, with intact edits after it
  VerifyReport r = Verify();
  EXPECT_FALSE(r.ok());
  const VerifiedFile* f = Find(r, manifests[0]);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->status.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(FormatVerifiedFile(*f).find("offset 16"), std::string::npos) << FormatVerifiedFile(*f);
  // Without the manifest's list, every segment file is still checked, none called stray.
  EXPECT_EQ(r.Count(VerifiedFile::Kind::kSegment), Files(".tseg").size());
  EXPECT_EQ(r.Count(VerifiedFile::Kind::kStray), 0u);
  EXPECT_EQ(r.corrupt(), 1u);
}

// The manifest's replace_segments and drop_dataset edits (compaction,
// retention, deletes) are followed: the segments they removed are not
// expected, the ones they added are, and a deleted dataset's are gone.
TEST_F(VerifyTest, FollowsCompactionRetentionAndDeleteEdits) {
  EngineOptions o;
  o.root = root_;
  o.background_sealing = false;
  o.partition_interval_ns = 3600LL * 1'000'000'000;
  auto e = Engine::Open(Env::Default(), o);
  ASSERT_TRUE(e.ok()) << e.status().message();
  std::unique_ptr<Engine> engine = std::move(*e);
  ASSERT_TRUE(engine->Flush("cpu").ok());  // a second segment per partition
  {
    compaction::Compactor c(engine.get(), compaction::CompactionOptions{});
    auto s = c.CompactDataset(engine->GetDataset("cpu").get());
    ASSERT_TRUE(s.ok()) << s.status().message();
    ASSERT_GT(s->merges, 0u);
    RetentionSettings keep_little;
    keep_little.delete_after = RetentionValue{1'000'000'000, "1"};
    ASSERT_TRUE(engine->SetRetention(engine->GetDataset("cpu").get(), keep_little).ok());
    ASSERT_TRUE(Ingest(engine.get(), 0, 10).ok());
    ASSERT_TRUE(engine->Flush("cpu").ok());
    auto r = c.EnforceRetentionNow(engine->GetDataset("cpu").get());  // rows are from 2023
    ASSERT_TRUE(r.ok());
    ASSERT_GT(r->segments_dropped, 0u);
  }
  // Another dataset, deleted.
  IngestRequest other;
  other.slug = "gone";
  other.time_column = "timestamp";
  other.fields = {{"timestamp", ColumnType::kTimestamp}};
  ColumnBuilder ts(ColumnType::kTimestamp);
  ts.AppendInt(1);
  other.columns.push_back(ts.Finish());
  other.rows = 1;
  std::promise<absl::StatusOr<IngestResult>> p;
  auto f = p.get_future();
  engine->Ingest(std::move(other), [&p](absl::StatusOr<IngestResult> res) { p.set_value(res); });
  ASSERT_TRUE(f.get().ok());
  ASSERT_TRUE(engine->Flush("gone").ok());
  ASSERT_TRUE(engine->DeleteDataset(engine->GetDataset("gone").get()).ok());
  // Before any restart: the manifest still holds the edits themselves.
  engine->Close();
  VerifyReport r = Verify();
  EXPECT_TRUE(r.ok()) << FormatVerifySummary(r);
  EXPECT_EQ(r.Count(VerifiedFile::Kind::kStray), 0u);
  EXPECT_EQ(r.Count(VerifiedFile::Kind::kSegment), Files(".tseg").size());
}

TEST_F(VerifyTest, NoRootIsNotFound) {
  EXPECT_EQ(VerifyRoot(Env::Default(), root_ + "/nope").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace timestore::tools

namespace timestore::tools {
namespace {

// Remote segments: verify checks their footer copies and objects, reports
// orphans, and with --deep reads every block.
TEST(VerifyRemoteTest, ChecksObjectsFootersAndOrphans) {
  char tmpl[] = "/tmp/timestore-verify-XXXXXX";
  const std::string root = mkdtemp(tmpl);
  auto store = std::make_shared<tiering::MemoryObjectStore>("bucket");
  auto targets = *tiering::StorageTargets::Open(Env::Default(), root, std::nullopt);
  tiering::StorageTargetConfig c;
  c.id = "cold";
  c.driver = "memory";
  c.bucket = "bucket";
  targets->AddForTest(c, store);
  {
    EngineOptions o;
    o.root = root;
    o.background_sealing = false;
    o.partition_interval_ns = 3600LL * 1'000'000'000;
    o.segment_options.block_rows = 64;
    o.targets = targets.get();
    auto engine = *Engine::Open(Env::Default(), o);
    ASSERT_TRUE(VerifyTest::Ingest(engine.get(), 0, 400).ok());
    ASSERT_TRUE(engine->Flush("cpu").ok());
    auto ds = engine->GetDataset("cpu");
    ASSERT_TRUE(engine->SetStorageTarget(ds.get(), "cold").ok());
    Engine::RetentionPatch p;
    p.cold_after = std::optional<RetentionValue>(RetentionValue{1'000'000'000, "1"});
    ASSERT_TRUE(engine->UpdateRetention(ds.get(), p).ok());
    compaction::TierMover mover(engine.get(), {});
    auto r = mover.TierDataset(ds.get(), NowNanos());
    ASSERT_TRUE(r.ok());
    ASSERT_GE(r->segments_moved, 2u);
    engine->Close();
  }
  VerifyOptions opt;
  opt.targets = targets.get();
  auto report = VerifyRoot(Env::Default(), root, nullptr, opt);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << FormatVerifySummary(*report);
  EXPECT_GE(report->Count(VerifiedFile::Kind::kRemote), 2u);
  EXPECT_NE(FormatVerifySummary(*report).find("remote segments"), std::string::npos);

  // A damaged block: only --deep reads it.
  auto objects = store->objects();
  const std::string key = objects.begin()->first;
  std::string bytes = objects.begin()->second;
  bytes[40] ^= 1;
  store->SetObject(key, bytes);
  EXPECT_TRUE(VerifyRoot(Env::Default(), root, nullptr, opt)->ok());
  opt.deep = true;
  report = VerifyRoot(Env::Default(), root, nullptr, opt);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->corrupt(), 1u) << FormatVerifySummary(*report);
  // A short object, a missing one, an orphan.
  opt.deep = false;
  store->SetObject(key, bytes.substr(0, 100));
  report = VerifyRoot(Env::Default(), root, nullptr, opt);
  EXPECT_EQ(report->corrupt(), 1u);
  store->EraseObject(key);
  report = VerifyRoot(Env::Default(), root, nullptr, opt);
  ASSERT_EQ(report->corrupt(), 1u);
  EXPECT_NE(FormatVerifySummary(*report).find(key), std::string::npos);
  for (const auto& f : report->files) {
    if (!f.status.ok()) EXPECT_NE(FormatVerifiedFile(f).find("missing"), std::string::npos);
  }
  std::string root_id;
  std::ifstream(root + "/ROOT_ID") >> root_id;
  store->SetObject(key, objects.begin()->second);
  store->SetObject(root_id + "/stray.tseg", "x");
  report = VerifyRoot(Env::Default(), root, nullptr, opt);
  EXPECT_TRUE(report->ok());
  EXPECT_EQ(report->Count(VerifiedFile::Kind::kOrphan), 1u);
  // Without targets, remote segments cannot be vouched for.
  report = VerifyRoot(Env::Default(), root, nullptr, {});
  EXPECT_FALSE(report->ok());
  fs::remove_all(root);
}

}  // namespace
}  // namespace timestore::tools
