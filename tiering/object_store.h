// ObjectStore: the one interface to object storage (S3 and S3-compatible
// stores such as GCS's XML API, Azure Blob Storage, and an in-memory store for
// tests). Segments that go cold are uploaded through it and read back with
// ranged GETs; the engine never calls a driver directly.
//
// A store is bound to one container (bucket) and one key prefix: every key
// passed in or returned is relative to that prefix ("datasets/<id>/...").
//
// Errors (every message names the store, Describe(), and the key):
//   NotFound           the object (or the bucket) does not exist
//   Unavailable        the store could not be reached or answered 5xx, 429,
//                      503 SlowDown or another error it documents as
//                      retryable, after the retries the call allows
//   DeadlineExceeded   the call's deadline passed
//   PermissionDenied   401/403: credentials missing, wrong or not allowed
//   InvalidArgument / FailedPrecondition  any other 4xx (never retried)
//   DataLoss           the answer was cut short or has the wrong length
//
// Thread-safe: one store is shared by every query and background job.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/env.h"

namespace timestore::tiering {

using Clock = std::chrono::steady_clock;

struct ObjectInfo {
  std::string key;  // relative to the store's prefix
  uint64_t size = 0;
  int64_t last_modified_ns = 0;  // 0 when unknown
  std::string etag;
  // User metadata (x-amz-meta-*, x-ms-meta-*), names lower-case and without
  // the prefix; filled by Head only.
  std::map<std::string, std::string> metadata;
};

// A multipart upload (S3) that was started and never completed or aborted;
// it costs storage until aborted.
struct PendingUpload {
  std::string key;
  std::string upload_id;
  int64_t initiated_ns = 0;
};

struct PutOptions {
  std::map<std::string, std::string> metadata;  // names lower-case: [a-z0-9-]
};

// One ranged read: `length` bytes of `key` from `offset` into `*out`.
struct RangeRead {
  std::string key;
  uint64_t offset = 0;
  uint64_t length = 0;
  std::string* out = nullptr;
};

// What a call did, added to by the store (the caller owns and zeroes it).
struct RequestCounters {
  uint64_t requests = 0;  // HTTP requests sent, retries included
  uint64_t bytes_in = 0;  // body bytes received
  uint64_t bytes_out = 0;
  uint64_t retries = 0;
};

// Cumulative counters of one store (for /metrics).
struct ObjectStoreStats {
  uint64_t get_requests = 0, put_requests = 0, head_requests = 0, list_requests = 0,
           delete_requests = 0, other_requests = 0;
  uint64_t bytes_in = 0, bytes_out = 0;
  uint64_t retries = 0;
  uint64_t failures = 0;  // calls that returned an error
};

// How calls retry: jittered exponential backoff ("full jitter": a uniformly
// random wait in [0, min(max, base * 2^attempt))), up to `max_attempts`
// attempts and never past the call's deadline.
struct RetryPolicy {
  int max_attempts = 5;
  int base_backoff_ms = 50;
  int max_backoff_ms = 5000;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // "s3://bucket/prefix", "azure://account/container/prefix", "memory://name".
  virtual const std::string& Describe() const = 0;

  // Stores `data` as `key` (replacing any object of that name).
  virtual absl::Status Put(std::string_view key, std::string_view data,
                           const PutOptions& options = {}) = 0;
  // Uploads the file at `path` (read through `env`): one request up to the
  // store's multipart threshold, else a multipart / block upload that is
  // aborted if any part fails.
  virtual absl::Status PutFile(std::string_view key, Env* env, const std::string& path,
                               const PutOptions& options = {}) = 0;
  virtual absl::StatusOr<ObjectInfo> Head(std::string_view key) = 0;
  // Reads every range, in parallel where the store can; fails with the first
  // error if any read fails (then the contents of `out`s are unspecified).
  // Gives up at `deadline` (DeadlineExceeded naming the store and key).
  virtual absl::Status GetRanges(std::span<RangeRead> reads, Clock::time_point deadline,
                                 RequestCounters* counters = nullptr) = 0;
  // The whole object (for verification and tests).
  virtual absl::StatusOr<std::string> Get(std::string_view key) = 0;
  // Every object whose key starts with `prefix` (relative), in key order.
  virtual absl::StatusOr<std::vector<ObjectInfo>> List(std::string_view prefix) = 0;
  // Deletes `key`; deleting an absent object is OK.
  virtual absl::Status Delete(std::string_view key) = 0;
  // Multipart uploads under `prefix` never completed nor aborted. Stores
  // without such state (uncommitted Azure blocks expire by themselves) list none.
  virtual absl::StatusOr<std::vector<PendingUpload>> ListPendingUploads(std::string_view prefix) {
    return std::vector<PendingUpload>{};
  }
  virtual absl::Status AbortUpload(const PendingUpload& upload) { return absl::OkStatus(); }

  virtual ObjectStoreStats stats() const = 0;
};

// Adds `prefix` + "/" before `key` unless the prefix is empty.
std::string JoinKey(std::string_view prefix, std::string_view key);

// True for the statuses worth retrying (Unavailable, DeadlineExceeded of one
// attempt, ResourceExhausted).
bool IsRetryable(const absl::Status& status);

// The wait before attempt `attempt` (1-based; attempt 0 never waits) under
// `policy`, with full jitter.
std::chrono::milliseconds Backoff(const RetryPolicy& policy, int attempt);

}  // namespace timestore::tiering
