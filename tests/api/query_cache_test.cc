// The query result cache (api/query_cache.h): the LRU and its key, and
// through Service::Handle over a real engine, that a repeat is a hit and that
// no edit of the data in range is ever answered from a stale entry.
#include "api/query_cache.h"

#include <atomic>
#include <functional>
#include <thread>

#include "api/query_parser.h"
#include "tests/api/admin_fixture.h"
#include "tools/query_cache_config.h"

namespace timestore::api::testing {
namespace {

ResultToken Token(uint64_t dataset, std::vector<uint64_t> segments) {
  ResultToken t;
  t.dataset_id = dataset;
  t.segments = std::move(segments);
  return t;
}

TEST(CanonicalJsonTest, MemberOrderAndSpacingDoNotMatterTypesDo) {
  auto a = CanonicalJson(R"({"limit": 5, "timeRange": {"start": 0, "end": 10}})");
  auto b = CanonicalJson(R"({"timeRange":{"end":10,"start":0},"limit":5})");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  // 5 and 5.0 parse to different literals: different keys.
  EXPECT_NE(*CanonicalJson(R"({"v":5})"), *CanonicalJson(R"({"v":5.0})"));
  // A repeated member keeps its order (the parser's choice between them stays).
  EXPECT_NE(*CanonicalJson(R"({"v":1,"v":2})"), *CanonicalJson(R"({"v":2,"v":1})"));
  EXPECT_NE(*CanonicalJson(R"({"a":[1,2]})"), *CanonicalJson(R"({"a":[2,1]})"));
  EXPECT_FALSE(CanonicalJson("{"));
}

TEST(QueryCacheLruTest, BoundedByEntriesLeastRecentlyUsedFirst) {
  QueryCache cache({.enabled = true, .max_bytes = 1 << 20, .max_entries = 2});
  ASSERT_TRUE(cache.Insert("a", Token(1, {1}), "A"));
  ASSERT_TRUE(cache.Insert("b", Token(1, {1}), "B"));
  ASSERT_NE(cache.Lookup("a", Token(1, {1})), nullptr);  // a is now the most recent
  ASSERT_TRUE(cache.Insert("c", Token(1, {1}), "C"));    // b goes
  EXPECT_EQ(cache.Lookup("b", Token(1, {1})), nullptr);
  EXPECT_NE(cache.Lookup("a", Token(1, {1})), nullptr);
  EXPECT_NE(cache.Lookup("c", Token(1, {1})), nullptr);
  QueryCache::Stats s = cache.stats();
  EXPECT_EQ(s.entries, 2u);
  EXPECT_EQ(s.evictions, 1u);
  EXPECT_EQ(s.hits, 3u);
  EXPECT_EQ(s.misses, 1u);
}

TEST(QueryCacheLruTest, BoundedByBytesAndEntrySize) {
  QueryCache cache(
      {.enabled = true, .max_bytes = 4000, .max_entries = 100, .max_entry_bytes = 1500});
  EXPECT_FALSE(cache.Insert("big", Token(1, {}), std::string(2000, 'x')));
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(cache.Insert(StrCat("k", i), Token(1, {}), std::string(1000, 'x')));
    EXPECT_LE(cache.stats().bytes, 4000u);
  }
  QueryCache::Stats s = cache.stats();
  EXPECT_EQ(s.entries, 3u);
  EXPECT_EQ(s.evictions, 7u);
  EXPECT_NE(cache.Lookup("k9", Token(1, {})), nullptr);
  EXPECT_EQ(cache.Lookup("k0", Token(1, {})), nullptr);
}

TEST(QueryCacheLruTest, AnEntryOfAnotherTokenIsDroppedNotServed) {
  QueryCache cache({});
  ASSERT_TRUE(cache.Insert("q", Token(1, {10, 11}), "old"));
  EXPECT_EQ(cache.Lookup("q", Token(1, {10, 12})), nullptr);  // compaction, a seal
  EXPECT_EQ(cache.stats().stale, 1u);
  EXPECT_EQ(cache.stats().entries, 0u);
  ASSERT_TRUE(cache.Insert("q", Token(1, {10, 11}), "old"));
  EXPECT_EQ(cache.Lookup("q", Token(2, {10, 11})), nullptr);  // a re-created dataset
  ResultToken other_schema = Token(1, {10, 11});
  other_schema.schema = std::make_shared<Schema>();
  ASSERT_TRUE(cache.Insert("q", Token(1, {10, 11}), "old"));
  EXPECT_EQ(cache.Lookup("q", other_schema), nullptr);
}

TEST(QueryCacheConfigTest, DefaultsAliasAndErrors) {
  tools::QueryCacheConfig c;
  auto s = tools::ResolveQueryCacheConfig(c, nullptr);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->enabled);
  EXPECT_EQ(s->max_bytes, 64ull << 20);
  EXPECT_EQ(s->max_entries, 1024u);
  EXPECT_FALSE(tools::ResolveQueryCacheConfig(c, "false")->enabled);  // ENABLE_QUERY_CACHE
  c.enabled = "true";
  EXPECT_TRUE(tools::ResolveQueryCacheConfig(c, "1")->enabled);
  auto clash = tools::ResolveQueryCacheConfig(c, "false");
  ASSERT_FALSE(clash.ok());
  EXPECT_NE(clash.status().message().find("ENABLE_QUERY_CACHE"), std::string::npos);
  c.enabled = "maybe";
  auto bad = tools::ResolveQueryCacheConfig(c, nullptr);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("TIMESTORE_QUERY_CACHE_ENABLED \"maybe\""),
            std::string::npos);
  c.enabled = "";
  c.max_bytes = "lots";
  EXPECT_FALSE(tools::ResolveQueryCacheConfig(c, nullptr).ok());
}

