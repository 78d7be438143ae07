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
                                                             uint64_t max_bytes,
                                                             uint64_t memory_bytes) {
  std::unique_ptr<BlockCache> c(
      new BlockCache(env, std::move(dir), max_bytes, std::min(memory_bytes, max_bytes)));
  c->stats_.max_bytes = max_bytes;
  // Off: the directory is left as it is (a later start with a bound finds
  // its entries again).
  if (max_bytes == 0) return c;
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

namespace {

bool IsHexPair(std::string_view s) {
  auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
  return s.size() == 2 && hex(s[0]) && hex(s[1]);
}

// "<16 hex>.blk" or a temporary of one ("<16 hex>.blk.<n>.tmp").
bool IsEntryOrTemporary(std::string_view f) {
  uint64_t name;
  if (f.size() >= 20 && ParseName(f.substr(0, 20), &name)) {
    return f.size() == 20 || (f.substr(20, 1) == "." && f.ends_with(".tmp"));
  }
  return false;
}

}  // namespace

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
    if (!IsHexPair(sub)) continue;  // not ours: never touched
    const std::string subdir = JoinPath(dir_, sub);
    auto files = env_->ListDir(subdir);
    if (!files.ok()) continue;
    for (const std::string& f : *files) {
      if (!IsEntryOrTemporary(f)) continue;  // not ours: never touched
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
  size_t kept = 0;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (Found& f : found) {
      lru_.push_front(f.name);
      f.entry.lru = lru_.begin();
      stats_.bytes += f.entry.file_bytes;
      by_object_[f.entry.object].insert(f.name);
      index_.emplace(f.name, std::move(f.entry));
    }
    EvictToFit();
    stats_.entries = index_.size();
    kept = index_.size();
  }
  if (!found.empty() || removed > 0) {
    spdlog::info("block cache {}: {} entries kept from before, {} stray files removed", dir_, kept,
                 removed);
  }
  return absl::OkStatus();
}

void BlockCache::Unlink(uint64_t name) {
  auto it = index_.find(name);
  if (it == index_.end()) return;
  Entry& e = it->second;
  stats_.bytes -= e.file_bytes;
  lru_.erase(e.lru);
  if (e.data != nullptr) {
    stats_.memory_bytes -= e.data->size();
    memory_lru_.erase(e.memory_lru);
  }
  if (auto o = by_object_.find(e.object); o != by_object_.end()) {
    o->second.erase(name);
    if (o->second.empty()) by_object_.erase(o);
  }
  index_.erase(it);
  stats_.entries = index_.size();
  (void)env_->RemoveFile(PathOf(name));
}

void BlockCache::EvictToFit() {
  while (stats_.bytes > max_bytes_ && !lru_.empty()) {
    Unlink(lru_.back());
    ++stats_.evictions;
  }
}

void BlockCache::Remember(Entry& e, std::shared_ptr<const std::string> data) {
  if (memory_max_ == 0 || data->size() > memory_max_) return;
  if (e.data != nullptr) {
    memory_lru_.splice(memory_lru_.begin(), memory_lru_, e.memory_lru);
    return;
  }
  const uint64_t name = *e.lru;
  stats_.memory_bytes += data->size();
  e.data = std::move(data);
  memory_lru_.push_front(name);
  e.memory_lru = memory_lru_.begin();
  while (stats_.memory_bytes > memory_max_ && !memory_lru_.empty()) {
    Entry& old = index_.at(memory_lru_.back());
    stats_.memory_bytes -= old.data->size();
    old.data.reset();
    memory_lru_.pop_back();
  }
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
    Entry& e = it->second;
    lru_.splice(lru_.begin(), lru_, e.lru);
    if (e.data != nullptr) {
      // Memory copies were checked when they were read or written.
      memory_lru_.splice(memory_lru_.begin(), memory_lru_, e.memory_lru);
      out->assign(*e.data);
      ++stats_.hits;
      ++stats_.memory_hits;
      return true;
    }
  }
  const std::string path = PathOf(name);
  auto bytes = env_->ReadFile(path);
  Header h;
  const bool intact =
      bytes.ok() && ParseEntry(*bytes, &h, true) && h.name == object && h.offset == offset;
  if (intact) out->assign(h.data);
  std::lock_guard<std::mutex> l(mu_);
  auto it = index_.find(name);
  if (intact) {
    ++stats_.hits;
    if (it != index_.end()) Remember(it->second, std::make_shared<const std::string>(*out));
    return true;
  }
  ++stats_.misses;
  // Damaged, or gone (an eviction raced with this read): either way the
  // entry must not stay listed, or it would miss forever.
  if (bytes.ok()) {
    ++stats_.corrupt_dropped;
    spdlog::warn("block cache entry {} ({} bytes {}+{}) failed its checksum; dropped", path, object,
                 offset, length);
  }
  if (it != index_.end()) Unlink(name);
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
  }
  std::lock_guard<std::mutex> l(mu_);
  // The rename happens under the lock, so that an Unlink of the same name
  // (which deletes under the lock) cannot remove the new file afterwards.
  if (s.ok() && !index_.contains(name)) s = env_->RenameFile(tmp, path);
  if (!s.ok() || index_.contains(name)) {
    (void)env_->RemoveFile(tmp);
    if (!s.ok()) ++stats_.write_failures;
    return;
  }
  lru_.push_front(name);
  Entry e;
  e.object = std::string(object);
  e.offset = offset;
  e.length = data.size();
  e.file_bytes = file_bytes;
  e.lru = lru_.begin();
  auto [it, inserted] = index_.emplace(name, std::move(e));
  by_object_[it->second.object].insert(name);
  stats_.bytes += file_bytes;
  ++stats_.inserts;
  Remember(it->second, std::make_shared<const std::string>(data));
  EvictToFit();
  stats_.entries = index_.size();
}

void BlockCache::Erase(std::string_view object, uint64_t offset, uint64_t length) {
  std::lock_guard<std::mutex> l(mu_);
  Unlink(BlockCacheName(object, offset, length));
}

void BlockCache::EraseObject(std::string_view object) {
  std::lock_guard<std::mutex> l(mu_);
  auto o = by_object_.find(std::string(object));
  if (o == by_object_.end()) return;
  const std::vector<uint64_t> names(o->second.begin(), o->second.end());
  for (uint64_t n : names) Unlink(n);
}

BlockCacheStats BlockCache::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return stats_;
}

}  // namespace timestore::tiering
