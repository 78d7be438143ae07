// The file connectors in process (connectors/): configuration errors, CSV,
// envelopes, checkpoints and start plans, bulk file splitting, and the
// streaming and bulk connectors over a real Engine on a temporary root.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/checksum.h"
#include "common/env.h"
#include "common/strings.h"
#include "connectors/bulk_connector.h"
#include "connectors/checkpoint.h"
#include "connectors/config.h"
#include "connectors/csv.h"
#include "connectors/envelope.h"
#include "connectors/streaming_connector.h"
#include "engine/engine.h"

namespace timestore::connectors {
namespace {

std::string Message(const absl::Status& s) { return std::string(ToStd(s.message())); }

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

TEST(CsvTest, QuotesCrlfAndEmbeddedNewlines) {
  CsvReader r("a,b,c\r\n1,\"x,y\",\"say \"\"hi\"\"\"\r\n\r\n2,\"two\nlines\",\n");
  std::vector<std::string> f;
  ASSERT_TRUE(*r.Next(&f));
  EXPECT_EQ(f, (std::vector<std::string>{"a", "b", "c"}));
  ASSERT_TRUE(*r.Next(&f));
  EXPECT_EQ(f, (std::vector<std::string>{"1", "x,y", "say \"hi\""}));
  EXPECT_EQ(r.line(), 2);
  ASSERT_TRUE(*r.Next(&f));
  EXPECT_EQ(f, (std::vector<std::string>{"2", "two\nlines", ""}));
  EXPECT_EQ(r.line(), 4);
  EXPECT_FALSE(*r.Next(&f));
}

TEST(CsvTest, UnterminatedQuoteNamesItsLine) {
  CsvReader r("a\n1\n\"open\n2\n");
  std::vector<std::string> f;
  ASSERT_TRUE(*r.Next(&f));
  ASSERT_TRUE(*r.Next(&f));
  auto bad = r.Next(&f);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(Message(bad.status()),
            "line 3: a quoted field is not closed before the end of the file");
}

TEST(CsvTest, TypesLikeTheJsonPath) {
  std::vector<std::string> header = {"timestamp", "host", "v", "ok", "note"};
  std::string out;
  ASSERT_TRUE(
      AppendCsvRecordJson(header, {"1714564800000", "h1", "2.5", "TRUE", "007"}, nullptr, &out)
          .ok());
  EXPECT_EQ(out, R"({"timestamp":1714564800000,"host":"h1","v":2.5,"ok":true,"note":"007"})");
  out.clear();
  ASSERT_TRUE(
      AppendCsvRecordJson(header, {"2024-05-01T12:00:00Z", "", "-1e3"}, nullptr, &out).ok());
  EXPECT_EQ(out, R"({"timestamp":"2024-05-01T12:00:00Z","v":-1e3})");
  // A stored string column keeps digits a string; a stored double column
  // gets a bad value as a string (the parser then names it).
  Schema s;
  s.time_column = "timestamp";
  s.fields = {{"timestamp", ColumnType::kTimestamp},
              {"host", ColumnType::kString},
              {"v", ColumnType::kDouble}};
  out.clear();
  ASSERT_TRUE(AppendCsvRecordJson(header, {"5", "123", "abc"}, &s, &out).ok());
  EXPECT_EQ(out, R"({"timestamp":5,"host":"123","v":"abc"})");
  auto extra = AppendCsvRecordJson({"a"}, {"1", "2"}, nullptr, &out);
  ASSERT_FALSE(extra.ok());
  EXPECT_EQ(Message(extra), "has 2 fields; the header names 1 columns");
  EXPECT_TRUE(IsJsonNumber("0"));
  EXPECT_TRUE(IsJsonNumber("-0.5e+7"));
  EXPECT_FALSE(IsJsonNumber("01"));
  EXPECT_FALSE(IsJsonNumber("1."));
  EXPECT_FALSE(IsJsonNumber("NaN"));
  EXPECT_FALSE(IsJsonNumber(""));
}

// ---------------------------------------------------------------------------
// Envelopes

TEST(EnvelopeTest, TheOriginalsShape) {
  auto e = ParseEnvelope(
      R"({"offset":42,"idempotencyKey":"k-42","ingestion":{"datasetSlug":"orders",
          "datasetName":"Orders","tableName":"orders","receivedAt":"2024-05-01T00:00:00Z",
          "schema":{"fields":[{"name":"timestamp","type":"timestamp"},{"name":"v","type":"double"}]},
          "partition":{"key":{"region":"eu"},"timeRange":{"start":"a","end":"b"}},
          "rows":[{"timestamp":"2024-05-01T12:00:00Z","v":1}]}})",
      "");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->offset, "42");
  EXPECT_EQ(e->idempotency_key, "k-42");
  EXPECT_EQ(e->dataset, "orders");
  EXPECT_EQ(
      e->body,
      R"({"schema":{"fields":[{"name":"timestamp","type":"timestamp"},{"name":"v","type":"double"}]},"partitionKey":{"region":"eu"},"records":[{"timestamp":"2024-05-01T12:00:00Z","v":1}]})");
  auto again = ParseEnvelope(
      R"({"offset":42,"idempotencyKey":"k-42","ingestion":{"datasetSlug":"orders",
          "datasetName":"Orders","tableName":"orders","receivedAt":"2024-05-01T00:00:00Z",
          "schema":{"fields":[{"name":"timestamp","type":"timestamp"},{"name":"v","type":"double"}]},
          "partition":{"key":{"region":"eu"},"timeRange":{"start":"a","end":"b"}},
          "rows":[{"timestamp":"2024-05-01T12:00:00Z","v":1}]}})",
      "");
  EXPECT_EQ(e->hash, again->hash);
}

