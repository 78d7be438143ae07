// Disk full (issue 13, "Proof under faults and load"): the real server with
// its storage root on a small tmpfs the test mounts (root or CAP_SYS_ADMIN;
// skipped with the reason otherwise). A filler file takes most of the space,
// then ingest runs the disk out:
//   - ingest answers 503 storage_full with Retry-After, never a 2xx for rows
//     that were not made durable, and everything acknowledged stays queryable;
//   - seals and compactions fail meanwhile (503), and the store they leave
//     verifies clean (`timestore verify` after a stop);
//   - once the filler is deleted, ingest, seals and compaction resume without
//     a restart, and after one every acknowledged batch is there exactly once.
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "common/strings.h"
#include "tests/e2e/test_server.h"

namespace timestore::testing {
namespace {

constexpr int kRowsPerBatch = 100;
const std::vector<std::pair<std::string, std::string>> kNdjson = {
    {"Content-Type", "application/x-ndjson"}};

class DiskFullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    mount_ = dir_ + "/data";
    std::filesystem::create_directories(mount_);
    if (::mount("tmpfs", mount_.c_str(), "tmpfs", 0, "size=24m") != 0) {
      const int e = errno;
      GTEST_SKIP() << "cannot mount a tmpfs at " << mount_ << ": " << std::strerror(e)
                   << " (the disk-full test needs root or CAP_SYS_ADMIN)";
    }
    mounted_ = true;
  }
  void TearDown() override {
    server_.reset();  // SIGKILL if still running, so the mount is not busy
    if (mounted_ && ::umount2(mount_.c_str(), 0) != 0) ::umount2(mount_.c_str(), MNT_DETACH);
    std::filesystem::remove_all(dir_);
  }

  void StartServer() {
    server_ = std::make_unique<TestServer>(dir_, std::map<std::string, std::string>{
                                                     {"TIMESTORE_SEAL_MAX_ROWS", "2000"},
                                                     {"TIMESTORE_SEAL_MAX_AGE_MS", "100"},
                                                     {"TIMESTORE_WAL_MAX_FILE_BYTES", "256KiB"},
                                                     {"TIMESTORE_COMPACTION_MIN_SEGMENTS", "2"},
                                                     {"TIMESTORE_COMPACTION_INTERVAL_MS", "50"},
                                                     {"TIMESTORE_COMPACTION_QUIET", "100ms"},
                                                 });
    ASSERT_TRUE(server_->Start()) << "server did not start; see " << server_->log_path();
  }

  uint64_t FreeBytes() {
    struct statvfs st {};
    if (::statvfs(mount_.c_str(), &st) != 0) return 0;
    return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
  }

