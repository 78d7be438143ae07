#include "common/uring_env.h"

#include <fcntl.h>
#include <liburing.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <span>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace timestore {
namespace uring_internal {

// Submission queue entries per ring. ReadMany keeps at most this many reads in
// flight and refills as completions arrive; the completion queue is twice as
// large, so it cannot overflow.
constexpr unsigned kRingDepth = 128;
// Idle rings kept for reuse; more are closed when returned.
constexpr size_t kMaxIdleRings = 32;
// The most Linux transfers in one read/write (MAX_RW_COUNT); larger requests
// complete short and the remainder is resubmitted.
constexpr size_t kMaxRwBytes = 0x7ffff000;

[[noreturn]] void Fatal(std::string_view what, int err) {
  std::fprintf(stderr, "timestore: fatal io_uring error: %.*s: %s\n", static_cast<int>(what.size()),
               what.data(), std::strerror(err));
  std::abort();
}

class Ring {
 public:
  static absl::StatusOr<std::unique_ptr<Ring>> Create() {
    auto ring = std::unique_ptr<Ring>(new Ring());
    int rc = io_uring_queue_init(kRingDepth, &ring->ring_, 0);
    if (rc < 0) {
      return absl::UnavailableError(StrCat("io_uring_queue_init: ", std::strerror(-rc)));
    }
    ring->initialized_ = true;
    return ring;
  }
  ~Ring() {
    if (initialized_) io_uring_queue_exit(&ring_);
  }
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  io_uring* get() { return &ring_; }

  // Gets a free submission entry. The callers keep at most kRingDepth
  // operations in flight, so the queue always has room.
  io_uring_sqe* GetSqe() {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (sqe == nullptr) Fatal("submission queue full", EBUSY);
    return sqe;
  }

  // Submits what was prepared and waits for at least one completion.
  // EINTR/EAGAIN/EBUSY are retried by the caller's loop: liburing resubmits
  // entries the kernel did not consume. Any other failure would leave reads
  // or writes in flight into buffers we could no longer keep alive, so it is
  // fatal rather than a returned status.
  void SubmitAndWait() {
    int ret = io_uring_submit_and_wait(&ring_, 1);
    if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) {
      Fatal("io_uring_submit_and_wait", -ret);
    }
  }

 private:
  Ring() = default;
  io_uring ring_{};
  bool initialized_ = false;
};

// Rings are leased exclusively: a ReadMany or a write flush takes one, runs
// all of its operations on it and gives it back.
class RingPool {
 public:
  explicit RingPool(std::unique_ptr<Ring> first) { idle_.push_back(std::move(first)); }

  class Lease {
   public:
    Lease(RingPool* pool, std::unique_ptr<Ring> ring) : pool_(pool), ring_(std::move(ring)) {}
    ~Lease() { pool_->Release(std::move(ring_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Ring& operator*() const { return *ring_; }

   private:
    RingPool* pool_;
    std::unique_ptr<Ring> ring_;
  };

  Lease Acquire() {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (!idle_.empty()) return Take();
    }
    // Set up outside the lock: io_uring_setup is a syscall plus mmaps.
    auto ring = Ring::Create();
    if (ring.ok()) return Lease(this, std::move(*ring));
    // Out of fds or locked memory. The pool was created with one ring and
    // never drops below one while rings are leased, so one will come back.
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [this] { return !idle_.empty(); });
    return Take();
  }

 private:
  Lease Take() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::unique_ptr<Ring> ring = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(ring));
  }

  void Release(std::unique_ptr<Ring> ring) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (idle_.size() >= kMaxIdleRings) return;  // `ring` is closed on return
      idle_.push_back(std::move(ring));
    }
    cv_.notify_one();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Ring>> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace uring_internal

