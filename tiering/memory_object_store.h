// An ObjectStore held in memory, with fault injection, for tests: calls can
// be made to fail (store down, 5xx, SlowDown), to be slow, and objects can be
// corrupted or removed behind the engine's back. Multipart uploads are
// modelled: PutFile above the threshold uploads parts, and a failed part
// leaves a pending upload that is aborted (or, when aborts fail too, listed by
// ListPendingUploads until aborted).
//
// Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <mutex>

#include "tiering/object_store.h"

namespace timestore::tiering {

class MemoryObjectStore : public ObjectStore {
 public:
  enum Op : int {
    kPut = 1,  // Put, PutFile and their parts
    kGet = 2,
    kHead = 4,
    kList = 8,
    kDelete = 16,
    kAbort = 32,
    kAll = 63,
  };

  explicit MemoryObjectStore(std::string name = "test");

  // Every call of a kind in `ops` fails with `status` until ClearFaults.
  void FailOps(int ops, absl::Status status);
  // After `skip` more calls of a kind in `ops`, the next `count` fail with `status`.
  void FailNext(int ops, int count, absl::Status status, int skip = 0);
  // Every call waits this long first (a DeadlineExceeded when it would end
  // past the call's deadline).
  void SetLatency(std::chrono::milliseconds latency);
  void ClearFaults();
  // PutFile uploads in parts of `part_bytes` above `threshold` bytes.
  void SetMultipart(uint64_t threshold, uint64_t part_bytes);

  // Direct access, bypassing faults and counters.
  std::map<std::string, std::string> objects() const;
  void SetObject(const std::string& key, std::string data);
  bool EraseObject(const std::string& key);
  void AddPendingUpload(PendingUpload upload);
  uint64_t requests() const;  // every call, failed ones included

  const std::string& Describe() const override { return name_; }
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
  absl::StatusOr<std::vector<PendingUpload>> ListPendingUploads(std::string_view prefix) override;
  absl::Status AbortUpload(const PendingUpload& upload) override;
  ObjectStoreStats stats() const override;

 private:
  struct Object {
    std::string data;
    std::map<std::string, std::string> metadata;
    int64_t modified_ns = 0;
  };
  // Applies latency and faults for one call of kind `op`.
  absl::Status Enter(Op op, std::string_view key,
                     Clock::time_point deadline = Clock::time_point::max());

  const std::string name_;
  mutable std::mutex mu_;
  std::map<std::string, Object, std::less<>> objects_;
  std::map<std::string, PendingUpload> pending_;  // by upload id
  int fail_ops_ = 0;
  absl::Status fail_status_;
  int fail_next_ops_ = 0;
  int fail_next_count_ = 0;
  int fail_next_skip_ = 0;
  absl::Status fail_next_status_;
  std::chrono::milliseconds latency_{0};
  uint64_t multipart_threshold_ = 64ull << 20;
  uint64_t part_bytes_ = 16ull << 20;
  uint64_t next_upload_ = 1;
  uint64_t requests_ = 0;
  ObjectStoreStats stats_;
};

}  // namespace timestore::tiering
