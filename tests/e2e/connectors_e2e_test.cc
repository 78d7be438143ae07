// The file connectors against the real server (docs/connectors.md): a
// malformed line dead-lettered with the rest stored; rotation followed, also
// across a restart; kill -9 in the middle of a file, streaming and bulk, after
// which the row count is exact (nothing lost, nothing stored twice); bulk
// CSV, NDJSON and line protocol in chunks smaller than the file, deleted or
// renamed; back-pressure pauses with a tiny in-memory budget and loses
// nothing; a configuration error stops the server at start-up.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "simdjson.h"
#include "tests/e2e/test_server.h"

namespace timestore::testing {
namespace {

std::string Read(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void Append(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::app) << text;
}

// One envelope of `rows` rows; seq numbers every row uniquely across a test.
// A keyless one has neither offset nor idempotencyKey (keyed by the
// connector's generation and the line's byte offset).
std::string Envelope(uint64_t n, int rows, const std::string& slug = "events",
                     bool keyless = false) {
  std::string out = keyless ? "{"
                            : "{\"offset\":" + std::to_string(n) + ",\"idempotencyKey\":\"e-" +
                                  std::to_string(n) + "\",";
  out += "\"ingestion\":{\"datasetSlug\":\"" + slug + "\",\"rows\":[";
  for (int r = 0; r < rows; ++r) {
    uint64_t seq = n * rows + r;
    if (r > 0) out += ",";
    out += "{\"timestamp\":" + std::to_string(1714564800000 + seq) +
           ",\"seq\":" + std::to_string(seq) + ",\"host\":\"h" + std::to_string(seq % 7) + "\"}";
  }
  out += "]}}\n";
  return out;
}

class ConnectorsE2ETest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = MakeTempDir(); }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  bool Start(std::map<std::string, std::string> env) {
    env["TIMESTORE_CONNECTORS_ENABLED"] = "true";
    env_ = env;
    server_ = std::make_unique<TestServer>(dir_, env);
    return server_->Start();
  }
  bool Restart() {
    server_ = std::make_unique<TestServer>(dir_, env_);
    return server_->Start();
  }
  // count(*) and count(DISTINCT seq) of `slug` (0, 0 when it does not exist).
  std::pair<uint64_t, uint64_t> Count(const std::string& slug) {
    HttpClient c(server_->port());
    HttpResult r = c.Post("/sql", "SELECT count(*) AS n, count(DISTINCT seq) AS d FROM " + slug,
                          {{"Accept", "text/csv"}});
    if (r.status != 200) return {0, 0};
    size_t nl = r.body.find('\n');
    if (nl == std::string::npos) return {0, 0};
    std::string row = r.body.substr(nl + 1);
    size_t comma = row.find(',');
    return {std::stoull(row.substr(0, comma)), std::stoull(row.substr(comma + 1))};
  }
  uint64_t CountAll(const std::string& slug) {
    HttpClient c(server_->port());
    HttpResult r = c.Post("/sql", "SELECT count(*) AS n FROM " + slug, {{"Accept", "text/csv"}});
    if (r.status != 200) return 0;
    return std::stoull(r.body.substr(r.body.find('\n') + 1));
  }
  // A member of connector `id` in /status (numbers; -1 when absent).
  int64_t Field(const std::string& id, const std::string& member) {
    HttpClient c(server_->port());
    HttpResult r = c.Get("/status");
    simdjson::dom::parser p;
    simdjson::dom::element doc;
    if (r.status != 200 || p.parse(r.body).get(doc) != simdjson::SUCCESS) return -1;
    simdjson::dom::array arr;
    if (doc["connectors"].get(arr) != simdjson::SUCCESS) return -1;
    for (simdjson::dom::element e : arr) {
      std::string_view eid;
      if (e["id"].get(eid) != simdjson::SUCCESS || eid != id) continue;
      uint64_t v = 0;
      if (e[member].get(v) == simdjson::SUCCESS) return static_cast<int64_t>(v);
    }
    return -1;
  }
  std::string StatusBody() {
    HttpClient c(server_->port());
    return c.Get("/status").body;
  }
  template <typename F>
  bool WaitFor(F done, int seconds = 180) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  std::string Log() { return Read(server_->log_path()); }