namespace {

using uring_internal::kMaxRwBytes;
using uring_internal::kRingDepth;
using uring_internal::Ring;
using uring_internal::RingPool;

// Same mapping as PosixEnv's errors, so callers (and the HTTP layer's 503 on
// ResourceExhausted) see the same codes whichever Env is in use.
absl::Status IoError(std::string_view op, const std::string& path, uint64_t offset, size_t length,
                     int err) {
  return PosixError(StrCat(op, " at offset ", offset, " (", length, " bytes) of"), path, err);
}

absl::Status OpenError(std::string_view op, const std::string& path, int err) {
  return PosixError(op, path, err);
}

enum class OpKind { kRead, kWrite };

// One positional read or write of `length` bytes; `done` advances as
// (possibly short) completions arrive.
struct IoOp {
  char* buf = nullptr;
  size_t length = 0;
  uint64_t offset = 0;
  size_t done = 0;
};

// Runs every op to completion on `ring` with up to kRingDepth in flight.
// Short transfers and EINTR/EAGAIN completions are resubmitted for the
// remainder. After the first failure no new ops are started, but those in
// flight are always reaped before returning: the kernel may still be writing
// into their buffers. Returns the error of the lowest-indexed failed op.
absl::Status RunOps(Ring& ring, int fd, OpKind kind, std::span<IoOp> ops, const std::string& path) {
  io_uring* r = ring.get();
  size_t next = 0;
  unsigned inflight = 0;
  std::vector<size_t> resubmit;
  size_t error_index = std::numeric_limits<size_t>::max();
  absl::Status error;

  auto prep = [&](size_t i) {
    IoOp& op = ops[i];
    io_uring_sqe* sqe = ring.GetSqe();
    auto n = static_cast<unsigned>(std::min(op.length - op.done, kMaxRwBytes));
    if (kind == OpKind::kRead) {
      io_uring_prep_read(sqe, fd, op.buf + op.done, n, op.offset + op.done);
    } else {
      io_uring_prep_write(sqe, fd, op.buf + op.done, n, op.offset + op.done);
    }
    io_uring_sqe_set_data64(sqe, i);
    ++inflight;
  };
  auto fail = [&](size_t i, absl::Status s) {
    if (i < error_index) {
      error_index = i;
      error = std::move(s);
    }
  };

  while (true) {
    if (error.ok()) {
      while (inflight < kRingDepth && !resubmit.empty()) {
        prep(resubmit.back());
        resubmit.pop_back();
      }
      while (inflight < kRingDepth && next < ops.size()) {
        if (ops[next].length > 0) prep(next);
        ++next;
      }
    }
    if (inflight == 0) break;
    ring.SubmitAndWait();

    unsigned head;
    unsigned seen = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(r, head, cqe) {
      ++seen;
      --inflight;
      size_t i = static_cast<size_t>(io_uring_cqe_get_data64(cqe));
      int res = cqe->res;
      IoOp& op = ops[i];
      if (res == -EINTR || res == -EAGAIN) {
        resubmit.push_back(i);
      } else if (res < 0) {
        fail(i, IoError(kind == OpKind::kRead ? "io_uring read" : "io_uring write", path,
                        op.offset + op.done, op.length - op.done, -res));
      } else if (res == 0) {
        if (kind == OpKind::kRead) {
          fail(i, absl::DataLossError(StrCat(path, ": read of ", op.length, " bytes at offset ",
                                             op.offset, " ended after ", op.done, " bytes")));
        } else {
          fail(i, absl::InternalError(StrCat("io_uring write ", path, " at offset ",
                                             op.offset + op.done, " (", op.length - op.done,
                                             " bytes): wrote nothing")));
        }
      } else {
        op.done += static_cast<size_t>(res);
        if (op.done < op.length) resubmit.push_back(i);
      }
    }
    io_uring_cq_advance(r, seen);
  }
  return error;
}

absl::Status RunFdatasync(Ring& ring, int fd, const std::string& path) {
  io_uring* r = ring.get();
  while (true) {
    io_uring_sqe* sqe = ring.GetSqe();
    io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
    io_uring_sqe_set_data64(sqe, 0);
    // Loop until the one completion arrives (EINTR while waiting included).
    io_uring_cqe* cqe = nullptr;
    while (io_uring_peek_cqe(r, &cqe) != 0 || cqe == nullptr) ring.SubmitAndWait();
    int res = cqe->res;
    io_uring_cqe_seen(r, cqe);
    if (res == -EINTR || res == -EAGAIN) continue;
    if (res < 0) return OpenError("io_uring fdatasync", path, -res);
    return absl::OkStatus();
  }
}

class UringRandomAccessFile : public RandomAccessFile {
 public:
  UringRandomAccessFile(std::string path, int fd, uint64_t size, std::shared_ptr<RingPool> pool)
      : path_(std::move(path)), fd_(fd), size_(size), pool_(std::move(pool)) {}
  ~UringRandomAccessFile() override { ::close(fd_); }

  absl::Status ReadAt(uint64_t offset, size_t length, std::string* out) const override {
    ReadRequest request{offset, length, out};
    return ReadMany(std::span<ReadRequest>(&request, 1));
  }

