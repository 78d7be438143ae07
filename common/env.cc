#include "common/env.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

#include "common/status_macros.h"
#include "common/strings.h"

namespace timestore {

absl::Status PosixError(std::string_view op, const std::string& path, int err) {
  std::string msg = StrCat(op, " ", path, ": ", std::strerror(err));
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(msg);
    case ENOSPC:
    case EDQUOT:
      return absl::ResourceExhaustedError(msg);
    case EEXIST:
      return absl::AlreadyExistsError(msg);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(msg);
    default:
      return absl::InternalError(msg);
  }
}

absl::Status Env::RemoveDir(const std::string& dir) {
  if (::rmdir(dir.c_str()) != 0) return PosixError("rmdir", dir, errno);
  return absl::OkStatus();
}

namespace {

class PosixWritableFile : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  absl::Status Append(std::string_view data) override {
    const char* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return PosixError("write", path_, errno);
      }
      p += n;
      left -= static_cast<size_t>(n);
      size_ += static_cast<uint64_t>(n);
    }
    return absl::OkStatus();
  }

  absl::Status Sync() override {
    if (::fdatasync(fd_) != 0) return PosixError("fdatasync", path_, errno);
    return absl::OkStatus();
  }

  absl::Status Close() override {
    if (fd_ < 0) return absl::OkStatus();
    int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) return PosixError("close", path_, errno);
    return absl::OkStatus();
  }

  uint64_t Size() const override { return size_; }
  const std::string& path() const override { return path_; }

 private:
  std::string path_;
  int fd_;
  uint64_t size_;
};

class PosixRandomAccessFile : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }

  absl::Status ReadAt(uint64_t offset, size_t length, std::string* out) const override {
    out->resize(length);
    size_t done = 0;
    while (done < length) {
      ssize_t n =
          ::pread(fd_, out->data() + done, length - done, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return PosixError("pread", path_, errno);
      }
      if (n == 0) {
        return absl::DataLossError(StrCat(path_, ": read of ", length, " bytes at offset ", offset,
                                          " ended after ", done, " bytes"));
      }
      done += static_cast<size_t>(n);
    }
    return absl::OkStatus();
  }
  uint64_t Size() const override { return size_; }
  const std::string& path() const override { return path_; }

 private:
  std::string path_;
  int fd_;
  uint64_t size_;
};

class PosixEnv : public Env {
 public:
  absl::StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError("open", path, errno);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      return PosixError("fstat", path, err);
    }
    return std::unique_ptr<RandomAccessFile>(
        new PosixRandomAccessFile(path, fd, static_cast<uint64_t>(st.st_size)));
  }

  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return PosixError("open", path, errno);
    return std::unique_ptr<WritableFile>(new PosixWritableFile(path, fd, 0));
  }

  absl::StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(
      const std::string& path) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return PosixError("open", path, errno);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      return PosixError("fstat", path, err);
    }
    return std::unique_ptr<WritableFile>(
        new PosixWritableFile(path, fd, static_cast<uint64_t>(st.st_size)));
  }

  absl::StatusOr<std::string> ReadFile(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError("open", path, errno);
    std::string out;
    struct stat st;
    if (::fstat(fd, &st) == 0) out.reserve(static_cast<size_t>(st.st_size));
    char buf[1 << 16];
    while (true) {
      ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        ::close(fd);
        return PosixError("read", path, err);
      }
      if (n == 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
  }

  absl::StatusOr<uint64_t> FileSize(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return PosixError("stat", path, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  bool FileExists(const std::string& path) override { return ::access(path.c_str(), F_OK) == 0; }

  absl::StatusOr<std::vector<std::string>> ListDir(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return PosixError("opendir", dir, errno);
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(d)) {
      std::string_view name = e->d_name;
      if (name == "." || name == "..") continue;
      names.emplace_back(name);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    return names;
  }

  absl::Status CreateDirs(const std::string& dir) override {
    if (dir.empty()) return absl::OkStatus();
    struct stat st;
    if (::stat(dir.c_str(), &st) == 0) {
      if (S_ISDIR(st.st_mode)) return absl::OkStatus();
      return absl::FailedPreconditionError(StrCat(dir, " exists and is not a directory"));
    }
    std::string parent = DirName(dir);
    if (!parent.empty() && parent != dir) RETURN_IF_ERROR(CreateDirs(parent));
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return PosixError("mkdir", dir, errno);
    return absl::OkStatus();
  }

  absl::Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return PosixError("unlink", path, errno);
    return absl::OkStatus();
  }

  absl::Status RenameFile(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return PosixError("rename", from, errno);
    return absl::OkStatus();
  }

  absl::Status TruncateFile(const std::string& path, uint64_t size) override {
    if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0)
      return PosixError("truncate", path, errno);
    return absl::OkStatus();
  }

  absl::Status SyncDir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return PosixError("open", dir, errno);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return PosixError("fsync", dir, err);
    return absl::OkStatus();
  }
};

}  // namespace