// Rows of CreateDataset lie at 1000 s + k; this range holds them all.
constexpr const char* kCountAll =
    R"({"timeRange":{"start":0,"end":1500000},"downsample":{"intervalUnit":"hour","intervalSize":1,)"
    R"("aggregations":[{"fn":"count"},{"fn":"sum","column":"v"}]}})";
constexpr const char* kRawAll = R"({"timeRange":{"start":0,"end":1500000}})";

class QueryCacheServiceTest : public AdminTest {
 protected:
  Answer Query(const std::string& slug, const std::string& body, std::string accept = "") {
    std::vector<std::pair<std::string, std::string>> h;
    if (!accept.empty()) h.emplace_back("accept", accept);
    return Call("POST", StrCat("/datasets/", slug, "/query"), body, h);
  }
  void Ingest(const std::string& slug, const std::string& records) {
    Answer a = Call("POST", StrCat("/datasets/", slug, "/ingest"),
                    StrCat(R"({"records":[)", records, "]}"));
    ASSERT_EQ(a.status, 200) << a.body;
  }
  void Admin(const std::string& method, const std::string& path, const std::string& body = "") {
    Answer a = Call(method, StrCat("/admin/datasets/", path), body);
    ASSERT_EQ(a.status, 200) << path << ": " << a.body;
  }
  // The answer's rows, as JSON text.
  std::string Rows(const Answer& a) {
    EXPECT_EQ(a.status, 200) << a.body;
    simdjson::dom::element rows;
    if (Parse(a)["rows"].get(rows)) return "<no rows>";
    return simdjson::minify(rows);
  }
  // Thread-safe (its own parser): the concurrent test calls it from readers.
  static int64_t Count(const Answer& a) {
    simdjson::dom::parser parser;
    simdjson::dom::array rows;
    if (parser.parse(a.body)["rows"].get(rows)) return -1;
    int64_t total = 0;
    for (simdjson::dom::element r : rows) {
      int64_t n = 0;
      if (!r["count"].get(n)) total += n;
    }
    return total;
  }
  std::string Outcome(const Answer& a) { return a.Header("x-timestore-result-cache"); }
  static int64_t RowCount(const Answer& a) {
    simdjson::dom::parser parser;
    simdjson::dom::array rows;
    if (parser.parse(a.body)["rows"].get(rows)) return -1;
    return static_cast<int64_t>(rows.size());
  }
  // A JSON query through the cache as Service::HandleQuery runs it, with
  // `during` called between the lookup and the engine's run and `after`
  // between the run and Finish (edits "while the query runs"). The lookup
  // must be a miss.
  HttpResponse RunThroughTheCache(const std::string& slug, const std::string& body,
                                  const std::function<void()>& during,
                                  const std::function<void()>& after) {
    HttpRequest req;
    req.method = "POST";
    req.body = body;
    absl::StatusOr<QuerySpec> spec = ParseQueryBody(body, Precision::kMilliseconds, 10000);
    EXPECT_TRUE(spec.ok()) << spec.status();
    QueryCache& cache = service_->query_cache();
    QueryCache::Ticket ticket = cache.Begin(*engine_, slug, req, *spec, ResultFormat::kJson);
    EXPECT_EQ(ticket.outcome, QueryCache::Outcome::kMiss);
    during();
    absl::StatusOr<QueryResult> result = engine_->Query(slug, *spec);
    EXPECT_TRUE(result.ok()) << result.status();
    after();
    HttpResponse r;
    if (!result.ok()) return r;
    ticket.source = result->source;
    WriteResult(*result, slug, false, ResultFormat::kJson, &r.body);
    cache.Finish(ticket, &r);
    return r;
  }
};

