// Schema migrations against the real binary (docs/migrate.md): the server is
// killed (kill -9 from its own crash point) between two partition edits of a
// migration run through POST /admin/datasets/{id}/migrations, restarts,
// reports the migration under way and resumes it; the same manifest run by
// `timestore migrate --storage-root` on a copy of the data no server holds
// gives the same rows, and a dry run by the CLI changes no byte.
#include <gtest/gtest.h>
#include <signal.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/strings.h"
#include "common/time_util.h"
#include "tests/e2e/test_server.h"

namespace timestore::testing {
namespace {

constexpr int64_t kDay = 86'400'000'000'000;
const int64_t kStart = 1'714'521'600'000'000'000;  // 2024-05-01T00:00:00Z

constexpr std::string_view kManifest = R"yaml(dataset: cpu
governance:
  ticketId: CHG-2001
  approvedBy: bob@example.com
targetSchema:
  timestamp: timestamp
  host: string
  zone: string
  usage_pct: double
operations:
  - rename: {from: region, to: zone}
  - rename: {from: usage, to: usage_pct, transform: "usage * 100"}
  - drop: {column: debug}
)yaml";

// The one migration's archive directory under `base` (<base>/<migration id>).
std::string MigrationDir(const std::string& base) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(base, ec)) {
    if (e.is_directory()) return e.path().string();
  }
  return base + "/<no migration directory>";
}

