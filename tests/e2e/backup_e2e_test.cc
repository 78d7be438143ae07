// Backups and restores against the real server and CLI (issue 14): a backup
// taken during continuous ingest and compaction restores to a root whose
// answers equal the source's at the snapshot point; a kill -9 in the middle
// of a backup leaves the next backup and restore working; a corrupt object
// makes the restore fail naming it; the offline CLI is refused on a root a
// server holds.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/strings.h"
#include "simdjson.h"
#include "tests/e2e/s3_test_server.h"
#include "tests/e2e/test_server.h"

namespace timestore::testing {
namespace {

constexpr int64_t kBaseMs = 1714521600000;  // 2024-05-01T00:00:00Z

std::string Rows(int64_t first, int n) {
  std::string body;
  for (int64_t seq = first; seq < first + n; ++seq) {
    StrAppend(&body, "{\"timestamp\":", kBaseMs + seq * 1000, ",\"seq\":", seq, ",\"host\":\"h",
              seq % 7, "\",\"v\":", (seq % 1000) * 0.25, "}\n");
  }
  return body;
}

struct Stats {
  int64_t count = -1, min_seq = -1, max_seq = -1;
  double sum_v = 0;
  bool operator==(const Stats&) const = default;
};

// count, min(seq), max(seq), sum(v) over rows with seq <= max_seq.
Stats Query(int port, int64_t max_seq = INT64_MAX) {
  HttpClient c(port);
  std::string filter =
      max_seq == INT64_MAX
          ? ""
          : StrCat(",\"filters\":[{\"column\":\"seq\",\"op\":\"lte\",\"value\":", max_seq, "}]");
  auto r = c.Post("/datasets/m/query",
                  StrCat(R"({"timeRange":{"start":0,"end":"2030-01-01T00:00:00Z"})", filter,
                         R"(,"downsample":{"aggregations":[{"fn":"count","alias":"n"},)",
                         R"({"fn":"min","column":"seq"},{"fn":"max","column":"seq"},)",
                         R"({"fn":"sum","column":"v"}]}})"));
  Stats s;
  EXPECT_EQ(r.status, 200) << r.body;
  if (r.status != 200) return s;
  simdjson::dom::parser p;
  simdjson::dom::element doc = p.parse(r.body);
  simdjson::dom::array rows = doc["rows"];
  if (rows.size() != 1) return s;
  s.count = int64_t(rows.at(0)["n"]);
  s.min_seq = int64_t(rows.at(0)["min_seq"]);
  s.max_seq = int64_t(rows.at(0)["max_seq"]);
  s.sum_v = double(rows.at(0)["sum_v"]);
  return s;
}

// A member of the JSON on the last line of `out` (the CLI's answer).
std::string Field(std::string_view out, std::string_view path) {
  while (!out.empty() && out.back() == '\n') out.remove_suffix(1);
  std::string_view json =
      out.substr(out.rfind('\n') == std::string_view::npos ? 0 : out.rfind('\n') + 1);
  simdjson::dom::parser p;
  simdjson::dom::element e;
  if (p.parse(json.data(), json.size()).at_pointer(path).get(e)) return "";
  return e.is_string() ? std::string(std::string_view(e)) : simdjson::to_string(e);
}

class BackupE2ETest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = MakeTempDir(); }
  void TearDown() override {
    server_.reset();
    restored_.reset();
    std::filesystem::remove_all(dir_);
  }
  void StartServer(std::map<std::string, std::string> env = {}) {
    env.emplace("TIMESTORE_SEAL_MAX_ROWS", "400");
    env.emplace("TIMESTORE_COMPACTION_MIN_SEGMENTS", "2");
    env.emplace("TIMESTORE_COMPACTION_INTERVAL_MS", "50");
    server_ = std::make_unique<TestServer>(dir_, env);
    ASSERT_TRUE(server_->Start());
  }
  void Ingest(int64_t first, int n) {
    HttpClient c(server_->port());
    auto r =
        c.Post("/datasets/m/ingest", Rows(first, n), {{"Content-Type", "application/x-ndjson"}});
    ASSERT_EQ(r.status, 200) << r.body;
  }
  std::string Cli(const std::string& args, int* status) {
    auto [rc, out] = Shell(StrCat(TimestoreBinary(), " ", args, " 2>&1"));
    *status = rc;
    return out;
  }
  std::string Server() const { return StrCat("--server http://127.0.0.1:", server_->port()); }

  std::string dir_;
  std::unique_ptr<TestServer> server_, restored_;
};