TEST(EnvelopeTest, DefaultsAndErrors) {
  auto e = ParseEnvelope(R"({"offset":"7","ingestion":{"records":[{"v":1}]}})", "metrics");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->dataset, "metrics");
  EXPECT_EQ(e->idempotency_key, "");
  EXPECT_EQ(e->body, R"({"records":[{"v":1}]})");
  struct Case {
    std::string line, want;
  };
  std::vector<Case> cases = {
      {"not json", "envelope: not valid JSON"},
      {"[1]", "envelope: expected a JSON object"},
      {R"({"offset":1})", "envelope: member \"ingestion\" is required"},
      {R"({"offset":1,"payload":{},"ingestion":{}})",
       "envelope: member \"payload\" is not one of offset, idempotencyKey, ingestion"},
      {R"({"ingestion":{"rows":[]}})",
       "member \"ingestion.datasetSlug\" is required (the connector names no dataset)"},
      {R"({"ingestion":{"datasetSlug":"Bad Slug","rows":[]}})", "dataset slug \"Bad Slug\""},
      {R"({"ingestion":{"datasetSlug":"a","rows":{}}})",
       "member \"ingestion.rows\": expected an array"},
      {R"({"ingestion":{"datasetSlug":"a"}})", "member \"ingestion.rows\" is required"},
      {R"({"ingestion":{"datasetSlug":"a","rows":[],"extra":1}})",
       "member \"ingestion.extra\" is not one of"},
      {R"({"offset":[1],"ingestion":{"datasetSlug":"a","rows":[]}})",
       "member \"offset\": expected a string or a whole number"},
  };
  for (const Case& c : cases) {
    auto r = ParseEnvelope(c.line, "");
    ASSERT_FALSE(r.ok()) << c.line;
    EXPECT_NE(Message(r.status()).find(c.want), std::string::npos)
        << c.line << "\n  got: " << r.status().message();
  }
}

// ---------------------------------------------------------------------------
// Checkpoints

TEST(CheckpointTest, RoundTripAndCorruption) {
  StreamCheckpoint c{"/logs/a.ndjson", 77, 1234, 3};
  auto d = DecodeCheckpoint(EncodeCheckpoint(c), "f");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->path, "/logs/a.ndjson");
  EXPECT_EQ(d->inode, 77u);
  EXPECT_EQ(d->offset, 1234u);
  EXPECT_EQ(d->generation, 3u);
  auto bad = DecodeCheckpoint("{\"version\":1,\"path\":\"x\",\"inode\":3}", "/c/x.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Message(bad.status()), "checkpoint /c/x.json: \"offset\" is missing");
  EXPECT_FALSE(DecodeCheckpoint("{tr", "f").ok());
  EXPECT_FALSE(DecodeCheckpoint(R"({"version":2,"path":"x","inode":1,"offset":1})", "f").ok());
}

TEST(CheckpointTest, StartPlans) {
  auto none = [](uint64_t) -> std::optional<std::pair<std::string, FileIdentity>> {
    return std::nullopt;
  };
  const std::string path = "/logs/a.ndjson";
  // No checkpoint: from the start, or from the end.
  StartPlan p = PlanStart(std::nullopt, path, FileIdentity{5, 100}, none, true);
  EXPECT_EQ(p.file, path);
  EXPECT_EQ(p.offset, 0u);
  p = PlanStart(std::nullopt, path, FileIdentity{5, 100}, none, false);
  EXPECT_EQ(p.offset, 100u);
  p = PlanStart(std::nullopt, path, std::nullopt, none, true);
  EXPECT_EQ(p.file, "");
  // Same file: where it left off; truncated below it: from the start, noted.
  StreamCheckpoint c{path, 5, 60};
  p = PlanStart(c, path, FileIdentity{5, 100}, none, true);
  EXPECT_EQ(p.offset, 60u);
  EXPECT_TRUE(p.note.empty());
  p = PlanStart(c, path, FileIdentity{5, 10}, none, true);
  EXPECT_EQ(p.offset, 0u);
  EXPECT_NE(p.note.find("truncated"), std::string::npos);
  // Rotated while down: the old file under its new name first.
  auto rotated = [](uint64_t ino) -> std::optional<std::pair<std::string, FileIdentity>> {
    if (ino == 5) return std::make_pair(std::string("/logs/a.ndjson.1"), FileIdentity{5, 80});
    return std::nullopt;
  };
  p = PlanStart(c, path, FileIdentity{9, 30}, rotated, true);
  EXPECT_EQ(p.file, "/logs/a.ndjson.1");
  EXPECT_EQ(p.offset, 60u);
  EXPECT_TRUE(p.rotated);
  // Rotated and gone: the new file from its start, and a note saying so.
  p = PlanStart(c, path, FileIdentity{9, 30}, none, true);
  EXPECT_EQ(p.file, path);
  EXPECT_EQ(p.offset, 0u);
  EXPECT_NE(p.note.find("is no longer beside"), std::string::npos);
}

// ---------------------------------------------------------------------------
// The dead-letter file

// Records the directories fsynced through it.
class DirSyncRecorder : public FaultInjectionEnv {
 public:
  DirSyncRecorder() : FaultInjectionEnv(Env::Default()) {}
  absl::Status SyncDir(const std::string& dir) override {
    synced.push_back(dir);
    return FaultInjectionEnv::SyncDir(dir);
  }
  std::vector<std::string> synced;
};

