#include "common/env.h"

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "absl/status/status.h"
#include "common/strings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace timestore {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class EnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/timestore_env_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(std::string_view name) const { return JoinPath(dir_, name); }
  std::string Read(const std::string& path) {
    auto r = Env::Default()->ReadFile(path);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : std::string("<unreadable>");
  }

  std::string dir_;
};

TEST(PathTest, JoinAndDirName) {
  EXPECT_EQ(JoinPath("a", "b"), "a/b");
  EXPECT_EQ(JoinPath("a/", "b"), "a/b");
  EXPECT_EQ(JoinPath("", "b"), "b");
  EXPECT_EQ(DirName("/x/y/z"), "/x/y");
  EXPECT_EQ(DirName("/x/y/"), "/x");
  EXPECT_EQ(DirName("/x"), "/");
  EXPECT_EQ(DirName("x"), ".");
}

TEST_F(EnvTest, WriteFileAtomicallyLeavesNoTmp) {
  Env* env = Env::Default();
  const std::string path = Path("MANIFEST");
  ASSERT_TRUE(WriteFileAtomically(env, path, "first").ok());
  EXPECT_EQ(Read(path), "first");
  ASSERT_TRUE(WriteFileAtomically(env, path, std::string(100000, 'x')).ok());
  EXPECT_EQ(Read(path), std::string(100000, 'x'));
  ASSERT_TRUE(WriteFileAtomically(env, path, "").ok());
  EXPECT_EQ(Read(path), "");
  EXPECT_FALSE(env->FileExists(path + ".tmp"));
  EXPECT_THAT(*env->ListDir(dir_), ElementsAre("MANIFEST"));
}

TEST_F(EnvTest, WriteFileAtomicallyFailureKeepsOldContents) {
  FaultInjectionEnv env(Env::Default());
  const std::string path = Path("CURRENT");
  ASSERT_TRUE(WriteFileAtomically(&env, path, "old").ok());
  env.FailAppends(absl::ResourceExhaustedError("no space"));
  absl::Status s = WriteFileAtomically(&env, path, "new");
  EXPECT_EQ(s, absl::ResourceExhaustedError("no space"));
  EXPECT_EQ(Read(path), "old");
  env.ClearFaults();
  env.FailSyncs(absl::InternalError("EIO"));
  EXPECT_EQ(WriteFileAtomically(&env, path, "new").code(), absl::StatusCode::kInternal);
  EXPECT_EQ(Read(path), "old");
}

