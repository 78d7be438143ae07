// RemoteFile: a RandomAccessFile over one object in an ObjectStore, so the
// segment reader reads cold segments exactly as it reads local ones.
//
// Reads are served, in order of preference, from
//   1. the object's tail (trailer and footer), kept locally by the caller and
//      handed in at construction: planning and pruning need no request;
//   2. the block cache (each requested range is one cache entry);
//   3. ranged GETs: the missing ranges of one ReadMany are sorted and merged
//      when the gap between them is at most `merge_gap_bytes` (one request
//      instead of several), and all requests run concurrently. Fetched ranges
//      go into the cache.
// A ReadMany that needs the store gives up after `timeout` with Unavailable
// naming the storage target and object (never a hang, never partial bytes).
//
// Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/env.h"
#include "tiering/block_cache.h"
#include "tiering/object_store.h"

namespace timestore::tiering {

struct RemoteFileOptions {
  // A ReadMany gives up after this, or at the caller's IoStats::deadline
  // when that comes first.
  std::chrono::milliseconds timeout{10'000};
  // Ranges this close are fetched in one GET (the gap's bytes are read and
  // dropped): fewer requests for a few more bytes.
  uint64_t merge_gap_bytes = 16u << 10;
  // A merged GET is never larger than this (larger ranges stay one GET each).
  uint64_t max_merged_bytes = 16u << 20;
};

// The store of a target, looked up at each read: a target whose credentials
// change is read with the new ones, and one that is not configured (yet)
// fails the reads that need it, not the opening of its segments.
using StoreResolver = std::function<absl::StatusOr<std::shared_ptr<ObjectStore>>()>;

class RemoteFile : public RandomAccessFile {
 public:
  // `size`: the object's size; `tail`: its last tail.size() bytes.
  // `target`: the storage target's id, for messages and cache entry names;
  // `location`: where the target points ("s3://bucket/prefix"), for messages.
  // `cache` may be null (no caching); it must outlive the file.
  RemoteFile(StoreResolver resolve, std::string target, std::string location, std::string key,
             uint64_t size, std::string tail, BlockCache* cache, RemoteFileOptions options);
  // Over one fixed store.
  RemoteFile(std::shared_ptr<ObjectStore> store, std::string target, std::string key, uint64_t size,
             std::string tail, BlockCache* cache, RemoteFileOptions options);

  absl::Status ReadAt(uint64_t offset, size_t length, std::string* out) const override;
  absl::Status ReadMany(std::span<ReadRequest> requests) const override;
  absl::Status ReadManyCounted(std::span<ReadRequest> requests, IoStats* stats) const override;
  void DropCached(uint64_t offset, uint64_t length) const override;
  bool IsRemote() const override { return true; }
  uint64_t Size() const override { return size_; }
  // "<store>/<key>", e.g. s3://bucket/prefix/datasets/…/x.tseg
  const std::string& path() const override { return path_; }

  const std::string& key() const { return key_; }
  const std::string& target() const { return target_; }
  // The name of this object's entries in the block cache.
  const std::string& cache_name() const { return cache_name_; }

 private:
  const StoreResolver resolve_;
  const std::string target_;
  const std::string key_;
  const uint64_t size_;
  const std::string tail_;
  BlockCache* const cache_;
  const RemoteFileOptions options_;
  const std::string path_;
  const std::string cache_name_;
};

// Reads the last `bytes` of an object (or all of it when shorter): how a
// segment's trailer and footer are fetched once, when it is uploaded or its
// local copy is missing. `size` is the object's size.
absl::StatusOr<std::string> FetchTail(ObjectStore* store, const std::string& key, uint64_t size,
                                      uint64_t bytes, Clock::time_point deadline);

}  // namespace timestore::tiering