TEST(ConnectorDeadLetterTest, ANewFileAndItsDirectoryAreMadeDurable) {
  const std::string dir = StrCat(testing::TempDir(), "/dlq-", ::getpid());
  std::filesystem::remove_all(dir);
  DirSyncRecorder env;
  // A custom path in a directory that does not exist yet.
  DeadLetterFile dlq(dir + "/custom/bad.ndjson", &env);
  ASSERT_TRUE(dlq.Append("c", "/x", 3, "bad", "{").ok());
  EXPECT_EQ(env.synced, (std::vector<std::string>{dir, dir + "/custom"}));
  ASSERT_TRUE(dlq.Append("c", "/x", 4, "bad", "{").ok());
  EXPECT_EQ(env.synced.size(), 2u);  // once per opening, not per record
  // Reopened at its end (an existing file): nothing new to make durable.
  DeadLetterFile again(dir + "/custom/bad.ndjson", &env);
  ASSERT_TRUE(again.Append("c", "/x", 5, "bad", "{").ok());
  EXPECT_EQ(env.synced.size(), 2u);
  // A directory that cannot be fsynced is an error, not a silent risk.
  env.FailSyncs(absl::InternalError("fsync failed"), dir + "/custom");
  DeadLetterFile other(dir + "/custom/other.ndjson", &env);
  EXPECT_FALSE(other.Append("c", "/x", 6, "bad", "{").ok());
  std::filesystem::remove_all(dir);
}

TEST(CheckpointTest, AReusedInodeIsToldApartByTheFilesFirstBytes) {
  const std::string path = "/logs/a.ndjson";
  auto none = [](uint64_t) -> std::optional<std::pair<std::string, FileIdentity>> {
    return std::nullopt;
  };
  StreamCheckpoint c{path, 5, 6000, 2, 2049, 0xfeed, kFingerprintBytes};
  auto d = DecodeCheckpoint(EncodeCheckpoint(c), "f");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->device, 2049u);
  EXPECT_EQ(d->fingerprint, 0xfeedu);
  EXPECT_EQ(d->fingerprint_bytes, kFingerprintBytes);
  uint64_t asked = 0;
  auto content = [&](uint64_t fp) -> FingerprintFn {
    return [&asked, fp](const std::string&, uint64_t n) -> std::optional<uint64_t> {
      asked = n;
      return fp;
    };
  };
  // The same inode, the same first bytes: where it left off.
  StartPlan p = PlanStart(c, path, FileIdentity{5, 9000, 2049}, none, true, content(0xfeed));
  EXPECT_EQ(p.offset, 6000u);
  EXPECT_EQ(asked, kFingerprintBytes);
  EXPECT_TRUE(p.note.empty());
  // The same inode, other first bytes: deleted and created anew, the inode
  // reused. A new file: from its start, noted.
  p = PlanStart(c, path, FileIdentity{5, 9000, 2049}, none, true, content(0xbeef));
  EXPECT_EQ(p.file, path);
  EXPECT_EQ(p.offset, 0u);
  EXPECT_NE(p.note.find("other content"), std::string::npos) << p.note;
  // The same inode number on another device: another file.
  p = PlanStart(c, path, FileIdentity{5, 9000, 7}, none, true, content(0xfeed));
  EXPECT_EQ(p.offset, 0u);
  // A rotated name holding the inode with other bytes is not the old file.
  auto rotated = [](uint64_t ino) -> std::optional<std::pair<std::string, FileIdentity>> {
    return std::make_pair(std::string("/logs/a.ndjson.1"), FileIdentity{ino, 8000, 2049});
  };
  p = PlanStart(c, path, FileIdentity{9, 30, 2049}, rotated, true, content(0xbeef));
  EXPECT_EQ(p.file, path);
  EXPECT_FALSE(p.rotated);
  p = PlanStart(c, path, FileIdentity{9, 30, 2049}, rotated, true, content(0xfeed));
  EXPECT_EQ(p.file, "/logs/a.ndjson.1");
  EXPECT_TRUE(p.rotated);
  // A checkpoint written before fingerprints: the inode alone, as before.
  auto old = DecodeCheckpoint(R"({"version":1,"path":"/logs/a.ndjson","inode":5,"offset":60,)"
                              R"("generation":1})",
                              "f");
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->fingerprint_bytes, 0u);
  p = PlanStart(*old, path, FileIdentity{5, 100, 2049}, none, true, content(0xbeef));
  EXPECT_EQ(p.offset, 60u);
  // A short first write: the fingerprint covers what the offset does.
  StreamCheckpoint small{path, 5, 100, 0, 2049, 0xfeed, 100};
  p = PlanStart(small, path, FileIdentity{5, 300, 2049}, none, true, content(0xfeed));
  EXPECT_EQ(asked, 100u);
  EXPECT_EQ(p.offset, 100u);
}

TEST(CheckpointTest, FingerprintOfAFile) {
  const std::string file = StrCat(testing::TempDir(), "/fp-", ::getpid());
  std::ofstream(file) << "hello world";
  EXPECT_EQ(FingerprintOf(file, 5), Checksum64("hello"));
  EXPECT_EQ(FingerprintOf(file, 50), std::nullopt);  // shorter
  EXPECT_EQ(FingerprintOf(file + ".missing", 5), std::nullopt);
  std::filesystem::remove(file);
}

// ---------------------------------------------------------------------------
// Bulk files

