// End-to-end: the real `timestore serve` on a loopback port, spoken to over
// HTTP. Covers the contract's success and error answers, durability across
// kill -9 with concurrent clients, and graceful SIGTERM.
#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/wait.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "common/strings.h"
#include "tests/e2e/test_server.h"

namespace timestore::testing {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

const std::string kSchema =
    R"({"fields":[{"name":"timestamp","type":"timestamp"},{"name":"host","type":"string"},)"
    R"({"name":"v","type":"double"},{"name":"n","type":"integer"}]})";

std::string Body(const std::string& records, bool schema = true) {
  return StrCat("{", schema ? StrCat("\"schema\":", kSchema, ",") : "", "\"records\":[", records,
                "]}");
}

simdjson::dom::element Parse(simdjson::dom::parser& p, const std::string& json) {
  simdjson::dom::element e;
  auto err = p.parse(json).get(e);
  EXPECT_FALSE(err) << "not JSON: " << json;
  return e;
}

std::string ErrorCode(const HttpResult& r) {
  simdjson::dom::parser p;
  std::string_view code;
  if (Parse(p, r.body)["error"]["code"].get(code)) return "<none>";
  return std::string(code);
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = MakeTempDir(); }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  void StartServer(std::map<std::string, std::string> env = {}) {
    server_ = std::make_unique<TestServer>(dir_, env);
    ASSERT_TRUE(server_->Start()) << "server did not start; see " << server_->log_path();
  }
  std::string dir_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(ServerTest, IngestThenQueryRawAndDownsampled) {
  StartServer();
  HttpClient c(server_->port());
  auto r = c.Post("/datasets/cpu/ingest",
                  Body(R"({"timestamp":"2024-05-01T12:00:00Z","host":"a","v":1.5,"n":1},)"
                       R"({"timestamp":"2024-05-01T12:00:10.5Z","host":"b","v":2,"n":2},)"
                       R"({"timestamp":1714564830000,"host":"a","v":null})"),
                  {{"Content-Type", "application/json"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"dataset":"cpu","rowsIngested":3,"schemaVersion":1,)"
                    R"("watermark":"2024-05-01T12:00:30Z","duplicate":false})");

  r = c.Post("/datasets/cpu/query",
             R"({"timeRange":{"start":"2024-05-01T00:00:00Z","end":"2024-05-02T00:00:00Z"},)"
             R"("columns":["host","v"],"order":"desc"})");
  ASSERT_EQ(r.status, 200) << r.body;
  simdjson::dom::parser p;
  auto doc = Parse(p, r.body);
  EXPECT_EQ(std::string_view(doc["mode"]), "raw");
  simdjson::dom::array rows = doc["rows"];
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(std::string_view(rows.at(0)["timestamp"]), "2024-05-01T12:00:30Z");
  EXPECT_TRUE(rows.at(0)["v"].is_null());
  EXPECT_EQ(std::string_view(rows.at(1)["timestamp"]), "2024-05-01T12:00:10.5Z");
  EXPECT_EQ(double(rows.at(2)["v"]), 1.5);
  EXPECT_EQ(uint64_t(doc["freshness"]["hotRows"]), 3u);

  r = c.Post(
      "/datasets/cpu/query",
      R"({"timeRange":{"start":1714521600000,"end":1714608000000},)"
      R"("downsample":{"intervalUnit":"minute","groupBy":["host"],"aggregations":[)"
      R"({"fn":"avg","column":"v"},{"fn":"count","alias":"rows"},{"fn":"max","column":"n"}]},)"
      R"("timestampFormat":"epoch_ns"})");
  ASSERT_EQ(r.status, 200) << r.body;
  doc = Parse(p, r.body);
  EXPECT_EQ(std::string_view(doc["mode"]), "downsampled");
  rows = doc["rows"];
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(int64_t(rows.at(0)["timestamp"]), 1714564800000000000);
  EXPECT_EQ(std::string_view(rows.at(0)["host"]), "a");
  EXPECT_EQ(double(rows.at(0)["avg_v"]), 1.5);
  EXPECT_EQ(int64_t(rows.at(0)["rows"]), 2);
  EXPECT_EQ(int64_t(rows.at(1)["max_n"]), 2);

  r = c.Post("/datasets/cpu/query",
             R"({"timeRange":{"start":"2024-05-01T00:00:00Z","end":"2024-05-02T00:00:00Z"},)"
             R"("filters":[{"column":"host","op":"eq","value":"b"}]})",
             {{"Accept", "text/csv"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "text/csv; charset=utf-8");
  EXPECT_EQ(r.body, "timestamp,host,v,n\r\n2024-05-01T12:00:10.5Z,b,2,2\r\n");

  r = c.Post(
      "/datasets/cpu/query",
      R"({"timeRange":{"start":"2024-05-01T00:00:00Z","end":"2024-05-02T00:00:00Z"},"limit":2})",
      {{"Accept", "application/x-ndjson"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(std::count(r.body.begin(), r.body.end(), '\n'), 2);
}

TEST_F(ServerTest, NdjsonIngestInfersAndEvolvesSchema) {
  StartServer();
  HttpClient c(server_->port());
  auto r = c.Post("/datasets/logs/ingest?precision=s",
                  "{\"timestamp\":1714564800,\"msg\":\"hi\",\"ok\":true}\n\n"
                  "{\"timestamp\":1714564801,\"msg\":\"there\",\"lat\":3}\r\n",
                  {{"Content-Type", "application/x-ndjson"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("\"rowsIngested\":2"), std::string::npos);
  r = c.Post("/datasets/logs/ingest", "{\"timestamp\":1714564802000,\"msg\":7}\n",
             {{"Content-Type", "application/x-ndjson"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorCode(r), "invalid_value");
  simdjson::dom::parser p;
  auto doc = Parse(p, r.body);
  EXPECT_EQ(int64_t(doc["error"]["details"]["line"]), 1);
  EXPECT_EQ(std::string_view(doc["error"]["details"]["column"]), "msg");
}

TEST_F(ServerTest, ErrorAnswersFollowTheContract) {
  StartServer({{"TIMESTORE_MAX_BODY_BYTES", "4096"}, {"TIMESTORE_QUERY_MAX_LIMIT", "100"}});
  HttpClient c(server_->port());
  ASSERT_EQ(
      c.Post("/datasets/cpu/ingest", Body(R"({"timestamp":"2024-05-01T00:00:00Z","v":1})")).status,
      200);
  struct Case {
    std::string method, target, body;
    int status;
    std::string code;
  };
  std::vector<Case> cases = {
      {"POST", "/datasets/cpu/ingest", "{not json", 400, "invalid_json"},
      {"POST", "/datasets/cpu/ingest",
       R"({"records":[{"timestamp":"2024-05-01T00:00:00Z","v":"x"}]})", 400, "invalid_value"},
      {"POST", "/datasets/cpu/ingest", R"({"records":[{"v":1}]})", 400, "invalid_value"},
      {"POST", "/datasets/cpu/ingest", R"({"records":[{"timestamp":"2024-13-01T00:00:00Z"}]})", 400,
       "invalid_value"},
      {"POST", "/datasets/cpu/ingest",
       R"({"records":[{"timestamp":"2024-05-01T00:00:00Z","n":1.5}]})", 400, "invalid_value"},
      {"POST", "/datasets/cpu/ingest",
       R"({"schema":{"fields":[{"name":"v","type":"string"}]},"records":[]})", 422,
       "schema_conflict"},
      {"POST", "/datasets/cpu/ingest", R"({"timestampColumn":"time","records":[{"time":1}]})", 400,
       "invalid_request"},
      {"POST", "/datasets/Bad!/ingest", Body(""), 400, "invalid_slug"},
      {"POST", "/datasets/cpu/ingest", std::string(5000, ' '), 413, "payload_too_large"},
      {"GET", "/datasets/cpu/ingest", "", 405, "method_not_allowed"},
      {"POST", "/datasets/nope/query", R"({"timeRange":{"start":0,"end":1}})", 404,
       "dataset_not_found"},
      {"GET", "/nothing-here", "", 404, "route_not_found"},
      {"POST", "/datasets/cpu/query", R"({"timeRange":{"start":0,"end":1},"columns":["zz"]})", 400,
       "unknown_column"},
      {"POST", "/datasets/cpu/query", R"({"columns":["v"]})", 400, "invalid_query"},
      {"POST", "/datasets/cpu/query", R"({"timeRange":{"start":0,"end":1},"limit":101})", 400,
       "invalid_query"},
      {"POST", "/datasets/cpu/query", R"({"timeRange":{"start":0,"end":1},"bogus":1})", 400,
       "invalid_query"},
      {"POST", "/datasets/cpu/query?precision=hours", R"({"timeRange":{"start":0,"end":1}})", 400,
       "invalid_request"},
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(k.method + " " + k.target + " " + k.body.substr(0, 80));
    auto r = c.Request(k.method, k.target, k.body);
    EXPECT_EQ(r.status, k.status) << r.body;
    EXPECT_EQ(ErrorCode(r), k.code) << r.body;
    EXPECT_EQ(r.headers["content-type"], "application/json");
  }
  // A malformed request never changes stored data.
  auto r = c.Post("/datasets/cpu/query",
                  R"({"timeRange":{"start":"2024-01-01T00:00:00Z","end":"2025-01-01T00:00:00Z"}})");
  ASSERT_EQ(r.status, 200);
  simdjson::dom::parser p;
  auto doc = Parse(p, r.body);
  EXPECT_EQ(simdjson::dom::array(doc["rows"]).size(), 1u);
  EXPECT_EQ(simdjson::dom::array(doc["columns"]).size(), 4u);  // timestamp, host, v, n
}

TEST_F(ServerTest, IdempotencyKeys) {
  StartServer();
  HttpClient c(server_->port());
  std::string body = Body(R"({"timestamp":"2024-05-01T00:00:00Z","v":1})");
  auto first = c.Post("/datasets/cpu/ingest", body, {{"Idempotency-Key", "abc"}});
  ASSERT_EQ(first.status, 200);
  auto again = c.Post("/datasets/cpu/ingest", body, {{"Idempotency-Key", "abc"}});
  ASSERT_EQ(again.status, 200);
  std::string expected = first.body;
  expected.replace(expected.find("\"duplicate\":false"), 17, "\"duplicate\":true");
  EXPECT_EQ(again.body, expected);
  auto other = c.Post("/datasets/cpu/ingest", Body(R"({"timestamp":"2024-05-01T00:00:01Z","v":2})"),
                      {{"Idempotency-Key", "abc"}});
  EXPECT_EQ(other.status, 409);
  auto other_query = c.Post("/datasets/cpu/ingest?precision=s", body, {{"Idempotency-Key", "abc"}});
  EXPECT_EQ(other_query.status, 409);
  auto long_key =
      c.Post("/datasets/cpu/ingest", body, {{"Idempotency-Key", std::string(256, 'k')}});
  EXPECT_EQ(long_key.status, 400);
  // Remembered across a restart.
  server_->Stop(SIGKILL);
  ASSERT_TRUE(server_->Start());
  HttpClient c2(server_->port());
  auto after = c2.Post("/datasets/cpu/ingest", body, {{"Idempotency-Key", "abc"}});
  EXPECT_EQ(after.body, expected);
  auto q =
      c2.Post("/datasets/cpu/query",
              R"({"timeRange":{"start":"2024-01-01T00:00:00Z","end":"2025-01-01T00:00:00Z"}})");
  simdjson::dom::parser p;
  EXPECT_EQ(simdjson::dom::array(Parse(p, q.body)["rows"]).size(), 1u);
}

TEST_F(ServerTest, ScopesGateRoutes) {
  StartServer(
      {{"TIMESTORE_REQUIRE_SCOPE", "ts:read"}, {"TIMESTORE_REQUIRE_WRITE_SCOPE", "ts:write"}});
  HttpClient c(server_->port());
  std::string body = Body(R"({"timestamp":"2024-05-01T00:00:00Z","v":1})");
  auto r = c.Post("/datasets/cpu/ingest", body);
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("ts:write"), std::string::npos);
  EXPECT_EQ(c.Post("/datasets/cpu/ingest", body, {{"x-iam-scopes", "a, ts:write"}}).status, 200);
  std::string q = R"({"timeRange":{"start":0,"end":1}})";
  EXPECT_EQ(c.Post("/datasets/cpu/query", q).status, 403);
  EXPECT_EQ(c.Post("/datasets/cpu/query", q, {{"x-iam-scopes", "ts:read"}}).status, 200);
  EXPECT_EQ(c.Get("/health").status, 200);
  EXPECT_EQ(c.Get("/metrics").status, 200);
}

TEST_F(ServerTest, ServiceEndpoints) {
  StartServer();
  HttpClient c(server_->port());
  ASSERT_EQ(
      c.Post("/datasets/cpu/ingest", Body(R"({"timestamp":"2024-05-01T00:00:00Z","v":1})")).status,
      200);
  auto h = c.Get("/health");
  EXPECT_EQ(h.body, R"({"status":"ok"})");
  EXPECT_EQ(c.Get("/ready").status, 200);
  auto m = c.Get("/metrics");
  EXPECT_EQ(m.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(m.body.find("timestore_ingest_rows_total 1"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("timestore_wal_fsyncs_total"), std::string::npos);
  auto s = c.Get("/status");
  simdjson::dom::parser p;
  auto doc = Parse(p, s.body);
  EXPECT_EQ(uint64_t(doc["datasets"]["count"]), 1u);
  EXPECT_GT(uint64_t(doc["storage"]["walBytes"]), 0u);
}

// Concurrent clients ingest numbered batches; the server is killed with
// SIGKILL mid-stream. After a restart every acknowledged batch is present
// exactly once, and every other batch is either whole or absent.
uint64_t SegmentCount(int port) {
  HttpClient c(port);
  auto s = c.Get("/status");
  simdjson::dom::parser p;
  uint64_t n = 0;
  if (s.status == 200 && !p.parse(s.body)["storage"]["segments"].get(n)) return n;
  return 0;
}

void KillNineAndCheck(TestServer* server, int min_acked, const std::string& dataset = "crash",
                      bool wait_for_seal = false) {
  const int kClients = 4;
  const int kRowsPerBatch = 50;
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::set<std::pair<int, int>> acked;  // (client, batch)
  std::vector<std::thread> threads;
  std::atomic<int> total_acked{0};
  for (int cl = 0; cl < kClients; ++cl) {
    threads.emplace_back([&, cl] {
      HttpClient c(server->port());
      for (int b = 0; !stop; ++b) {
        std::string body;
        for (int k = 0; k < kRowsPerBatch; ++k) {
          StrAppend(&body, "{\"timestamp\":", 1714564800000LL + b * 1000 + k, ",\"client\":\"c", cl,
                    "\",\"batch\":", b, ",\"row\":", k, "}\n");
        }
        auto r = c.Post("/datasets/" + dataset + "/ingest", body,
                        {{"Content-Type", "application/x-ndjson"}});
        if (r.status != 200) break;  // the server is gone
        std::lock_guard<std::mutex> l(mu);
        acked.insert({cl, b});
        ++total_acked;
      }
    });
  }
  while (total_acked < min_acked) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (wait_for_seal) {
    // Kill only once sealing has happened under the load (segments exist).
    for (int i = 0; i < 400 && SegmentCount(server->port()) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_GT(SegmentCount(server->port()), 0u) << "no seal happened";
  }
  server->Stop(SIGKILL);
  stop = true;
  for (auto& t : threads) t.join();

  ASSERT_TRUE(server->Start());
  HttpClient c(server->port());
  auto r = c.Post(
      "/datasets/" + dataset + "/query",
      R"({"timeRange":{"start":0,"end":"2100-01-01T00:00:00Z"},)"
      R"("downsample":{"groupBy":["client","batch"],"aggregations":[)"
      R"({"fn":"count","alias":"rows"},{"fn":"count_distinct","column":"row","alias":"distinct"}]},)"
      R"("limit":1000000})");
  ASSERT_EQ(r.status, 200) << r.body;
  simdjson::dom::parser p;
  auto doc = Parse(p, r.body);
  std::set<std::pair<int, int>> present;
  for (auto row : simdjson::dom::array(doc["rows"])) {
    std::string_view client = row["client"];
    int cl = client[1] - '0';
    int b = static_cast<int>(double(row["batch"]));
    present.insert({cl, b});
    // All-or-nothing, and nothing doubled.
    EXPECT_EQ(int64_t(row["rows"]), kRowsPerBatch) << "client " << cl << " batch " << b;
    EXPECT_EQ(int64_t(row["distinct"]), kRowsPerBatch);
  }
  for (const auto& a : acked) {
    EXPECT_TRUE(present.count(a)) << "acknowledged batch lost: client " << a.first << " batch "
                                  << a.second;
  }
  EXPECT_GE(present.size(), acked.size());
}

TEST_F(ServerTest, KillNineLosesNoAcknowledgedRow) {
  StartServer();
  KillNineAndCheck(server_.get(), 200);
}

// The same while the server seals all the time: segments are written, the
// manifest edited and WAL files deleted under the kill.
TEST_F(ServerTest, KillNineDuringSealingLosesNothing) {
  // Background compaction merges the small segments as they come, so the
  // kill also lands in merges, manifest swaps and file deletes.
  StartServer({{"TIMESTORE_SEAL_MAX_ROWS", "500"},
               {"TIMESTORE_SEAL_MAX_AGE_MS", "20"},
               {"TIMESTORE_WAL_MAX_FILE_BYTES", "16KiB"},
               {"TIMESTORE_COMPACTION_MIN_SEGMENTS", "2"},
               {"TIMESTORE_COMPACTION_INTERVAL_MS", "20"}});
  KillNineAndCheck(server_.get(), 400, "crash", /*wait_for_seal=*/true);
  // And once more on the recovered store, which now holds segments.
  KillNineAndCheck(server_.get(), 200, "crash2", /*wait_for_seal=*/true);
}

// Counts rows and distinct row ids of dataset "c".
std::pair<int64_t, int64_t> CountRows(int port) {
  HttpClient c(port);
  auto r =
      c.Post("/datasets/c/query", R"({"timeRange":{"start":0,"end":"2100-01-01T00:00:00Z"},)"
                                  R"("downsample":{"aggregations":[{"fn":"count","alias":"rows"},)"
                                  R"({"fn":"count_distinct","column":"id","alias":"ids"}]}})");
  EXPECT_EQ(r.status, 200) << r.body;
  simdjson::dom::parser p;
  auto doc = Parse(p, r.body);
  simdjson::dom::array rows = doc["rows"];
  if (rows.size() == 0) return {0, 0};
  return {int64_t(rows.at(0)["rows"]), int64_t(rows.at(0)["ids"])};
}

// kill -9 at each step of a compaction: after the merged file is written
// (before the manifest edit), after the edit is durable (before any delete),
// and after the first old file is deleted. The restarted store has every row
// exactly once and verifies clean (no stray or missing file), and compacts.
TEST_F(ServerTest, CrashAtEachCompactionStepLeavesAConsistentStore) {
  for (const std::string point : {"compaction.written", "replace.logged", "segment.deleted"}) {
    SCOPED_TRACE(point);
    TearDown();
    SetUp();
    StartServer({{"TIMESTORE_TEST_CRASH_POINT", point}, {"TIMESTORE_COMPACTION_ENABLED", "false"}});
    HttpClient c(server_->port());
    int id = 0;
    for (int b = 0; b < 5; ++b) {
      std::string body;
      for (int k = 0; k < 40; ++k, ++id) {
        StrAppend(&body, "{\"timestamp\":", 1714564800000LL + (id * 7919) % 86'400'000,
                  ",\"id\":", id, ",\"host\":\"h", id % 5, "\"}\n");
      }
      ASSERT_EQ(
          c.Post("/datasets/c/ingest", body, {{"Content-Type", "application/x-ndjson"}}).status,
          200);
      ASSERT_EQ(c.Post("/admin/datasets/c/flush", "").status, 200);
    }
    ASSERT_EQ(CountRows(server_->port()), (std::pair<int64_t, int64_t>{200, 200}));
    auto r = c.Post("/admin/datasets/c/compact", "");
    EXPECT_EQ(r.status, 0) << "the crash point was not reached: " << r.body;
    server_->Stop(SIGKILL);
    {
      std::ifstream in(server_->log_path());
      std::string log(std::istreambuf_iterator<char>(in), {});
      EXPECT_NE(log.find(StrCat("crash point ", point, " reached")), std::string::npos) << log;
    }
    server_ = std::make_unique<TestServer>(
        dir_, std::map<std::string, std::string>{{"TIMESTORE_COMPACTION_ENABLED", "false"}});
    ASSERT_TRUE(server_->Start());
    EXPECT_EQ(CountRows(server_->port()), (std::pair<int64_t, int64_t>{200, 200}));
    server_->Stop(SIGTERM);
    const std::string verify =
        StrCat(TimestoreBinary(), " verify ", dir_, "/data > ", dir_, "/verify.out 2>&1");
    if (std::system(verify.c_str()) != 0) {
      std::ifstream in(dir_ + "/verify.out");
      ADD_FAILURE() << "timestore verify failed:\n"
                    << std::string(std::istreambuf_iterator<char>(in), {});
    }
    ASSERT_TRUE(server_->Start());
    HttpClient c2(server_->port());
    r = c2.Post("/admin/datasets/c/compact", "");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(CountRows(server_->port()), (std::pair<int64_t, int64_t>{200, 200}));
  }
}

// The background compactor of the real server merges sealed segments.
TEST_F(ServerTest, BackgroundCompactionMergesSegments) {
  StartServer(
      {{"TIMESTORE_COMPACTION_MIN_SEGMENTS", "3"}, {"TIMESTORE_COMPACTION_INTERVAL_MS", "20"}});
  HttpClient c(server_->port());
  int id = 0;
  for (int b = 0; b < 6; ++b) {
    std::string body;
    for (int k = 0; k < 20; ++k, ++id) {
      StrAppend(&body, "{\"timestamp\":", 1714564800000LL + id * 1000, ",\"id\":", id, "}\n");
    }
    ASSERT_EQ(c.Post("/datasets/c/ingest", body, {{"Content-Type", "application/x-ndjson"}}).status,
              200);
    ASSERT_EQ(c.Post("/admin/datasets/c/flush", "").status, 200);
  }
  uint64_t segments = 99;
  for (int i = 0; i < 500 && segments > 2; ++i) {
    segments = SegmentCount(server_->port());
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_LE(segments, 2u) << "six sealed segments were not merged";
  EXPECT_EQ(CountRows(server_->port()), (std::pair<int64_t, int64_t>{120, 120}));
  auto m = c.Get("/metrics");
  EXPECT_NE(m.body.find("timestore_compaction_runs_total "), std::string::npos);
  EXPECT_EQ(m.body.find("timestore_compaction_runs_total 0\n"), std::string::npos) << m.body;
}

TEST_F(ServerTest, SigtermIsGracefulAndDurable) {
  StartServer();
  {
    HttpClient c(server_->port());
    for (int b = 0; b < 20; ++b) {
      ASSERT_EQ(c.Post("/datasets/t/ingest",
                       StrCat("{\"timestamp\":", 1714564800000LL + b, ",\"b\":", b, "}"),
                       {{"Content-Type", "application/x-ndjson"}})
                    .status,
                200);
    }
  }
  int status = server_->Stop(SIGTERM);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  ASSERT_TRUE(server_->Start());
  HttpClient c(server_->port());
  auto r = c.Post("/datasets/t/query", R"({"timeRange":{"start":0,"end":"2100-01-01T00:00:00Z"},)"
                                       R"("downsample":{"aggregations":[{"fn":"count"}]}})");
  EXPECT_NE(r.body.find("\"count\":20"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace timestore::testing
