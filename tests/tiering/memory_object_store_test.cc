#include "tiering/memory_object_store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/e2e/test_server.h"

namespace timestore::tiering {
namespace {

TEST(MemoryObjectStoreTest, PutGetRangesListDelete) {
  MemoryObjectStore s;
  ASSERT_TRUE(s.Put("d/1", "hello world").ok());
  ASSERT_TRUE(s.Put("d/2", "x").ok());
  ASSERT_TRUE(s.Put("e/1", "y").ok());
  std::string a, b;
  RangeRead reads[] = {{"d/1", 0, 5, &a}, {"d/1", 6, 5, &b}};
  RequestCounters c;
  ASSERT_TRUE(s.GetRanges(reads, Clock::now() + std::chrono::seconds(1), &c).ok());
  EXPECT_EQ(a, "hello");
  EXPECT_EQ(b, "world");
  EXPECT_EQ(c.requests, 2u);
  EXPECT_EQ(c.bytes_in, 10u);
  auto list = s.List("d/");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[1].key, "d/2");
  ASSERT_TRUE(s.Delete("d/1").ok());
  ASSERT_TRUE(s.Delete("d/1").ok());  // absent: still OK
  EXPECT_TRUE(absl::IsNotFound(s.Head("d/1").status()));
}

TEST(MemoryObjectStoreTest, FaultsAndLatency) {
  MemoryObjectStore s;
  ASSERT_TRUE(s.Put("k", "v").ok());
  s.FailNext(MemoryObjectStore::kGet, 1, absl::UnavailableError("503 SlowDown"));
  EXPECT_TRUE(absl::IsUnavailable(s.Get("k").status()));
  EXPECT_TRUE(s.Get("k").ok());
  s.SetLatency(std::chrono::milliseconds(200));
  std::string out;
  RangeRead r{"k", 0, 1, &out};
  auto st = s.GetRanges(std::span(&r, 1), Clock::now() + std::chrono::milliseconds(20));
  EXPECT_TRUE(absl::IsDeadlineExceeded(st)) << st;
}

TEST(MemoryObjectStoreTest, FailedMultipartPartAbortsOrStaysPending) {
  const std::string dir = timestore::testing::MakeTempDir();
  const std::string path = dir + "/f";
  {
    auto f = Env::Default()->NewWritableFile(path);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Append(std::string(1000, 'z')).ok());
    ASSERT_TRUE((*f)->Close().ok());
  }
  MemoryObjectStore s;
  s.SetMultipart(100, 300);
  ASSERT_TRUE(s.PutFile("big", Env::Default(), path).ok());
  EXPECT_EQ(s.objects()["big"].size(), 1000u);
  // A part fails and so does the abort: the upload is left pending.
  s.FailOps(MemoryObjectStore::kAbort, absl::UnavailableError("down"));
  s.FailNext(MemoryObjectStore::kPut, 1, absl::UnavailableError("down"), /*skip=*/2);
  EXPECT_FALSE(s.PutFile("big2", Env::Default(), path).ok());
  auto pending = s.ListPendingUploads("");
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  s.ClearFaults();
  ASSERT_TRUE(s.AbortUpload((*pending)[0]).ok());
  EXPECT_TRUE(s.ListPendingUploads("")->empty());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace timestore::tiering