absl::Status RandomAccessFile::ReadManyCounted(std::span<ReadRequest> requests,
                                               IoStats* stats) const {
  absl::Status s = ReadMany(requests);
  if (s.ok() && stats != nullptr) {
    for (const ReadRequest& r : requests) stats->local_bytes += r.length;
  }
  return s;
}

absl::Status RandomAccessFile::ReadMany(std::span<ReadRequest> requests) const {
  for (auto& r : requests) RETURN_IF_ERROR(ReadAt(r.offset, r.length, r.out));
  return absl::OkStatus();
}

Env* Env::Default() {
  static Env* env = new PosixEnv();
  return env;
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  if (dir.back() == '/') return StrCat(dir, name);
  return StrCat(dir, "/", name);
}

std::string DirName(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

absl::Status WriteFileAtomically(Env* env, const std::string& path, std::string_view data) {
  std::string tmp = path + ".tmp";
  ASSIGN_OR_RETURN(auto file, env->NewWritableFile(tmp));
  RETURN_IF_ERROR(file->Append(data));
  RETURN_IF_ERROR(file->Sync());
  RETURN_IF_ERROR(file->Close());
  RETURN_IF_ERROR(env->RenameFile(tmp, path));
  return env->SyncDir(DirName(path));
}

// ---------------------------------------------------------------------------
// FaultInjectionEnv

struct FaultInjectionEnv::State {
  std::mutex mu;
  absl::Status append_fault;
  std::string append_fault_path;  // only files whose path contains this
  absl::Status sync_fault;
  std::string sync_fault_path;
  int64_t short_write_bytes = -1;
  std::string short_write_path;                 // only files whose path contains this
  std::map<std::string, uint64_t> synced_size;  // path -> bytes known durable
};

namespace {

class FaultFile : public WritableFile {
 public:
  FaultFile(std::unique_ptr<WritableFile> base, std::shared_ptr<FaultInjectionEnv::State> state)
      : base_(std::move(base)), state_(std::move(state)) {}

  absl::Status Append(std::string_view data) override {
    {
      std::lock_guard<std::mutex> l(state_->mu);
      if (!state_->append_fault.ok() &&
          path().find(state_->append_fault_path) != std::string::npos) {
        return state_->append_fault;
      }
      if (state_->short_write_bytes >= 0 &&
          path().find(state_->short_write_path) != std::string::npos) {
        size_t n = std::min<size_t>(data.size(), static_cast<size_t>(state_->short_write_bytes));
        state_->short_write_bytes = -1;
        RETURN_IF_ERROR(base_->Append(data.substr(0, n)));
        return absl::ResourceExhaustedError(StrCat("injected short write to ", path()));
      }
    }
    return base_->Append(data);
  }
  absl::Status Sync() override {
    {
      std::lock_guard<std::mutex> l(state_->mu);
      if (!state_->sync_fault.ok() && path().find(state_->sync_fault_path) != std::string::npos) {
        return state_->sync_fault;
      }
    }
    RETURN_IF_ERROR(base_->Sync());
    std::lock_guard<std::mutex> l(state_->mu);
    state_->synced_size[path()] = base_->Size();
    return absl::OkStatus();
  }
  absl::Status Flush() override { return base_->Flush(); }
  absl::Status Close() override { return base_->Close(); }
  uint64_t Size() const override { return base_->Size(); }
  const std::string& path() const override { return base_->path(); }

 private:
  std::unique_ptr<WritableFile> base_;
  std::shared_ptr<FaultInjectionEnv::State> state_;
};

}  // namespace

FaultInjectionEnv::FaultInjectionEnv(Env* base) : base_(base), state_(std::make_shared<State>()) {}
FaultInjectionEnv::~FaultInjectionEnv() = default;

void FaultInjectionEnv::FailAppends(absl::Status status, std::string path_part) {
  std::lock_guard<std::mutex> l(state_->mu);
  state_->append_fault = std::move(status);
  state_->append_fault_path = std::move(path_part);
}
void FaultInjectionEnv::FailSyncs(absl::Status status, std::string path_part) {
  std::lock_guard<std::mutex> l(state_->mu);
  state_->sync_fault = std::move(status);
  state_->sync_fault_path = std::move(path_part);
}
void FaultInjectionEnv::ShortWriteNext(size_t bytes, std::string path_part) {
  std::lock_guard<std::mutex> l(state_->mu);
  state_->short_write_bytes = static_cast<int64_t>(bytes);
  state_->short_write_path = std::move(path_part);
}
void FaultInjectionEnv::ClearFaults() {
  std::lock_guard<std::mutex> l(state_->mu);
  state_->append_fault = absl::OkStatus();
  state_->sync_fault = absl::OkStatus();
  state_->short_write_bytes = -1;
}

absl::Status FaultInjectionEnv::DropUnsyncedData() {
  std::lock_guard<std::mutex> l(state_->mu);
  for (const auto& [path, size] : state_->synced_size) {
    if (base_->FileExists(path)) RETURN_IF_ERROR(base_->TruncateFile(path, size));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewWritableFile(
    const std::string& path) {
  ASSIGN_OR_RETURN(auto f, base_->NewWritableFile(path));
  {
    std::lock_guard<std::mutex> l(state_->mu);
    state_->synced_size[path] = 0;
  }
  return std::unique_ptr<WritableFile>(new FaultFile(std::move(f), state_));
}
absl::StatusOr<std::unique_ptr<WritableFile>> FaultInjectionEnv::NewAppendableFile(
    const std::string& path) {
  ASSIGN_OR_RETURN(auto f, base_->NewAppendableFile(path));
  {
    std::lock_guard<std::mutex> l(state_->mu);
    state_->synced_size.emplace(path, f->Size());
  }
  return std::unique_ptr<WritableFile>(new FaultFile(std::move(f), state_));
}
absl::StatusOr<std::string> FaultInjectionEnv::ReadFile(const std::string& path) {
  return base_->ReadFile(path);
}
absl::StatusOr<std::unique_ptr<RandomAccessFile>> FaultInjectionEnv::NewRandomAccessFile(
    const std::string& path) {
  return base_->NewRandomAccessFile(path);
}
absl::StatusOr<uint64_t> FaultInjectionEnv::FileSize(const std::string& path) {
  return base_->FileSize(path);
}
bool FaultInjectionEnv::FileExists(const std::string& path) { return base_->FileExists(path); }
absl::StatusOr<std::vector<std::string>> FaultInjectionEnv::ListDir(const std::string& dir) {
  return base_->ListDir(dir);
}
absl::Status FaultInjectionEnv::CreateDirs(const std::string& dir) {
  return base_->CreateDirs(dir);
}
absl::Status FaultInjectionEnv::RemoveFile(const std::string& path) {
  {
    std::lock_guard<std::mutex> l(state_->mu);
    state_->synced_size.erase(path);
  }
  return base_->RemoveFile(path);
}
absl::Status FaultInjectionEnv::RenameFile(const std::string& from, const std::string& to) {
  RETURN_IF_ERROR(base_->RenameFile(from, to));
  std::lock_guard<std::mutex> l(state_->mu);
  auto it = state_->synced_size.find(from);
  if (it != state_->synced_size.end()) {
    state_->synced_size[to] = it->second;
    state_->synced_size.erase(it);
  }
  return absl::OkStatus();
}
absl::Status FaultInjectionEnv::TruncateFile(const std::string& path, uint64_t size) {
  RETURN_IF_ERROR(base_->TruncateFile(path, size));
  // Bytes cut off cannot come back: DropUnsyncedData must not zero-extend the file.
  std::lock_guard<std::mutex> l(state_->mu);
  auto it = state_->synced_size.find(path);
  if (it != state_->synced_size.end()) it->second = std::min(it->second, size);
  return absl::OkStatus();
}
absl::Status FaultInjectionEnv::SyncDir(const std::string& dir) {
  {
    std::lock_guard<std::mutex> l(state_->mu);
    if (!state_->sync_fault.ok() && dir.find(state_->sync_fault_path) != std::string::npos) {
      return state_->sync_fault;
    }
  }
  return base_->SyncDir(dir);
}

}  // namespace timestore