  // Takes all but `leave` bytes of the file system with a filler file.
  void Fill(uint64_t leave) {
    filler_ = mount_ + "/filler";
    const int fd = ::open(filler_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    std::string chunk(64 << 10, 'f');
    while (FreeBytes() > leave + chunk.size()) {
      if (::write(fd, chunk.data(), chunk.size()) <= 0) break;
    }
    ::close(fd);
  }

  // A batch of hard-to-compress rows: random hex strings and doubles.
  std::string Batch(int b) {
    std::string body;
    std::mt19937_64 rng(static_cast<uint64_t>(b) * 7919 + 1);
    const std::string bid = StrCat("b", b);
    for (int k = 0; k < kRowsPerBatch; ++k) {
      char hex[65];
      for (int i = 0; i < 64; ++i) hex[i] = "0123456789abcdef"[rng() % 16];
      hex[64] = '\0';
      StrAppend(&body, "{\"timestamp\":", base_ms_ + b * kRowsPerBatch + k, ",\"bid\":\"", bid,
                "\",\"row\":", k, ",\"host\":\"h", k % 8, "\",\"s\":\"", hex,
                "\",\"v\":", static_cast<double>(rng() % 1000000) / 7.0, "}\n");
    }
    return body;
  }

  // Posts batch `b` once; 200 adds it to acked_. Anything else must be a
  // 503 with Retry-After: the disk is full (storage_full) or a retry of the
  // same key is in doubt (request_in_progress).
  int Post(HttpClient& c, int b) {
    posted_.insert(b);
    auto r = c.Post("/datasets/d/ingest", Batch(b), {kNdjson[0], {"Idempotency-Key", StrCat(b)}});
    if (r.status == 200) {
      acked_.insert(b);
    } else {
      EXPECT_EQ(r.status, 503) << r.body;
      EXPECT_FALSE(r.headers["retry-after"].empty()) << r.body;
      if (r.body.find("storage_full") != std::string::npos) ++storage_full_;
    }
    return r.status;
  }

  // Every acknowledged batch is present with all its rows once; nothing
  // present was never posted; nothing is partial.
  void ExpectAckedPresent(const std::string& when) {
    SCOPED_TRACE(when);
    HttpClient c(server_->port());
    auto r = c.Post(
        "/datasets/d/query",
        R"({"timeRange":{"start":0,"end":"2100-01-01T00:00:00Z"},)"
        R"("downsample":{"groupBy":["bid"],"aggregations":[)"
        R"({"fn":"count","alias":"rows"},{"fn":"count_distinct","column":"row","alias":"distinct"}]},)"
        R"("limit":1000000})");
    ASSERT_EQ(r.status, 200) << r.body;
    simdjson::dom::parser p;
    simdjson::dom::element doc;
    ASSERT_FALSE(p.parse(r.body).get(doc)) << r.body;
    std::set<int> present;
    for (auto row : simdjson::dom::array(doc["rows"])) {
      std::string_view bid = row["bid"];
      const int b = std::atoi(std::string(bid.substr(1)).c_str());
      present.insert(b);
      EXPECT_EQ(int64_t(row["rows"]), kRowsPerBatch) << "batch " << b << " partial or doubled";
      EXPECT_EQ(int64_t(row["distinct"]), kRowsPerBatch) << "batch " << b;
      EXPECT_TRUE(posted_.count(b)) << "batch " << b << " was never posted";
    }
    for (int b : acked_) EXPECT_TRUE(present.count(b)) << "acknowledged batch " << b << " lost";
  }

  uint64_t StatusNumber(const char* section, const char* key) {
    HttpClient c(server_->port());
    auto s = c.Get("/status");
    simdjson::dom::parser p;
    uint64_t n = 0;
    if (s.status != 200 || p.parse(s.body)[section][key].get(n)) return 0;
    return n;
  }

  uint64_t HotRows() {
    HttpClient c(server_->port());
    auto s = c.Get("/status");
    simdjson::dom::parser p;
    simdjson::dom::element doc;
    if (s.status != 200 || p.parse(s.body).get(doc)) return ~0ull;
    uint64_t rows = 0;
    for (auto ds : simdjson::dom::array(doc["datasets"]["items"])) rows += uint64_t(ds["hotRows"]);
    return rows;
  }

  // Ingests until the disk is full: at least `full_answers` storage_full
  // answers, with seals and compactions failing behind them.
  void IngestUntilFull(int full_answers) {
    HttpClient c(server_->port());
    for (int i = 0; i < 20; ++i) ASSERT_EQ(Post(c, next_++), 200);  // room left: all stored
    Fill(1 << 20);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (storage_full_ < full_answers && std::chrono::steady_clock::now() < deadline) {
      Post(c, next_++);
    }
    ASSERT_GE(storage_full_, full_answers) << "the disk never filled; free: " << FreeBytes();
    // Seals and compactions meet the full disk too: refused, never a false 200.
    for (const char* op : {"flush", "compact"}) {
      auto r = c.Post(StrCat("/admin/datasets/d/", op), "");
      EXPECT_TRUE(r.status == 200 || r.status == 503) << op << ": " << r.status << " " << r.body;
    }
  }

  std::string dir_, mount_, filler_;
  bool mounted_ = false;
  std::unique_ptr<TestServer> server_;
  int64_t base_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  int next_ = 0;
  int storage_full_ = 0;
  std::set<int> posted_, acked_;
};

// Full, then freed: ingest, seals and compaction come back by themselves.
TEST_F(DiskFullTest, IngestAndSealsResumeWithoutRestartOnceSpaceIsFreed) {
  StartServer();
  IngestUntilFull(20);
  ExpectAckedPresent("while the disk is full");

  ASSERT_EQ(::unlink(filler_.c_str()), 0);
  HttpClient c(server_->port());
  // Ingest resumes: the next batches are stored.
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (status != 200 && std::chrono::steady_clock::now() < deadline) {
    status = Post(c, next_++);
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(status, 200) << "ingest did not resume once space was freed";
  for (int i = 0; i < 10; ++i) EXPECT_EQ(Post(c, next_++), 200);
  // Seals resume: a flush seals everything in memory, and the background
  // sealer keeps up (nothing stays hot).
  HttpResult flush;
  for (int i = 0; i < 100 && flush.status != 200; ++i) {
    flush = c.Post("/admin/datasets/d/flush", "");
    if (flush.status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(flush.status, 200) << "seals did not resume: " << flush.body;
  uint64_t hot = HotRows();
  for (int i = 0; i < 300 && hot != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    hot = HotRows();
  }
  EXPECT_EQ(hot, 0u) << "rows stay in memory: the sealer did not resume";
  auto compact = c.Post("/admin/datasets/d/compact", "");
  EXPECT_EQ(compact.status, 200) << "compaction did not resume: " << compact.body;
  ExpectAckedPresent("after space was freed");

  server_->Stop(SIGTERM);
  auto [rc, out] = VerifyStorageRoot(server_->storage_root());
  EXPECT_EQ(rc, 0) << out;
  StartServer();
  ExpectAckedPresent("after a restart");
}

// Stopped while full: the files failed seals and compactions left verify
// clean, and a restart once there is room has every acknowledged batch.
TEST_F(DiskFullTest, StoreStoppedWhileFullVerifiesClean) {
  StartServer();
  IngestUntilFull(10);
  ExpectAckedPresent("while the disk is full");
  // Let the background sealer and compactor run into the full disk a while.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const int stopped = server_->Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(stopped)) << "status " << stopped;
  auto [rc, out] = VerifyStorageRoot(server_->storage_root());
  EXPECT_EQ(rc, 0) << out;
  ASSERT_EQ(::unlink(filler_.c_str()), 0);
  StartServer();
  ExpectAckedPresent("after a restart with room");
}

}  // namespace
}  // namespace timestore::testing
