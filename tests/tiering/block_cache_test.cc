#include "tiering/block_cache.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/e2e/test_server.h"

namespace timestore::tiering {
namespace {

class BlockCacheTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = timestore::testing::MakeTempDir(); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<BlockCache> Open(uint64_t max) {
    auto c = BlockCache::Open(Env::Default(), dir_ + "/cache", max);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *std::move(c) : nullptr;
  }
  std::vector<std::string> Files() {
    std::vector<std::string> out;
    for (auto& e : std::filesystem::recursive_directory_iterator(dir_ + "/cache"))
      if (e.is_regular_file()) out.push_back(e.path());
    return out;
  }
  std::string dir_;
};

TEST_F(BlockCacheTest, HitMissAndPersistenceAcrossReopen) {
  {
    auto c = Open(1 << 20);
    std::string out;
    EXPECT_FALSE(c->Lookup("t/a", 100, 5, &out));
    c->Insert("t/a", 100, "hello");
    ASSERT_TRUE(c->Lookup("t/a", 100, 5, &out));
    EXPECT_EQ(out, "hello");
    EXPECT_FALSE(c->Lookup("t/a", 100, 4, &out));  // another range
    EXPECT_FALSE(c->Lookup("t/b", 100, 5, &out));  // another object
    auto s = c->stats();
    EXPECT_EQ(s.hits, 1u);
    EXPECT_EQ(s.misses, 3u);
    EXPECT_EQ(s.entries, 1u);
  }
  auto c = Open(1 << 20);
  std::string out;
  ASSERT_TRUE(c->Lookup("t/a", 100, 5, &out));
  EXPECT_EQ(out, "hello");
}

TEST_F(BlockCacheTest, EvictsLeastRecentlyUsedWithinTheBound) {
  const std::string block(1000, 'x');
  auto c = Open(3500);  // three entries of ~1050 bytes fit, four do not
  c->Insert("o", 0, block);
  c->Insert("o", 1000, block);
  c->Insert("o", 2000, block);
  std::string out;
  ASSERT_TRUE(c->Lookup("o", 0, 1000, &out));  // 0 becomes the most recent
  c->Insert("o", 3000, block);                 // evicts 1000, the least recent
  EXPECT_TRUE(c->Lookup("o", 0, 1000, &out));
  EXPECT_FALSE(c->Lookup("o", 1000, 1000, &out));
  EXPECT_TRUE(c->Lookup("o", 2000, 1000, &out));
  EXPECT_TRUE(c->Lookup("o", 3000, 1000, &out));
  EXPECT_LE(c->stats().bytes, 3500u);
  EXPECT_EQ(c->stats().evictions, 1u);
  EXPECT_EQ(Files().size(), 3u);
  // A smaller bound at reopen evicts down to it.
  c.reset();
  c = Open(2200);
  EXPECT_EQ(c->stats().entries, 2u);
  EXPECT_EQ(Files().size(), 2u);
}

TEST_F(BlockCacheTest, DamagedEntryIsDroppedAndMisses) {
  auto c = Open(1 << 20);
  c->Insert("o", 0, "payload-bytes");
  auto files = Files();
  ASSERT_EQ(files.size(), 1u);
  {
    std::fstream f(files[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-3, std::ios::end);
    f.put('!');
  }
  std::string out;
  EXPECT_FALSE(c->Lookup("o", 0, 13, &out));
  EXPECT_EQ(c->stats().corrupt_dropped, 1u);
  EXPECT_TRUE(Files().empty());
  // Damaged entries and temporaries found at open are removed; files that
  // are not the cache's are never touched (the directory may be shared).
  std::filesystem::create_directories(dir_ + "/cache/ab");
  std::filesystem::create_directories(dir_ + "/cache/wal");
  std::ofstream(dir_ + "/cache/ab/abcdef0123456789.blk") << "junk";
  std::ofstream(dir_ + "/cache/ab/abcdef0123456789.blk.42.tmp") << "junk";
  std::ofstream(dir_ + "/cache/ab/notes.txt") << "keep";
  std::ofstream(dir_ + "/cache/wal/000001.wal") << "keep";
  std::ofstream(dir_ + "/cache/README") << "keep";
  c = Open(1 << 20);
  auto left = Files();
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{dir_ + "/cache/README", dir_ + "/cache/ab/notes.txt",
                                            dir_ + "/cache/wal/000001.wal"}));
}

TEST_F(BlockCacheTest, EraseObjectDropsEveryRangeOfIt) {
  auto c = Open(1 << 20);
  c->Insert("a", 0, "1");
  c->Insert("a", 5, "2");
  c->Insert("b", 0, "3");
  c->EraseObject("a");
  std::string out;
  EXPECT_FALSE(c->Lookup("a", 0, 1, &out));
  EXPECT_FALSE(c->Lookup("a", 5, 1, &out));
  EXPECT_TRUE(c->Lookup("b", 0, 1, &out));
  EXPECT_EQ(Files().size(), 1u);
}

TEST_F(BlockCacheTest, ZeroBytesDisablesItAndLeavesItsFilesAlone) {
  Open(1 << 20)->Insert("a", 0, "1");
  auto c = Open(0);
  c->Insert("b", 0, "2");
  std::string out;
  EXPECT_FALSE(c->Lookup("a", 0, 1, &out));
  EXPECT_EQ(Files().size(), 1u);
  c = Open(1 << 20);  // on again: the entry is found
  EXPECT_TRUE(c->Lookup("a", 0, 1, &out));
}

TEST_F(BlockCacheTest, MemoryCopiesServeWarmLookups) {
  auto c = *BlockCache::Open(Env::Default(), dir_ + "/cache", 1 << 20, 2500);
  const std::string block(1000, 'm');
  c->Insert("o", 0, block);
  c->Insert("o", 1000, block);
  c->Insert("o", 2000, block);  // the oldest memory copy goes (bound 2500)
  std::string out;
  ASSERT_TRUE(c->Lookup("o", 2000, 1000, &out));
  EXPECT_EQ(c->stats().memory_hits, 1u);
  ASSERT_TRUE(c->Lookup("o", 0, 1000, &out));  // from its file, then kept in memory
  EXPECT_EQ(c->stats().memory_hits, 1u);
  EXPECT_EQ(out, block);
  ASSERT_TRUE(c->Lookup("o", 0, 1000, &out));
  EXPECT_EQ(c->stats().memory_hits, 2u);
  EXPECT_LE(c->stats().memory_bytes, 2500u);
  c->EraseObject("o");
  EXPECT_FALSE(c->Lookup("o", 0, 1000, &out));
  EXPECT_EQ(c->stats().memory_bytes, 0u);
}

}  // namespace
}  // namespace timestore::tiering