TEST(BulkSplitTest, ChunksOfEachFormat) {
  std::string dataset = "d";
  auto j = SplitBulkFile(R"([{"v":1},{"v":2},{"v":3}])", BulkFormat::kJson, 2, &dataset, nullptr);
  ASSERT_TRUE(j.ok()) << j.status();
  ASSERT_EQ(j->size(), 2u);
  EXPECT_EQ((*j)[0].body, R"({"records":[{"v":1},{"v":2}]})");
  EXPECT_EQ((*j)[1].body, R"({"records":[{"v":3}]})");
  EXPECT_EQ((*j)[1].first_row, 3u);

  auto orig = SplitBulkFile(
      R"({"ingestion":{"datasetSlug":"orders","schema":{"fields":[{"name":"v","type":"double"}]}},"rows":[{"v":1}]})",
      BulkFormat::kJson, 10, &dataset, nullptr);
  ASSERT_TRUE(orig.ok()) << orig.status();
  EXPECT_EQ(dataset, "orders");
  EXPECT_EQ((*orig)[0].body,
            R"({"schema":{"fields":[{"name":"v","type":"double"}]},"records":[{"v":1}]})");
  auto unknown = SplitBulkFile(R"({"recs":[]})", BulkFormat::kJson, 10, &dataset, nullptr);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(Message(unknown.status()).find("member \"recs\""), std::string::npos);

  auto nd =
      SplitBulkFile("{\"v\":1}\n\n{\"v\":2}\n{\"v\":3}", BulkFormat::kNdjson, 2, &dataset, nullptr);
  ASSERT_TRUE(nd.ok());
  ASSERT_EQ(nd->size(), 2u);
  EXPECT_EQ((*nd)[0].first_row, 1u);
  EXPECT_EQ((*nd)[0].last_row, 3u);
  EXPECT_EQ((*nd)[1].body, "{\"v\":3}\n");

  auto lp = SplitBulkFile("# comment\ncpu v=1 1\ncpu v=2 2\n", BulkFormat::kLineProtocol, 5,
                          &dataset, nullptr);
  ASSERT_TRUE(lp.ok());
  ASSERT_EQ(lp->size(), 1u);
  EXPECT_EQ((*lp)[0].body, "cpu v=1 1\ncpu v=2 2\n");

  auto csv = SplitBulkFile("timestamp,v\n1,2\n3,4\n5,6\n", BulkFormat::kCsv, 2, &dataset, nullptr);
  ASSERT_TRUE(csv.ok());
  ASSERT_EQ(csv->size(), 2u);
  EXPECT_EQ((*csv)[0].body, R"({"records":[{"timestamp":1,"v":2},{"timestamp":3,"v":4}]})");
  auto bom =
      SplitBulkFile("\xEF\xBB\xBFtimestamp,v\n1,2\n", BulkFormat::kCsv, 2, &dataset, nullptr);
  ASSERT_TRUE(bom.ok());
  EXPECT_EQ((*bom)[0].body, R"({"records":[{"timestamp":1,"v":2}]})");
  auto dup = SplitBulkFile("a,a\n1,2\n", BulkFormat::kCsv, 2, &dataset, nullptr);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(Message(dup.status()), "header names column \"a\" twice");
  EXPECT_EQ(FormatOfName("x.jsonl"), BulkFormat::kNdjson);
  EXPECT_EQ(FormatOfName("x.lp"), BulkFormat::kLineProtocol);
  EXPECT_EQ(FormatOfName("x.txt"), BulkFormat::kAuto);
}

TEST(BulkSplitTest, ErrorsNameTheFilesLine) {
  std::string dataset = "d";
  // Lines 1-2 records, 3 blank, 4 record, 5-6 blank, 7 record, 8 record.
  auto nd = SplitBulkFile("{\"v\":1}\n{\"v\":2}\n\n{\"v\":3}\n\n  \n{\"v\":4}\n{\"v\":5}\n",
                          BulkFormat::kNdjson, 3, &dataset, nullptr);
  ASSERT_TRUE(nd.ok());
  ASSERT_EQ(nd->size(), 2u);
  EXPECT_EQ(FileLineOf((*nd)[0], 1), 1u);
  EXPECT_EQ(FileLineOf((*nd)[0], 3), 4u);
  EXPECT_EQ(FileLineOf((*nd)[0], 4), 0u);  // not in the chunk
  EXPECT_EQ(FileLineOf((*nd)[1], 1), 7u);
  EXPECT_EQ(FileLineOf((*nd)[1], 2), 8u);
  EXPECT_EQ(LocateInFile((*nd)[1], "line 2, column \"v\": expected double, got string"),
            "line 8, column \"v\": expected double, got string");
  EXPECT_EQ(LocateInFile((*nd)[1], "column \"v\" is stored as double"),
            "column \"v\" is stored as double");
  auto lp = SplitBulkFile("# c\ncpu v=1 1\n\n# c\ncpu v=2 2\ncpu v=3 3\n",
                          BulkFormat::kLineProtocol, 2, &dataset, nullptr);
  ASSERT_TRUE(lp.ok());
  ASSERT_EQ(lp->size(), 2u);
  EXPECT_EQ(FileLineOf((*lp)[0], 2), 5u);
  EXPECT_EQ(FileLineOf((*lp)[1], 1), 6u);
}

// ---------------------------------------------------------------------------
// Outside bytes, mutated: every parser answers (a value or an error), none
// crashes. A seeded smoke run, not a fuzzer.

TEST(ConnectorParsersTest, MutatedInputsNeverCrash) {
  const std::vector<std::string> seeds = {
      R"({"offset":1,"idempotencyKey":"k","ingestion":{"datasetSlug":"a","schema":{"fields":[{"name":"v","type":"double"}]},"partition":{"key":{"r":"eu"}},"rows":[{"timestamp":1,"v":2}]}})",
      "timestamp,host,v\n1,\"a,b\",2.5\n2,\"x\"\"y\",true\n",
      R"({"ingestion":{"datasetSlug":"d"},"rows":[{"v":1},{"v":2}],"chunkSize":3})",
      "cpu,host=a v=1i,s=\"x\" 1\n# c\nmem v=2 2\n",
      R"([{"id":"a","path":"/x","batchSize":5,"startAtOldest":false}])",
      R"([{"id":"b","directory":"/d","format":"csv","chunkSize":2}])",
      R"({"version":1,"path":"/x","inode":1,"offset":2,"generation":3})",
  };
  uint64_t state = 0x9E3779B97F4A7C15ull;
  auto next = [&] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  const char specials[] = {'"', ',', '\n', '\r', '{', '}', '[', ']', ':', '\\', '\0', '\xff'};
  for (int iter = 0; iter < 3000; ++iter) {
    std::string in = seeds[next() % seeds.size()];
    int edits = 1 + next() % 4;
    for (int e = 0; e < edits && !in.empty(); ++e) {
      size_t at = next() % in.size();
      switch (next() % 3) {
        case 0:
          in[at] = specials[next() % sizeof(specials)];
          break;
        case 1:
          in.erase(at, 1 + next() % 8);
          break;
        case 2:
          in.insert(at, in.substr(next() % in.size(), 1 + next() % 16));
          break;
      }
    }
    (void)ParseEnvelope(in, iter % 2 ? "d" : "");
    for (BulkFormat f :
         {BulkFormat::kJson, BulkFormat::kNdjson, BulkFormat::kCsv, BulkFormat::kLineProtocol}) {
      std::string dataset = "d";
      (void)SplitBulkFile(in, f, 1 + next() % 3, &dataset, nullptr);
    }
    (void)ParseStreamingConnectors(in, "S");
    (void)ParseBulkConnectors(in, "B");
    (void)ParseBackpressure(in, "P");
    (void)ParseConnectorsFile(in, "F");
    (void)DecodeCheckpoint(in, "C");
  }
}