TEST_F(QueryCacheServiceTest, RepeatOfASealedRangeIsAHitWithTheSameRows) {
  CreateDataset("cpu", 30);
  Admin("POST", "cpu/flush");
  Answer first = Query("cpu", kCountAll);
  Answer second = Query("cpu", kCountAll);
  EXPECT_EQ(Outcome(first), "miss");
  EXPECT_EQ(Outcome(second), "hit");
  EXPECT_EQ(Rows(first), Rows(second));
  EXPECT_EQ(Count(second), 30);
  std::string_view outcome;
  ASSERT_FALSE(Parse(second)["stats"]["resultCache"].get(outcome)) << second.body;
  EXPECT_EQ(outcome, "hit");
  uint64_t segments = 1;
  ASSERT_FALSE(Parse(second)["stats"]["segmentsScanned"].get(segments));
  EXPECT_EQ(segments, 0u);  // nothing was read
  bool fresh = false;
  ASSERT_FALSE(Parse(second)["freshness"]["fresh"].get(fresh));
  EXPECT_TRUE(fresh);
  EXPECT_EQ(second.Header("x-timestore-hot-rows"), "0");
  EXPECT_EQ(second.Header("x-timestore-watermark"), first.Header("x-timestore-watermark"));
  // The same query spelt differently is the same entry.
  Answer reordered =
      Query("cpu", R"({"downsample":{"aggregations":[{"fn":"count"},{"column":"v","fn":"sum"}],
                 "intervalUnit":"hour","intervalSize":1}, "timeRange":{"end":1500000,"start":0}})");
  EXPECT_EQ(Outcome(reordered), "hit");
  EXPECT_EQ(Rows(reordered), Rows(first));
  // Other formats are entries of their own, answered byte for byte.
  for (const char* accept : {"text/csv", "application/x-ndjson"}) {
    Answer miss = Query("cpu", kRawAll, accept);
    Answer hit = Query("cpu", kRawAll, accept);
    EXPECT_EQ(Outcome(miss), "miss") << accept;
    EXPECT_EQ(Outcome(hit), "hit") << accept;
    EXPECT_EQ(miss.body, hit.body) << accept;
  }
  QueryCache::Stats s = service_->query_cache().stats();
  EXPECT_EQ(s.hits, 4u);
  EXPECT_EQ(s.entries, 3u);
  Answer status = Call("GET", "/status");
  uint64_t hits = 0;
  ASSERT_FALSE(Parse(status)["resultCache"]["hits"].get(hits)) << status.body;
  EXPECT_EQ(hits, 4u);
  Answer metrics = Call("GET", "/metrics");
  EXPECT_NE(metrics.body.find("timestore_result_cache_hits_total 4\n"), std::string::npos);
}

TEST_F(QueryCacheServiceTest, RowsInMemoryInRangeBypassOthersDoNot) {
  CreateDataset("cpu", 10);
  EXPECT_EQ(Outcome(Query("cpu", kCountAll)), "bypass");  // not sealed yet
  EXPECT_EQ(Outcome(Query("cpu", kCountAll)), "bypass");
  Admin("POST", "cpu/flush");
  // Newer rows in memory, after the range: the range is still wholly sealed.
  Ingest("cpu", R"({"timestamp":2000000,"v":1,"host":"h0"})");
  EXPECT_EQ(Outcome(Query("cpu", kCountAll)), "miss");
  Answer hit = Query("cpu", kCountAll);
  EXPECT_EQ(Outcome(hit), "hit");
  EXPECT_EQ(Count(hit), 10);
  EXPECT_EQ(hit.Header("x-timestore-hot-rows"), "1");
  // A range reaching them is not cached.
  EXPECT_EQ(Outcome(Query("cpu", R"({"timeRange":{"start":0,"end":3000000}})")), "bypass");
}

