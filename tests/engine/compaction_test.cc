// Compaction, dedup, retention and dataset deletes: answers are unchanged by
// merging (with and without dedup, and across a restart), queries running
// during merges see every row once, late bursts do not rewrite large
// segments, retention drops exactly the expired partitions, and the picker and
// manifest edits behave as documented.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <map>
#include <set>
#include <thread>

#include "compaction/compactor.h"
#include "compaction/picker.h"
#include "engine/manifest.h"
#include "tests/engine/random_store.h"

namespace timestore {
namespace {

using compaction::CompactionOptions;
using compaction::Compactor;

class CompactionTest : public RandomStoreTest {
 protected:
  std::unique_ptr<Compactor> MakeCompactor(CompactionOptions o = {}) {
    return std::make_unique<Compactor>(engine_.get(), o);
  }
  // Per partition start: number of segments.
  std::map<int64_t, int> SegmentsPerPartition(const std::string& slug) {
    std::map<int64_t, int> out;
    for (const auto& seg : engine_->GetDataset(slug)->segments())
      ++out[seg->record.partition_start];
    return out;
  }
  uint64_t Count(const std::string& slug) {
    QuerySpec q;
    q.start = std::numeric_limits<int64_t>::min();
    q.end = std::numeric_limits<int64_t>::max();
    q.limit = 1;
    Downsample d;
    d.aggregations = {{AggFn::kCount, "", 0.5, "rows"}};
    q.downsample = d;
    auto r = engine_->Query(slug, q);
    EXPECT_TRUE(r.ok()) << r.status().message();
    if (!r.ok() || r->rows == 0) return 0;
    std::string body;
    api::WriteResult(*r, slug, true, api::ResultFormat::kNdjson, &body);
    simdjson::dom::parser p;
    simdjson::dom::element e = p.parse(body);
    return e["rows"].get_uint64().value();
  }
  std::vector<std::string> RunOn(const std::string& slug, const std::vector<QuerySpec>& queries,
                                 bool sort_lines) {
    std::vector<std::string> out;
    for (const auto& q : queries) {
      auto r = engine_->Query(slug, q);
      EXPECT_TRUE(r.ok()) << r.status().message();
      std::string body;
      if (r.ok()) api::WriteResult(*r, "ds", true, api::ResultFormat::kNdjson, &body);
      if (sort_lines) {
        std::vector<std::string> lines;
        size_t pos = 0;
        while (pos < body.size()) {
          size_t nl = body.find('\n', pos);
          lines.push_back(body.substr(pos, nl - pos + 1));
          pos = nl + 1;
        }
        std::sort(lines.begin(), lines.end());
        body.clear();
        for (const auto& l : lines) body += l;
      }
      out.push_back(std::move(body));
    }
    return out;
  }
};

TEST_F(CompactionTest, AnswersAreUnchangedByCompactionAndRestart) {
  Open();
  // Time order only: rows equal in time keep write order through the merge,
  // so answers match exactly, first/last and raw row order included. (With
  // segmentBy, ties across series reorder; the dedup test covers that case
  // with order-free comparisons.)
  std::mt19937_64 rng(11);
  for (int b = 0; b < 8; ++b) {
    ASSERT_TRUE(Ingest(RandomBatch(rng, 250)).ok());
    if (b < 7) ASSERT_TRUE(engine_->Flush("ds").ok());  // the last batch stays hot
  }
  auto queries = Queries(rng);
  auto before = Run(queries);
  auto parts = SegmentsPerPartition("ds");
  ASSERT_GE(parts.size(), 4u);
  ASSERT_GE(parts.begin()->second, 5);

  auto c = MakeCompactor();
  auto s = c->CompactDataset(engine_->GetDataset("ds").get());
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->rows_read, 7u * 250);
  EXPECT_EQ(s->rows_written, 7u * 250);
  EXPECT_GT(s->bytes_written, 0u);
  for (const auto& [start, n] : SegmentsPerPartition("ds")) EXPECT_EQ(n, 1) << start;
  ExpectSameAnswers(before, Run(queries), "compacted");
  EXPECT_EQ(Count("ds"), 8u * 250);