// ---------------------------------------------------------------------------
// The connectors over a real engine

class ConnectorEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/timestore-connectors-XXXXXX";
    dir_ = mkdtemp(tmpl);
    EngineOptions o;
    o.root = dir_ + "/data";
    auto e = Engine::Open(Env::Default(), o);
    ASSERT_TRUE(e.ok()) << e.status();
    engine_ = std::move(*e);
  }
  void TearDown() override {
    if (engine_) engine_->Close();
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }
  uint64_t Count(const std::string& slug) {
    if (engine_->GetSchema(slug) == nullptr) return 0;
    QuerySpec q;
    q.start = std::numeric_limits<int64_t>::min();
    q.end = std::numeric_limits<int64_t>::max();
    Downsample ds;
    ds.aggregations = {{AggFn::kCount, "", 0.5, "n"}};
    q.downsample = ds;
    auto r = engine_->Query(slug, q);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok() || r->rows == 0) return 0;
    return static_cast<uint64_t>(r->columns[1].ints[0]);
  }
  // Waits (up to 60 s) until `done` holds.
  template <typename F>
  bool WaitFor(F done) {
    for (int i = 0; i < 6000; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  static void Append(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::app) << text;
  }
  static std::string Envelope(int n, const std::string& value = "1.5") {
    return StrCat(R"({"offset":)", n,
                  R"(,"ingestion":{"datasetSlug":"events","rows":[{"timestamp":)",
                  1714564800000 + n, R"(,"v":)", value, "}]}}\n");
  }
  // Without offset or key: keyed by generation and byte offset.
  static std::string Keyless(int n) {
    return StrCat(R"({"ingestion":{"datasetSlug":"events","rows":[{"timestamp":)",
                  1714564800000 + n, R"(,"v":)", n, "}]}}\n");
  }
  static std::string Read(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::string dir_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(ConnectorEngineTest, StreamingDeadLettersAndReplaysAsDuplicates) {
  const std::string file = dir_ + "/events.ndjson";
  std::string text;
  for (int i = 0; i < 10; ++i) text += Envelope(i);
  text += "{not json\n";
  text += Envelope(10, "\"abc\"");  // a string in the double column v
  for (int i = 11; i < 20; ++i) text += Envelope(i);
  Append(file, text);
  StreamingConfig c;
  c.id = "s1";
  c.path = file;
  c.poll_interval_ms = 10;
  c.batch_size = 4;
  BackpressureConfig bp{1ull << 40, 1ull << 39, 25, 200};
  {
    StreamingConnector s(c, engine_.get(), engine_->options().root, bp);
    s.Start();
    ASSERT_TRUE(WaitFor([&] { return s.status().offset == text.size(); })) << s.status().offset;
    ConnectorStatus st = s.status();
    EXPECT_EQ(st.rows, 19u);
    EXPECT_EQ(st.dead_letters, 2u);
    EXPECT_EQ(st.lag_bytes, 0u);
    s.Stop();
  }
  EXPECT_EQ(Count("events"), 19u);
  std::string dlq = Read(engine_->options().root + "/connectors/s1.dlq.ndjson");
  EXPECT_NE(dlq.find(R"("source":")" + file + R"(")"), std::string::npos) << dlq;
  EXPECT_NE(dlq.find(R"("reason":"envelope: not valid JSON)"), std::string::npos) << dlq;
  EXPECT_NE(dlq.find(R"("line":"{not json")"), std::string::npos) << dlq;
  EXPECT_NE(dlq.find(R"(column \"v\")"), std::string::npos) << dlq;

  // A lost checkpoint replays the file: every envelope is a duplicate.
  std::filesystem::remove(engine_->options().root + "/connectors/s1.checkpoint.json");
  std::filesystem::remove(engine_->options().root + "/connectors/s1.dlq.ndjson");
  {
    StreamingConnector s(c, engine_.get(), engine_->options().root, bp);
    s.Start();
    ASSERT_TRUE(WaitFor([&] { return s.status().offset == text.size(); }));
    EXPECT_EQ(s.status().rows, 0u);  // nothing new stored
    s.Stop();
  }
  EXPECT_EQ(Count("events"), 19u);

  // Rotation: the file renamed, more lines in the old one, then a new file.
  {
    StreamingConnector s(c, engine_.get(), engine_->options().root, bp);
    s.Start();
    std::filesystem::rename(file, file + ".1");
    Append(file + ".1", Envelope(20) + Envelope(21));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    Append(file, Envelope(22) + Envelope(23) + Envelope(24));
    ASSERT_TRUE(WaitFor([&] { return Count("events") == 24u; })) << Count("events");
    ASSERT_TRUE(WaitFor([&] { return s.status().file == file && s.status().lag_bytes == 0; }));
    s.Stop();
  }
  EXPECT_EQ(Count("events"), 24u);
}

TEST_F(ConnectorEngineTest, RotatedTwiceWhileStoppedEveryFileIsRead) {
  // app.log -> app.log.1 -> app.log.2 (logrotate's numbering) twice while
  // the connector is stopped: the checkpointed file is app.log.2 now, with
  // unread lines; app.log.1 held the path in between; app.log is new.
  const std::string dir = dir_ + "/logs";
  std::filesystem::create_directories(dir);
  const std::string file = dir + "/app.log";
  auto lines = [](int from, int to) {
    std::string t;
    for (int i = from; i < to; ++i) t += i % 2 ? Keyless(i) : Envelope(i);
    return t;
  };
  // Their last changes in the order they were written (a loaded machine can
  // write them all within one clock tick).
  auto set_mtime = [](const std::string& p, int seconds_ago) {
    std::filesystem::last_write_time(
        p, std::filesystem::file_time_type::clock::now() - std::chrono::seconds(seconds_ago));
  };
  Append(file, lines(0, 5));
  StreamingConfig c;
  c.id = "rot2";
  c.path = file;
  c.poll_interval_ms = 5;
  c.batch_size = 2;
  BackpressureConfig bp{1ull << 40, 1ull << 39, 25, 200};
  {
    StreamingConnector s(c, engine_.get(), engine_->options().root, bp);
    s.Start();
    ASSERT_TRUE(WaitFor([&] { return Count("events") == 5u; }));
    s.Stop();
  }
  Append(file, lines(5, 8));  // written before the first rotation, not read
  set_mtime(file, 30);
  std::filesystem::rename(file, file + ".1");
  Append(file, lines(8, 12));  // the middle file
  set_mtime(file, 20);
  std::filesystem::rename(file + ".1", file + ".2");
  std::filesystem::rename(file, file + ".1");
  Append(file + ".2.gz", "not read");  // an older compressed one: no gap
  set_mtime(file + ".2.gz", 40);

  Append(file, lines(12, 15));
  // The finished file compressed (gzip keeps the mtime): no gap either.
  Append(file + ".3.gz", "not read");
  std::filesystem::last_write_time(file + ".3.gz", std::filesystem::last_write_time(file + ".2"));
  {
    StreamingConnector s(c, engine_.get(), engine_->options().root, bp);
    s.Start();
    ASSERT_TRUE(WaitFor([&] { return Count("events") == 15u; }))
        << Count("events") << " " << s.status().last_error;
    ASSERT_TRUE(WaitFor([&] { return s.status().file == file && s.status().lag_bytes == 0; }));
    s.Stop();
    EXPECT_EQ(s.status().dead_letters, 0u);
    EXPECT_EQ(s.status().rows, 10u);
    EXPECT_EQ(s.status().last_error, "");
  }
  EXPECT_EQ(Count("events"), 15u);  // each row once
  // A third rotation while running: no older file is read again. A
  // compressed name modified later than the finished file is a gap, named.
  Append(file + ".9.gz", "not read");
  set_mtime(file + ".9.gz", -60);
  {
    StreamingConnector s(c, engine_.get(), engine_->options().root, bp);
    s.Start();
    std::filesystem::rename(file + ".1", file + ".2");
    std::filesystem::rename(file, file + ".1");
    Append(file, lines(15, 17));
    ASSERT_TRUE(WaitFor([&] { return Count("events") == 17u; })) << Count("events");
    ASSERT_TRUE(WaitFor([&] { return s.status().file == file && s.status().lag_bytes == 0; }));
    s.Stop();
    EXPECT_NE(s.status().last_error.find("not read (compressed): " + file + ".9.gz"),
              std::string::npos)
        << s.status().last_error;
  }
  EXPECT_EQ(Count("events"), 17u);
}

TEST_F(ConnectorEngineTest, AStreamingBatchIsBoundedByBytes) {
  const std::string file = dir_ + "/events.ndjson";
  std::string text;
  for (int i = 0; i < 60; ++i) text += Envelope(i);
  // One line longer than the byte bound: a batch of its own.
  text += StrCat(R"({"offset":60,"ingestion":{"datasetSlug":"events","rows":[{"timestamp":)",
                 1714564800060, R"(,"v":1,"note":")", std::string(3000, 'x'), "\"}]}}\n");
  Append(file, text);
  StreamingConfig c;
  c.id = "bytes";
  c.path = file;
  c.poll_interval_ms = 5;
  c.batch_size = 1000;  // by count, one batch would take the whole file
  c.max_batch_bytes = 1000;
  BackpressureConfig bp{1ull << 40, 1ull << 39, 25, 200};
  StreamingConnector s(c, engine_.get(), engine_->options().root, bp);
  s.Start();
  ASSERT_TRUE(WaitFor([&] { return s.status().offset == text.size(); }));
  s.Stop();
  EXPECT_EQ(Count("events"), 61u);
  EXPECT_EQ(s.status().dead_letters, 0u);
  // About 130 bytes a line: 8 lines a batch (the 8th crosses the bound).
  const uint64_t line = Envelope(0).size();
  EXPECT_GE(s.status().batches, 60 / (1000 / line + 1) + 1) << s.status().batches;
}

TEST_F(ConnectorEngineTest, AnOverLongLineIsDeadLetteredOnceAcrossARestart) {
  const std::string file = dir_ + "/events.ndjson";
  // An envelope, then the start of a line over the limit (its writer not done).
  Append(file, Envelope(0) + std::string(5000, 'x'));
  StreamingConfig c;
  c.id = "long";
  c.path = file;
  c.poll_interval_ms = 5;
  c.max_line_bytes = 2000;
  BackpressureConfig bp{1ull << 40, 1ull << 39, 25, 200};
  const uint64_t size = Envelope(0).size() + 5000;
  {
    StreamingConnector s(c, engine_.get(), engine_->options().root, bp);
    s.Start();
    // The head is dead-lettered and the checkpoint passes it, mid-line.
    ASSERT_TRUE(WaitFor([&] { return s.status().offset == size; }));
    s.Stop();
    EXPECT_EQ(s.status().dead_letters, 1u);
  }
  auto cp = LoadCheckpoint(engine_->options().root + "/connectors/long.checkpoint.json");
  ASSERT_TRUE(cp.ok() && cp->has_value());
  EXPECT_TRUE((*cp)->in_long_line);
  // The line's rest (itself longer than the limit) and its newline, then an
  // envelope: after the restart the rest is skipped, not dead-lettered again.
  Append(file, std::string(3000, 'x') + "\n" + Envelope(1));
  {
    StreamingConnector s(c, engine_.get(), engine_->options().root, bp);
    s.Start();
    ASSERT_TRUE(WaitFor([&] { return Count("events") == 2u; })) << s.status().last_error;
    s.Stop();
    EXPECT_EQ(s.status().dead_letters, 0u);
  }
  std::string dlq = Read(engine_->options().root + "/connectors/long.dlq.ndjson");
  EXPECT_EQ(std::count(dlq.begin(), dlq.end(), '\n'), 1) << dlq;
  EXPECT_NE(dlq.find("line longer than 2000 bytes"), std::string::npos) << dlq;
}

TEST_F(ConnectorEngineTest, AHalfWrittenLineWaitsForItsNewline) {
  const std::string file = dir_ + "/events.ndjson";
  const std::string line = Envelope(1);
  Append(file, line.substr(0, 30));
  StreamingConfig c;
  c.id = "half";
  c.path = file;
  c.poll_interval_ms = 5;
  BackpressureConfig bp{1ull << 40, 1ull << 39, 25, 200};
  StreamingConnector s(c, engine_.get(), engine_->options().root, bp);
  s.Start();
  // Several polls see the half line; it is neither stored nor dead-lettered.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(s.status().offset, 0u);
  EXPECT_EQ(s.status().dead_letters, 0u);
  Append(file, line.substr(30));
  ASSERT_TRUE(WaitFor([&] { return s.status().offset == line.size(); }));
  s.Stop();
  EXPECT_EQ(Count("events"), 1u);
  EXPECT_EQ(s.status().dead_letters, 0u);
  // The checkpoint fingerprints the file's first bytes (all of it here).
  auto cp = LoadCheckpoint(engine_->options().root + "/connectors/half.checkpoint.json");
  ASSERT_TRUE(cp.ok() && cp->has_value());
  EXPECT_EQ((*cp)->fingerprint_bytes, line.size());
  EXPECT_EQ((*cp)->fingerprint, Checksum64(line));
  EXPECT_NE((*cp)->device, 0u);
}

TEST_F(ConnectorEngineTest, ATruncatedFileIsReadAgainFromItsStart) {
  const std::string file = dir_ + "/events.ndjson";
  std::string text;
  for (int i = 0; i < 5; ++i) text += Keyless(i);
  Append(file, text);
  StreamingConfig c;
  c.id = "trunc";
  c.path = file;
  c.poll_interval_ms = 5;
  BackpressureConfig bp{1ull << 40, 1ull << 39, 25, 200};
  StreamingConnector s(c, engine_.get(), engine_->options().root, bp);
  s.Start();
  ASSERT_TRUE(WaitFor([&] { return s.status().offset == text.size(); }));
  // copytruncate: the same inode, cut to nothing, then new lines shorter
  // than the old offset.
  std::filesystem::resize_file(file, 0);
  // The same byte offsets as lines 0 and 1, other rows: stored, not taken
  // for replays (the truncation began a new key generation).
  Append(file, Keyless(5) + Keyless(6));
  ASSERT_TRUE(WaitFor([&] { return Count("events") == 7u; })) << s.status().last_error;
  s.Stop();
  EXPECT_EQ(s.status().dead_letters, 0u);
  EXPECT_NE(s.status().last_error.find("was truncated"), std::string::npos);
}

TEST_F(ConnectorEngineTest, BulkLoadsInChunksAndSetsBadFilesAside) {
  const std::string stage = dir_ + "/stage";
  std::filesystem::create_directories(stage);
  std::string csv = "timestamp,host,v\n";
  for (int i = 0; i < 25; ++i) csv += StrCat(1714564800000 + i, ",h", i % 3, ",", i, ".5\n");
  Append(stage + "/a.csv", csv);
  Append(stage + "/b.csv", "timestamp,host,v\n1714564900000,h1,abc\n");  // v is a double
  Append(stage + "/c.txt", "x");
  BulkConfig c;
  c.id = "b1";
  c.directory = stage;
  c.dataset = "cpu";
  c.chunk_size = 10;
  c.poll_interval_ms = 10;
  BackpressureConfig bp{1ull << 40, 1ull << 39, 25, 200};
  BulkConnector b(c, engine_.get(), engine_->options().root, bp);
  b.Start();
  ASSERT_TRUE(WaitFor([&] {
    auto s = b.status();
    return s.files_loaded + s.files_failed == 3;
  }));
  b.Stop();
  EXPECT_EQ(Count("cpu"), 25u);
  EXPECT_TRUE(std::filesystem::exists(stage + "/a.csv.processed"));
  EXPECT_FALSE(std::filesystem::exists(stage + "/a.csv"));
  EXPECT_TRUE(std::filesystem::exists(stage + "/b.csv.failed"));
  std::string note = Read(stage + "/b.csv.error");
  EXPECT_NE(note.find("records 1-1: "), std::string::npos) << note;
  EXPECT_NE(note.find("column \"v\""), std::string::npos) << note;
  EXPECT_TRUE(std::filesystem::exists(stage + "/c.txt.failed"));
  EXPECT_NE(Read(stage + "/c.txt.error").find("cannot tell the format"), std::string::npos);
  EXPECT_EQ(b.status().rows, 25u);
  EXPECT_EQ(b.status().files_failed, 2u);
}

TEST_F(ConnectorEngineTest, BulkChecksTheWholeFileAgainstTheSchemaItsChunksBuild) {
  // Chunk 0 makes v a double column of a new dataset (JSON numbers are
  // doubles; in line protocol 1i is an integer), chunk 1 gives it a string
  // (a double). Checked chunk by chunk against the schema as it was, both
  // pass and chunk 0 would be stored before chunk 1 fails. Checked against
  // the schema the chunks before it build, the file is set aside untouched.
  const std::string stage = dir_ + "/stage";
  std::filesystem::create_directories(stage);
  Append(stage + "/a.ndjson",
         "{\"timestamp\":1714564800000,\"v\":1}\n{\"timestamp\":1714564800001,\"v\":2}\n"
         "{\"timestamp\":1714564800002,\"v\":\"high\"}\n");
  Append(stage + "/b.lp",
         "lpm v=1i 1714564800000000000\nlpm v=2i 1714564800000000001\n"
         "lpm v=2.5 1714564800000000002\n");
  BulkConfig c;
  c.id = "whole";
  c.directory = stage;
  c.dataset = "fresh";
  c.chunk_size = 2;
  c.poll_interval_ms = 10;
  BackpressureConfig bp{1ull << 40, 1ull << 39, 25, 200};
  BulkConnector b(c, engine_.get(), engine_->options().root, bp);
  b.Start();
  ASSERT_TRUE(WaitFor([&] { return b.status().files_failed == 2; })) << b.status().last_error;
  b.Stop();
  EXPECT_EQ(b.status().rows, 0u);
  EXPECT_EQ(engine_->GetSchema("fresh"), nullptr);  // nothing stored, not even the dataset
  EXPECT_EQ(engine_->GetSchema("freshlpm"), nullptr);
  EXPECT_TRUE(std::filesystem::exists(stage + "/a.ndjson.failed"));
  EXPECT_TRUE(std::filesystem::exists(stage + "/b.lp.failed"));
  std::string note = Read(stage + "/a.ndjson.error");
  EXPECT_NE(note.find("column \"v\""), std::string::npos) << note;
  EXPECT_EQ(note.find("were stored"), std::string::npos) << note;
  note = Read(stage + "/b.lp.error");
  EXPECT_NE(note.find("\"v\""), std::string::npos) << note;

  // v = 1, 2, 2.5 in JSON: every JSON number is a double, so no conflict:
  // all three stored.
  const std::string stage2 = dir_ + "/stage2";
  std::filesystem::create_directories(stage2);
  Append(stage2 + "/c.ndjson",
         "{\"timestamp\":1714564800000,\"v\":1}\n{\"timestamp\":1714564800001,\"v\":2}\n"
         "{\"timestamp\":1714564800002,\"v\":2.5}\n");
  c.id = "whole2";
  c.directory = stage2;
  c.dataset = "mixed";
  BulkConnector b2(c, engine_.get(), engine_->options().root, bp);
  b2.Start();
  ASSERT_TRUE(WaitFor([&] { return b2.status().files_loaded == 1; })) << b2.status().last_error;
  b2.Stop();
  EXPECT_EQ(Count("mixed"), 3u);
}

TEST_F(ConnectorEngineTest, BulkSetsAsideAFileOverMaxFileBytes) {
  const std::string stage = dir_ + "/stage";
  std::filesystem::create_directories(stage);
  std::string csv = "timestamp,v\n";
  for (int i = 0; i < 20; ++i) csv += StrCat(1714564800000 + i, ",", i, "\n");
  Append(stage + "/big.csv", csv);
  Append(stage + "/small.csv", "timestamp,v\n1714564800000,1\n");
  BulkConfig c;
  c.id = "max";
  c.directory = stage;
  c.dataset = "capped";
  c.poll_interval_ms = 10;
  c.max_file_bytes = 100;
  BackpressureConfig bp{1ull << 40, 1ull << 39, 25, 200};
  BulkConnector b(c, engine_.get(), engine_->options().root, bp);
  b.Start();
  ASSERT_TRUE(WaitFor([&] {
    auto s = b.status();
    return s.files_loaded + s.files_failed == 2;
  }));
  b.Stop();
  EXPECT_EQ(b.status().files_failed, 1u);
  EXPECT_EQ(Count("capped"), 1u);
  EXPECT_TRUE(std::filesystem::exists(stage + "/big.csv.failed"));
  std::string note = Read(stage + "/big.csv.error");
  EXPECT_NE(note.find(StrCat("big.csv is ", csv.size(),
                             " bytes, over the connector's "
                             "maxFileBytes (100)")),
            std::string::npos)
      << note;
}

TEST_F(ConnectorEngineTest, BulkErrorsNameTheBadRecordsLineInTheFile) {
  const std::string stage = dir_ + "/stage";
  std::filesystem::create_directories(stage);
  std::string nd;
  for (int i = 0; i < 6; ++i) {
    nd += StrCat("{\"timestamp\":", 1714564800000 + i, ",\"v\":", i, "}\n\n");  // blank lines
  }
  nd += "{\"timestamp\":1714564800009,\"v\":true,}\n";  // line 13: not JSON
  Append(stage + "/a.ndjson", nd);
  Append(stage + "/b.lp", "# header\n\nm v=1 1\nm v=2 2\n# more\nm v=3 3\nm v= 4\n");  // line 7
  BulkConfig c;
  c.id = "lines";
  c.directory = stage;
  c.dataset = "lines";
  c.chunk_size = 2;
  c.poll_interval_ms = 10;
  BackpressureConfig bp{1ull << 40, 1ull << 39, 25, 200};
  BulkConnector b(c, engine_.get(), engine_->options().root, bp);
  b.Start();
  ASSERT_TRUE(WaitFor([&] { return b.status().files_failed == 2; })) << b.status().last_error;
  b.Stop();
  std::string note = Read(stage + "/a.ndjson.error");
  EXPECT_NE(note.find(": line 13"), std::string::npos) << note;
  note = Read(stage + "/b.lp.error");
  EXPECT_NE(note.find(": line 7"), std::string::npos) << note;
}

}  // namespace
}  // namespace timestore::connectors