std::string Rows() {
  std::string records;
  for (int k = 0; k < 36; ++k) {
    StrAppend(&records, k ? "," : "", "{\"timestamp\":\"",
              FormatRfc3339(kStart + (k / 12) * kDay + (k % 12) * 60'000'000'000),
              "\",\"host\":\"h", k % 3, "\",\"region\":\"", k % 3 == 2 ? "us" : "eu",
              "\",\"usage\":", k, ".5,\"debug\":\"dbg-", k, "\"}");
  }
  return StrCat(R"({"schema":{"fields":[{"name":"timestamp","type":"timestamp"},)",
                R"({"name":"host","type":"string"},{"name":"region","type":"string"},)",
                R"({"name":"usage","type":"double"},{"name":"debug","type":"string"}]},)",
                R"("records":[)", records, "]}");
}

// Creates `cpu` on a fresh server in `dir` and stops it.
void Prepare(const std::string& dir) {
  TestServer s(dir);
  ASSERT_TRUE(s.Start()) << ReadFileToString(s.log_path());
  HttpClient c(s.port());
  ASSERT_EQ(c.Post("/datasets/cpu/ingest", Rows()).status, 200);
  ASSERT_EQ(c.Request("PUT", "/admin/datasets/cpu/settings", R"({"segmentBy":["host"]})").status,
            200);
  ASSERT_EQ(c.Post("/admin/datasets/cpu/flush", "").status, 200);
  s.Stop(SIGTERM);
}

std::string Csv(HttpClient& c) {
  HttpResult r = c.Request(
      "POST", "/datasets/cpu/query",
      R"({"timeRange":{"start":"2024-01-01T00:00:00Z","end":"2025-01-01T00:00:00Z"},"limit":1000})",
      {{"Accept", "text/csv"}});
  EXPECT_EQ(r.status, 200) << r.body;
  return r.body;
}

std::string ManifestBytes(const std::string& root) {
  std::string current = ReadFileToString(root + "/CURRENT");
  while (!current.empty() && current.back() == '\n') current.pop_back();
  return ReadFileToString(root + "/" + current);
}

TEST(MigrateE2ETest, KilledBetweenPartitionsResumesAndTheCliGivesTheSameRows) {
  const std::string dir = MakeTempDir();
  const std::string a = dir + "/a", b = dir + "/b";
  Prepare(a);
  Prepare(b);
  const std::string manifest_file = dir + "/migration.yaml";
  std::ofstream(manifest_file) << kManifest;

  // Server A: killed right after the first partition's edit.
  {
    TestServer s(a, {{"TIMESTORE_TEST_CRASH_POINT", "migrate.partition_replaced"}});
    ASSERT_TRUE(s.Start()) << ReadFileToString(s.log_path());
    HttpClient c(s.port());
    HttpResult r = c.Post(StrCat("/admin/datasets/cpu/migrations?archiveDir=", dir, "/archive-a"),
                          std::string(kManifest));
    EXPECT_EQ(r.status, 0) << "the server should have died at its crash point: " << r.body;
    int status = s.Stop(SIGKILL);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  }
  std::string resumed;
  {
    TestServer s(a);
    ASSERT_TRUE(s.Start()) << ReadFileToString(s.log_path());
    // The start says which migration is under way and how much is left.
    EXPECT_NE(ReadFileToString(s.log_path()).find("is under way: 2 segments in 2 partitions await"),
              std::string::npos)
        << ReadFileToString(s.log_path());
    HttpClient c(s.port());
    HttpResult r = c.Post("/admin/datasets/cpu/migrations?resume=true", "");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.body.find("\"outcome\":\"resumed and committed\""), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("\"partitionsAlreadyDone\":1"), std::string::npos) << r.body;
    resumed = Csv(c);
    EXPECT_NE(resumed.find("zone"), std::string::npos) << resumed;
    EXPECT_EQ(resumed.find("debug"), std::string::npos) << resumed;
    EXPECT_EQ(resumed.find("region"), std::string::npos) << resumed;
    s.Stop(SIGTERM);
  }
  auto [verify_a, verify_a_out] = VerifyStorageRoot(a + "/data");
  EXPECT_EQ(verify_a, 0) << verify_a_out;

  // Root B offline: a dry run changes nothing, then the same migration.
  const std::string bin = TimestoreBinary();
  const std::string before = ManifestBytes(b + "/data");
  auto [dry_rc, dry_out] =
      Shell(StrCat(bin, " migrate --manifest ", manifest_file, " --dry-run --storage-root ", b,
                   "/data --archive-dir ", dir, "/archive-b 2>&1"));
  ASSERT_EQ(dry_rc, 0) << dry_out;
  EXPECT_NE(dry_out.find("\"partitions\":3,\"rows\":36"), std::string::npos) << dry_out;
  EXPECT_EQ(ManifestBytes(b + "/data"), before);
  auto [rc, out] =
      Shell(StrCat(bin, " migrate --manifest ", manifest_file, " --execute --storage-root ", b,
                   "/data --archive-dir ", dir, "/archive-b 2>&1"));
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("\"outcome\":\"committed\""), std::string::npos) << out;
  {
    TestServer s(b);
    ASSERT_TRUE(s.Start()) << ReadFileToString(s.log_path());
    HttpClient c(s.port());
    EXPECT_EQ(Csv(c), resumed);
    // The CLI through the server's route: another dry run is refused (the
    // columns it renames are gone), with the server's message.
    auto [rc2, out2] = Shell(StrCat(bin, " migrate --manifest ", manifest_file,
                                    " --server http://127.0.0.1:", s.port(), " 2>&1"));
    EXPECT_EQ(rc2, 1) << out2;
    EXPECT_NE(out2.find("has no column \\\"region\\\""), std::string::npos) << out2;
    s.Stop(SIGTERM);
  }
  // The archives of both runs are the same bytes.
  for (int day = 0; day < 3; ++day) {
    const std::string name = StrCat("/cpu-", kStart + day * kDay, "-debug.jsonl");
    const std::string got = ReadFileToString(MigrationDir(dir + "/archive-a") + name);
    EXPECT_EQ(got, ReadFileToString(MigrationDir(dir + "/archive-b") + name)) << name;
    EXPECT_EQ(std::count(got.begin(), got.end(), '\n'), 12) << got;
  }
  std::filesystem::remove_all(dir);
}

