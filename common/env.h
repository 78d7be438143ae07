// Env: every file the engine touches goes through this interface, so tests can
// inject faults (ENOSPC, EIO, short writes) and simulate power loss by dropping
// bytes that were never synced. PosixEnv is the production implementation; the
// io_uring segment I/O path plugs in beside it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace timestore {

// An append-only file. Not thread-safe: one writer at a time.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual absl::Status Append(std::string_view data) = 0;
  // Hands everything appended so far to the operating system (write(2)),
  // without making it durable. A file that buffers appends (io_uring) writes
  // them here, so a failed write (ENOSPC) is told apart from a failed fsync;
  // one that writes in Append has nothing to do.
  virtual absl::Status Flush() { return absl::OkStatus(); }
  // Makes everything appended so far durable (fdatasync).
  virtual absl::Status Sync() = 0;
  virtual absl::Status Close() = 0;
  virtual uint64_t Size() const = 0;
  virtual const std::string& path() const = 0;
};

// What reads cost (per query or per job), and how long they may take; the
// caller owns it.
struct IoStats {
  // Reads that wait on a remote store give up at this time (a query's
  // deadline, shared by all its reads); local reads ignore it.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  uint64_t local_bytes = 0;      // read from local files
  uint64_t remote_requests = 0;  // object-store requests (ranged GETs)
  uint64_t remote_bytes = 0;     // bytes those requests returned
  uint64_t cache_hits = 0;       // ranges served by the block cache
  uint64_t cache_misses = 0;     // ranges the cache did not hold (fetched remotely)
  uint64_t cache_bytes = 0;      // bytes served by the block cache
  void Add(const IoStats& o) {
    local_bytes += o.local_bytes;
    remote_requests += o.remote_requests;
    remote_bytes += o.remote_bytes;
    cache_hits += o.cache_hits;
    cache_misses += o.cache_misses;
    cache_bytes += o.cache_bytes;
  }
};

// A file read at arbitrary offsets. Thread-safe (positional reads).
class RandomAccessFile {
 public:
  struct ReadRequest {
    uint64_t offset = 0;
    size_t length = 0;
    std::string* out = nullptr;  // resized to the bytes read
  };
  virtual ~RandomAccessFile() = default;
  // Reads exactly `length` bytes at `offset`; a short read is DataLoss naming
  // the file and offset.
  virtual absl::Status ReadAt(uint64_t offset, size_t length, std::string* out) const = 0;
  // Reads several ranges; implementations may submit them together (io_uring).
  virtual absl::Status ReadMany(std::span<ReadRequest> requests) const;
  // ReadMany, adding what it cost to `*stats` (optional). The default counts
  // local bytes; a remote file counts requests, cache hits and misses.
  virtual absl::Status ReadManyCounted(std::span<ReadRequest> requests, IoStats* stats) const;
  // The caller found the bytes of [offset, offset + length) damaged (a block
  // checksum failed): a file that keeps copies (the block cache) drops them.
  virtual void DropCached(uint64_t offset, uint64_t length) const {}
  // True when the bytes live in object storage.
  virtual bool IsRemote() const { return false; }
  virtual uint64_t Size() const = 0;
  virtual const std::string& path() const = 0;
};

class Env {
 public:
  virtual ~Env() = default;

  // The process-wide POSIX environment (thread-safe, never destroyed).
  static Env* Default();

  // Creates or truncates `path`.
  virtual absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(
      const std::string& path) = 0;
  // Opens `path` for appending at its end, creating it if missing.
  virtual absl::StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(
      const std::string& path) = 0;
  virtual absl::StatusOr<std::string> ReadFile(const std::string& path) = 0;
  virtual absl::StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) = 0;
  // Which I/O engine this Env uses ("posix", "io_uring"), for logs and /status.
  virtual std::string_view Name() const { return "posix"; }
  virtual absl::StatusOr<uint64_t> FileSize(const std::string& path) = 0;
  virtual bool FileExists(const std::string& path) = 0;
  // Names (not paths) of the entries of `dir`, sorted.
  virtual absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  // Creates `dir` and missing parents.
  virtual absl::Status CreateDirs(const std::string& dir) = 0;
  virtual absl::Status RemoveFile(const std::string& path) = 0;
  // Removes an empty directory.
  virtual absl::Status RemoveDir(const std::string& dir);
  virtual absl::Status RenameFile(const std::string& from, const std::string& to) = 0;
  virtual absl::Status TruncateFile(const std::string& path, uint64_t size) = 0;
  // fsyncs a directory so that creates, renames and deletes in it are durable.
  virtual absl::Status SyncDir(const std::string& dir) = 0;
};

// The status for a failed system call: "<op> <path>: <strerror>", with ENOSPC and
// EDQUOT as ResourceExhausted (callers answer 503 storage_full), ENOENT as
// NotFound, EEXIST as AlreadyExists, EACCES/EPERM as PermissionDenied.
absl::Status PosixError(std::string_view op, const std::string& path, int err);

// Writes `data` to `path` durably and atomically: write `path`.tmp, fsync it,
// rename over `path`, fsync the directory.
absl::Status WriteFileAtomically(Env* env, const std::string& path, std::string_view data);

std::string JoinPath(std::string_view dir, std::string_view name);
std::string DirName(std::string_view path);

// Wraps another Env and injects failures. Thread-safe.
class FaultInjectionEnv : public Env {
 public:
  explicit FaultInjectionEnv(Env* base);
  ~FaultInjectionEnv() override;

  // Every following Append (to a file whose path contains `path_part`, when
  // given) fails with `status` (e.g. ENOSPC) until cleared.
  void FailAppends(absl::Status status, std::string path_part = "");
  // Every following Sync (of a file or directory whose path contains
  // `path_part`, when given) fails with `status` until cleared.
  void FailSyncs(absl::Status status, std::string path_part = "");
  // The next Append (to a file whose path contains `path_part`, when given)
  // writes only `bytes` bytes and then fails (a short write).
  void ShortWriteNext(size_t bytes, std::string path_part = "");
  void ClearFaults();
  // Simulates power loss: truncates every file written through this Env back
  // to the size it had at its last successful Sync.
  absl::Status DropUnsyncedData();

  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  absl::StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override;
  absl::StatusOr<std::string> ReadFile(const std::string& path) override;
  absl::StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) override;
  absl::StatusOr<uint64_t> FileSize(const std::string& path) override;
  bool FileExists(const std::string& path) override;
  absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir) override;
  absl::Status CreateDirs(const std::string& dir) override;
  absl::Status RemoveFile(const std::string& path) override;
  absl::Status RenameFile(const std::string& from, const std::string& to) override;
  absl::Status TruncateFile(const std::string& path, uint64_t size) override;
  absl::Status SyncDir(const std::string& dir) override;

  struct State;  // shared with the files it hands out

 private:
  Env* base_;
  std::shared_ptr<State> state_;
};

}  // namespace timestore
