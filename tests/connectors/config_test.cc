// Connector configuration: the connectors file and the environment.
#include "tests/connectors/connectors_fixture.h"

namespace timestore::connectors {
namespace {

// ---------------------------------------------------------------------------
// Configuration

TEST(ConnectorConfigTest, StreamingMembersAndDefaults) {
  auto c = ParseStreamingConnectors(
      R"([{"id":"tail-1","driver":"file","path":"/tmp/x.ndjson","datasetSlug":"orders",
          "pollIntervalMs":50,"batchSize":10,"dedupeWindowMs":0,"checkpointPath":"/tmp/c.json",
          "dlqPath":null,"startAtOldest":false,"precision":"s"},
         {"id":"b","path":"/tmp/y"}])",
      "TIMESTORE_STREAMING_CONNECTORS");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->size(), 2u);
  const StreamingConfig& a = (*c)[0];
  EXPECT_EQ(a.id, "tail-1");
  EXPECT_EQ(a.path, "/tmp/x.ndjson");
  EXPECT_EQ(a.dataset, "orders");
  EXPECT_EQ(a.poll_interval_ms, 50);
  EXPECT_EQ(a.batch_size, 10);
  EXPECT_EQ(a.checkpoint_path, "/tmp/c.json");
  EXPECT_EQ(a.dead_letter_path, "");
  EXPECT_FALSE(a.start_at_oldest);
  EXPECT_EQ(a.precision, "s");
  const StreamingConfig& b = (*c)[1];
  EXPECT_EQ(b.batch_size, 500);
  EXPECT_TRUE(b.start_at_oldest);
  EXPECT_EQ(b.precision, "ms");
}

TEST(ConnectorConfigTest, EveryErrorNamesTheConnectorAndMember) {
  struct Case {
    std::string json, want;
  };
  const std::string src = "TIMESTORE_STREAMING_CONNECTORS";
  std::vector<Case> cases = {
      {R"({"id":"a"})", "TIMESTORE_STREAMING_CONNECTORS: expected a JSON array"},
      {R"([{"id":"a","path":"/x",)", "not valid JSON"},
      {R"([{"path":"/x"}])", "streaming connector at index 0: member \"id\": is required"},
      {R"([{"id":"a b","path":"/x"}])", "member \"id\": \"a b\" must be 1-64 of"},
      {R"([{"id":"a","path":"/x"},{"id":"b","path":"/x","batchsize":5}])",
       "streaming connector \"b\": member \"batchsize\": is not a member of a streaming connector"},
      {R"([{"id":"a","path":"/x","batchSize":"10"}])",
       "streaming connector \"a\": member \"batchSize\": expected a whole number, got \"10\""},
      {R"([{"id":"a","path":"/x","batchSize":0}])",
       "member \"batchSize\": expected a whole number from 1 to 1000000, got 0"},
      {R"([{"id":"a","path":"/x","pollIntervalMs":2.5}])", "member \"pollIntervalMs\""},
      {R"([{"id":"a"}])", "streaming connector \"a\": member \"path\": is required"},
      {R"([{"id":"a","path":""}])", "member \"path\": expected a non-empty string"},
      {R"([{"id":"a","path":"/x","driver":"kafka"}])",
       "member \"driver\": \"kafka\" is not supported; only \"file\" is"},
      {R"([{"id":"a","path":"/x","startAtOldest":"yes"}])",
       "member \"startAtOldest\": expected true or false"},
      {R"([{"id":"a","path":"/x","precision":"min"}])", "member \"precision\""},
      {R"([7])", "streaming connector at index 0: expected an object, got 7"},
  };
  for (const Case& c : cases) {
    auto r = ParseStreamingConnectors(c.json, src);
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(Message(r.status()).find(c.want), std::string::npos)
        << c.json << "\n  got: " << r.status().message() << "\n  want: " << c.want;
  }
}

