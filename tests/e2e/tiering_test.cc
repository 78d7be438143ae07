// End-to-end tiering: the real `timestore serve` with TIMESTORE_STORAGE_DRIVER
// pointing at a real S3-compatible server (s3rver) behind a proxy that checks
// every request's SigV4 signature with botocore and injects faults; and at
// Microsoft's Azure emulator (azurite). Cold partitions move, answers stay the
// same (cold cache, warm cache, after a restart), an independent client (the
// AWS CLI) reads what was written, a store that is down fails only the queries
// that need it, a corrupt object is named, and a kill -9 at every tiering step
// loses and duplicates nothing.
#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "common/strings.h"
#include "tests/e2e/azurite_test_server.h"
#include "tests/e2e/s3_test_server.h"
#include "tests/e2e/test_server.h"

namespace timestore::testing {
namespace {

constexpr int64_t kDay = 86'400'000;  // ms

// Rows: `hosts` hosts every 10 minutes over two old days (40 and 39 days ago,
// partitions that go cold with coldAfter 30d), plus one recent hour.
std::string Records(int64_t now_ms, int hosts) {
  std::string out;
  const int64_t day0 = (now_ms / kDay - 40) * kDay;
  auto add = [&](int64_t ts, int h, int k) {
    StrAppend(&out, out.empty() ? "" : ",", "{\"timestamp\":", ts, ",\"host\":\"h", h,
              "\",\"v\":", (k * 7 + h * 3) % 101 + 0.25, ",\"n\":", k % 13 - 6, "}");
  };
  int k = 0;
  for (int64_t t = day0; t < day0 + 2 * kDay; t += 600'000) {
    for (int h = 0; h < hosts; ++h) add(t, h, k++);
  }
  // Within today's partition, whatever the time of day.
  for (int64_t t = std::max(now_ms - 3'600'000, now_ms / kDay * kDay); t < now_ms; t += 300'000) {
    for (int h = 0; h < hosts; ++h) add(t, h, k++);
  }
  return StrCat(
      R"({"schema":{"fields":[{"name":"timestamp","type":"timestamp"},{"name":"host","type":"string"},)"
      R"({"name":"v","type":"double"},{"name":"n","type":"integer"}]},"records":[)",
      out, "]}");
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The answers the tests compare: rows only (no stats, no freshness).
std::string Rows(const HttpResult& r) {
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  if (p.parse(r.body).get(doc)) return "<not JSON: " + r.body + ">";
  simdjson::dom::element rows;
  if (doc["rows"].get(rows)) return "<no rows: " + r.body + ">";
  return simdjson::minify(rows);
}

int64_t Stat(const HttpResult& r, const char* name) {
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  int64_t v = -1;
  if (p.parse(r.body).get(doc) || doc["stats"][name].get(v)) return -1;
  return v;
}

std::string ErrorCode(const HttpResult& r) {
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  std::string_view code;
  if (p.parse(r.body).get(doc) || doc["error"]["code"].get(code)) return "<none>";
  return std::string(code);
}

std::string Query(int64_t start, int64_t end, const std::string& rest) {
  return StrCat("{\"timeRange\":{\"start\":", start, ",\"end\":", end, "}", rest, "}");
}

// Queries over everything, the cold days only, and the recent hour only.
std::vector<std::string> Queries(int64_t now_ms) {
  const int64_t day0 = (now_ms / kDay - 40) * kDay;
  const std::string ds =
      R"(,"downsample":{"intervalUnit":"hour","groupBy":["host"],"aggregations":[)"
      R"({"fn":"avg","column":"v"},{"fn":"max","column":"n"},{"fn":"count"},)"
      R"({"fn":"percentile","column":"v","percentile":0.9},{"fn":"last","column":"v"}]},"limit":100000)";
  return {
      Query(day0, now_ms + kDay, ds),
      Query(day0, day0 + 2 * kDay, R"(,"columns":["host","v","n"],"limit":100000)"),
      Query(day0 + kDay / 2, day0 + kDay,
            R"(,"filters":[{"column":"host","op":"eq","value":"h1"}],"limit":100000)"),
      Query(day0, now_ms + kDay,
            R"(,"downsample":{"groupBy":["host"],"aggregations":[{"fn":"last","column":"v"},)"
            R"({"fn":"max","column":"timestamp"}]})"),
      Query(now_ms - 2 * 3'600'000, now_ms + kDay, R"(,"columns":["v"],"limit":100000)"),
  };
}

class TieringE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    ASSERT_TRUE(s3_.Start()) << s3_.error();
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::map<std::string, std::string> S3Env() const {
    return {{"TIMESTORE_STORAGE_DRIVER", "s3"},
            {"TIMESTORE_S3_BUCKET", s3_.bucket()},
            {"TIMESTORE_S3_ENDPOINT", s3_.endpoint()},
            {"TIMESTORE_S3_FORCE_PATH_STYLE", "true"},
            {"TIMESTORE_S3_REGION", S3TestServer::kRegion},
            {"TIMESTORE_S3_ACCESS_KEY_ID", S3TestServer::kAccessKey},
            {"TIMESTORE_S3_SECRET_ACCESS_KEY", S3TestServer::kSecretKey},
            {"TIMESTORE_S3_PREFIX", "ts"},
            {"TIMESTORE_TIERING_INTERVAL", "1h"},  // the tests move on request
            {"TIMESTORE_TIERING_ORPHAN_GRACE", "0s"},
            {"TIMESTORE_REMOTE_TIMEOUT", "3s"},
            {"TIMESTORE_COMPACTION_ENABLED", "false"},
            // Repeated queries read the block cache's stats: no result cache.
            {"TIMESTORE_QUERY_CACHE_ENABLED", "false"}};
  }
  void Start(std::map<std::string, std::string> extra = {}) {
    auto env = S3Env();
    for (auto& [k, v] : extra) env[k] = v;
    server_ = std::make_unique<TestServer>(dir_, env);
    ASSERT_TRUE(server_->Start()) << "server did not start; see " << server_->log_path();
  }
  // Loads the rows, seals them, sets coldAfter 30d; returns the answers.
  std::vector<std::string> Load(HttpClient& c) {
    auto r = c.Post("/datasets/cpu/ingest", Records(now_, 4));
    EXPECT_EQ(r.status, 200) << r.body;
    r = c.Request("PUT", "/admin/datasets/cpu/settings", R"({"segmentBy":["host"]})");
    EXPECT_EQ(r.status, 200) << r.body;
    r = c.Post("/admin/datasets/cpu/flush", "");
    EXPECT_EQ(r.status, 200) << r.body;
    r = c.Request("PUT", "/admin/datasets/cpu/retention", R"({"coldAfter":"30d"})");
    EXPECT_EQ(r.status, 200) << r.body;
    return Answers(c);
  }
  std::vector<std::string> Answers(HttpClient& c) {
    std::vector<std::string> out;
    for (const auto& q : Queries(now_)) {
      auto r = c.Post("/datasets/cpu/query", q);
      EXPECT_EQ(r.status, 200) << q << "\n" << r.body;
      out.push_back(Rows(r));
    }
    return out;
  }
  // Segment tiers from the manifest: {local, remote}.
  std::pair<int, int> Tiers(HttpClient& c) {
    auto r = c.Get("/admin/datasets/cpu/manifest");
    int local = 0, remote = 0;
    for (size_t p = 0; (p = r.body.find("\"tier\":\"", p)) != std::string::npos; ++p) {
      (r.body.compare(p + 8, 6, "remote") == 0 ? remote : local)++;
    }
    return {local, remote};
  }
  // The keys under the bucket, through the AWS CLI (an independent client).
  std::vector<std::string> Objects() {
    std::string out;
    EXPECT_EQ(s3_.RunAwsCli(StrCat("s3api list-objects-v2 --bucket ", s3_.bucket(),
                                   " --query Contents[].Key --output text"),
                            &out),
              0)
        << out;
    std::vector<std::string> keys;
    std::string key;
    std::istringstream in(out);
    while (in >> key)
      if (key != "None") keys.push_back(key);
    return keys;
  }
  int Verify(const std::string& extra = "") {
    std::string cmd;
    for (const auto& [k, v] : S3Env()) StrAppend(&cmd, k, "='", v, "' ");
    StrAppend(&cmd, TimestoreBinary(), " verify ", extra, " ", dir_, "/data > ", dir_,
              "/verify.out 2>&1");
    int rc = std::system(cmd.c_str());
    std::ifstream in(dir_ + "/verify.out");
    verify_out_ = std::string(std::istreambuf_iterator<char>(in), {});
    return WEXITSTATUS(rc);
  }

  const int64_t now_ = NowMs();
  std::string dir_;
  S3TestServer s3_;
  std::unique_ptr<TestServer> server_;
  std::string verify_out_;
};

TEST_F(TieringE2eTest, ColdPartitionsMoveAndAnswersStayTheSame) {
  Start();
  HttpClient c(server_->port());
  const auto before = Load(c);
  ASSERT_EQ(Tiers(c), (std::pair<int, int>{3, 0}));

  auto r = c.Post("/admin/datasets/cpu/enforce-retention", "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("segmentsMoved":2)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("storageTarget":"s3")"), std::string::npos) << r.body;
  ASSERT_EQ(Tiers(c), (std::pair<int, int>{1, 2}));
  EXPECT_EQ(s3_.ProxyStat("signature_failures"), 0);

