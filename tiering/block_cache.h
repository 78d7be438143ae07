// BlockCache: local copies of byte ranges of remote objects (the column blocks
// of cold segments), on disk under <storage root>/cache, bounded by bytes and
// evicted least-recently-used. It survives restarts: entries are files, found
// again by a scan at open.
//
//   <dir>/<hh>/<16 hex>.blk     hh: the first two hex digits of the name
//   entry := magic u32le "TSBC" | version u32le 1 | checksum u64le |
//            offset u64le | length u64le | name_length u32le | reserved u32le |
//            name (the object's identity, e.g. "<target>/<key>") | data
//   checksum := xxh3-64 of everything after the checksum field
//
// An entry is written to a temporary name and renamed into place, never
// fsynced: a crash can lose entries (they are fetched again) but never leave
// one that passes its checksum with wrong bytes. Every Lookup verifies the
// checksum and the identity; a damaged entry is deleted and is a miss. Across
// a restart, entries are ordered for eviction by their file times. The scan
// at open only ever touches <dir>/<two hex digits>/<entry or temporary name>,
// so a directory shared with anything else loses nothing else.
//
// The most recently used entries are also kept in memory (up to
// `memory_bytes`), so a warm query reads them without a file system call.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "common/env.h"

namespace timestore::tiering {

struct BlockCacheStats {
  uint64_t entries = 0;
  uint64_t bytes = 0;  // on disk, headers included
  uint64_t max_bytes = 0;
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t inserts = 0;
  uint64_t evictions = 0;
  uint64_t corrupt_dropped = 0;  // entries that failed their checksum
  uint64_t write_failures = 0;
  uint64_t memory_hits = 0;   // of `hits`, served from memory
  uint64_t memory_bytes = 0;  // held in memory now
};

class BlockCache {
 public:
  // Opens (creating) `dir` and indexes the entries found there; files that
  // are not entries (temporaries of a crash, damaged headers) are removed.
  // `max_bytes` 0 disables caching (every Lookup misses, Insert does nothing).
  static absl::StatusOr<std::unique_ptr<BlockCache>> Open(Env* env, std::string dir,
                                                          uint64_t max_bytes,
                                                          uint64_t memory_bytes = 0);

  // True and the bytes in `*out` when the cache holds exactly this range of
  // `object`, intact.
  bool Lookup(std::string_view object, uint64_t offset, uint64_t length, std::string* out);
  // Keeps a copy (best effort: a failed write only counts write_failures),
  // evicting the least recently used entries to stay within max_bytes.
  void Insert(std::string_view object, uint64_t offset, std::string_view data);
  // Drops one range / every range of `object` (its segment was deleted).
  void Erase(std::string_view object, uint64_t offset, uint64_t length);
  void EraseObject(std::string_view object);

  BlockCacheStats stats() const;
  const std::string& dir() const { return dir_; }

 private:
  struct Entry {
    std::string object;
    uint64_t offset = 0;
    uint64_t length = 0;
    uint64_t file_bytes = 0;
    std::list<uint64_t>::iterator lru;         // position in lru_ (front: most recent)
    std::shared_ptr<const std::string> data;   // in memory too, when not null
    std::list<uint64_t>::iterator memory_lru;  // valid while `data` is set
  };
  BlockCache(Env* env, std::string dir, uint64_t max_bytes, uint64_t memory_bytes)
      : env_(env), dir_(std::move(dir)), max_bytes_(max_bytes), memory_max_(memory_bytes) {}
  absl::Status Scan();
  std::string PathOf(uint64_t name) const;
  // Drops `name`: index, memory copy and file. Under mu_, so that a file is
  // never deleted after another thread has written it anew.
  void Unlink(uint64_t name);
  // Keeps `data` of `e` in memory, dropping the oldest copies beyond the bound.
  void Remember(Entry& e, std::shared_ptr<const std::string> data);
  void EvictToFit();  // under mu_

  Env* const env_;
  const std::string dir_;
  const uint64_t max_bytes_;
  const uint64_t memory_max_;
  mutable std::mutex mu_;
  absl::flat_hash_map<uint64_t, Entry> index_;  // guarded by mu_
  std::list<uint64_t> lru_;                     // guarded by mu_
  // Entry names of each object, for EraseObject.
  absl::flat_hash_map<std::string, absl::flat_hash_set<uint64_t>> by_object_;  // guarded by mu_
  std::list<uint64_t> memory_lru_;  // entries with a memory copy; guarded by mu_
  BlockCacheStats stats_;           // guarded by mu_
};

// The entry name of a range: xxh3-64 of (object, offset, length).
uint64_t BlockCacheName(std::string_view object, uint64_t offset, uint64_t length);

}  // namespace timestore::tiering
