// UringEnv: an Env whose segment I/O goes through io_uring (liburing).
//
// What it does differently from PosixEnv:
//  - RandomAccessFile::ReadMany submits every range in one batch and reaps the
//    completions together, so a query reading many column blocks pays one or a
//    few syscalls instead of one pread per block, and cold reads run in
//    parallel on the device. ReadAt is a batch of one.
//  - NewWritableFile returns a file that buffers appends and, past a threshold
//    (and on Sync/Close), writes the buffer as several <= 1 MiB writes
//    submitted together; Sync then submits an fdatasync
//    (IORING_FSYNC_DATASYNC) once every write has completed.
// Everything else (NewAppendableFile, ReadFile, directories, rename, remove,
// truncate, SyncDir) is delegated to the base Env; appendable files are the
// WAL's, whose group commit already batches into one write + one fsync.
//
// Buffered I/O only: no O_DIRECT, so the page cache, short-read and alignment
// rules stay those of PosixEnv. O_DIRECT (with registered, aligned buffers)
// could help the large sequential writes of sealing/compaction, which today
// evict hot pages for data that is rarely re-read, and cold ReadMany on
// NVMe, where it avoids a copy and the page-cache lookups; it would need
// 4 KiB-aligned offsets, lengths and buffers through the segment format.
//
// Rings: a mutex-protected pool owned by the Env (see RingPool in the .cc).
// A ReadMany or a write flush takes a ring out of the pool, uses it alone and
// returns it, so a ring is never shared by two threads at once and needs no
// lock while I/O is in flight. Compared with thread_local rings this keeps the
// ring count at the peak I/O concurrency instead of one per thread that ever
// did I/O (HTTP and job threads included), and rings die with the Env. If a
// new ring cannot be created (fd or locked-memory limits) the caller waits for
// a pooled one instead of failing.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/env.h"

namespace timestore {

namespace uring_internal {
class RingPool;
}  // namespace uring_internal

// Thread-safe. Files it hands out keep the ring pool alive, so they may
// outlive the Env; `base` must outlive both.
class UringEnv : public Env {
 public:
  // Probes io_uring: a ring can be set up, a NOP round-trips and the kernel
  // supports READ, WRITE and FSYNC. Fails (with the reason) under seccomp
  // filters that block io_uring_setup, with io_uring disabled by sysctl, or
  // on kernels older than 5.6.
  static absl::StatusOr<std::unique_ptr<UringEnv>> Create(Env* base = Env::Default());
  ~UringEnv() override;

  std::string_view Name() const override { return "io_uring"; }

  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  absl::StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) override;

  // Delegated to `base`.
  absl::StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override;
  absl::StatusOr<std::string> ReadFile(const std::string& path) override;
  absl::StatusOr<uint64_t> FileSize(const std::string& path) override;
  bool FileExists(const std::string& path) override;
  absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir) override;
  absl::Status CreateDirs(const std::string& dir) override;
  absl::Status RemoveFile(const std::string& path) override;
  absl::Status RenameFile(const std::string& from, const std::string& to) override;
  absl::Status TruncateFile(const std::string& path, uint64_t size) override;
  absl::Status SyncDir(const std::string& dir) override;

  // Appends are buffered up to this many bytes before a flush is submitted.
  static constexpr size_t kWriteBufferBytes = 4 << 20;
  // A flush is split into writes of at most this size, submitted together.
  static constexpr size_t kMaxWriteBytes = 1 << 20;

 private:
  UringEnv(Env* base, std::shared_ptr<uring_internal::RingPool> pool);

  Env* base_;
  std::shared_ptr<uring_internal::RingPool> pool_;
};

// Picks the process's Env at start-up. With `prefer_uring`, probes io_uring
// once (UringEnv::Create) and returns a process-wide UringEnv if it works;
// otherwise, or without `prefer_uring`, returns Env::Default(). `*why`
// (optional) gets a one-line reason to log, e.g. "io_uring: probe ok" or
// "posix: io_uring unavailable: io_uring_queue_init: Operation not permitted".
// Thread-safe; the returned Env is never destroyed.
Env* ChooseEnv(bool prefer_uring, std::string* why);

}  // namespace timestore
