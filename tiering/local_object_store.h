// An ObjectStore over a local directory: what export and backup write to when
// the destination is a path ("DIR", "file:///DIR") instead of a storage
// target. Keys map to files under the directory ("a/b.parquet" ->
// <dir>/a/b.parquet). Put and PutFile write a temporary file beside the key,
// fsync it, rename it into place and fsync the directory, so an object is
// either whole or absent after a crash. User metadata is not kept (Head
// returns none). Temporary files (".tmp-" in the name) are never listed.
//
// Thread-safe (each call works on its own files).
#pragma once

#include <atomic>
#include <functional>
#include <mutex>

#include "tiering/object_store.h"

namespace timestore::tiering {

class LocalObjectStore : public ObjectStore {
 public:
  // `dir` is created on first write.
  LocalObjectStore(Env* env, std::string dir);

  const std::string& Describe() const override { return describe_; }
  absl::Status Put(std::string_view key, std::string_view data,
                   const PutOptions& options = {}) override;
  absl::Status PutFile(std::string_view key, Env* env, const std::string& path,
                       const PutOptions& options = {}) override;
  absl::StatusOr<ObjectInfo> Head(std::string_view key) override;
  absl::Status GetRanges(std::span<RangeRead> reads, Clock::time_point deadline,
                         RequestCounters* counters = nullptr) override;
  absl::StatusOr<std::string> Get(std::string_view key) override;
  absl::StatusOr<std::vector<ObjectInfo>> List(std::string_view prefix) override;
  absl::Status Delete(std::string_view key) override;
  ObjectStoreStats stats() const override;

  const std::string& dir() const { return dir_; }

 private:
  // The file of `key`; InvalidArgument for keys that would leave the
  // directory ("..", absolute, empty segments).
  absl::StatusOr<std::string> PathOf(std::string_view key) const;
  absl::Status WriteAtomically(const std::string& path,
                               const std::function<absl::Status(WritableFile*)>& fill);

  Env* const env_;
  const std::string dir_;
  const std::string describe_;
  std::atomic<uint64_t> tmp_counter_{0};
  mutable std::mutex stats_mu_;
  ObjectStoreStats stats_;
};

}  // namespace timestore::tiering
