#include "tiering/block_cache.h"

#include <sys/stat.h>

#include <algorithm>
#include <random>
#include <vector>

#include "common/checksum.h"
#include "common/coding.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "spdlog/spdlog.h"

namespace timestore::tiering {
namespace {

constexpr uint32_t kMagic = 0x43425354;  // "TSBC" little-endian; never change
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 40;
constexpr size_t kMaxNameBytes = 4096;

struct Header {
  uint64_t checksum = 0;
  uint64_t offset = 0;
  uint64_t length = 0;
  std::string_view name;
  std::string_view data;
};

// Parses an entry's bytes; false when they are not an intact entry.
bool ParseEntry(std::string_view bytes, Header* h, bool check_data) {
  if (bytes.size() < kHeaderBytes) return false;
  if (DecodeFixed32(bytes.data()) != kMagic || DecodeFixed32(bytes.data() + 4) != kVersion)
    return false;
  h->checksum = DecodeFixed64(bytes.data() + 8);
  h->offset = DecodeFixed64(bytes.data() + 16);
  h->length = DecodeFixed64(bytes.data() + 24);
  const uint32_t name_len = DecodeFixed32(bytes.data() + 32);
  if (name_len > kMaxNameBytes || bytes.size() < kHeaderBytes + name_len) return false;
  h->name = bytes.substr(kHeaderBytes, name_len);
  if (!check_data) return true;
  h->data = bytes.substr(kHeaderBytes + name_len);
  if (h->data.size() != h->length) return false;
  return Checksum64(bytes.substr(16)) == h->checksum;
}

std::string EncodeEntry(std::string_view object, uint64_t offset, std::string_view data) {
  std::string out;
  out.reserve(kHeaderBytes + object.size() + data.size());
  PutFixed32(&out, kMagic);
  PutFixed32(&out, kVersion);
  PutFixed64(&out, 0);  // checksum, filled below
  PutFixed64(&out, offset);
  PutFixed64(&out, data.size());
  PutFixed32(&out, static_cast<uint32_t>(object.size()));
  PutFixed32(&out, 0);
  out.append(object);
  out.append(data);
  EncodeFixed64(out.data() + 8, Checksum64(std::string_view(out).substr(16)));
  return out;
}

int64_t FileTime(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

bool ParseName(std::string_view file, uint64_t* name) {
  if (file.size() != 20 || !file.ends_with(".blk")) return false;
  return ParseInt(file.substr(0, 16), name, 16);
}

}  // namespace

uint64_t BlockCacheName(std::string_view object, uint64_t offset, uint64_t length) {
  std::string key(object);
  PutFixed64(&key, offset);
  PutFixed64(&key, length);
  return Checksum64(key);
}

absl::StatusOr<std::unique_ptr<BlockCache>> BlockCache::Open(Env* env, std::string dir,
                                                             uint64_t max_bytes) {
  std::unique_ptr<BlockCache> c(new BlockCache(env, std::move(dir), max_bytes));
  c->stats_.max_bytes = max_bytes;
  RETURN_IF_ERROR(env->CreateDirs(c->dir_));
  RETURN_IF_ERROR(c->Scan());
  return c;
}

std::string BlockCache::PathOf(uint64_t name) const {
  char buf[17];
  snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(name));
  return JoinPath(JoinPath(dir_, std::string_view(buf, 2)),
                  StrCat(std::string_view(buf, 16), ".blk"));
}

absl::Status BlockCache::Scan() {
  struct Found {
    uint64_t name;
    int64_t time;
    Entry entry;
  };
  std::vector<Found> found;
  ASSIGN_OR_RETURN(std::vector<std::string> subdirs, env_->ListDir(dir_));
  uint64_t removed = 0;
  for (const std::string& sub : subdirs) {
    const std::string subdir = JoinPath(dir_, sub);
    auto files = env_->ListDir(subdir);
    if (!files.ok()) continue;
    for (const std::string& f : *files) {
      const std::string path = JoinPath(subdir, f);
      uint64_t name = 0;
      Header h;
      bool ok = ParseName(f, &name) && PathOf(name) == path;
      uint64_t size = 0;
      if (ok) {
        auto file = env_->NewRandomAccessFile(path);
        ok = file.ok();
        if (ok) {
          size = (*file)->Size();
          std::string head;
          ok = (*file)
                   ->ReadAt(0, std::min<uint64_t>(size, kHeaderBytes + kMaxNameBytes), &head)
                   .ok() &&
               ParseEntry(head, &h, false) && size == kHeaderBytes + h.name.size() + h.length &&
               BlockCacheName(h.name, h.offset, h.length) == name;
          if (ok) {
            Entry e;
            e.object = std::string(h.name);
            e.offset = h.offset;
            e.length = h.length;
            e.file_bytes = size;
            found.push_back(Found{name, FileTime(path), std::move(e)});
          }
        }
      }
      if (!ok) {
        (void)env_->RemoveFile(path);  // a temporary of a crash, or damage
        ++removed;
      }
    }
  }
  // Oldest first, so the newest end up at the front of the LRU list.
  std::sort(found.begin(), found.end(),
            [](const Found& a, const Found& b) { return a.time < b.time; });
  std::vector<std::string> evict;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (Found& f : found) {
      lru_.push_front(f.name);
      f.entry.lru = lru_.begin();
      stats_.bytes += f.entry.file_bytes;
      index_.emplace(f.name, std::move(f.entry));
    }
    while (stats_.bytes > max_bytes_ && !lru_.empty()) {
      const uint64_t victim = lru_.back();
      evict.push_back(PathOf(victim));
      Unlink(victim);
      ++stats_.evictions;
    }
    stats_.entries = index_.size();
  }
  for (const auto& p : evict) (void)env_->RemoveFile(p);
  if (!found.empty() || removed > 0) {
    spdlog::info("block cache {}: {} entries ({} bytes) kept from before, {} stray files removed",
                 dir_, found.size() - evict.size(), stats_.bytes, removed);
  }
  return absl::OkStatus();
}