  // The objects, as the AWS CLI sees them: this root's, one per segment.
  const auto keys = Objects();
  ASSERT_EQ(keys.size(), 2u);
  for (const auto& k : keys) EXPECT_EQ(k.rfind("ts/", 0), 0u) << k;
  // Downloaded by the CLI, an object is a segment `timestore inspect` reads.
  std::string out;
  ASSERT_EQ(s3_.RunAwsCli(StrCat("s3api get-object --bucket ", s3_.bucket(), " --key ", keys[0],
                                 " ", dir_, "/downloaded.tseg"),
                          &out),
            0)
      << out;
  const std::string inspect =
      StrCat(TimestoreBinary(), " inspect ", dir_, "/downloaded.tseg > ", dir_, "/inspect.out");
  EXPECT_EQ(std::system(inspect.c_str()), 0);

  // Cold cache (nothing read yet), then warm: the same answers.
  EXPECT_EQ(Answers(c), before);
  auto cold = c.Post("/datasets/cpu/query", Queries(now_)[1]);
  EXPECT_EQ(Stat(cold, "remoteRequests"), 0) << cold.body;  // cached by the pass above
  EXPECT_GT(Stat(cold, "cacheHits"), 0) << cold.body;
  EXPECT_EQ(Answers(c), before);

  // The detail, the status and the metrics tell the tiers apart.
  r = c.Get("/admin/datasets/cpu");
  EXPECT_NE(r.body.find(R"("cold":{"rows":)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("storageCost":{"currency":"USD")"), std::string::npos) << r.body;
  r = c.Get("/metrics");
  EXPECT_NE(r.body.find("timestore_tiering_segments_moved_total 2"), std::string::npos);
  EXPECT_NE(r.body.find("timestore_object_store_requests_total{target=\"s3\",op=\"put\"}"),
            std::string::npos);
  EXPECT_NE(r.body.find("timestore_storage_bytes{tier=\"cold\"}"), std::string::npos);