  absl::Status ReadMany(std::span<ReadRequest> requests) const override {
    std::vector<IoOp> ops(requests.size());
    for (size_t i = 0; i < requests.size(); ++i) {
      ReadRequest& req = requests[i];
      req.out->resize(req.length);
      ops[i] = IoOp{req.out->data(), req.length, req.offset, 0};
    }
    auto ring = pool_->Acquire();
    return RunOps(*ring, fd_, OpKind::kRead, ops, path_);
  }

  uint64_t Size() const override { return size_; }
  const std::string& path() const override { return path_; }

 private:
  std::string path_;
  int fd_;
  uint64_t size_;
  std::shared_ptr<RingPool> pool_;
};

// Not thread-safe (one writer, as WritableFile says). After a failed write
// the file is in an unknown state, so every later Append/Sync returns that
// error.
class UringWritableFile : public WritableFile {
 public:
  UringWritableFile(std::string path, int fd, std::shared_ptr<RingPool> pool)
      : path_(std::move(path)), fd_(fd), pool_(std::move(pool)) {}
  ~UringWritableFile() override {
    // Like PosixWritableFile, appended bytes reach the file even without
    // Close; errors have nobody to go to here.
    if (fd_ >= 0) {
      if (error_.ok()) (void)WriteOut({});
      ::close(fd_);
    }
  }

  absl::Status Append(std::string_view data) override {
    RETURN_IF_ERROR(CheckWritable());
    if (buffer_.size() + data.size() < UringEnv::kWriteBufferBytes) {
      buffer_.append(data);
    } else {
      // The buffer and `data` go out in one batch; `data` is not copied.
      RETURN_IF_ERROR(WriteOut(data));
    }
    size_ += data.size();
    return absl::OkStatus();
  }

  absl::Status Flush() override {
    RETURN_IF_ERROR(CheckWritable());
    return WriteOut({});
  }

  absl::Status Sync() override {
    RETURN_IF_ERROR(CheckWritable());
    RETURN_IF_ERROR(WriteOut({}));
    auto ring = pool_->Acquire();
    absl::Status s = RunFdatasync(*ring, fd_, path_);
    if (!s.ok()) error_ = s;
    return s;
  }

  absl::Status Close() override {
    if (fd_ < 0) return absl::OkStatus();
    absl::Status s = error_.ok() ? WriteOut({}) : error_;
    int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0 && s.ok()) s = OpenError("close", path_, errno);
    return s;
  }

  uint64_t Size() const override { return size_; }
  const std::string& path() const override { return path_; }

 private:
  absl::Status CheckWritable() const {
    if (fd_ < 0) return absl::FailedPreconditionError(StrCat(path_, " is closed"));
    return error_;
  }

  // Writes the buffer and then `extra` at the end of what was written so far,
  // as writes of at most kMaxWriteBytes submitted together.
  absl::Status WriteOut(std::string_view extra) {
    std::vector<IoOp> ops;
    uint64_t offset = written_;
    for (std::string_view piece : {std::string_view(buffer_), extra}) {
      for (size_t p = 0; p < piece.size(); p += UringEnv::kMaxWriteBytes) {
        size_t n = std::min(piece.size() - p, UringEnv::kMaxWriteBytes);
        // IoOp::buf is shared with reads; writes only read through it.
        ops.push_back(IoOp{const_cast<char*>(piece.data() + p), n, offset, 0});
        offset += n;
      }
    }
    if (ops.empty()) return absl::OkStatus();
    absl::Status s;
    {
      auto ring = pool_->Acquire();
      s = RunOps(*ring, fd_, OpKind::kWrite, ops, path_);
    }
    if (!s.ok()) {
      error_ = s;
      return s;
    }
    written_ = offset;
    buffer_.clear();
    return absl::OkStatus();
  }

  std::string path_;
  int fd_;
  std::shared_ptr<RingPool> pool_;
  std::string buffer_;    // appended, not yet written
  uint64_t written_ = 0;  // bytes written to the file (file offset of buffer_)
  uint64_t size_ = 0;     // bytes appended successfully
  absl::Status error_;    // sticky after a failed write or sync
};

