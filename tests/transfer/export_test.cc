// Parquet export in process (transfer/export.h) over a real Engine: paging
// that never loses or repeats a row (page boundaries inside runs of one
// timestamp, a timestamp with more rows than a page), rows in memory and in
// segments, deduplication, the layout and the manifest; DuckDB reads the files.
#include "transfer/export.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include "tests/engine/random_store.h"
#include "tests/parquet/duckdb_check.h"
#include "tiering/local_object_store.h"
#include "transfer/destination.h"

namespace timestore {
namespace {

using ::timestore::testing::AskDuckDb;
using ::timestore::testing::DuckDbAvailable;

class ExportTest : public RandomStoreTest {
 protected:
  void SetUp() override {
    RandomStoreTest::SetUp();
    out_ = root_ + "-export";
  }
  void TearDown() override {
    RandomStoreTest::TearDown();
    std::filesystem::remove_all(out_);
  }
  transfer::Destination Dest() {
    auto d = transfer::ResolveDestination(out_, Env::Default(), nullptr);
    EXPECT_TRUE(d.ok()) << d.status().message();
    return *d;
  }
  // Every row the engine answers, as sorted text lines "t|host|v|n|ok".
  std::vector<std::string> EngineRows() {
    QuerySpec q;
    q.start = std::numeric_limits<int64_t>::min();
    q.end = std::numeric_limits<int64_t>::max();
    q.limit = 10'000'000;
    auto r = engine_->Query("ds", q);
    EXPECT_TRUE(r.ok()) << r.status().message();
    std::vector<std::string> out;
    if (!r.ok()) return out;
    auto col = [&](std::string_view n) -> const ResultColumn& {
      for (const auto& c : r->columns) {
        if (c.name == n) return c;
      }
      return r->columns[0];
    };
    const auto &t = col("timestamp"), &h = col("host"), &v = col("v"), &n = col("n"),
               &ok = col("ok");
    auto valid = [](const ResultColumn& c, size_t i) { return c.valid.empty() || c.valid[i]; };
    for (size_t i = 0; i < r->rows; ++i) {
      char vbuf[64] = "null";
      if (valid(v, i)) snprintf(vbuf, sizeof(vbuf), "%.17g", v.doubles[i]);
      out.push_back(StrCat(t.ints[i] / 1000, "|", valid(h, i) ? std::string(h.strings[i]) : "null",
                           "|", vbuf, "|", valid(n, i) ? std::to_string(n.ints[i]) : "null", "|",
                           valid(ok, i) ? (ok.ints[i] ? "true" : "false") : "null"));
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  std::vector<std::string> DuckRows() {
    std::string failure;
    auto a = AskDuckDb({"SELECT epoch_us(timestamp), host, v, n, ok FROM read_parquet('" + out_ +
                        "/dataset=ds/**/*.parquet')"},
                       &failure);
    EXPECT_FALSE(a.empty()) << failure;
    std::vector<std::string> out;
    if (a.empty()) return out;
    EXPECT_TRUE(a[0].error.empty()) << a[0].error;
    for (const auto& r : a[0].rows) {
      std::string v = "null";
      if (r[2]) {
        char buf[64];
        snprintf(buf, sizeof(buf), "%.17g", std::strtod(r[2]->c_str(), nullptr));
        v = buf;
      }
      out.push_back(StrCat(*r[0], "|", r[1].value_or("null"), "|", v, "|", r[3].value_or("null"),
                           "|", r[4].value_or("null")));
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  std::string out_;
};

TEST_F(ExportTest, SmallPagesLoseAndRepeatNoRow) {
  TIMESTORE_SKIP_WITHOUT(DuckDbAvailable(), "node with @duckdb/node-api in tests/node");
  std::mt19937_64 rng(11);
  Open();
  for (int b = 0; b < 4; ++b) {
    ASSERT_TRUE(Ingest(RandomBatch(rng, 500)).ok());
    if (b % 2 == 0) ASSERT_TRUE(engine_->Flush("ds").ok());
  }
  // 40 rows of one timestamp: more than a page.
  IngestRequest same = RandomBatch(rng, 40);
  for (auto& t : same.columns[0].ints) t = 1'700'000'000'000'000'000LL + 3600'000'000'000LL;
  ASSERT_TRUE(Ingest(std::move(same)).ok());

  transfer::ExportOptions options;
  options.page_rows = 7;  // page boundaries fall inside runs of one timestamp
  options.writer.row_group_rows = 50;
  options.writer.page_size = 512;
  auto report = transfer::ExportDataset(engine_.get(), "ds", Dest(), options, nullptr);
  ASSERT_TRUE(report.ok()) << report.status().message();
  const std::vector<std::string> want = EngineRows();
  EXPECT_EQ(report->rows, want.size());
  EXPECT_EQ(DuckRows(), want);
  // Hourly partitions: files under hour=HH, one per partition with rows.
  ASSERT_FALSE(report->files.empty());
  for (const auto& f : report->files) {
    EXPECT_NE(f.path.find("/hour="), std::string::npos) << f.path;
    EXPECT_TRUE(std::filesystem::exists(out_ + "/" + f.path)) << f.path;
    EXPECT_GT(f.row_groups, 1u) << f.path;
  }
  EXPECT_TRUE(std::filesystem::exists(out_ + "/dataset=ds/_timestore_export.json"));
}

TEST_F(ExportTest, RangeAndDedupAreWhatAQuerySees) {
  TIMESTORE_SKIP_WITHOUT(DuckDbAvailable(), "node with @duckdb/node-api in tests/node");
  std::mt19937_64 rng(12);
  Open();
  for (int b = 0; b < 3; ++b) {
    ASSERT_TRUE(Ingest(RandomBatch(rng, 400)).ok());
    if (b == 0) ASSERT_TRUE(engine_->Flush("ds").ok());
  }
  Engine::Settings settings;
  settings.dedup = DedupSettings{{"host"}, true};
  ASSERT_TRUE(engine_->UpdateSettings(engine_->GetDataset("ds").get(), settings).ok());
  transfer::ExportOptions options;
  options.from = 1'700'000'000'000'000'000LL + 1800'000'000'000LL;
  options.to = options.from + 7200'000'000'000LL;
  options.page_rows = 13;
  auto report = transfer::ExportDataset(engine_.get(), "ds", Dest(), options, nullptr);
  ASSERT_TRUE(report.ok()) << report.status().message();
  QuerySpec q;
  q.start = options.from;
  q.end = options.to;
  q.limit = 1'000'000;
  auto r = engine_->Query("ds", q);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(report->rows, r->rows);
  std::string failure;
  auto a =
      AskDuckDb({"SELECT count(*), min(timestamp) >= to_timestamp(" +
                 std::to_string(options.from / 1'000'000'000) +
                 "), max(timestamp) < to_timestamp(" + std::to_string(options.to / 1'000'000'000) +
                 ") FROM read_parquet('" + out_ + "/dataset=ds/**/*.parquet')"},
                &failure);
  ASSERT_FALSE(a.empty()) << failure;
  ASSERT_TRUE(a[0].error.empty()) << a[0].error;
  EXPECT_EQ(a[0].rows[0][0], std::to_string(r->rows));
  EXPECT_EQ(a[0].rows[0][1], "true");
  EXPECT_EQ(a[0].rows[0][2], "true");
  // The partition [from - 30 min, from + 30 min) was cut at `from`; three files.
  EXPECT_EQ(report->files.size(), 3u);
}

// A store whose `fail_at`-th PutFile fails (the first succeeds), as an
// unreachable bucket would.
class FailingStore : public tiering::LocalObjectStore {
 public:
  FailingStore(std::string dir, int fail_at)
      : LocalObjectStore(Env::Default(), std::move(dir)), fail_at_(fail_at) {}
  absl::Status PutFile(std::string_view key, Env* env, const std::string& path,
                       const tiering::PutOptions& options = {}) override {
    if (++puts_ == fail_at_) return absl::UnavailableError("store unreachable (injected)");
    return LocalObjectStore::PutFile(key, env, path, options);
  }

 private:
  int fail_at_, puts_ = 0;
};

TEST_F(ExportTest, AFailedUploadLeavesWholeFilesAndNoManifest) {
  TIMESTORE_SKIP_WITHOUT(DuckDbAvailable(), "node with @duckdb/node-api in tests/node");
  std::mt19937_64 rng(13);
  Open();
  ASSERT_TRUE(Ingest(RandomBatch(rng, 600)).ok());
  transfer::Destination dest;
  dest.store = std::make_shared<FailingStore>(out_, 2);
  dest.describe = "failing://";
  transfer::ExportOptions options;
  options.temp_dir = out_ + "-tmp";
  std::filesystem::create_directories(options.temp_dir);
  auto report = transfer::ExportDataset(engine_.get(), "ds", dest, options, nullptr);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(report.status().message().find("partition"), std::string::npos) << report.status();
  EXPECT_NE(report.status().message().find("injected"), std::string::npos) << report.status();
  // No manifest: the export did not finish. The one file stored is whole
  // (DuckDB reads it), and no temporary file is left behind.
  EXPECT_FALSE(std::filesystem::exists(out_ + "/dataset=ds/_timestore_export.json"));
  std::vector<std::string> stored;
  for (const auto& e : std::filesystem::recursive_directory_iterator(out_)) {
    if (e.is_regular_file()) stored.push_back(e.path().string());
  }
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_TRUE(stored[0].ends_with(".parquet")) << stored[0];
  EXPECT_TRUE(std::filesystem::is_empty(options.temp_dir));
  std::filesystem::remove_all(options.temp_dir);
  std::string failure;
  auto a = AskDuckDb({"SELECT count(*) > 0 FROM read_parquet('" + stored[0] + "')"}, &failure);
  ASSERT_FALSE(a.empty()) << failure;
  ASSERT_TRUE(a[0].error.empty()) << a[0].error;
  EXPECT_EQ(a[0].rows[0][0], "true");
}

// Exports of two halves of one partition to one place keep both halves (the
// cut range is in the file name); a whole-partition export then replaces
// them, so a glob over the layout counts every row once. A re-export that
// fails removes the previous manifest, which would list replaced files.
TEST_F(ExportTest, CutRangesDoNotReplaceEachOtherAndAFailedReexportHasNoManifest) {
  TIMESTORE_SKIP_WITHOUT(DuckDbAvailable(), "node with @duckdb/node-api in tests/node");
  std::mt19937_64 rng(14);
  options_.partition_interval_ns = 86'400'000'000'000;  // one day: the rows span five hours
  Open();
  ASSERT_TRUE(Ingest(RandomBatch(rng, 800)).ok());
  const std::vector<std::string> all = EngineRows();
  const int64_t mid = 1'700'000'000'000'000'000LL + 9000'000'000'000LL;
  transfer::ExportOptions first, second;
  first.to = mid;
  second.from = mid;
  auto a = transfer::ExportDataset(engine_.get(), "ds", Dest(), first, nullptr);
  ASSERT_TRUE(a.ok()) << a.status().message();
  auto b = transfer::ExportDataset(engine_.get(), "ds", Dest(), second, nullptr);
  ASSERT_TRUE(b.ok()) << b.status().message();
  // The rows span midnight: the first half is a whole day plus a cut of the
  // next, the second half the rest of that day.
  std::vector<std::string> cut_files;
  for (const auto* r : {&*a, &*b}) {
    for (const auto& f : r->files) {
      if (f.path.find("/part-0-") != std::string::npos) cut_files.push_back(f.path);
    }
  }
  ASSERT_EQ(cut_files.size(), 2u);
  EXPECT_NE(cut_files[0], cut_files[1]);
  EXPECT_EQ(a->rows + b->rows, all.size());
  EXPECT_EQ(DuckRows(), all);

  auto whole = transfer::ExportDataset(engine_.get(), "ds", Dest(), {}, nullptr);
  ASSERT_TRUE(whole.ok()) << whole.status().message();
  for (const auto& f : whole->files) {
    EXPECT_TRUE(f.path.ends_with("/part-0.parquet")) << f.path;
  }
  for (const auto& f : cut_files) EXPECT_FALSE(std::filesystem::exists(out_ + "/" + f)) << f;
  EXPECT_EQ(DuckRows(), all);

  ASSERT_TRUE(std::filesystem::exists(out_ + "/dataset=ds/_timestore_export.json"));
  transfer::Destination failing;
  failing.store = std::make_shared<FailingStore>(out_, 1);
  failing.describe = "failing://";
  auto again = transfer::ExportDataset(engine_.get(), "ds", failing, {}, nullptr);
  ASSERT_FALSE(again.ok());
  EXPECT_FALSE(std::filesystem::exists(out_ + "/dataset=ds/_timestore_export.json"));
}

TEST_F(ExportTest, RefusalsNameWhatIsWrong) {
  Open();
  transfer::ExportOptions options;
  auto missing = transfer::ExportDataset(engine_.get(), "nope", Dest(), options, nullptr);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  options.from = options.to = 5;
  std::mt19937_64 rng(1);
  ASSERT_TRUE(Ingest(RandomBatch(rng, 10)).ok());
  auto empty = transfer::ExportDataset(engine_.get(), "ds", Dest(), options, nullptr);
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(transfer::ParseExportTime("yesterday", "from").ok());
  EXPECT_EQ(*transfer::ParseExportTime("1970-01-01T00:00:01Z", "from"), 1'000'000'000);
  EXPECT_EQ(*transfer::ParseExportTime("-5", "from"), -5);
  EXPECT_EQ(transfer::ExportFilePath("cpu", 1'714'521'600'000'000'000, 86'400'000'000'000),
            "dataset=cpu/date=2024-05-01/part-0.parquet");
  EXPECT_EQ(transfer::ExportFilePath("cpu", 1'714'523'400'000'000'000, 1'800'000'000'000),
            "dataset=cpu/date=2024-05-01/hour=00/part-3000.parquet");
  EXPECT_EQ(transfer::ExportFilePath("cpu", -86'400'000'000'000, 86'400'000'000'000),
            "dataset=cpu/date=1969-12-31/part-0.parquet");
  EXPECT_EQ(transfer::ExportFilePath("cpu", 1'714'521'600'000'000'000, 86'400'000'000'000,
                                     1'714'564'800'000'000'000, std::nullopt),
            "dataset=cpu/date=2024-05-01/part-0-20240501T120000Z-20240502T000000Z.parquet");
  EXPECT_EQ(transfer::ExportFilePath("cpu", 1'714'521'600'000'000'000, 86'400'000'000'000,
                                     std::nullopt, 1'714'564'800'500'000'000),
            "dataset=cpu/date=2024-05-01/part-0-20240501T000000Z-20240501T120000.5Z.parquet");
}

}  // namespace
}  // namespace timestore
