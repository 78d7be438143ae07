// The series key of a dataset nobody configured (engine/series_key.h): which
// tags it picks, that it is kept across restarts and later seals, that an
// explicit segmentBy wins, that the lastpoint footers work without settings,
// and that a flush which seals everything releases the write-ahead log.
#include <gtest/gtest.h>

#include <filesystem>
#include <limits>
#include <random>

#include "common/strings.h"
#include "engine/engine.h"
#include "tests/engine/random_store.h"

namespace timestore {
namespace {

class SeriesKeyTest : public RandomStoreTest {
 protected:
  // TSBS-like rows: `hosts` hosts, a region each host determines, a cpu tag
  // independent of the host (when `with_cpu`), a unique request id, a value.
  IngestRequest Rows(int first, int n, int hosts, bool with_cpu = false) {
    IngestRequest r;
    r.slug = "ds";
    r.time_column = "timestamp";
    r.fields = {{"timestamp", ColumnType::kTimestamp},
                {"region", ColumnType::kString},
                {"request_id", ColumnType::kString},
                {"hostname", ColumnType::kString},
                {"v", ColumnType::kDouble}};
    if (with_cpu) r.fields.push_back({"cpu", ColumnType::kString});
    ColumnBuilder ts(ColumnType::kTimestamp), region(ColumnType::kString), id(ColumnType::kString),
        host(ColumnType::kString), v(ColumnType::kDouble), cpu(ColumnType::kString);
    for (int i = first; i < first + n; ++i) {
      const int h = i % hosts;
      ts.AppendInt(kBase + int64_t{i / hosts} * 10'000'000'000);
      region.AppendString(StrCat("region-", h % 3));
      id.AppendString(StrCat("req-", i));
      host.AppendString(StrCat("host_", h));
      v.AppendDouble(i % 97 + 0.25);
      cpu.AppendString(StrCat("cpu", (i / hosts) % 4));
    }
    r.columns.push_back(ts.Finish());
    r.columns.push_back(region.Finish());
    r.columns.push_back(id.Finish());
    r.columns.push_back(host.Finish());
    r.columns.push_back(v.Finish());
    if (with_cpu) r.columns.push_back(cpu.Finish());
    r.rows = static_cast<uint32_t>(n);
    return r;
  }
  std::vector<std::string> SortKeys() {
    std::vector<std::string> out;
    for (const auto& seg : engine_->GetDataset("ds")->segments()) {
      std::string k;
      for (const auto& c : seg->reader->meta().sort_key) StrAppend(&k, k.empty() ? "" : ",", c);
      out.push_back(k);
    }
    return out;
  }
  uint64_t WalBytes() {
    uint64_t bytes = 0;
    for (const auto& e : std::filesystem::directory_iterator(root_ + "/wal"))
      if (e.is_regular_file()) bytes += e.file_size();
    return bytes;
  }
  static constexpr int64_t kBase = 1'700'000'000'000'000'000LL;
};

using Key = std::vector<std::string>;

TEST_F(SeriesKeyTest, PicksTheFinestTagAndLeavesOutDeterminedAndUniqueColumns) {
  Open();
  ASSERT_TRUE(Ingest(Rows(0, 3000, 100)).ok());
  ASSERT_TRUE(engine_->Flush("ds").ok());
  auto ds = engine_->GetDataset("ds");
  EXPECT_EQ(ds->inferred_segment_by(), Key{"hostname"});
  EXPECT_EQ(ds->segment_by(), Key{"hostname"});
  EXPECT_FALSE(ds->chosen_segment_by().has_value());
  for (const auto& k : SortKeys()) EXPECT_EQ(k, "hostname,timestamp");

  // Kept across a restart, and later seals sort the same way even when
  // their rows alone would suggest another key.
  Open();
  ds = engine_->GetDataset("ds");
  EXPECT_EQ(ds->inferred_segment_by(), Key{"hostname"});
  ASSERT_TRUE(Ingest(Rows(3000, 2000, 7, /*with_cpu=*/true)).ok());
  ASSERT_TRUE(engine_->Flush("ds").ok());
  EXPECT_EQ(engine_->GetDataset("ds")->inferred_segment_by(), Key{"hostname"});
  for (const auto& k : SortKeys()) EXPECT_EQ(k, "hostname,timestamp");
}

TEST_F(SeriesKeyTest, AnIndependentTagJoinsTheKey) {
  Open();
  ASSERT_TRUE(Ingest(Rows(0, 4000, 50, /*with_cpu=*/true)).ok());
  ASSERT_TRUE(engine_->Flush("ds").ok());
  EXPECT_EQ(engine_->GetDataset("ds")->inferred_segment_by(), (Key{"hostname", "cpu"}));
  for (const auto& k : SortKeys()) EXPECT_EQ(k, "hostname,cpu,timestamp");
}

TEST_F(SeriesKeyTest, AnExplicitSegmentByWinsEvenWhenEmpty) {
  Open();
  ASSERT_TRUE(Ingest(Rows(0, 3000, 100)).ok());
  Engine::Settings time_only;
  time_only.segment_by = Key{};
  ASSERT_TRUE(engine_->UpdateSettings(engine_->GetDataset("ds").get(), time_only).ok());
  ASSERT_TRUE(engine_->Flush("ds").ok());
  auto ds = engine_->GetDataset("ds");
  EXPECT_TRUE(ds->inferred_segment_by().empty());
  ASSERT_TRUE(ds->chosen_segment_by().has_value());
  EXPECT_TRUE(ds->segment_by().empty());
  for (const auto& k : SortKeys()) EXPECT_EQ(k, "timestamp");
  Open();
  EXPECT_TRUE(engine_->GetDataset("ds")->chosen_segment_by().has_value());

  // A segmentBy set after inference wins for later seals.
  Engine::Settings by_region;
  by_region.segment_by = Key{"region"};
  ASSERT_TRUE(engine_->UpdateSettings(engine_->GetDataset("ds").get(), by_region).ok());
  ASSERT_TRUE(Ingest(Rows(3000, 3000, 100)).ok());
  ASSERT_TRUE(engine_->Flush("ds").ok());
  EXPECT_EQ(engine_->GetDataset("ds")->segment_by(), Key{"region"});
}

TEST_F(SeriesKeyTest, ASmallSealWaitsForALargerOne) {
  Open();
  ASSERT_TRUE(Ingest(Rows(0, 500, 100)).ok());
  ASSERT_TRUE(engine_->Flush("ds").ok());
  EXPECT_TRUE(engine_->GetDataset("ds")->inferred_segment_by().empty());
  for (const auto& k : SortKeys()) EXPECT_EQ(k, "timestamp");
  ASSERT_TRUE(Ingest(Rows(500, 2000, 100)).ok());
  ASSERT_TRUE(engine_->Flush("ds").ok());
  EXPECT_EQ(engine_->GetDataset("ds")->inferred_segment_by(), Key{"hostname"});
}

TEST_F(SeriesKeyTest, NoInferenceWhileDedupIsOn) {
  Open();
  ASSERT_TRUE(Ingest(Rows(0, 3000, 100)).ok());
  Engine::Settings dedup;
  dedup.dedup = std::optional<DedupSettings>(DedupSettings{{"hostname", "region"}, true});
  ASSERT_TRUE(engine_->UpdateSettings(engine_->GetDataset("ds").get(), dedup).ok());
  ASSERT_TRUE(engine_->Flush("ds").ok());
  EXPECT_TRUE(engine_->GetDataset("ds")->inferred_segment_by().empty());
}

// Newest values per series come from the footers with no settings at all: the
// answer matches the rows in memory and reads no block.
TEST_F(SeriesKeyTest, LastpointIsAnsweredFromFootersWithoutSettings) {
  Open();
  ASSERT_TRUE(Ingest(Rows(0, 6000, 100)).ok());
  QuerySpec s;
  s.start = std::numeric_limits<int64_t>::min();
  s.end = std::numeric_limits<int64_t>::max();
  s.limit = 1'000'000;
  Downsample d;
  d.group_by = {"hostname"};
  d.aggregations = {{AggFn::kMax, "timestamp", 0.5, "last_time"}, {AggFn::kLast, "v", 0.5, ""}};
  s.downsample = d;
  auto in_memory = Run({s});
  ASSERT_TRUE(engine_->Flush("ds").ok());
  ExpectSameAnswers(in_memory, Run({s}), "sealed");
  auto r = engine_->Query("ds", s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows, 100u);
  EXPECT_EQ(r->stats.bytes_read, 0u) << "blocks were read instead of the footers";
}

// A flush that seals everything leaves no WAL record behind (the file being
// written is rotated and deleted); rows written later replay after a restart.
TEST_F(SeriesKeyTest, AFlushReleasesTheWriteAheadLog) {
  Open();
  ASSERT_TRUE(Ingest(Rows(0, 3000, 100)).ok());
  const uint64_t before = WalBytes();
  ASSERT_GT(before, 10'000u);
  auto f = engine_->Flush("ds");
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_GE(f->wal_files_deleted, 1);
  EXPECT_LT(WalBytes(), 100u) << "the sealed rows are still in the log";
  ASSERT_TRUE(Ingest(Rows(3000, 100, 100)).ok());
  Open();
  EXPECT_EQ(engine_->recovery().rows, 100u);
  QuerySpec all;
  all.start = std::numeric_limits<int64_t>::min();
  all.end = std::numeric_limits<int64_t>::max();
  all.limit = 1'000'000;
  auto r = engine_->Query("ds", all);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows, 3100u);
}

}  // namespace
}  // namespace timestore