  // After a restart, with the cache gone: the same answers, read from S3.
  server_->Stop(SIGTERM);
  std::filesystem::remove_all(dir_ + "/data/cache");
  Start();
  HttpClient c2(server_->port());
  auto q = c2.Post("/datasets/cpu/query", Queries(now_)[1]);
  EXPECT_GT(Stat(q, "remoteRequests"), 0) << q.body;
  EXPECT_GT(Stat(q, "segmentsRemote"), 0) << q.body;
  EXPECT_EQ(Answers(c2), before);
  server_->Stop(SIGTERM);
  EXPECT_EQ(Verify("--deep"), 0) << verify_out_;
  EXPECT_NE(verify_out_.find("2 remote segments"), std::string::npos) << verify_out_;

  // deleteAfter removes the objects with the partitions.
  Start();
  HttpClient c3(server_->port());
  r = c3.Request("PUT", "/admin/datasets/cpu/retention", R"({"deleteAfter":"35d"})");
  ASSERT_EQ(r.status, 200) << r.body;
  r = c3.Post("/admin/datasets/cpu/enforce-retention", "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("segmentsDropped":2)"), std::string::npos) << r.body;
  // The objects go from the mover's thread once no snapshot holds them.
  bool gone = false;
  for (int i = 0; i < 300 && !gone; ++i) {
    gone = Objects().empty();
    if (!gone) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      c3.Post("/admin/datasets/cpu/enforce-retention", "");  // drains the deletes again
    }
  }
  EXPECT_TRUE(gone);
}