// Killed after a partition's files were written but before its edit: the
// start removes the stray files and the offline CLI resumes from the start;
// killed right after the begin edit: the CLI through the server rolls back
// to the rows as they were, and runs it again.
TEST(MigrateE2ETest, KilledBeforeAnEditResumesOrRollsBack) {
  const std::string dir = MakeTempDir();
  const std::string bin = TimestoreBinary();
  const std::string manifest_file = dir + "/migration.yaml";
  std::ofstream(manifest_file) << kManifest;
  const std::string ref = dir + "/ref", c = dir + "/c", d = dir + "/d";
  Prepare(ref);
  Prepare(c);
  Prepare(d);
  std::string want;
  {
    TestServer s(ref);
    ASSERT_TRUE(s.Start()) << ReadFileToString(s.log_path());
    HttpClient http(s.port());
    HttpResult r = http.Post(StrCat("/admin/datasets/cpu/migrations?archiveDir=", dir, "/arch-ref"),
                             std::string(kManifest));
    ASSERT_EQ(r.status, 200) << r.body;
    want = Csv(http);
    s.Stop(SIGTERM);
  }
  {
    TestServer s(c, {{"TIMESTORE_TEST_CRASH_POINT", "migrate.partition_written"}});
    ASSERT_TRUE(s.Start()) << ReadFileToString(s.log_path());
    HttpClient http(s.port());
    EXPECT_EQ(http.Post("/admin/datasets/cpu/migrations", std::string(kManifest)).status, 0);
    s.Stop(SIGKILL);
  }
  {
    TestServer s(c);
    ASSERT_TRUE(s.Start()) << ReadFileToString(s.log_path());
    const std::string log = ReadFileToString(s.log_path());
    EXPECT_NE(log.find("is under way: 3 segments in 3 partitions await"), std::string::npos) << log;
    s.Stop(SIGTERM);
  }
  auto [rc, out] =
      Shell(StrCat(bin, " migrate --resume --dataset cpu --storage-root ", c, "/data 2>&1"));
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("\"outcome\":\"resumed and committed\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"partitionsAlreadyDone\":0"), std::string::npos) << out;
  // The archive went where the migration began: the default under the root.
  EXPECT_EQ(
      ReadFileToString(
          StrCat(MigrationDir(c + "/data/migration-archive"), "/cpu-", kStart, "-debug.jsonl")),
      ReadFileToString(StrCat(MigrationDir(dir + "/arch-ref"), "/cpu-", kStart, "-debug.jsonl")));
  {
    TestServer s(c);
    ASSERT_TRUE(s.Start()) << ReadFileToString(s.log_path());
    HttpClient http(s.port());
    EXPECT_EQ(Csv(http), want);
    s.Stop(SIGTERM);
  }
  auto [verify_c, verify_c_out] = VerifyStorageRoot(c + "/data");
  EXPECT_EQ(verify_c, 0) << verify_c_out;

  std::string before;
  {
    TestServer s(d, {{"TIMESTORE_TEST_CRASH_POINT", "migrate.begun"}});
    ASSERT_TRUE(s.Start()) << ReadFileToString(s.log_path());
    HttpClient http(s.port());
    before = Csv(http);
    EXPECT_EQ(http.Post("/admin/datasets/cpu/migrations", std::string(kManifest)).status, 0);
    s.Stop(SIGKILL);
  }
  {
    TestServer s(d);
    ASSERT_TRUE(s.Start()) << ReadFileToString(s.log_path());
    HttpClient http(s.port());
    // Under way: queries answer under the new schema, the transformed column null.
    const std::string mid = Csv(http);
    EXPECT_NE(mid.find("zone"), std::string::npos) << mid;
    const std::string server = StrCat(" --server http://127.0.0.1:", s.port());
    auto [rb, rb_out] = Shell(StrCat(bin, " migrate --rollback --dataset cpu", server, " 2>&1"));
    ASSERT_EQ(rb, 0) << rb_out;
    EXPECT_NE(rb_out.find("\"outcome\":\"rolled back\""), std::string::npos) << rb_out;
    EXPECT_EQ(Csv(http), before);
    auto [ex, ex_out] =
        Shell(StrCat(bin, " migrate --manifest ", manifest_file, " --execute", server, " 2>&1"));
    ASSERT_EQ(ex, 0) << ex_out;
    EXPECT_EQ(Csv(http), want);
    s.Stop(SIGTERM);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace timestore::testing