TEST_F(BackupE2ETest, BackupDuringIngestAndCompactionRestoresTheSnapshot) {
  StartServer();
  std::atomic<int64_t> acked{0};  // rows [0, acked) are acknowledged
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    HttpClient c(server_->port());
    while (!stop.load()) {
      const int64_t first = acked.load();
      auto r = c.Post("/datasets/m/ingest", Rows(first, 100),
                      {{"Content-Type", "application/x-ndjson"}});
      if (r.status != 200) {
        ADD_FAILURE() << r.status << " " << r.body;
        return;
      }
      acked.store(first + 100);
    }
  });
  while (acked.load() < 3000) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const std::string bk = dir_ + "/backups";
  const int64_t before_first = acked.load();
  int rc = 0;
  std::string first = Cli(StrCat("backup ", Server(), " --to ", bk), &rc);
  ASSERT_EQ(rc, 0) << first;
  ASSERT_EQ(Field(first, "/state"), "succeeded") << first;
  while (acked.load() < before_first + 2000) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::string second = Cli(StrCat("backup ", Server(), " --to ", bk), &rc);
  ASSERT_EQ(rc, 0) << second;
  stop = true;
  writer.join();

  // The first backup: every row acknowledged before it began, a gap-free
  // prefix of the single writer's rows, each once.
  const std::string id = Field(first, "/result/id");
  ASSERT_FALSE(id.empty()) << first;
  const std::string restored_root = dir_ + "/restored";
  std::string out =
      Cli(StrCat("restore --from ", bk, " --backup ", id, " --to ", restored_root, "/data"), &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(Field(out, "/rows"), Field(first, "/result/rows")) << out;
  restored_ = std::make_unique<TestServer>(restored_root);
  ASSERT_TRUE(restored_->Start());
  Stats got = Query(restored_->port());
  EXPECT_EQ(std::to_string(got.count), Field(first, "/result/rows"));
  EXPECT_EQ(got.min_seq, 0);
  EXPECT_EQ(got.max_seq, got.count - 1);  // no gap, no duplicate
  EXPECT_GE(got.count, before_first);
  // The source, at the snapshot point, answers the same.
  EXPECT_EQ(Query(server_->port(), got.max_seq), got);

  // The second backup restores the later point.
  restored_.reset();
  out = Cli(StrCat("restore --from ", bk, " --to ", dir_, "/restored2/data"), &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(Field(out, "/id"), Field(second, "/result/id"));
  restored_ = std::make_unique<TestServer>(dir_ + "/restored2");
  ASSERT_TRUE(restored_->Start());
  got = Query(restored_->port());
  EXPECT_EQ(got.max_seq, got.count - 1);
  EXPECT_GE(got.count, before_first + 2000);
  EXPECT_EQ(Query(server_->port(), got.max_seq), got);

  // The list shows both, newest first.
  out = Cli(StrCat("backups ", Server(), " --at ", bk), &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(Field(out, "/backups/0/id"), Field(second, "/result/id")) << out;
  EXPECT_EQ(Field(out, "/backups/1/id"), id) << out;
}

TEST_F(BackupE2ETest, KillDuringBackupThenBackupAndRestoreWork) {
  StartServer({{"TIMESTORE_TEST_CRASH_POINT", "backup.segment_uploaded"}});
  for (int b = 0; b < 6; ++b) Ingest(b * 500, 500);
  const std::string bk = dir_ + "/backups";
  HttpClient c(server_->port());
  auto r = c.Post("/admin/backup", StrCat("{\"to\":\"", bk, "\"}"));
  ASSERT_EQ(r.status, 202) << r.body;
  // The first uploaded segment kills the server.
  for (int i = 0; i < 500 && kill(server_->pid(), 0) == 0; ++i) {
    if (HttpClient(server_->port()).Get("/health").status == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  server_->Stop(SIGKILL);
  {
    std::ifstream in(server_->log_path());
    std::string log(std::istreambuf_iterator<char>(in), {});
    ASSERT_NE(log.find("crash point backup.segment_uploaded reached"), std::string::npos) << log;
  }
  int rc = 0;
  std::string out = Cli(StrCat("backups --at ", bk), &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(out.find("\"id\""), std::string::npos) << "a cut-short backup is listed: " << out;

  // Offline now (no server holds the root): the next backup completes.
  out = Cli(StrCat("backup --storage-root ", dir_, "/data --to ", bk), &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(Field(out, "/rows"), "3000") << out;
  out = Cli(StrCat("restore --from ", bk, " --to ", dir_, "/restored/data"), &rc);
  ASSERT_EQ(rc, 0) << out;
  restored_ = std::make_unique<TestServer>(dir_ + "/restored");
  ASSERT_TRUE(restored_->Start());
  EXPECT_EQ(Query(restored_->port()), (Stats{3000, 0, 2999, Query(restored_->port()).sum_v}));
  EXPECT_EQ(VerifyStorageRoot(dir_ + "/restored/data").first, 0);
}

TEST_F(BackupE2ETest, CorruptObjectNamedAndOfflineCliRefusedWhileServing) {
  StartServer();
  Ingest(0, 800);
  const std::string bk = dir_ + "/backups";
  int rc = 0;
  // The server holds its root: the offline CLI says to use --server.
  std::string out = Cli(StrCat("backup --storage-root ", dir_, "/data --to ", bk), &rc);
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("--server"), std::string::npos) << out;
  out = Cli(StrCat("backup ", Server(), " --to ", bk), &rc);
  ASSERT_EQ(rc, 0) << out;

  std::string victim;
  for (const auto& e : std::filesystem::recursive_directory_iterator(bk + "/segments")) {
    if (e.is_regular_file()) victim = e.path().string();
  }
  ASSERT_FALSE(victim.empty());
  {
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(100);
    const char c = static_cast<char>(f.get() ^ 0xff);
    f.seekp(100);
    f.put(c);
  }
  out = Cli(StrCat("restore --from ", bk, " --to ", dir_, "/restored/data"), &rc);
  EXPECT_NE(rc, 0);
  const std::string rel = victim.substr(bk.size() + 1);
  EXPECT_NE(out.find(rel), std::string::npos) << out;
  EXPECT_NE(out.find("corrupt"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/restored/data"));

  // Bad requests are named.
  HttpClient c(server_->port());
  auto r = c.Post("/admin/backup", R"({"to":"x","keepp":1})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("keepp"), std::string::npos) << r.body;
  r = c.Post("/admin/backup", R"({"to":"s3://nope/x"})");
  EXPECT_EQ(r.status, 404) << r.body;
  r = c.Get("/admin/jobs/job-0000000000000000");
  EXPECT_EQ(r.status, 404) << r.body;
}

// A root whose partitions are tiered to S3 (s3rver), backed up into the same
// S3 target under another prefix: the tiered segments are copied, and the
// restore (offline, resolving s3://s3 from the environment) builds a root that
// answers the same with no S3 at all.
TEST_F(BackupE2ETest, TieredRootBacksUpToS3AndRestoresLocal) {
  S3TestServer s3;
  ASSERT_TRUE(s3.Start()) << s3.error();
  const std::map<std::string, std::string> s3_env = S3StorageServerEnv(s3);
  server_ = std::make_unique<TestServer>(dir_, s3_env);
  ASSERT_TRUE(server_->Start());
  Ingest(0, 1500);
  HttpClient c(server_->port());
  ASSERT_EQ(c.Post("/admin/datasets/m/flush", "").status, 200);
  ASSERT_EQ(c.Request("PUT", "/admin/datasets/m/retention", R"({"coldAfter":"30d"})").status, 200);
  auto r = c.Post("/admin/datasets/m/enforce-retention", "");
  ASSERT_EQ(r.status, 200) << r.body;
  r = c.Get("/admin/datasets/m/manifest");
  ASSERT_NE(r.body.find("\"tier\":\"remote\""), std::string::npos) << r.body;
  Ingest(1500, 500);  // and some local rows
  const Stats want = Query(server_->port());
  ASSERT_EQ(want.count, 2000);

  int rc = 0;
  std::string out = Cli(StrCat("backup ", Server(), " --to s3://s3/backups --keep 2"), &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(Field(out, "/result/rows"), "2000") << out;
  out = Cli(StrCat("backups ", Server(), " --at s3://s3/backups"), &rc);
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(Field(out, "/backups/0/id"), "") << out;

  std::string env;
  for (const auto& [k, v] : s3_env) StrAppend(&env, k, "='", v, "' ");
  out = Cli(StrCat("restore --from s3://s3/backups --to ", dir_, "/restored/data"), &rc);
  EXPECT_NE(rc, 0) << "s3://s3 resolved without the environment's target: " << out;
  auto [rc2, out2] = Shell(StrCat(env, TimestoreBinary(), " restore --from s3://s3/backups --to ",
                                  dir_, "/restored/data 2>&1"));
  ASSERT_EQ(rc2, 0) << out2;
  restored_ = std::make_unique<TestServer>(dir_ + "/restored");
  ASSERT_TRUE(restored_->Start());
  EXPECT_EQ(Query(restored_->port()), want);
  r = HttpClient(restored_->port()).Get("/admin/datasets/m/manifest");
  EXPECT_EQ(r.body.find("\"tier\":\"remote\""), std::string::npos) << r.body;
}

}  // namespace
}  // namespace timestore::testing