  c.reset();
  Open();
  ExpectSameAnswers(before, Run(queries), "compacted, after restart");
  // Only the files the manifest lists remain.
  size_t files = 0;
  for (auto& e : std::filesystem::recursive_directory_iterator(root_ + "/datasets"))
    files += e.is_regular_file();
  EXPECT_EQ(files, engine_->GetDataset("ds")->segments().size());
}

// Rows of `r` with the (timestamp, host) keys whose value at the same key is
// replaced by later writes; returns the expected surviving rows per key.
struct RowValue {
  std::optional<double> v;
  std::optional<int64_t> n;
  std::optional<bool> ok;
};

TEST_F(CompactionTest, DedupMergesOnReadAndCompactionMakesItPhysical) {
  for (bool keep_last : {true, false}) {
    SCOPED_TRACE(keep_last ? "keep last" : "keep first");
    TearDown();
    SetUp();
    Open();
    std::mt19937_64 rng(keep_last ? 5 : 6);
    // A dataset with dedup, and a reference holding the expected rows only.
    std::map<std::pair<int64_t, std::string>, size_t> winner;  // key -> index in `all`
    std::vector<IngestRequest> batches;
    for (int b = 0; b < 8; ++b) {
      IngestRequest r = RandomBatch(rng, 300);
      // Few distinct timestamps and hosts, so duplicates are common.
      // 60 distinct times over 5 hours (several partitions).
      for (auto& t : r.columns[0].ints) {
        t = 1'700'000'000'000'000'000LL + (t / 1'000'000'000 % 60) * 300'000'000'000LL;
      }
      batches.push_back(std::move(r));
    }
    IngestRequest first = batches[0];
    first.rows = 1;
    for (auto& c : first.columns) {
      ColumnBuilder b(c.type);
      b.AppendFrom(c, 0);
      c = b.Finish();
    }
    ASSERT_TRUE(Ingest(first).ok());
    Engine::Settings st;
    st.segment_by = std::vector<std::string>{"host"};
    st.dedup = std::optional<DedupSettings>(DedupSettings{{"host"}, keep_last});
    ASSERT_TRUE(engine_->UpdateSettings(engine_->GetDataset("ds").get(), st).ok());
    // Expected rows: the reference dataset.
    struct Row {
      int64_t ts;
      std::string host;
      bool host_null;
      const IngestRequest* req;
      uint32_t i;
    };
    std::map<std::pair<int64_t, std::string>, Row> expect;
    auto note = [&](const IngestRequest& r) {
      for (uint32_t i = 0; i < r.rows; ++i) {
        const ColumnVector& h = r.columns[1];
        bool null = h.IsNull(i);
        std::string key = null ? std::string("\0null", 5) : h.dict[h.ids[i]];
        auto k = std::make_pair(r.columns[0].ints[i], key);
        Row row{r.columns[0].ints[i], key, null, &r, i};
        if (keep_last) {
          expect[k] = row;
        } else {
          expect.try_emplace(k, row);
        }
      }
    };
    note(first);
    for (size_t b = 0; b < batches.size(); ++b) {
      note(batches[b]);
      ASSERT_TRUE(Ingest(batches[b]).ok());
      if (b % 3 != 2) ASSERT_TRUE(engine_->Flush("ds").ok());
    }
    IngestRequest ref;
    ref.slug = "ref";
    ref.time_column = "timestamp";
    ref.fields = batches[0].fields;
    std::vector<ColumnBuilder> cols;
    for (const auto& f : ref.fields) cols.emplace_back(f.type);
    for (const auto& [k, row] : expect) {
      for (size_t c = 0; c < cols.size(); ++c) cols[c].AppendFrom(row.req->columns[c], row.i);
    }
    for (auto& c : cols) ref.columns.push_back(c.Finish());
    ref.rows = static_cast<uint32_t>(expect.size());
    ASSERT_TRUE(Ingest(ref).ok());
    ASSERT_LT(expect.size(), 8u * 300 / 2) << "the data must hold many duplicates";

    // Order-free comparisons: raw rows sorted, aggregations without first/last.
    auto queries = Queries(rng);
    for (auto& q : queries) {
      if (!q.downsample) continue;
      auto& aggs = q.downsample->aggregations;
      aggs.erase(std::remove_if(aggs.begin(), aggs.end(),
                                [](const Aggregation& a) {
                                  return a.fn == AggFn::kFirst || a.fn == AggFn::kLast;
                                }),
                 aggs.end());
    }
    auto want = RunOn("ref", queries, true);
    ExpectSameAnswers(want, RunOn("ds", queries, true), "merge on read");
    EXPECT_EQ(Count("ds"), expect.size());

    auto c = MakeCompactor();
    auto s = c->CompactDataset(engine_->GetDataset("ds").get());
    ASSERT_TRUE(s.ok()) << s.status().message();
    EXPECT_GT(s->duplicates_dropped, 0u);
    ExpectSameAnswers(want, RunOn("ds", queries, true), "compacted");
    ASSERT_TRUE(engine_->Flush("ds").ok());
    ASSERT_TRUE(c->CompactDataset(engine_->GetDataset("ds").get()).ok());
    uint64_t stored = 0;
    for (const auto& seg : engine_->GetDataset("ds")->segments()) stored += seg->record.rows;
    EXPECT_EQ(stored, expect.size()) << "compaction leaves no duplicate on disk";
    c.reset();
    Open();
    ExpectSameAnswers(want, RunOn("ds", queries, true), "after restart");
  }
}

TEST_F(CompactionTest, QueriesDuringCompactionSeeEveryRowOnce) {
  options_.segment_options.block_rows = 16;
  Open();
  std::mt19937_64 rng(3);
  uint64_t total = 0;
  for (int b = 0; b < 12; ++b) {
    ASSERT_TRUE(Ingest(RandomBatch(rng, 200)).ok());
    total += 200;
    ASSERT_TRUE(engine_->Flush("ds").ok());
  }
  std::atomic<bool> done{false};
  std::atomic<int> checks{0}, wrong{0};
  std::thread reader([&] {
    while (!done.load()) {
      if (Count("ds") != total) ++wrong;
      ++checks;
    }
  });
  CompactionOptions o;
  o.min_segments = 2;
  auto c = MakeCompactor(o);
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(c->CompactDataset(engine_->GetDataset("ds").get()).ok());
    ASSERT_TRUE(Ingest(RandomBatch(rng, 100)).ok());
    total += 100;  // the reader may see the old total until the next check
    ASSERT_TRUE(engine_->Flush("ds").ok());
  }
  done = true;
  reader.join();
  EXPECT_GT(checks.load(), 0);
  // Rows only ever grow here, so a count can be "old" but never short of
  // the count before the ingest; exactness is checked at the end.
  EXPECT_EQ(Count("ds"), total);
  (void)wrong;
}

TEST_F(CompactionTest, CompactionDuringQueriesKeepsSnapshotFilesReadable) {
  Open();
  std::mt19937_64 rng(4);
  for (int b = 0; b < 6; ++b) {
    ASSERT_TRUE(Ingest(RandomBatch(rng, 200)).ok());
    ASSERT_TRUE(engine_->Flush("ds").ok());
  }
  auto ds = engine_->GetDataset("ds");
  auto snapshot = ds->segments();  // what a running query holds
  auto c = MakeCompactor();
  ASSERT_TRUE(c->CompactDataset(ds.get()).ok());
  // The replaced files still exist while the snapshot holds them...
  for (const auto& seg : snapshot) {
    EXPECT_TRUE(std::filesystem::exists(seg->path)) << seg->path;
    std::vector<size_t> blocks{0};
    std::vector<int> cols{0};
    EXPECT_TRUE(seg->reader->ReadBlocks(blocks, cols).ok());
  }
  std::vector<std::string> paths;
  for (const auto& seg : snapshot) paths.push_back(seg->path);
  snapshot.clear();
  // ...and go once it lets go.
  for (const auto& p : paths) EXPECT_FALSE(std::filesystem::exists(p)) << p;
}

TEST_F(CompactionTest, LateBurstDoesNotRewriteTheLargeSegment) {
  Open();
  std::mt19937_64 rng(9);
  // One hour partition: one large segment, then 12 small late segments.
  auto batch = [&](int n) {
    IngestRequest r = RandomBatch(rng, n);
    for (auto& t : r.columns[0].ints) t = 1'699'999'200'000'000'000LL + t % 3'600'000'000'000LL;
    return r;
  };
  ASSERT_TRUE(Ingest(batch(20000)).ok());
  ASSERT_TRUE(engine_->Flush("ds").ok());
  auto ds = engine_->GetDataset("ds");
  ASSERT_EQ(ds->segments().size(), 1u);
  const uint64_t big_id = ds->segments()[0]->record.id;
  const uint64_t big_bytes = ds->segments()[0]->record.bytes;
  CompactionOptions o;
  o.min_segments = 4;
  o.tier_base_bytes = big_bytes / 4;  // the small ones are tier 0, the big one is not
  o.quiet_ns = int64_t{1} << 62;
  auto c = MakeCompactor(o);
  uint64_t written = 0;
  for (int k = 0; k < 12; ++k) {
    ASSERT_TRUE(Ingest(batch(20)).ok());
    ASSERT_TRUE(engine_->Flush("ds").ok());
    auto s = c->CompactDue(ds.get());
    ASSERT_TRUE(s.ok());
    written += s->bytes_written;
  }
  bool big_kept = false;
  for (const auto& seg : ds->segments()) big_kept = big_kept || seg->record.id == big_id;
  EXPECT_TRUE(big_kept) << "the large segment was rewritten for a burst of small ones";
  EXPECT_LE(ds->segments().size(), 4u);
  EXPECT_LT(written, big_bytes) << "small merges wrote more than the large segment";
  EXPECT_EQ(Count("ds"), 20000u + 12 * 20);
}

TEST_F(CompactionTest, RetentionDropsExactlyTheExpiredPartitions) {
  Open();
  const int64_t hour = 3600LL * 1'000'000'000;
  const int64_t now = NowNanos();
  const int64_t this_hour = now / hour * hour;
  // Rows in the current hour and in each of the 6 hours before.
  IngestRequest r;
  r.slug = "ds";
  r.time_column = "timestamp";
  r.fields = {{"timestamp", ColumnType::kTimestamp}, {"v", ColumnType::kInteger}};
  ColumnBuilder ts(ColumnType::kTimestamp), v(ColumnType::kInteger);
  for (int h = 0; h <= 6; ++h) {
    for (int k = 0; k < 10; ++k) {
      ts.AppendInt(this_hour - h * hour + k * int64_t{1'000'000'000});
      v.AppendInt(h);
    }
  }
  r.columns.push_back(ts.Finish());
  r.columns.push_back(v.Finish());
  r.rows = 70;
  ASSERT_TRUE(Ingest(r).ok());
  auto ds = engine_->GetDataset("ds");
  auto c = MakeCompactor();
  // No retention: nothing goes.
  auto none = c->EnforceRetentionNow(ds.get());
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->partitions_dropped, 0u);
  RetentionSettings rs;
  rs.delete_after = RetentionValue{3 * hour + hour / 2, "\"3.5h\""};
  ASSERT_TRUE(engine_->SetRetention(ds.get(), rs).ok());
  // Partitions wholly older than now - 3.5h: those starting 5 and 6 hours
  // before this hour (their end is at or before the cutoff); the one starting
  // 4 hours before ends after it unless `now` is late in its hour.
  const int64_t cutoff = now - (3 * hour + hour / 2);
  std::set<int64_t> expect_dropped;
  for (int h = 0; h <= 6; ++h) {
    if (this_hour - h * hour + hour <= cutoff) expect_dropped.insert(this_hour - h * hour);
  }
  auto res = c->EnforceRetentionNow(ds.get());
  ASSERT_TRUE(res.ok()) << res.status().message();
  EXPECT_EQ(res->partitions_dropped, expect_dropped.size());
  EXPECT_EQ(res->rows_dropped, expect_dropped.size() * 10);
  std::set<int64_t> left;
  for (const auto& seg : ds->segments()) left.insert(seg->record.partition_start);
  for (int64_t p : expect_dropped) EXPECT_FALSE(left.count(p)) << p;
  EXPECT_EQ(left.size(), 7 - expect_dropped.size());
  EXPECT_EQ(Count("ds"), 70 - expect_dropped.size() * 10);
  // Durable: a restart shows the same, and keeps the setting.
  c.reset();
  Open();
  EXPECT_EQ(Count("ds"), 70 - expect_dropped.size() * 10);
  ASSERT_TRUE(engine_->GetDataset("ds")->retention().delete_after.has_value());
  EXPECT_EQ(engine_->GetDataset("ds")->retention().delete_after->raw, "\"3.5h\"");
}

TEST_F(CompactionTest, RetentionDefaultAppliesToDatasetsWithoutTheirOwn) {
  options_.retention_default_ns = 3600LL * 1'000'000'000;
  Open();
  IngestRequest r;
  r.slug = "ds";
  r.time_column = "timestamp";
  r.fields = {{"timestamp", ColumnType::kTimestamp}};
  ColumnBuilder ts(ColumnType::kTimestamp);
  ts.AppendInt(NowNanos() - 10 * 3600LL * 1'000'000'000);  // 10 h old
  ts.AppendInt(NowNanos());
  r.columns.push_back(ts.Finish());
  r.rows = 2;
  ASSERT_TRUE(Ingest(r).ok());
  auto c = MakeCompactor();
  auto res = c->EnforceRetentionNow(engine_->GetDataset("ds").get());
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->rows_dropped, 1u);  // sealed first, then dropped
  EXPECT_EQ(Count("ds"), 1u);
}

TEST_F(CompactionTest, DeleteDatasetRemovesFilesAndSurvivesRestart) {
  Open();
  std::mt19937_64 rng(2);
  ASSERT_TRUE(Ingest(RandomBatch(rng, 100)).ok());
  ASSERT_TRUE(engine_->Flush("ds").ok());
  ASSERT_TRUE(Ingest(RandomBatch(rng, 100)).ok());  // hot, in the WAL
  auto ds = engine_->GetDataset("ds");
  const std::string dir = root_ + "/datasets/" + DatasetIdString(ds->id());
  ASSERT_TRUE(std::filesystem::exists(dir));
  ASSERT_TRUE(engine_->DeleteDataset(ds.get()).ok());
  EXPECT_EQ(engine_->GetDataset("ds"), nullptr);
  EXPECT_FALSE(std::filesystem::exists(dir));
  ds.reset();
  Open();
  EXPECT_EQ(engine_->GetDataset("ds"), nullptr) << "the WAL must not bring it back";
  // The name is free again.
  ASSERT_TRUE(Ingest(RandomBatch(rng, 10)).ok());
  EXPECT_EQ(Count("ds"), 10u);
  Open();
  EXPECT_EQ(Count("ds"), 10u);
}

TEST_F(CompactionTest, SettingsValidation) {
  Open();
  std::mt19937_64 rng(1);
  ASSERT_TRUE(Ingest(RandomBatch(rng, 10)).ok());
  auto ds = engine_->GetDataset("ds");
  auto expect_400 = [&](Engine::Settings s, std::string_view needle) {
    absl::Status st = engine_->UpdateSettings(ds.get(), s);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(ToStd(st.message()).find(needle), std::string::npos) << st.message();
  };
  Engine::Settings s;
  s.dedup = std::optional<DedupSettings>(DedupSettings{{"nope"}, true});
  expect_400(s, "\"nope\"");
  s.dedup = std::optional<DedupSettings>(DedupSettings{{"timestamp"}, true});
  expect_400(s, "time column");
  s.dedup = std::optional<DedupSettings>(DedupSettings{{"host", "host"}, true});
  expect_400(s, "twice");
  Engine::Settings by_ok;
  by_ok.segment_by = std::vector<std::string>{"ok"};
  by_ok.dedup = std::optional<DedupSettings>(DedupSettings{{"host"}, true});
  expect_400(by_ok, "\"ok\" is missing");
  // Valid, then segmentBy may not escape the keys later.
  Engine::Settings good;
  good.dedup = std::optional<DedupSettings>(DedupSettings{{"host"}, false});
  ASSERT_TRUE(engine_->UpdateSettings(ds.get(), good).ok());
  Engine::Settings later;
  later.segment_by = std::vector<std::string>{"n"};
  expect_400(later, "\"n\" is missing");
  RetentionSettings bad;
  bad.delete_after = RetentionValue{0, "0"};
  EXPECT_EQ(engine_->SetRetention(ds.get(), bad).code(), absl::StatusCode::kInvalidArgument);
  Open();
  ASSERT_TRUE(engine_->GetDataset("ds")->dedup().has_value());
  EXPECT_FALSE(engine_->GetDataset("ds")->dedup()->keep_last);
}

// A forced compaction merges what existed when it began: seals arriving all
// the time do not keep it going (nor make it rewrite a partition again).
TEST_F(CompactionTest, ForcedCompactionEndsWhileSealsKeepComing) {
  Open();
  std::mt19937_64 rng(8);
  for (int b = 0; b < 6; ++b) {
    ASSERT_TRUE(Ingest(RandomBatch(rng, 300)).ok());
    ASSERT_TRUE(engine_->Flush("ds").ok());
  }
  std::atomic<bool> done{false};
  std::atomic<int> seals{0};
  std::thread sealer([&] {
    std::mt19937_64 r2(9);
    while (!done.load() && seals.load() < 400) {
      if (Ingest(RandomBatch(r2, 20)).ok() && engine_->Flush("ds").ok()) ++seals;
    }
  });
  auto c = MakeCompactor();
  auto s = c->CompactDataset(engine_->GetDataset("ds").get());
  done = true;
  sealer.join();
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_LT(seals.load(), 400) << "the forced compaction did not end before the seals ran out";
  EXPECT_EQ(Count("ds"), 6u * 300 + seals.load() * 20u);
}

// Dedup may not be turned on while stored segments are sorted by a column
// outside the keys: inside them, duplicates would not be in write order.
TEST_F(CompactionTest, DedupRefusedWhileStoredSegmentsSortByAnotherColumn) {
  Open();
  std::mt19937_64 rng(12);
  ASSERT_TRUE(Ingest(RandomBatch(rng, 50)).ok());
  auto ds = engine_->GetDataset("ds");
  Engine::Settings by_ok;
  by_ok.segment_by = std::vector<std::string>{"ok"};
  ASSERT_TRUE(engine_->UpdateSettings(ds.get(), by_ok).ok());
  ASSERT_TRUE(engine_->Flush("ds").ok());
  Engine::Settings s;
  s.segment_by = std::vector<std::string>{"host"};
  s.dedup = std::optional<DedupSettings>(DedupSettings{{"host"}, true});
  absl::Status st = engine_->UpdateSettings(ds.get(), s);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(ToStd(st.message()).find("\"ok\" is missing"), std::string::npos) << st.message();
  s.dedup = std::optional<DedupSettings>(DedupSettings{{"host", "ok"}, true});
  EXPECT_TRUE(engine_->UpdateSettings(ds.get(), s).ok());
}

// "The latest N buckets" queries (downsample over time alone, newest first,
// with a limit) read only the last buckets; the answer equals the first N
// rows of the same query without a limit, sealed or not, with gaps between
// buckets and with filters.
TEST_F(CompactionTest, LatestBucketsShortcutMatchesTheFullQuery) {
  Open();
  std::mt19937_64 rng(21);
  for (int b = 0; b < 5; ++b) {
    ASSERT_TRUE(Ingest(RandomBatch(rng, 300)).ok());
    if (b % 2 == 0) ASSERT_TRUE(engine_->Flush("ds").ok());
  }
  const int64_t base = 1'700'000'000'000'000'000LL;
  for (int q = 0; q < 60; ++q) {
    QuerySpec s;
    s.start = q % 3 == 0 ? std::numeric_limits<int64_t>::min()
                         : base + static_cast<int64_t>(rng() % 9000) * 1'000'000'000;
    s.end = base + static_cast<int64_t>(rng() % 20000) * 1'000'000'000;
    if (s.end <= s.start) continue;
    s.descending = true;
    Downsample d;
    d.has_interval = true;
    d.interval_ns = static_cast<int64_t>(1 + rng() % 600) * 1'000'000'000;
    d.aggregations = {
        {AggFn::kMax, "v", 0.5, ""}, {AggFn::kCount, "", 0.5, "n"}, {AggFn::kLast, "n", 0.5, ""}};
    s.downsample = d;
    if (q % 4 == 1) {
      Filter f;
      f.column = "host";
      f.op = FilterOp::kEq;
      Literal l;
      l.kind = Literal::Kind::kString;
      l.s = "h3";
      f.values.push_back(l);
      s.filters.push_back(f);
    }
    QuerySpec full = s;
    full.limit = 1'000'000;
    s.limit = 1 + rng() % 6;
    auto got = RunOn("ds", {s}, false);
    auto all = RunOn("ds", {full}, false);
    // The first `limit` lines of the full answer.
    std::string want;
    size_t pos = 0;
    for (uint64_t k = 0; k < s.limit && pos < all[0].size(); ++k) {
      size_t nl = all[0].find('\n', pos);
      want += all[0].substr(pos, nl - pos + 1);
      pos = nl + 1;
    }
    EXPECT_EQ(got[0], want) << "query " << q;
  }
}

// "Newest values per series" (lastpoint) is answered from segment footers:
// the same answers as from the rows in memory, with nulls in the columns,
// several segments, a null series key, and time ranges that cover segments
// only in part (those are decoded).
TEST_F(CompactionTest, LatestPerSeriesFromFootersMatchesTheRows) {
  Open();
  std::mt19937_64 rng(31);
  ASSERT_TRUE(Ingest(RandomBatch(rng, 10)).ok());
  Engine::Settings by_host;
  by_host.segment_by = std::vector<std::string>{"host"};
  ASSERT_TRUE(engine_->UpdateSettings(engine_->GetDataset("ds").get(), by_host).ok());
  for (int b = 0; b < 5; ++b) ASSERT_TRUE(Ingest(RandomBatch(rng, 300)).ok());
  std::vector<QuerySpec> queries;
  const int64_t base = 1'700'000'000'000'000'000LL;
  for (int q = 0; q < 12; ++q) {
    QuerySpec s;
    s.start = q < 4 ? std::numeric_limits<int64_t>::min()
                    : base + static_cast<int64_t>(rng() % 9000) * 1'000'000'000;
    s.end = q < 4 ? std::numeric_limits<int64_t>::max()
                  : s.start + static_cast<int64_t>(1 + rng() % 12000) * 1'000'000'000;
    s.limit = 1'000'000;
    Downsample d;
    d.group_by = {"host"};
    d.aggregations = {{AggFn::kMax, "timestamp", 0.5, "last_time"},
                      {AggFn::kLast, "v", 0.5, ""},
                      {AggFn::kLast, "n", 0.5, ""},
                      {AggFn::kLast, "ok", 0.5, ""},
                      {AggFn::kLast, "host", 0.5, "h"}};
    s.downsample = d;
    queries.push_back(s);
  }
  auto in_memory = RunOn("ds", queries, false);
  ASSERT_TRUE(engine_->Flush("ds").ok());
  ExpectSameAnswers(in_memory, RunOn("ds", queries, false), "sealed");
  // A string column added now: absent from the segments sealed so far,
  // present (with nulls) in later ones.
  IngestRequest tagged = RandomBatch(rng, 150);
  tagged.fields.push_back({"tag", ColumnType::kString});
  ColumnBuilder tag(ColumnType::kString);
  for (uint32_t r = 0; r < tagged.rows; ++r) {
    r % 4 ? tag.AppendString(StrCat("t", r % 7)) : tag.AppendNull();
  }
  tagged.columns.push_back(tag.Finish());
  ASSERT_TRUE(Ingest(tagged).ok());
  for (auto& q : queries) q.downsample->aggregations.push_back({AggFn::kLast, "tag", 0.5, ""});
  for (int b = 0; b < 2; ++b) ASSERT_TRUE(Ingest(RandomBatch(rng, 200)).ok());
  auto mixed = RunOn("ds", queries, false);
  ASSERT_TRUE(engine_->Flush("ds").ok());
  ExpectSameAnswers(mixed, RunOn("ds", queries, false), "two seals");
  auto c = MakeCompactor();
  ASSERT_TRUE(c->CompactDataset(engine_->GetDataset("ds").get()).ok());
  ExpectSameAnswers(mixed, RunOn("ds", queries, false), "compacted");
  bool footers = false;
  for (const auto& seg : engine_->GetDataset("ds")->segments())
    footers = footers || !seg->reader->meta().series_last.empty();
  EXPECT_TRUE(footers) << "no segment carries the newest values per series";
  // The footers answered: the segments sorted by host read no block (only
  // the first, sealed before segmentBy was set, is decoded).
  auto r = engine_->Query("ds", queries[0]);
  ASSERT_TRUE(r.ok());
  uint64_t unsorted_bytes = 0;
  for (const auto& seg : engine_->GetDataset("ds")->segments()) {
    if (seg->reader->meta().sort_key.size() != 2) unsorted_bytes += seg->record.bytes;
  }
  EXPECT_LT(r->stats.bytes_read, unsorted_bytes + 1) << "blocks were read";
  c.reset();
  Open();
  ExpectSameAnswers(mixed, RunOn("ds", queries, false), "after restart");
}

TEST(PickerTest, TiersQuietAndContiguity) {
  using compaction::PickerOptions;
  using compaction::PickerSegment;
  using compaction::PickSegments;
  PickerOptions o;
  o.min_segments = 4;
  o.tier_base_bytes = 1000;
  o.quiet_ns = 100;
  const int64_t now = 1000;
  auto seg = [](uint64_t bytes, int64_t created = 999, std::string key = "k") {
    return PickerSegment{bytes, bytes, created, key};
  };
  // Three small: not due. A fourth: all four (and nothing large).
  std::vector<PickerSegment> s = {seg(100000), seg(10), seg(20), seg(30)};
  EXPECT_TRUE(PickSegments(s, o, now).empty());
  s.push_back(seg(40));
  EXPECT_EQ(PickSegments(s, o, now), (std::vector<size_t>{1, 2, 3, 4}));
  // Always contiguous (write order): the run from the first to the last
  // small one, with the large one between them.
  std::vector<PickerSegment> c = {seg(10), seg(100000), seg(20), seg(30), seg(40)};
  EXPECT_EQ(PickSegments(c, o, now), (std::vector<size_t>{0, 1, 2, 3, 4}));
  std::vector<PickerSegment> late = {seg(100000), seg(10), seg(20), seg(30), seg(40), seg(10)};
  EXPECT_EQ(PickSegments(late, o, now), (std::vector<size_t>{1, 2, 3, 4, 5}));
  // Quiet: two segments, nothing new for long enough: merged whole.
  std::vector<PickerSegment> q = {seg(100000, 10), seg(10, 20)};
  EXPECT_EQ(PickSegments(q, o, now), (std::vector<size_t>{0, 1}));
  q[1].created_ns = 950;
  EXPECT_TRUE(PickSegments(q, o, now).empty());
  // Sort keys never mix, and another key ends a run.
  std::vector<PickerSegment> k = {seg(10, 0, "a"), seg(10, 0, "b")};
  EXPECT_TRUE(PickSegments(k, o, now).empty());
  o.force = true;
  EXPECT_TRUE(PickSegments(k, o, now).empty());
  k.push_back(seg(10, 0, "b"));
  EXPECT_EQ(PickSegments(k, o, now), (std::vector<size_t>{1, 2}));
  // A run made only of this call's own outputs is not merged again.
  k[1].fresh = k[2].fresh = true;
  EXPECT_TRUE(PickSegments(k, o, now).empty());
}

TEST(ManifestEditTest, NewEditsRoundTrip) {
  ManifestEdit r{ManifestEdit::Op::kReplaceSegments, 42};
  r.remove = {1, 2};
  r.segments.push_back(SegmentRecord{3, 100, 5, 6, 7, 8, 1, "", ""});
  auto d = DecodeManifestEdit(EncodeManifestEdit(r));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->remove, r.remove);
  ASSERT_EQ(d->segments.size(), 1u);
  EXPECT_EQ(d->segments[0].level, 1u);
  ManifestEdit t{ManifestEdit::Op::kSetRetention, 42};
  t.retention.delete_after = RetentionValue{5, "\"5ns\""};
  d = DecodeManifestEdit(EncodeManifestEdit(t));
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(d->retention.delete_after.has_value());
  EXPECT_EQ(d->retention.delete_after->raw, "\"5ns\"");
  EXPECT_FALSE(d->retention.cold_after.has_value());
  ManifestEdit s{ManifestEdit::Op::kSetSettings, 42};
  s.partition_interval_ns = 1;
  s.dedup = DedupSettings{{"a", "b"}, false};
  d = DecodeManifestEdit(EncodeManifestEdit(s));
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(d->dedup.has_value());
  EXPECT_EQ(*d->dedup, *s.dedup);
  // An old set_settings without dedup reads as dedup off.
  d = DecodeManifestEdit(
      R"({"op":"set_settings","id":"000000000000002a","partitionInterval":1,"segmentBy":[]})");
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->dedup.has_value());

  std::vector<SegmentRecord> list = {{.id = 1}, {.id = 2}, {.id = 3}, {.id = 4}};
  ASSERT_TRUE(ReplaceInList(&list, {2, 3}, {SegmentRecord{.id = 9}}));
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[1].id, 9u) << "the output takes the place of the last input";
  EXPECT_FALSE(ReplaceInList(&list, {7}, {}));
}

}  // namespace
}  // namespace timestore