TEST_F(EnvTest, PosixBasics) {
  Env* env = Env::Default();
  const std::string path = Path("a/b/c/f");
  ASSERT_TRUE(env->CreateDirs(DirName(path)).ok());
  ASSERT_TRUE(env->CreateDirs(DirName(path)).ok());  // idempotent
  auto f = env->NewWritableFile(path);
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_TRUE((*f)->Append("hello").ok());
  ASSERT_TRUE((*f)->Append(" world").ok());
  EXPECT_EQ((*f)->Size(), 11u);
  ASSERT_TRUE((*f)->Sync().ok());
  ASSERT_TRUE((*f)->Close().ok());
  ASSERT_TRUE((*f)->Close().ok());  // idempotent
  EXPECT_EQ(Read(path), "hello world");

  auto a = env->NewAppendableFile(path);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ((*a)->Size(), 11u);
  ASSERT_TRUE((*a)->Append("!").ok());
  ASSERT_TRUE((*a)->Close().ok());
  EXPECT_EQ(Read(path), "hello world!");
  EXPECT_EQ(*env->FileSize(path), 12u);

  ASSERT_TRUE(env->TruncateFile(path, 5).ok());
  EXPECT_EQ(Read(path), "hello");
  ASSERT_TRUE(env->RenameFile(path, path + "2").ok());
  EXPECT_FALSE(env->FileExists(path));
  ASSERT_TRUE(env->RemoveFile(path + "2").ok());
  EXPECT_EQ(env->ReadFile(path + "2").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(env->RemoveFile(path).code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(ToStd(env->ReadFile(path).status().message()), HasSubstr(path));

  // A regular file in the way of a directory.
  ASSERT_TRUE(WriteFileAtomically(env, Path("plain"), "x").ok());
  EXPECT_EQ(env->CreateDirs(Path("plain")).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(EnvTest, FailAppendsReturnsInjectedStatusAndWritesNothing) {
  FaultInjectionEnv env(Env::Default());
  const std::string path = Path("f");
  auto f = env.NewWritableFile(path);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("keep").ok());
  const absl::Status enospc = absl::ResourceExhaustedError("injected ENOSPC");
  env.FailAppends(enospc);
  EXPECT_EQ((*f)->Append("lost"), enospc);
  EXPECT_EQ((*f)->Append("lost again"), enospc);
  EXPECT_EQ((*f)->Size(), 4u);
  EXPECT_EQ(Read(path), "keep");
  // Other operations are unaffected.
  EXPECT_TRUE((*f)->Sync().ok());
  env.ClearFaults();
  ASSERT_TRUE((*f)->Append("+more").ok());
  EXPECT_EQ(Read(path), "keep+more");
}

TEST_F(EnvTest, ShortWriteNextWritesOnlyAPrefixThenFails) {
  FaultInjectionEnv env(Env::Default());
  const std::string path = Path("f");
  auto f = env.NewWritableFile(path);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("0123").ok());
  env.ShortWriteNext(3);
  absl::Status s = (*f)->Append("abcdef");
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(ToStd(s.message()), HasSubstr(path));
  EXPECT_EQ(Read(path), "0123abc");
  EXPECT_EQ((*f)->Size(), 7u);
  // Only the next append is short.
  ASSERT_TRUE((*f)->Append("XYZ").ok());
  EXPECT_EQ(Read(path), "0123abcXYZ");
  // A short write of zero bytes writes nothing; one longer than the data writes
  // it all and still fails.
  env.ShortWriteNext(0);
  EXPECT_FALSE((*f)->Append("q").ok());
  env.ShortWriteNext(100);
  EXPECT_FALSE((*f)->Append("r").ok());
  EXPECT_EQ(Read(path), "0123abcXYZr");
}

TEST_F(EnvTest, FailSyncs) {
  FaultInjectionEnv env(Env::Default());
  auto f = env.NewWritableFile(Path("f"));
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("a").ok());
  const absl::Status eio = absl::InternalError("injected EIO");
  env.FailSyncs(eio);
  EXPECT_EQ((*f)->Sync(), eio);
  EXPECT_EQ(env.SyncDir(dir_), eio);
  ASSERT_TRUE((*f)->Append("b").ok());  // appends still work
  // The failed sync made nothing durable.
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  EXPECT_EQ(Read(Path("f")), "");
  env.ClearFaults();
  EXPECT_TRUE(env.SyncDir(dir_).ok());
}

TEST_F(EnvTest, DropUnsyncedDataTruncatesToLastSyncedSize) {
  FaultInjectionEnv env(Env::Default());
  const std::string a = Path("a"), b = Path("b"), c = Path("c");
  auto fa = env.NewWritableFile(a);
  auto fb = env.NewWritableFile(b);
  ASSERT_TRUE(fa.ok() && fb.ok());
  ASSERT_TRUE((*fa)->Append("hello").ok());
  ASSERT_TRUE((*fa)->Sync().ok());
  ASSERT_TRUE((*fa)->Append(" world").ok());
  ASSERT_TRUE((*fb)->Append("never synced").ok());
  // Files the env never wrote are left alone.
  ASSERT_TRUE(WriteFileAtomically(Env::Default(), c, "untouched").ok());

  ASSERT_TRUE(env.DropUnsyncedData().ok());
  EXPECT_EQ(Read(a), "hello");
  EXPECT_EQ(Read(b), "");
  EXPECT_EQ(Read(c), "untouched");

  // Reopening for append keeps what is on disk as the synced baseline.
  ASSERT_TRUE((*fa)->Close().ok());
  auto fa2 = env.NewAppendableFile(a);
  ASSERT_TRUE(fa2.ok());
  ASSERT_TRUE((*fa2)->Append("!!").ok());
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  EXPECT_EQ(Read(a), "hello");
}

TEST_F(EnvTest, DropUnsyncedDataFollowsRenamesAndRemoves) {
  FaultInjectionEnv env(Env::Default());
  ASSERT_TRUE(WriteFileAtomically(&env, Path("m"), "durable").ok());
  EXPECT_FALSE(env.FileExists(Path("m.tmp")));
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  EXPECT_EQ(Read(Path("m")), "durable");

  auto f = env.NewWritableFile(Path("gone"));
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("x").ok());
  ASSERT_TRUE(env.RemoveFile(Path("gone")).ok());
  ASSERT_TRUE(env.DropUnsyncedData().ok());  // must not recreate it
  EXPECT_FALSE(env.FileExists(Path("gone")));
}

// Truncating below the synced size used to leave the old synced size in place,
// so DropUnsyncedData "restored" it by zero-extending the file.
TEST_F(EnvTest, TruncateBelowSyncedSizeIsNotUndoneByDrop) {
  FaultInjectionEnv env(Env::Default());
  const std::string path = Path("f");
  auto f = env.NewWritableFile(path);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("hello world").ok());
  ASSERT_TRUE((*f)->Sync().ok());
  ASSERT_TRUE(env.TruncateFile(path, 5).ok());
  ASSERT_TRUE(env.DropUnsyncedData().ok());
  EXPECT_EQ(Read(path), "hello");
}

}  // namespace
}  // namespace timestore
