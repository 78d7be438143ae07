// The query result cache against the real binary: a repeat is a hit (header,
// stats, /metrics, /status); late rows, compaction, retention and a delete
// with re-creation between repeats are never answered from a stale entry;
// concurrent late ingest never shows an answer missing acknowledged rows;
// ENABLE_QUERY_CACHE=false turns it off and a bad value refuses to start.
#include <simdjson.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "common/strings.h"
#include "tests/e2e/test_server.h"

namespace timestore::testing {
namespace {

// kCpuRowsJson's rows lie at 2024-05-01T12:00:00Z + 0..30 s.
constexpr const char* kCount =
    R"({"timeRange":{"start":"2024-05-01T00:00:00Z","end":"2024-05-02T00:00:00Z"},)"
    R"("downsample":{"intervalUnit":"minute","intervalSize":1,"aggregations":[{"fn":"count"},{"fn":"sum","column":"usage_user"}]}})";

class QueryCacheE2ETest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = MakeTempDir(); }
  void TearDown() override {
    client_.reset();
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Start(std::map<std::string, std::string> env = {}) {
    // Sealing and compaction only when the test asks.
    env.emplace("TIMESTORE_SEAL_MAX_AGE_MS", "3600000");
    env.emplace("TIMESTORE_COMPACTION_ENABLED", "false");
    server_ = std::make_unique<TestServer>(dir_, std::move(env));
    ASSERT_TRUE(server_->Start()) << ReadFileToString(server_->log_path());
    client_ = std::make_unique<HttpClient>(server_->port());
  }
  HttpResult Query(const std::string& body = kCount) {
    return client_->Post("/datasets/cpu/query", body, {{"content-type", "application/json"}});
  }
  void Post(const std::string& target, const std::string& body = "") {
    HttpResult r = client_->Post(target, body, {{"content-type", "application/json"}});
    ASSERT_EQ(r.status, 200) << target << ": " << r.body;
  }
  static int64_t Count(const HttpResult& r) {
    simdjson::dom::parser parser;
    simdjson::dom::array rows;
    if (parser.parse(r.body)["rows"].get(rows)) return -1;
    int64_t total = 0;
    for (simdjson::dom::element row : rows) {
      int64_t n = 0;
      if (!row["count"].get(n)) total += n;
    }
    return total;
  }
  static std::string Outcome(const HttpResult& r) {
    auto it = r.headers.find("x-timestore-result-cache");
    return it == r.headers.end() ? "<absent>" : it->second;
  }
  std::string dir_;
  std::unique_ptr<TestServer> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(QueryCacheE2ETest, RepeatsHitAndNoEditIsAnsweredStale) {
  Start();
  Post("/datasets/cpu/ingest", kCpuRowsJson);
  Post("/admin/datasets/cpu/flush");
  HttpResult miss = Query();
  HttpResult hit = Query();
  ASSERT_EQ(Outcome(miss), "miss") << miss.body;
  ASSERT_EQ(Outcome(hit), "hit") << hit.body;
  EXPECT_EQ(Count(hit), 4);
  EXPECT_NE(hit.body.find("\"resultCache\":\"hit\""), std::string::npos) << hit.body;
  HttpResult metrics = client_->Get("/metrics");
  EXPECT_NE(metrics.body.find("timestore_result_cache_hits_total 1\n"), std::string::npos);
  EXPECT_NE(metrics.body.find("timestore_result_cache_misses_total 1\n"), std::string::npos);
  EXPECT_NE(metrics.body.find("timestore_result_cache_max_bytes 67108864\n"), std::string::npos);
  HttpResult status = client_->Get("/status");
  EXPECT_NE(status.body.find("\"resultCache\":{\"enabled\":true,\"entries\":1"), std::string::npos)
      << status.body;

  // A late row over the cached range: in memory, then sealed.
  Post("/datasets/cpu/ingest",
       R"({"records":[{"timestamp":"2024-05-01T12:00:05Z","hostname":"late","usage_user":1}]})");
  HttpResult late = Query();
  EXPECT_EQ(Outcome(late), "bypass");
  EXPECT_EQ(Count(late), 5);
  Post("/admin/datasets/cpu/flush");
  EXPECT_EQ(Count(Query()), 5);
  ASSERT_EQ(Outcome(Query()), "hit");

  // Compaction: other segments, the same rows.
  Post("/admin/datasets/cpu/compact");
  HttpResult compacted = Query();
  EXPECT_EQ(Outcome(compacted), "miss");
  EXPECT_EQ(Count(compacted), 5);
  ASSERT_EQ(Outcome(Query()), "hit");

  // Retention: rows of 2024 are older than 1 day, so all go.
  HttpResult put =
      client_->Request("PUT", "/admin/datasets/cpu/retention", R"({"deleteAfter":"1d"})",
                       {{"content-type", "application/json"}});
  ASSERT_EQ(put.status, 200) << put.body;
  Post("/admin/datasets/cpu/enforce-retention");
  HttpResult retained = Query();
  EXPECT_EQ(Outcome(retained), "miss");
  EXPECT_EQ(Count(retained), 0);

  // Deleted and created again under the same name.
  ASSERT_EQ(client_->Request("DELETE", "/admin/datasets/cpu").status, 200);
  Post("/datasets/cpu/ingest", kCpuRowsJson);
  Post("/admin/datasets/cpu/flush");
  HttpResult recreated = Query();
  EXPECT_EQ(Outcome(recreated), "miss");
  EXPECT_EQ(Count(recreated), 4);
  EXPECT_EQ(Outcome(Query()), "hit");
}

TEST_F(QueryCacheE2ETest, ConcurrentLateIngestAndRepeatedQueries) {
  Start();
  Post("/datasets/cpu/ingest", kCpuRowsJson);
  Post("/admin/datasets/cpu/flush");
  constexpr int kLate = 120;
  std::atomic<int> acked{0}, failures{0}, hits{0};
  std::atomic<bool> done{false};
  std::thread writer([&] {
    HttpClient c(server_->port());
    for (int i = 0; i < kLate; ++i) {
      HttpResult r = c.Post("/datasets/cpu/ingest",
                            StrCat(R"({"records":[{"timestamp":"2024-05-01T12:00:)", 10 + i % 40,
                                   R"(Z","hostname":"late","usage_user":1}]})"));
      if (r.status != 200) ++failures;
      ++acked;
      if (i % 8 == 7) {
        // Everything sealed: let the readers store and hit an answer before
        // the next late row, so lookups race with ingest and seals.
        const int seen = hits.load();
        c.Post("/admin/datasets/cpu/flush", "");
        for (int w = 0; w < 10'000 && hits.load() == seen; ++w) {
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
      }
    }
    done = true;
  });
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      HttpClient c(server_->port());
      while (!done) {
        const int before = acked.load();
        HttpResult r = c.Post("/datasets/cpu/query", kCount);
        const int after = acked.load();
        const int64_t n = Count(r);
        if (n < 4 + before || n > 4 + after + 1) {
          ++failures;
          ADD_FAILURE() << "count " << n << " with " << before << ".." << after
                        << " late rows acknowledged (" << Outcome(r) << ")";
        }
        if (Outcome(r) == "hit") ++hits;
      }
    });
  }
  writer.join();
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(hits.load(), 0);  // the race above did serve cached answers
  Post("/admin/datasets/cpu/flush");
  Query();
  HttpResult last = Query();
  EXPECT_EQ(Outcome(last), "hit");
  EXPECT_EQ(Count(last), 4 + kLate);
}

TEST_F(QueryCacheE2ETest, TimefusionSwitchTurnsItOffAndBadValuesRefuseToStart) {
  Start({{"ENABLE_QUERY_CACHE", "false"}});
  Post("/datasets/cpu/ingest", kCpuRowsJson);
  Post("/admin/datasets/cpu/flush");
  EXPECT_EQ(Outcome(Query()), "off");
  EXPECT_EQ(Outcome(Query()), "off");
  EXPECT_NE(client_->Get("/metrics").body.find("timestore_result_cache_enabled 0\n"),
            std::string::npos);
  client_.reset();
  server_.reset();
  auto [rc, out] = Shell(StrCat("TIMESTORE_QUERY_CACHE_ENABLED=sometimes ", TimestoreBinary(),
                                " serve --port 0 --auth none --storage-root ", dir_, "/bad 2>&1"));
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("TIMESTORE_QUERY_CACHE_ENABLED \"sometimes\""), std::string::npos) << out;
}

}  // namespace
}  // namespace timestore::testing