TEST_F(QueryCacheServiceTest, LateRowsAreNeverAnsweredFromTheCache) {
  CreateDataset("cpu", 10);
  Admin("POST", "cpu/flush");
  Query("cpu", kCountAll);
  ASSERT_EQ(Outcome(Query("cpu", kCountAll)), "hit");
  // A late row: older than what is sealed, in memory over the cached range.
  Ingest("cpu", R"({"timestamp":1000500,"v":100,"host":"late"})");
  Answer after_late = Query("cpu", kCountAll);
  EXPECT_EQ(Outcome(after_late), "bypass");
  EXPECT_EQ(Count(after_late), 11);
  Admin("POST", "cpu/flush");  // now sealed: a new segment in range
  Answer sealed = Query("cpu", kCountAll);
  EXPECT_EQ(Outcome(sealed), "miss");
  EXPECT_EQ(Count(sealed), 11);
  Answer again = Query("cpu", kCountAll);
  EXPECT_EQ(Outcome(again), "hit");
  EXPECT_EQ(Rows(again), Rows(sealed));
  EXPECT_GE(service_->query_cache().stats().stale, 1u);
}

TEST_F(QueryCacheServiceTest, CompactionDedupAndSchemaChangesAreNeverStale) {
  CreateDataset("cpu", 10);
  Admin("POST", "cpu/flush");
  // The same rows again: duplicates by (host, timestamp), in a second segment.
  std::string records;
  for (int k = 0; k < 10; ++k) {
    StrAppend(&records, k ? "," : "", "{\"timestamp\":", 1'000'000 + k * 1000, ",\"v\":", k,
              ",\"host\":\"h", k % 3, "\"}");
  }
  Ingest("cpu", records);
  Admin("POST", "cpu/flush");
  Query("cpu", kCountAll);
  Answer before = Query("cpu", kCountAll);
  ASSERT_EQ(Outcome(before), "hit");
  EXPECT_EQ(Count(before), 20);
  // Compaction swaps the segments for one: a miss, the same rows.
  Admin("POST", "cpu/compact");
  Answer compacted = Query("cpu", kCountAll);
  EXPECT_EQ(Outcome(compacted), "miss");
  EXPECT_EQ(Rows(compacted), Rows(before));
  ASSERT_EQ(Outcome(Query("cpu", kCountAll)), "hit");
  // Dedup changes the answer with no segment changed.
  Admin("PUT", "cpu/settings", R"({"segmentBy":["host"],"dedup":{"keys":["host"]}})");
  Answer deduped = Query("cpu", kCountAll);
  EXPECT_EQ(Outcome(deduped), "miss");
  EXPECT_EQ(Count(deduped), 10);
  // A new column (from rows outside the range) shows in a raw answer at once.
  Query("cpu", kRawAll);
  ASSERT_EQ(Outcome(Query("cpu", kRawAll)), "hit");
  Ingest("cpu", R"({"timestamp":9000000,"v":1,"host":"h0","region":"eu"})");
  Answer widened = Query("cpu", kRawAll);
  EXPECT_EQ(Outcome(widened), "miss");
  EXPECT_NE(widened.body.find("\"region\""), std::string::npos);
}

TEST_F(QueryCacheServiceTest, RetentionAndDeleteAndRecreateAreNeverStale) {
  // Two partitions: ten days old and one hour old.
  const int64_t now_ms = NowNanos() / 1'000'000;
  const int64_t old_ts = now_ms - 10 * 86'400'000LL, new_ts = now_ms - 3'600'000;
  Ingest("ev",
         StrCat(R"({"timestamp":)", old_ts, R"(,"v":1},{"timestamp":)", new_ts, R"(,"v":2})"));
  Admin("POST", "ev/flush");
  const std::string q = StrCat(
      R"({"timeRange":{"start":)", old_ts - 1000, R"(,"end":)", now_ms,
      R"(},"downsample":{"intervalUnit":"hour","intervalSize":1,"aggregations":[{"fn":"count"}]}})");
  Query("ev", q);
  Answer cached = Query("ev", q);
  ASSERT_EQ(Outcome(cached), "hit");
  EXPECT_EQ(Count(cached), 2);
  Admin("PUT", "ev/retention", R"({"deleteAfter":"5d"})");
  Admin("POST", "ev/enforce-retention");
  Answer retained = Query("ev", q);
  EXPECT_EQ(Outcome(retained), "miss");
  EXPECT_EQ(Count(retained), 1);
  ASSERT_EQ(Outcome(Query("ev", q)), "hit");
  // Deleted, then created again under the same name with other rows.
  Admin("DELETE", "ev");
  EXPECT_EQ(Query("ev", q).status, 404);
  Ingest("ev", StrCat(R"({"timestamp":)", new_ts, R"(,"v":5},{"timestamp":)", new_ts + 1,
                      R"(,"v":6},{"timestamp":)", new_ts + 2, R"(,"v":7})"));
  Admin("POST", "ev/flush");
  Answer recreated = Query("ev", q);
  EXPECT_EQ(Outcome(recreated), "miss");
  EXPECT_EQ(Count(recreated), 3);
}