TEST_F(TieringE2eTest, StoreDownFailsOnlyRemoteQueriesWithinTheTimeout) {
  Start({{"TIMESTORE_CACHE_MAX_BYTES", "0"}, {"TIMESTORE_REMOTE_TIMEOUT", "1s"}});
  HttpClient c(server_->port());
  const auto before = Load(c);
  ASSERT_EQ(c.Post("/admin/datasets/cpu/enforce-retention", "").status, 200);
  ASSERT_EQ(Tiers(c).second, 2);

  // Every request answered 503 SlowDown: the driver retries, then gives up.
  ASSERT_TRUE(s3_.InjectFaults({ProxyFault::Error(503, "SlowDown", "", -1)}));
  const auto qs = Queries(now_);
  auto t0 = std::chrono::steady_clock::now();
  auto r = c.Post("/datasets/cpu/query", qs[1]);  // the cold days
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(ErrorCode(r), "remote_unavailable") << r.body;
  EXPECT_NE(r.body.find(R"("storageTarget":"s3")"), std::string::npos) << r.body;
  EXPECT_EQ(r.headers["retry-after"], "1");
  // The recent hour and new rows need no S3.
  r = c.Post("/datasets/cpu/query", qs[4]);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Rows(r), before[4]);
  r = c.Post("/datasets/cpu/ingest",
             StrCat(R"({"records":[{"timestamp":)", now_, R"(,"host":"h9","v":1}]})"));
  EXPECT_EQ(r.status, 200) << r.body;

  // Slow rather than failing: the query still ends at the timeout.
  ASSERT_TRUE(s3_.ResetProxy());
  ASSERT_TRUE(s3_.InjectFaults({ProxyFault::Delay(10'000, "GET")}));
  t0 = std::chrono::steady_clock::now();
  r = c.Post("/datasets/cpu/query", qs[1]);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(8));
  EXPECT_EQ(r.status, 503) << r.body;

  // Back: the same answers.
  ASSERT_TRUE(s3_.ResetProxy());
  r = c.Post("/datasets/cpu/query", qs[1]);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Rows(r), before[1]);
}

TEST_F(TieringE2eTest, UploadsFailingOnSlowDownAreRetriedAndLoseNothing) {
  Start();
  HttpClient c(server_->port());
  const auto before = Load(c);
  ASSERT_TRUE(s3_.InjectFaults({ProxyFault::Error(503, "SlowDown", "PUT", -1)}));
  auto r = c.Post("/admin/datasets/cpu/enforce-retention", "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("segmentsMoved":0)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("segmentsFailed":1)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("SlowDown"), std::string::npos) << r.body;
  EXPECT_GT(s3_.ProxyStat("status.503"), 1);  // retried before giving up
  EXPECT_EQ(Tiers(c), (std::pair<int, int>{3, 0}));
  EXPECT_EQ(Answers(c), before);
  // A 403 is not retried: one PUT.
  ASSERT_TRUE(s3_.ResetProxy());
  ASSERT_TRUE(s3_.InjectFaults({ProxyFault::Error(403, "AccessDenied", "PUT", -1)}));
  r = c.Post("/admin/datasets/cpu/enforce-retention", "");
  EXPECT_NE(r.body.find("AccessDenied"), std::string::npos) << r.body;
  EXPECT_EQ(s3_.ProxyStat("requests.PUT"), 1);
  ASSERT_TRUE(s3_.ResetProxy());
  r = c.Post("/admin/datasets/cpu/enforce-retention", "");
  EXPECT_NE(r.body.find(R"("segmentsMoved":2)"), std::string::npos) << r.body;
  EXPECT_EQ(Answers(c), before);
}

TEST_F(TieringE2eTest, CorruptObjectIsNamedAndRepairedObjectReadsAgain) {
  Start({{"TIMESTORE_CACHE_MAX_BYTES", "0"}});
  HttpClient c(server_->port());
  const auto before = Load(c);
  ASSERT_EQ(c.Post("/admin/datasets/cpu/enforce-retention", "").status, 200);
  const auto keys = Objects();
  ASSERT_EQ(keys.size(), 2u);
  // Flip a byte early in each object (inside the first column's blocks).
  std::map<std::string, std::string> good;
  for (const auto& k : keys) {
    const std::string path = s3_.ObjectPath(s3_.bucket(), k);
    std::ifstream in(path, std::ios::binary);
    good[path] = std::string(std::istreambuf_iterator<char>(in), {});
    std::string bad = good[path];
    bad[40] ^= 0x20;
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bad;
  }
  auto r = c.Post("/datasets/cpu/query", Queries(now_)[1]);
  EXPECT_EQ(r.status, 500) << r.body;
  EXPECT_NE(r.body.find("checksum"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("block 0"), std::string::npos) << r.body;
  EXPECT_TRUE(r.body.find(keys[0]) != std::string::npos ||
              r.body.find(keys[1]) != std::string::npos)
      << r.body;
  for (const auto& [path, bytes] : good)
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  EXPECT_EQ(Answers(c), before);
}

// kill -9 at each step of a move; after a restart every row is there once,
// answers are those of before, the move completes, verify is clean and no
// orphan object is left.
TEST_F(TieringE2eTest, KillAtEveryTieringStepLosesAndDuplicatesNothing) {
  for (const char* point : {"tier.upload_started", "s3.part_uploaded", "tier.uploaded",
                            "tier.logged", "tier.local_deleted"}) {
    SCOPED_TRACE(point);
    server_.reset();
    std::filesystem::remove_all(dir_ + "/data");
    for (const auto& k : Objects()) {
      std::string out;
      s3_.RunAwsCli(StrCat("s3api delete-object --bucket ", s3_.bucket(), " --key ", k), &out);
    }
    Start({{"TIMESTORE_TEST_CRASH_POINT", point},
           {"TIMESTORE_MULTIPART_THRESHOLD", "1KiB"},
           {"TIMESTORE_PART_SIZE", "1KiB"}});
    std::vector<std::string> before;
    {
      HttpClient c(server_->port());
      before = Load(c);
      auto r = c.Post("/admin/datasets/cpu/enforce-retention", "");
      EXPECT_EQ(r.status, 0) << "the crash point was not reached: " << r.body;
    }
    server_->Stop(SIGKILL);
    Start();
    HttpClient c(server_->port());
    EXPECT_EQ(Answers(c), before);
    auto r = c.Post("/admin/datasets/cpu/enforce-retention", "");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Tiers(c), (std::pair<int, int>{1, 2}));
    EXPECT_EQ(Answers(c), before);
    // The sweep at start-up (grace 0) removes what no segment lists.
    bool swept = false;
    for (int i = 0; i < 600 && !swept; ++i) {
      swept = c.Get("/metrics").body.find("timestore_tiering_sweeps_total 0") == std::string::npos;
      if (!swept) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(swept) << "no sweep ran within 30 s";
    server_->Stop(SIGTERM);
    EXPECT_EQ(Objects().size(), 2u);
    EXPECT_EQ(Verify(), 0) << verify_out_;
    EXPECT_EQ(verify_out_.find("orphan"), std::string::npos) << verify_out_;
    EXPECT_EQ(verify_out_.find("stray"), std::string::npos) << verify_out_;
  }
}

TEST_F(TieringE2eTest, GcsDriverSpeaksTheSameProtocolWithHmacKeys) {
  // GCS's XML API is S3's with HMAC keys: pointed at s3rver, the gcs driver
  // moves and reads back like s3.
  server_ = std::make_unique<TestServer>(
      dir_,
      std::map<std::string, std::string>{{"TIMESTORE_STORAGE_DRIVER", "gcs"},
                                         {"TIMESTORE_GCS_BUCKET", s3_.bucket()},
                                         {"TIMESTORE_GCS_ENDPOINT", s3_.endpoint()},
                                         {"TIMESTORE_GCS_HMAC_KEY_ID", S3TestServer::kAccessKey},
                                         {"TIMESTORE_GCS_HMAC_SECRET", S3TestServer::kSecretKey},
                                         {"TIMESTORE_TIERING_INTERVAL", "1h"},
                                         {"TIMESTORE_CACHE_MAX_BYTES", "0"}});
  ASSERT_TRUE(server_->Start()) << server_->log_path();
  HttpClient c(server_->port());
  const auto before = Load(c);
  auto r = c.Post("/admin/datasets/cpu/enforce-retention", "");
  EXPECT_NE(r.body.find(R"("segmentsMoved":2)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("storageTarget":"gcs")"), std::string::npos) << r.body;
  EXPECT_EQ(Answers(c), before);
}

TEST(TieringAzureE2eTest, AzureBlobTargetMovesAndReadsBack) {
  AzuriteServer az;
  auto started = az.Start({"timestore"});
  ASSERT_TRUE(started.ok()) << started;
  const std::string dir = MakeTempDir();
  const int64_t now = NowMs();
  std::vector<std::string> before;
  std::map<std::string, std::string> env = {
      {"TIMESTORE_STORAGE_DRIVER", "azure_blob"},
      {"TIMESTORE_AZURE_CONNECTION_STRING", az.ConnectionString()},
      {"TIMESTORE_AZURE_CONTAINER", "timestore"},
      {"TIMESTORE_TIERING_INTERVAL", "1h"},
      {"TIMESTORE_CACHE_MAX_BYTES", "0"}};
  {
    TestServer server(dir, env);
    ASSERT_TRUE(server.Start()) << server.log_path();
    HttpClient c(server.port());
    ASSERT_EQ(c.Post("/datasets/cpu/ingest", Records(now, 3)).status, 200);
    ASSERT_EQ(c.Post("/admin/datasets/cpu/flush", "").status, 200);
    ASSERT_EQ(c.Request("PUT", "/admin/datasets/cpu/retention", R"({"coldAfter":"30d"})").status,
              200);
    for (const auto& q : Queries(now)) before.push_back(Rows(c.Post("/datasets/cpu/query", q)));
    auto r = c.Post("/admin/datasets/cpu/enforce-retention", "");
    EXPECT_NE(r.body.find(R"("segmentsMoved":2)"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find(R"("storageTarget":"azure")"), std::string::npos) << r.body;
    server.Stop(SIGTERM);
  }
  TestServer server(dir, env);
  ASSERT_TRUE(server.Start()) << server.log_path();
  HttpClient c(server.port());
  std::vector<std::string> after;
  for (const auto& q : Queries(now)) after.push_back(Rows(c.Post("/datasets/cpu/query", q)));
  EXPECT_EQ(after, before);
  server.Stop(SIGTERM);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace timestore::testing