void BlockCache::Unlink(uint64_t name) {
  auto it = index_.find(name);
  if (it == index_.end()) return;
  stats_.bytes -= it->second.file_bytes;
  lru_.erase(it->second.lru);
  index_.erase(it);
  stats_.entries = index_.size();
}

bool BlockCache::Lookup(std::string_view object, uint64_t offset, uint64_t length,
                        std::string* out) {
  const uint64_t name = BlockCacheName(object, offset, length);
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = index_.find(name);
    if (it == index_.end() || it->second.object != object || it->second.offset != offset ||
        it->second.length != length) {
      ++stats_.misses;
      return false;
    }
    lru_.splice(lru_.begin(), lru_, it->second.lru);
  }
  const std::string path = PathOf(name);
  auto bytes = env_->ReadFile(path);
  Header h;
  if (bytes.ok() && ParseEntry(*bytes, &h, true) && h.name == object && h.offset == offset) {
    out->assign(h.data);
    std::lock_guard<std::mutex> l(mu_);
    ++stats_.hits;
    return true;
  }
  bool damaged = bytes.ok();  // an entry evicted meanwhile is just gone
  {
    std::lock_guard<std::mutex> l(mu_);
    ++stats_.misses;
    if (damaged) {
      ++stats_.corrupt_dropped;
      Unlink(name);
    }
  }
  if (damaged) {
    spdlog::warn("block cache entry {} ({} bytes {}+{}) failed its checksum; dropped", path, object,
                 offset, length);
    (void)env_->RemoveFile(path);
  }
  return false;
}

void BlockCache::Insert(std::string_view object, uint64_t offset, std::string_view data) {
  if (object.size() > kMaxNameBytes) return;
  const uint64_t file_bytes = kHeaderBytes + object.size() + data.size();
  if (max_bytes_ == 0 || file_bytes > max_bytes_) return;
  const uint64_t name = BlockCacheName(object, offset, data.size());
  const std::string path = PathOf(name);
  {
    std::lock_guard<std::mutex> l(mu_);
    if (index_.contains(name)) return;
  }
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  const std::string tmp = StrCat(path, ".", rng() % 1000000, ".tmp");
  absl::Status s = env_->CreateDirs(DirName(path));
  if (s.ok()) {
    auto f = env_->NewWritableFile(tmp);
    s = f.status();
    if (s.ok()) s = (*f)->Append(EncodeEntry(object, offset, data));
    if (s.ok()) s = (*f)->Close();
    if (s.ok()) s = env_->RenameFile(tmp, path);
  }
  if (!s.ok()) {
    (void)env_->RemoveFile(tmp);
    std::lock_guard<std::mutex> l(mu_);
    ++stats_.write_failures;
    return;
  }
  std::vector<std::string> evict;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!index_.contains(name)) {
      lru_.push_front(name);
      Entry e;
      e.object = std::string(object);
      e.offset = offset;
      e.length = data.size();
      e.file_bytes = file_bytes;
      e.lru = lru_.begin();
      index_.emplace(name, std::move(e));
      stats_.bytes += file_bytes;
      ++stats_.inserts;
    }
    while (stats_.bytes > max_bytes_ && !lru_.empty()) {
      const uint64_t victim = lru_.back();
      evict.push_back(PathOf(victim));
      Unlink(victim);
      ++stats_.evictions;
    }
    stats_.entries = index_.size();
  }
  for (const auto& p : evict) (void)env_->RemoveFile(p);
}

void BlockCache::Erase(std::string_view object, uint64_t offset, uint64_t length) {
  const uint64_t name = BlockCacheName(object, offset, length);
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!index_.contains(name)) return;
    Unlink(name);
  }
  (void)env_->RemoveFile(PathOf(name));
}

void BlockCache::EraseObject(std::string_view object) {
  std::vector<uint64_t> names;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [name, e] : index_)
      if (e.object == object) names.push_back(name);
    for (uint64_t n : names) Unlink(n);
  }
  for (uint64_t n : names) (void)env_->RemoveFile(PathOf(n));
}

BlockCacheStats BlockCache::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return stats_;
}

}  // namespace timestore::tiering