TEST_F(QueryCacheServiceTest, FreshnessConditionsAreCheckedOnAHit) {
  CreateDataset("cpu", 10);
  Admin("POST", "cpu/flush");
  const std::string fresh = R"({"timeRange":{"start":0,"end":1500000},"requireFresh":true})";
  Query("cpu", fresh);
  EXPECT_EQ(Outcome(Query("cpu", fresh)), "hit");
  // The dataset's newest row is at 1009 s: a higher minWatermark is refused.
  const std::string ahead = R"({"timeRange":{"start":0,"end":1500000},"minWatermark":1500000})";
  EXPECT_EQ(Query("cpu", ahead).status, 409);
  EXPECT_EQ(Query("cpu", ahead).status, 409);
  Ingest("cpu", R"({"timestamp":1600000,"v":1,"host":"h0"})");
  Answer reached = Query("cpu", ahead);
  EXPECT_EQ(reached.status, 200) << reached.body;
}

TEST_F(QueryCacheServiceTest, ComputedColumnsReadingTheClockAreNotCached) {
  CreateDataset("cpu", 10);
  Admin("POST", "cpu/flush");
  const std::string clock =
      R"j({"timeRange":{"start":0,"end":1500000},"computed":[{"alias":"t","expr":"now()"}]})j";
  Answer first = Query("cpu", clock);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(Outcome(first), "bypass");
  EXPECT_EQ(Outcome(Query("cpu", clock)), "bypass");
  const std::string doubled =
      R"j({"timeRange":{"start":0,"end":1500000},"computed":[{"alias":"w","expr":"v * 2"}]})j";
  EXPECT_EQ(Outcome(Query("cpu", doubled)), "miss");
  EXPECT_EQ(Outcome(Query("cpu", doubled)), "hit");
}

TEST_F(QueryCacheServiceTest, ClockReadsBuiltAtRunTimeAreNotCached) {
  CreateDataset("cpu", 10);
  Admin("POST", "cpu/flush");
  // No clock word in the text: the evaluator reports the read.
  const std::string built =
      R"j({"timeRange":{"start":0,"end":1500000},)j"
      R"j("computed":[{"alias":"t","expr":"(('n' || 'ow')::timestamptz)"}]})j";
  Answer first = Query("cpu", built);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(Outcome(first), "bypass");
  EXPECT_EQ(Outcome(Query("cpu", built)), "bypass");
  // A string column holding 'now', cast.
  Ingest("ev", R"({"timestamp":1000000,"v":1,"w":"now"},{"timestamp":1001000,"v":2,"w":"now"})");
  Admin("POST", "ev/flush");
  const std::string column = R"j({"timeRange":{"start":0,"end":1500000},)j"
                             R"j("computed":[{"alias":"t","expr":"w::timestamptz"}]})j";
  Answer cast = Query("ev", column);
  ASSERT_EQ(cast.status, 200) << cast.body;
  EXPECT_EQ(Outcome(cast), "bypass");
  EXPECT_EQ(Outcome(Query("ev", column)), "bypass");
  QueryCache::Stats s = service_->query_cache().stats();
  EXPECT_EQ(s.entries, 0u);
  EXPECT_EQ(s.stored, 0u);
  EXPECT_EQ(s.hits, 0u);
  EXPECT_EQ(s.misses, 0u);
  EXPECT_EQ(s.bypassed, 4u);
}

