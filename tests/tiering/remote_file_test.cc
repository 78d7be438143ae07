#include "tiering/remote_file.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/status_util.h"
#include "common/strings.h"
#include "tests/e2e/test_server.h"
#include "tiering/memory_object_store.h"

namespace timestore::tiering {
namespace {

class RemoteFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = timestore::testing::MakeTempDir();
    store_ = std::make_shared<MemoryObjectStore>("bucket");
    for (int i = 0; i < 100000; ++i) data_.push_back(static_cast<char>('a' + i % 26));
    store_->SetObject("seg", data_);
    auto c = BlockCache::Open(Env::Default(), dir_ + "/cache", 1 << 20);
    ASSERT_TRUE(c.ok());
    cache_ = *std::move(c);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  RemoteFile Make(RemoteFileOptions o = {}) {
    return RemoteFile(store_, "cold", "seg", data_.size(), data_.substr(data_.size() - 100),
                      cache_.get(), o);
  }
  std::string dir_;
  std::string data_;
  std::shared_ptr<MemoryObjectStore> store_;
  std::unique_ptr<BlockCache> cache_;
};

TEST_F(RemoteFileTest, TailIsLocalCacheThenStore) {
  RemoteFile f = Make();
  EXPECT_EQ(f.path(), "memory://bucket/seg");
  std::string out;
  const uint64_t before = store_->requests();
  ASSERT_TRUE(f.ReadAt(data_.size() - 40, 40, &out).ok());
  EXPECT_EQ(out, data_.substr(data_.size() - 40));
  EXPECT_EQ(store_->requests(), before);  // the footer needs no request

  IoStats st;
  std::string a, b;
  RandomAccessFile::ReadRequest reqs[] = {{1000, 500, &a}, {50000, 10, &b}};
  ASSERT_TRUE(f.ReadManyCounted(reqs, &st).ok());
  EXPECT_EQ(a, data_.substr(1000, 500));
  EXPECT_EQ(b, data_.substr(50000, 10));
  EXPECT_EQ(st.remote_requests, 2u);  // too far apart to merge
  EXPECT_EQ(st.cache_misses, 2u);

  IoStats warm;
  a.clear();
  b.clear();
  ASSERT_TRUE(f.ReadManyCounted(reqs, &warm).ok());
  EXPECT_EQ(a, data_.substr(1000, 500));
  EXPECT_EQ(warm.remote_requests, 0u);
  EXPECT_EQ(warm.cache_hits, 2u);
  EXPECT_EQ(warm.cache_bytes, 510u);
}

TEST_F(RemoteFileTest, NearbyRangesMergeIntoOneRequest) {
  RemoteFile f = Make(RemoteFileOptions{std::chrono::seconds(5), 4096, 1 << 20});
  std::string a, b, c;
  RandomAccessFile::ReadRequest reqs[] = {{20000, 100, &c}, {10000, 100, &a}, {12000, 100, &b}};
  IoStats st;
  ASSERT_TRUE(f.ReadManyCounted(reqs, &st).ok());
  EXPECT_EQ(st.remote_requests, 2u);  // 10000 and 12000 together, 20000 alone
  EXPECT_EQ(st.remote_bytes, 2100u + 100u);
  EXPECT_EQ(a, data_.substr(10000, 100));
  EXPECT_EQ(b, data_.substr(12000, 100));
  EXPECT_EQ(c, data_.substr(20000, 100));
}

TEST_F(RemoteFileTest, StoreDownIsUnavailableNamingTheTargetWithinTheTimeout) {
  RemoteFile f = Make(RemoteFileOptions{std::chrono::milliseconds(100), 0, 1 << 20});
  store_->SetLatency(std::chrono::seconds(30));
  std::string out;
  const auto t0 = Clock::now();
  absl::Status s = f.ReadAt(0, 10, &out);
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(10));
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_NE(std::string(s.message()).find("storage target \"cold\""), std::string::npos) << s;
  EXPECT_TRUE(s.GetPayload(ToAbsl(kErrorCodePayload)).has_value());
  store_->ClearFaults();
  store_->FailOps(MemoryObjectStore::kGet, absl::UnavailableError("503 SlowDown"));
  s = f.ReadAt(0, 10, &out);
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  store_->ClearFaults();
  // Cached ranges still read while the store is down.
  ASSERT_TRUE(f.ReadAt(0, 10, &out).ok());
  store_->FailOps(MemoryObjectStore::kAll, absl::UnavailableError("down"));
  EXPECT_TRUE(f.ReadAt(0, 10, &out).ok());
}

TEST_F(RemoteFileTest, ShortOrMissingObjectsAreDataLoss) {
  RemoteFile f = Make();
  store_->SetObject("seg", data_.substr(0, 500));
  std::string out;
  absl::Status s = f.ReadAt(400, 200, &out);
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  store_->EraseObject("seg");
  s = f.ReadAt(2000, 200, &out);
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_NE(std::string(s.message()).find("missing"), std::string::npos);
  s = f.ReadAt(data_.size() - 5, 10, &out);  // past the end
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
}

TEST_F(RemoteFileTest, DropCachedForgetsTheRange) {
  RemoteFile f = Make();
  std::string out;
  ASSERT_TRUE(f.ReadAt(100, 10, &out).ok());
  f.DropCached(100, 10);
  IoStats st;
  RandomAccessFile::ReadRequest r{100, 10, &out};
  ASSERT_TRUE(f.ReadManyCounted(std::span(&r, 1), &st).ok());
  EXPECT_EQ(st.remote_requests, 1u);
}

}  // namespace
}  // namespace timestore::tiering
