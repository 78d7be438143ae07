// Connector checkpoints, start plans, file fingerprints and durable dead letters.
#include "tests/connectors/connectors_fixture.h"

namespace timestore::connectors {
namespace {

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

}  // namespace
}  // namespace timestore::connectors