// Only what an expression did decides: a column whose name holds a clock word
// ("now", "current") is data like any other.
TEST_F(QueryCacheServiceTest, ColumnsNamedLikeTheClockAreCached) {
  Ingest("ev", R"({"timestamp":1000000,"known_now_ms":5,"current_amps":2},)"
               R"({"timestamp":1001000,"known_now_ms":7,"current_amps":3})");
  Admin("POST", "ev/flush");
  const std::string q = R"j({"timeRange":{"start":0,"end":1500000},"computed":[)j"
                        R"j({"alias":"later","expr":"known_now_ms + current_amps * 1000"}]})j";
  Answer first = Query("ev", q);
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(Outcome(first), "miss");
  Answer second = Query("ev", q);
  EXPECT_EQ(Outcome(second), "hit");
  EXPECT_EQ(Rows(second), Rows(first));
  EXPECT_NE(Rows(first).find("\"later\":2005"), std::string::npos) << Rows(first);
}

// Late rows of a partition with no segment before the run, sealed before the
// query's snapshot (it reads them) and dropped by retention before Finish: the
// tokens before and after the run are equal, but the answer was read from
// another segment list and is not kept.
TEST_F(QueryCacheServiceTest, RowsSealedAndRetainedDuringARunAreNotStored) {
  const int64_t now_ms = NowNanos() / 1'000'000;
  const int64_t old_ts = now_ms - 10 * 86'400'000LL, new_ts = now_ms - 3'600'000;
  Ingest("ev", StrCat(R"({"timestamp":)", new_ts, R"(,"v":2})"));
  Admin("POST", "ev/flush");
  const std::string body =
      StrCat(R"({"timeRange":{"start":)", old_ts - 1000, R"(,"end":)", now_ms, "}}");
  std::optional<ResultToken> before;
  HttpResponse r = RunThroughTheCache(
      "ev", body,
      [&] {
        before = ResultTokenFor(*engine_, "ev", (old_ts - 1000) * 1'000'000, now_ms * 1'000'000);
        Ingest("ev", StrCat(R"({"timestamp":)", old_ts, R"(,"v":1})"));
        Admin("POST", "ev/flush");
      },
      [&] {
        Admin("PUT", "ev/retention", R"({"deleteAfter":"5d"})");
        Admin("POST", "ev/enforce-retention");
      });
  EXPECT_EQ(RowCount(Answer{200, r.body}), 2) << r.body;  // the late row too
  std::optional<ResultToken> after =
      ResultTokenFor(*engine_, "ev", (old_ts - 1000) * 1'000'000, now_ms * 1'000'000);
  ASSERT_TRUE(before && after);
  EXPECT_TRUE(*after == *before);  // the same segments in range as before the run
  QueryCache::Stats s = service_->query_cache().stats();
  EXPECT_EQ(s.entries, 0u);
  EXPECT_EQ(s.not_stored_changed, 1u);
  Answer next = Query("ev", body);
  EXPECT_EQ(Outcome(next), "miss");
  EXPECT_EQ(RowCount(next), 1) << next.body;
}

// Seals of rows outside the range (another partition), before the query's
// snapshot and after it: the answer was read from the token's segments and is
// kept (a dataset-wide count of segment edits refused it).
TEST_F(QueryCacheServiceTest, SealsOutsideTheRangeDuringARunDoNotPreventStoring) {
  CreateDataset("cpu", 10);
  Admin("POST", "cpu/flush");
  const int64_t ten_days_ms = 10 * 86'400'000LL;
  HttpResponse r = RunThroughTheCache(
      "cpu", kRawAll,
      [&] {
        Ingest("cpu",
               StrCat(R"({"timestamp":)", 1'000'000 + ten_days_ms, R"(,"v":1,"host":"h0"})"));
        Admin("POST", "cpu/flush");
      },
      [&] {
        Ingest("cpu",
               StrCat(R"({"timestamp":)", 2'000'000 + ten_days_ms, R"(,"v":1,"host":"h0"})"));
        Admin("POST", "cpu/flush");
      });
  QueryCache::Stats s = service_->query_cache().stats();
  EXPECT_EQ(s.not_stored_changed, 0u);
  EXPECT_EQ(s.stored, 1u);
  EXPECT_EQ(s.entries, 1u);
  Answer hit = Query("cpu", kRawAll);
  EXPECT_EQ(Outcome(hit), "hit");
  EXPECT_EQ(Rows(hit), Rows(Answer{200, r.body}));
  EXPECT_EQ(RowCount(hit), 10);
}