// The start-up probe: set up a ring, round-trip a NOP, check the opcodes used.
absl::StatusOr<std::unique_ptr<Ring>> ProbeRing() {
  ASSIGN_OR_RETURN(std::unique_ptr<Ring> ring, Ring::Create());
  io_uring* r = ring->get();
  constexpr uint64_t kNopTag = 0x7473;  // "ts"
  io_uring_sqe* sqe = ring->GetSqe();
  io_uring_prep_nop(sqe);
  io_uring_sqe_set_data64(sqe, kNopTag);
  int ret = io_uring_submit(r);
  if (ret != 1) {
    return absl::UnavailableError(
        StrCat("io_uring_submit(NOP): ", ret < 0 ? std::strerror(-ret) : "nothing submitted"));
  }
  io_uring_cqe* cqe = nullptr;
  do {
    ret = io_uring_wait_cqe(r, &cqe);
  } while (ret == -EINTR);
  if (ret < 0)
    return absl::UnavailableError(StrCat("io_uring_wait_cqe(NOP): ", std::strerror(-ret)));
  uint64_t tag = io_uring_cqe_get_data64(cqe);
  int res = cqe->res;
  io_uring_cqe_seen(r, cqe);
  if (tag != kNopTag || res != 0) {
    return absl::UnavailableError(StrCat("io_uring NOP completed with tag ", tag, " res ", res));
  }

  io_uring_probe* probe = io_uring_get_probe_ring(r);
  if (probe == nullptr) {
    return absl::UnavailableError("io_uring opcode probe failed (kernel older than 5.6?)");
  }
  std::string missing;
  for (auto [op, name] : {std::pair{IORING_OP_READ, "READ"}, std::pair{IORING_OP_WRITE, "WRITE"},
                          std::pair{IORING_OP_FSYNC, "FSYNC"}}) {
    if (!io_uring_opcode_supported(probe, op)) StrAppend(&missing, " ", name);
  }
  io_uring_free_probe(probe);
  if (!missing.empty()) {
    return absl::UnavailableError(StrCat("io_uring lacks opcodes:", missing));
  }
  return ring;
}

}  // namespace

absl::StatusOr<std::unique_ptr<UringEnv>> UringEnv::Create(Env* base) {
  ASSIGN_OR_RETURN(std::unique_ptr<Ring> ring, ProbeRing());
  return std::unique_ptr<UringEnv>(new UringEnv(base, std::make_shared<RingPool>(std::move(ring))));
}

UringEnv::UringEnv(Env* base, std::shared_ptr<uring_internal::RingPool> pool)
    : base_(base), pool_(std::move(pool)) {}
UringEnv::~UringEnv() = default;

absl::StatusOr<std::unique_ptr<WritableFile>> UringEnv::NewWritableFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return OpenError("open", path, errno);
  return std::unique_ptr<WritableFile>(new UringWritableFile(path, fd, pool_));
}

absl::StatusOr<std::unique_ptr<RandomAccessFile>> UringEnv::NewRandomAccessFile(
    const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return OpenError("open", path, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return OpenError("fstat", path, err);
  }
  return std::unique_ptr<RandomAccessFile>(
      new UringRandomAccessFile(path, fd, static_cast<uint64_t>(st.st_size), pool_));
}

absl::StatusOr<std::unique_ptr<WritableFile>> UringEnv::NewAppendableFile(const std::string& path) {
  return base_->NewAppendableFile(path);
}
absl::StatusOr<std::string> UringEnv::ReadFile(const std::string& path) {
  return base_->ReadFile(path);
}
absl::StatusOr<uint64_t> UringEnv::FileSize(const std::string& path) {
  return base_->FileSize(path);
}
bool UringEnv::FileExists(const std::string& path) { return base_->FileExists(path); }
absl::StatusOr<std::vector<std::string>> UringEnv::ListDir(const std::string& dir) {
  return base_->ListDir(dir);
}
absl::Status UringEnv::CreateDirs(const std::string& dir) { return base_->CreateDirs(dir); }
absl::Status UringEnv::RemoveFile(const std::string& path) { return base_->RemoveFile(path); }
absl::Status UringEnv::RenameFile(const std::string& from, const std::string& to) {
  return base_->RenameFile(from, to);
}
absl::Status UringEnv::TruncateFile(const std::string& path, uint64_t size) {
  return base_->TruncateFile(path, size);
}
absl::Status UringEnv::SyncDir(const std::string& dir) { return base_->SyncDir(dir); }

Env* ChooseEnv(bool prefer_uring, std::string* why) {
  Env* env = Env::Default();
  std::string reason = "posix: io_uring not requested";
  if (prefer_uring) {
    // Probed once; the Env lives for the rest of the process.
    static const auto* probed =
        new absl::StatusOr<std::unique_ptr<UringEnv>>(UringEnv::Create(Env::Default()));
    if (probed->ok()) {
      env = probed->value().get();
      reason = "io_uring: probe ok (NOP round-trip; READ, WRITE, FSYNC supported)";
    } else {
      reason = StrCat("posix: io_uring unavailable: ", ToStd(probed->status().message()));
    }
  }
  if (why != nullptr) *why = std::move(reason);
  return env;
}

}  // namespace timestore