TEST(ConnectorConfigTest, BulkMembersAndErrors) {
  auto c = ParseBulkConnectors(
      R"([{"id":"load","driver":"file","directory":"/stage","filePattern":"*.csv","format":"csv",
          "dataset":"cpu","pollIntervalMs":100,"chunkSize":7,"deleteAfterLoad":true,
          "renameOnSuccess":false,"checkpointPath":"/c","deadLetterPath":"/d","precision":"s",
          "maxFileBytes":5000}])",
      "TIMESTORE_BULK_CONNECTORS");
  ASSERT_TRUE(c.ok()) << c.status();
  const BulkConfig& b = (*c)[0];
  EXPECT_EQ(b.directory, "/stage");
  EXPECT_EQ(b.file_pattern, "*.csv");
  EXPECT_EQ(b.format, BulkFormat::kCsv);
  EXPECT_EQ(b.dataset, "cpu");
  EXPECT_EQ(b.chunk_size, 7u);
  EXPECT_TRUE(b.delete_after_load);
  EXPECT_EQ(b.dead_letter_path, "/d");
  EXPECT_EQ(b.max_file_bytes, 5000u);
  EXPECT_EQ((*ParseBulkConnectors(R"([{"id":"x","directory":"/s"}])", "v"))[0].max_file_bytes,
            256u << 20);

  struct Case {
    std::string json, want;
  };
  std::vector<Case> cases = {
      {R"([{"id":"l"}])", "bulk connector \"l\": member \"directory\": is required"},
      {R"([{"id":"l","directory":"/s","format":"xml"}])",
       "bulk connector \"l\": member \"format\": \"xml\" is not one of"},
      {R"([{"id":"l","directory":"/s","chunkSize":-1}])", "member \"chunkSize\""},
      {R"([{"id":"l","directory":"/s","maxFileBytes":0}])",
       "member \"maxFileBytes\": expected a whole number from 1 to"},
      {R"([{"id":"l","directory":"/s","glob":"a/*"}])", "member \"glob\": matches file names"},
      {R"([{"id":"l","directory":"/s","renameOnSuccess":false}])",
       "member \"renameOnSuccess\": false needs deleteAfterLoad true"},
      {R"([{"id":"l","directory":"/s","path":"/x"}])",
       "bulk connector \"l\": member \"path\": is not a member of a bulk connector"},
  };
  for (const Case& c : cases) {
    auto r = ParseBulkConnectors(c.json, "TIMESTORE_BULK_CONNECTORS");
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_NE(Message(r.status()).find(c.want), std::string::npos)
        << c.json << "\n  got: " << r.status().message();
  }
}

TEST(ConnectorConfigTest, FromTheEnvironment) {
  char tmpl[] = "/tmp/timestore-connectors-config-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  const std::string file = dir + "/connectors.json";
  std::ofstream(file)
      << R"({"streaming":[{"id":"s","path":"/x"}],"backpressure":{"highWatermark":9}})";
  ::unsetenv("TIMESTORE_CONNECTORS_ENABLED");
  ::setenv("TIMESTORE_CONNECTORS_CONFIG", file.c_str(), 1);
  ::setenv("TIMESTORE_BULK_CONNECTORS", R"([{"id":"b","directory":"/d"}])", 1);
  auto off = ConnectorsConfigFromEnvironment();
  ASSERT_TRUE(off.ok());
  EXPECT_TRUE(off->empty());  // not enabled: nothing read
  ::setenv("TIMESTORE_CONNECTORS_ENABLED", "true", 1);
  auto on = ConnectorsConfigFromEnvironment();
  ASSERT_TRUE(on.ok()) << on.status();
  EXPECT_EQ(on->streaming.size(), 1u);
  EXPECT_EQ(on->bulk.size(), 1u);
  EXPECT_EQ(on->backpressure.high_watermark, 9u);
  ::setenv("TIMESTORE_BULK_CONNECTORS", R"([{"id":"s","directory":"/d"}])", 1);
  auto dup = ConnectorsConfigFromEnvironment();
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(Message(dup.status()), "connector id \"s\" is used twice");
  ::setenv("TIMESTORE_CONNECTORS_CONFIG", (dir + "/missing.json").c_str(), 1);
  auto missing = ConnectorsConfigFromEnvironment();
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(Message(missing.status()).find("TIMESTORE_CONNECTORS_CONFIG: cannot read " + dir),
            std::string::npos);
  ::setenv("TIMESTORE_CONNECTORS_ENABLED", "yes please", 1);
  auto bad = ConnectorsConfigFromEnvironment();
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(Message(bad.status()),
            "TIMESTORE_CONNECTORS_ENABLED must be true or false, got \"yes please\"");
  for (const char* v : {"TIMESTORE_CONNECTORS_ENABLED", "TIMESTORE_CONNECTORS_CONFIG",
                        "TIMESTORE_BULK_CONNECTORS"}) {
    ::unsetenv(v);
  }
  std::filesystem::remove_all(dir);
}

TEST(ConnectorConfigTest, BackpressureAndFile) {
  auto b = ParseBackpressure(
      R"({"highWatermark":1000,"lowWatermark":500,"minPauseMs":25,"maxPauseMs":200})", "BP");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->high_watermark, 1000u);
  EXPECT_EQ(b->low_watermark, 500u);
  auto low = ParseBackpressure(R"({"highWatermark":10,"lowWatermark":50})", "BP");
  ASSERT_FALSE(low.ok());
  EXPECT_EQ(Message(low.status()),
            "BP: backpressure: member \"lowWatermark\": 50 must not exceed highWatermark 10");
  auto pause = ParseBackpressure(R"({"minPauseMs":300,"maxPauseMs":200})", "BP");
  ASSERT_FALSE(pause.ok());
  EXPECT_NE(Message(pause.status()).find("member \"minPauseMs\""), std::string::npos);
  auto unknown = ParseBackpressure(R"({"high":1})", "BP");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(Message(unknown.status()).find("member \"high\": is not a member of backpressure"),
            std::string::npos);

  auto f = ParseConnectorsFile(
      R"({"streaming":[{"id":"s","path":"/x"}],"bulk":[{"id":"b","directory":"/d"}],
          "backpressure":{"highWatermark":9}})",
      "/etc/c.json");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->streaming.size(), 1u);
  EXPECT_EQ(f->bulk.size(), 1u);
  EXPECT_EQ(f->backpressure.high_watermark, 9u);
  auto dup = ParseConnectorsFile(
      R"({"streaming":[{"id":"s","path":"/x"}],"bulk":[{"id":"s","directory":"/d"}]})", "/c");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(Message(dup.status()), "connector id \"s\" is used twice");
  auto top = ParseConnectorsFile(R"({"streams":[]})", "/c");
  ASSERT_FALSE(top.ok());
  EXPECT_EQ(Message(top.status()),
            "/c: member \"streams\" is not one of streaming, bulk, backpressure");
  auto inner = ParseConnectorsFile(R"({"bulk":[{"id":"b"}]})", "/c");
  ASSERT_FALSE(inner.ok());
  EXPECT_EQ(Message(inner.status()),
            "/c bulk: bulk connector \"b\": member \"directory\": is required (the staging "
            "directory to watch)");
}

// ---------------------------------------------------------------------------
// CSV

}  // namespace
}  // namespace timestore::connectors