// "The latest buckets" runs over a window at the range's end (Engine::Query);
// its answer stands for the whole range, and so does what it reports it read:
// a segment in range but below the window does not keep it from being stored.
TEST_F(QueryCacheServiceTest, LatestBucketsAnsweredFromAWindowAreStored) {
  CreateDataset("cpu", 10);  // 1000 s .. 1009 s
  Admin("POST", "cpu/flush");
  Ingest("cpu", R"({"timestamp":500000,"v":1,"host":"h0"})");
  Admin("POST", "cpu/flush");
  const std::string latest =
      R"({"timeRange":{"start":0,"end":1010000},"order":"desc","limit":2,)"
      R"("downsample":{"intervalUnit":"second","intervalSize":1,"aggregations":[{"fn":"count"}]}})";
  Answer first = Query("cpu", latest);
  EXPECT_EQ(Outcome(first), "miss");
  Answer second = Query("cpu", latest);
  EXPECT_EQ(Outcome(second), "hit");
  EXPECT_EQ(Rows(second), Rows(first));
  EXPECT_EQ(RowCount(second), 2);
  EXPECT_EQ(service_->query_cache().stats().not_stored_changed, 0u);
}

TEST_F(QueryCacheServiceTest, AnswersOverTheEntryLimitAreNotKept) {
  StopService();
  ServiceOptions options;
  options.query_cache.max_entry_bytes = 2000;
  StartService(options);
  CreateDataset("cpu", 50);
  Admin("POST", "cpu/flush");
  // 50 raw rows are over 2000 bytes; the count is not.
  EXPECT_EQ(Outcome(Query("cpu", kRawAll)), "miss");
  EXPECT_EQ(Outcome(Query("cpu", kRawAll)), "miss");
  EXPECT_EQ(Outcome(Query("cpu", kCountAll)), "miss");
  EXPECT_EQ(Outcome(Query("cpu", kCountAll)), "hit");
  QueryCache::Stats s = service_->query_cache().stats();
  EXPECT_EQ(s.not_stored_too_large, 2u);
  EXPECT_EQ(s.entries, 1u);
}

TEST_F(QueryCacheServiceTest, OffMeansNeverCached) {
  StopService();
  ServiceOptions options;
  options.query_cache.enabled = false;
  StartService(options);
  CreateDataset("cpu", 10);
  Admin("POST", "cpu/flush");
  EXPECT_EQ(Outcome(Query("cpu", kCountAll)), "off");
  Answer again = Query("cpu", kCountAll);
  EXPECT_EQ(Outcome(again), "off");
  std::string_view outcome;
  ASSERT_FALSE(Parse(again)["stats"]["resultCache"].get(outcome));
  EXPECT_EQ(outcome, "off");
  EXPECT_EQ(service_->query_cache().stats().entries, 0u);
}

// Late rows stream into the cached range while readers repeat the query:
// every answer holds at least every row acknowledged before it was asked.
TEST_F(QueryCacheServiceTest, ConcurrentLateIngestNeverSeesAStaleAnswer) {
  CreateDataset("cpu", 100);
  Admin("POST", "cpu/flush");
  constexpr int kLate = 150;
  std::atomic<int> acked{0};
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::thread writer([&] {
    for (int i = 0; i < kLate; ++i) {
      Answer a = Call("POST", "/datasets/cpu/ingest",
                      StrCat(R"({"records":[{"timestamp":)", 1'000'000 + (i * 7) % 100'000,
                             R"(,"v":1,"host":"late"}]})"));
      if (a.status != 200) ++failures;
      acked.fetch_add(1);
      if (i % 10 == 9) Call("POST", "/admin/datasets/cpu/flush");
    }
    done = true;
  });
  std::vector<std::thread> readers;
  std::atomic<int> answers{0};
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      while (!done) {
        const int before = acked.load();
        Answer a = Query("cpu", kCountAll);
        const int after = acked.load();
        const int64_t n = Count(a);
        if (n < 100 + before || n > 100 + after + 1) {
          ++failures;
          ADD_FAILURE() << "count " << n << " with " << before << ".." << after
                        << " late rows acknowledged; " << Outcome(a);
        }
        ++answers;
      }
    });
  }
  writer.join();
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(answers.load(), 0);
  Admin("POST", "cpu/flush");
  Query("cpu", kCountAll);
  Answer last = Query("cpu", kCountAll);
  EXPECT_EQ(Outcome(last), "hit");
  EXPECT_EQ(Count(last), 100 + kLate);
}

}  // namespace
}  // namespace timestore::api::testing