  std::string dir_;
  std::map<std::string, std::string> env_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(ConnectorsE2ETest, MalformedLineGoesToTheDeadLetterFileAndTheRestIsStored) {
  const std::string file = dir_ + "/events.ndjson";
  const std::string dlq = dir_ + "/dead/events.dlq";
  std::string text;
  for (int i = 0; i < 200; ++i) {
    if (i == 57) {
      text += "{\"offset\":57,\"ingestion\":{\"datasetSlug\":\"events\",\"rows\":[{\"seq\":1\n";
    } else if (i == 120) {
      text +=
          "{\"offset\":120,\"ingestion\":{\"datasetSlug\":\"events\",\"rows\":[{\"timestamp\":"
          "1714564800000,\"seq\":\"abc\"}]}}\n";
    } else {
      text += Envelope(i, 5);
    }
  }
  Append(file, text);
  ASSERT_TRUE(Start({{"TIMESTORE_STREAMING_CONNECTORS",
                      R"([{"id":"tail","path":")" + file +
                          R"(","pollIntervalMs":20,"batchSize":50,"dlqPath":")" + dlq + R"("}])"}}))
      << Log();
  ASSERT_TRUE(WaitFor([&] { return Field("tail", "offset") == static_cast<int64_t>(text.size()); }))
      << StatusBody();
  EXPECT_EQ(Field("tail", "rows"), 990);
  EXPECT_EQ(Field("tail", "deadLetters"), 2);
  EXPECT_EQ(Field("tail", "lagBytes"), 0);
  EXPECT_EQ(Count("events"), std::make_pair(uint64_t{990}, uint64_t{990}));

  std::string dead = Read(dlq);
  EXPECT_EQ(std::count(dead.begin(), dead.end(), '\n'), 2) << dead;
  EXPECT_NE(dead.find("\"reason\":\"envelope: not valid JSON"), std::string::npos) << dead;
  EXPECT_NE(dead.find("column \\\"seq\\\""), std::string::npos) << dead;
  EXPECT_NE(dead.find("\"source\":\"" + file + "\""), std::string::npos) << dead;

  HttpClient c(server_->port());
  std::string metrics = c.Get("/metrics").body;
  EXPECT_NE(
      metrics.find("timestore_connector_rows_total{connector=\"tail\",kind=\"streaming\"} 990"),
      std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find(
                "timestore_connector_dead_letters_total{connector=\"tail\",kind=\"streaming\"} 2"),
            std::string::npos);
  EXPECT_NE(metrics.find("timestore_connector_lag_bytes{connector=\"tail\",kind=\"streaming\"} 0"),
            std::string::npos);
  EXPECT_NE(metrics.find("timestore_connector_paused{connector=\"tail\",kind=\"streaming\"} 0"),
            std::string::npos);
}

TEST_F(ConnectorsE2ETest, RotationIsFollowedAlsoAcrossARestart) {
  const std::string file = dir_ + "/events.ndjson";
  uint64_t n = 0;
  auto lines = [&](int count) {
    std::string t;
    for (int i = 0; i < count; ++i) t += Envelope(n++, 2);
    return t;
  };
  Append(file, lines(100));
  ASSERT_TRUE(Start({{"TIMESTORE_STREAMING_CONNECTORS",
                      R"([{"id":"rot","path":")" + file + R"(","pollIntervalMs":20}])"}}))
      << Log();
  ASSERT_TRUE(WaitFor([&] { return CountAll("events") == 200; })) << StatusBody();
  // logrotate's way: rename, the writer still appends to the old file for a
  // while, then a new file appears at the path.
  std::filesystem::rename(file, file + ".1");
  Append(file + ".1", lines(30));
  Append(file, lines(50));
  ASSERT_TRUE(WaitFor([&] { return CountAll("events") == 360; })) << StatusBody();
  ASSERT_TRUE(WaitFor([&] { return Field("rot", "lagBytes") == 0; })) << StatusBody();

  // Rotated while the server is down: the checkpointed file is found under
  // its new name and finished before the new file.
  server_->Stop(SIGTERM);
  std::filesystem::rename(file, file + ".2");
  Append(file + ".2", lines(10));
  Append(file, lines(40));
  ASSERT_TRUE(Restart()) << Log();
  ASSERT_TRUE(WaitFor([&] { return CountAll("events") == 460; })) << StatusBody();
  ASSERT_TRUE(WaitFor([&] { return Field("rot", "lagBytes") == 0; })) << StatusBody();
  EXPECT_EQ(Count("events"), std::make_pair(uint64_t{460}, uint64_t{460}));
}

TEST_F(ConnectorsE2ETest, RotatedTwiceWhileTheServerIsDownEveryRowArrivesOnce) {
  const std::string file = dir_ + "/events.ndjson";
  uint64_t n = 0;
  auto lines = [&](int count) {
    std::string t;
    for (int i = 0; i < count; ++i, ++n) t += Envelope(n, 2, "events", /*keyless=*/n % 3 == 0);
    return t;
  };
  // Last changes in the order written (a fast machine writes them all within
  // one clock tick).
  auto set_mtime = [](const std::string& p, int seconds_ago) {
    std::filesystem::last_write_time(
        p, std::filesystem::file_time_type::clock::now() - std::chrono::seconds(seconds_ago));
  };
  Append(file, lines(100));
  ASSERT_TRUE(Start({{"TIMESTORE_STREAMING_CONNECTORS",
                      R"([{"id":"rot2","path":")" + file + R"(","pollIntervalMs":20}])"}}))
      << Log();
  ASSERT_TRUE(WaitFor([&] { return CountAll("events") == 200; })) << StatusBody();
  server_->Stop(SIGKILL);
  // Two rotations (logrotate's numbering) while it is down: the checkpointed
  // file ends as events.ndjson.2 with unread lines, events.ndjson.1 held the
  // path in between, events.ndjson is new.
  Append(file, lines(20));
  set_mtime(file, 30);
  std::filesystem::rename(file, file + ".1");
  Append(file, lines(30));
  set_mtime(file, 20);
  std::filesystem::rename(file + ".1", file + ".2");
  std::filesystem::rename(file, file + ".1");
  Append(file, lines(40));
  ASSERT_TRUE(Restart()) << Log();
  ASSERT_TRUE(WaitFor([&] { return CountAll("events") == 380; })) << StatusBody();
  ASSERT_TRUE(WaitFor([&] { return Field("rot2", "lagBytes") == 0; })) << StatusBody();
  EXPECT_EQ(Count("events"), std::make_pair(uint64_t{380}, uint64_t{380}));
  EXPECT_EQ(Field("rot2", "deadLetters"), 0);
}

TEST_F(ConnectorsE2ETest, KillNineMidFileLosesAndRepeatsNothing) {
  const std::string file = dir_ + "/big.ndjson";
  constexpr int kEnvelopes = 60000, kRows = 4;
  std::string text;
  // A third of them keyless: their keys come from the byte offset.
  for (int i = 0; i < kEnvelopes; ++i) text += Envelope(i, kRows, "events", i % 3 == 0);
  Append(file, text);
  const uint64_t total = uint64_t{kEnvelopes} * kRows;
  ASSERT_TRUE(Start({{"TIMESTORE_STREAMING_CONNECTORS",
                      R"([{"id":"big","path":")" + file + R"(","batchSize":300}])"}}))
      << Log();
  // Two kills, each once a part of the file is stored.
  for (uint64_t at : {total / 5, total / 2}) {
    int64_t rows = 0;
    ASSERT_TRUE(WaitFor([&] {
      rows = Field("big", "rows");
      return rows >= static_cast<int64_t>(at);
    })) << StatusBody();
    server_->Stop(SIGKILL);
    ASSERT_LT(rows, static_cast<int64_t>(total)) << "the file was done before the kill";
    ASSERT_TRUE(Restart()) << Log();
  }
  ASSERT_TRUE(WaitFor([&] { return Field("big", "offset") == static_cast<int64_t>(text.size()); }))
      << StatusBody();
  EXPECT_EQ(Count("events"), std::make_pair(total, total));
  EXPECT_EQ(Field("big", "deadLetters"), 0);
  // Rows stored since this start: the rows stored before the last kill but
  // after its checkpoint were answered as duplicates, not stored again.
  EXPECT_LE(Field("big", "rows"), static_cast<int64_t>(total - total / 2));
}

TEST_F(ConnectorsE2ETest, SigtermMidFileStopsCleanlyAndResumes) {
  const std::string file = dir_ + "/big.ndjson";
  constexpr int kEnvelopes = 30000, kRows = 4;
  std::string text;
  for (int i = 0; i < kEnvelopes; ++i) text += Envelope(i, kRows);
  Append(file, text);
  const uint64_t total = uint64_t{kEnvelopes} * kRows;
  ASSERT_TRUE(Start({{"TIMESTORE_STREAMING_CONNECTORS",
                      R"([{"id":"big","path":")" + file + R"(","batchSize":300}])"}}))
      << Log();
  int64_t rows = 0;
  ASSERT_TRUE(WaitFor([&] {
    rows = Field("big", "rows");
    return rows >= static_cast<int64_t>(total / 4);
  })) << StatusBody();
  int status = server_->Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status << "\n" << Log();
  ASSERT_LT(rows, static_cast<int64_t>(total)) << "the file was done before the stop";
  ASSERT_TRUE(Restart()) << Log();
  ASSERT_TRUE(WaitFor([&] { return Field("big", "offset") == static_cast<int64_t>(text.size()); }))
      << StatusBody();
  EXPECT_EQ(Count("events"), std::make_pair(total, total));
}

TEST_F(ConnectorsE2ETest, BulkLoadsCsvNdjsonAndLineProtocolInChunks) {
  const std::string keep = dir_ + "/keep", drop = dir_ + "/drop";
  std::filesystem::create_directories(keep);
  std::filesystem::create_directories(drop);
  std::string csv = "timestamp,seq,host,ok\n";
  for (int i = 0; i < 50; ++i) {
    csv += std::to_string(1714564800000 + i) + "," + std::to_string(i) + ",\"h," +
           std::to_string(i % 3) + "\"," + (i % 2 ? "true" : "false") + "\n";
  }
  std::string nd;
  for (int i = 50; i < 80; ++i) {
    nd += "{\"timestamp\":" + std::to_string(1714564800000 + i) + ",\"seq\":" + std::to_string(i) +
          ",\"host\":\"h\",\"ok\":true}\n";
  }
  std::string lp = "# two measurements\n";
  for (int i = 0; i < 10; ++i) {
    lp += "mem,host=a seq=" + std::to_string(i) + "i " + std::to_string(1714564800 + i) + "\n";
    lp += "disk,host=a seq=" + std::to_string(i) + "i " + std::to_string(1714564800 + i) + "\n";
  }
  // Staged the way a producer should: written under a .tmp name, renamed in.
  Append(keep + "/a.csv.tmp", csv);
  std::filesystem::rename(keep + "/a.csv.tmp", keep + "/a.csv");
  Append(keep + "/b.ndjson", nd);
  Append(keep + "/c.csv", "timestamp,seq\n1714564800000,not-a-number\n");
  Append(drop + "/m.lp", lp);
  ASSERT_TRUE(Start({{"TIMESTORE_BULK_CONNECTORS",
                      R"([{"id":"keep","directory":")" + keep +
                          R"(","dataset":"cpu","chunkSize":7,"pollIntervalMs":20},
            {"id":"drop","directory":")" +
                          drop + R"(","format":"line","dataset":"lp_","chunkSize":3,"precision":"s",
             "deleteAfterLoad":true,"pollIntervalMs":20}])"}}))
      << Log();
  ASSERT_TRUE(WaitFor([&] {
    return Field("keep", "filesLoaded") == 2 && Field("keep", "filesFailed") == 1 &&
           Field("drop", "filesLoaded") == 1;
  })) << StatusBody();
  EXPECT_EQ(Count("cpu"), std::make_pair(uint64_t{80}, uint64_t{80}));
  EXPECT_EQ(Count("lp_mem"), std::make_pair(uint64_t{10}, uint64_t{10}));
  EXPECT_EQ(Count("lp_disk"), std::make_pair(uint64_t{10}, uint64_t{10}));
  EXPECT_TRUE(std::filesystem::exists(keep + "/a.csv.processed"));
  EXPECT_TRUE(std::filesystem::exists(keep + "/b.ndjson.processed"));
  EXPECT_FALSE(std::filesystem::exists(keep + "/a.csv"));
  EXPECT_FALSE(std::filesystem::exists(drop + "/m.lp"));
  EXPECT_FALSE(std::filesystem::exists(drop + "/m.lp.processed"));
  EXPECT_TRUE(std::filesystem::exists(keep + "/c.csv.failed"));
  std::string note = Read(keep + "/c.csv.error");
  EXPECT_NE(note.find("records 1-1: "), std::string::npos) << note;
  EXPECT_NE(note.find("column \"seq\""), std::string::npos) << note;
  EXPECT_EQ(Field("keep", "rows"), 80);
  EXPECT_EQ(Field("drop", "rows"), 20);
  EXPECT_EQ(Field("keep", "lagBytes"), 0);
  // The line protocol's seconds: the first row at 2024-05-01T12:00:00Z.
  HttpClient c(server_->port());
  HttpResult r = c.Post("/sql", "SELECT min(timestamp) AS t FROM lp_mem", {{"Accept", "text/csv"}});
  EXPECT_NE(r.body.find("2024-05-01T12:00:00Z"), std::string::npos) << r.body;
}

TEST_F(ConnectorsE2ETest, BulkKillNineMidFileLoadsEachChunkOnce) {
  const std::string stage = dir_ + "/stage";
  std::filesystem::create_directories(stage);
  constexpr int kRows = 600000;
  std::string csv = "timestamp,seq,host\n";
  for (int i = 0; i < kRows; ++i) {
    csv += std::to_string(1714564800000 + i) + "," + std::to_string(i) + ",h" +
           std::to_string(i % 11) + "\n";
  }
  Append(stage + "/big.csv.tmp", csv);
  std::filesystem::rename(stage + "/big.csv.tmp", stage + "/big.csv");
  ASSERT_TRUE(Start({{"TIMESTORE_BULK_CONNECTORS",
                      R"([{"id":"bulk","directory":")" + stage +
                          R"(","dataset":"loads","chunkSize":2000,"pollIntervalMs":20}])"}}))
      << Log();
  int64_t rows = 0;
  ASSERT_TRUE(WaitFor([&] {
    rows = Field("bulk", "rows");
    return rows >= kRows / 4;
  })) << StatusBody();
  server_->Stop(SIGKILL);
  ASSERT_LT(rows, kRows) << "the file was done before the kill";
  ASSERT_TRUE(std::filesystem::exists(stage + "/big.csv"));
  ASSERT_TRUE(Restart()) << Log();
  ASSERT_TRUE(WaitFor([&] { return Field("bulk", "filesLoaded") == 1; })) << StatusBody();
  EXPECT_EQ(Count("loads"), std::make_pair(uint64_t{kRows}, uint64_t{kRows}));
  EXPECT_TRUE(std::filesystem::exists(stage + "/big.csv.processed"));
  EXPECT_EQ(Field("bulk", "filesFailed"), 0);
}

TEST_F(ConnectorsE2ETest, BackpressurePausesAndResumesWithoutLosingRows) {
  const std::string file = dir_ + "/events.ndjson";
  constexpr int kEnvelopes = 4000, kRows = 10;
  std::string text;
  for (int i = 0; i < kEnvelopes; ++i) text += Envelope(i, kRows);
  Append(file, text);
  ASSERT_TRUE(
      Start({{"TIMESTORE_MEMTABLE_MAX_BYTES", "4MiB"},
             {"TIMESTORE_CONNECTOR_BACKPRESSURE",
              R"({"highWatermark":131072,"lowWatermark":32768,"minPauseMs":5,"maxPauseMs":50})"},
             {"TIMESTORE_STREAMING_CONNECTORS",
              R"([{"id":"bp","path":")" + file + R"(","batchSize":200}])"}}))
      << Log();
  ASSERT_TRUE(WaitFor([&] { return Field("bp", "offset") == static_cast<int64_t>(text.size()); }))
      << StatusBody();
  const uint64_t total = uint64_t{kEnvelopes} * kRows;
  EXPECT_EQ(Count("events"), std::make_pair(total, total));
  EXPECT_EQ(Field("bp", "deadLetters"), 0);
  EXPECT_GT(Field("bp", "pauses"), 0) << StatusBody();
}

TEST_F(ConnectorsE2ETest, TheEnginesOwnRefusalsArePausedAndRetried) {
  // Watermarks far above the budget: only the engine's 503 backpressure
  // (TIMESTORE_MEMTABLE_MAX_BYTES) can hold the connector back.
  const std::string file = dir_ + "/events.ndjson";
  constexpr int kEnvelopes = 3000, kRows = 10;
  std::string text;
  for (int i = 0; i < kEnvelopes; ++i) text += Envelope(i, kRows);
  Append(file, text);
  ASSERT_TRUE(Start({{"TIMESTORE_MEMTABLE_MAX_BYTES", "1MiB"},
                     {"TIMESTORE_CONNECTOR_BACKPRESSURE",
                      R"({"highWatermark":1073741824,"lowWatermark":536870912})"},
                     {"TIMESTORE_STREAMING_CONNECTORS",
                      R"([{"id":"tiny","path":")" + file + R"(","batchSize":500}])"}}))
      << Log();
  ASSERT_TRUE(WaitFor([&] { return Field("tiny", "offset") == static_cast<int64_t>(text.size()); }))
      << StatusBody();
  const uint64_t total = uint64_t{kEnvelopes} * kRows;
  EXPECT_EQ(Count("events"), std::make_pair(total, total));
  EXPECT_EQ(Field("tiny", "deadLetters"), 0);
  std::printf("engine refusals paused the connector %lld times\n",
              static_cast<long long>(Field("tiny", "pauses")));
}

TEST_F(ConnectorsE2ETest, AConfigurationErrorStopsTheServerNamingConnectorAndMember) {
  EXPECT_FALSE(
      Start({{"TIMESTORE_STREAMING_CONNECTORS", R"([{"id":"tail","path":"/x","batchsize":10}])"}}));
  EXPECT_NE(Log().find("TIMESTORE_STREAMING_CONNECTORS: streaming connector \"tail\": member "
                       "\"batchsize\": is not a member of a streaming connector"),
            std::string::npos)
      << Log();
}

}  // namespace
}  // namespace timestore::testing
