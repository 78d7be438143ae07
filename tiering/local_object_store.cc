#include "tiering/local_object_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <functional>

#include "common/strings.h"

namespace timestore::tiering {
namespace {

constexpr std::string_view kTmpMarker = ".tmp-";
constexpr size_t kCopyChunk = 4 << 20;

// Walks `dir` (relative names under `rel`), adding regular files.
absl::Status Walk(Env* env, const std::string& dir, const std::string& rel,
                  std::vector<ObjectInfo>* out) {
  auto names = env->ListDir(dir);
  if (!names.ok()) {
    if (absl::IsNotFound(names.status())) return absl::OkStatus();
    return names.status();
  }
  for (const std::string& name : *names) {
    if (name == "." || name == "..") continue;
    const std::string path = JoinPath(dir, name);
    const std::string key = rel.empty() ? name : StrCat(rel, "/", name);
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) continue;  // deleted while listing
      return PosixError("stat", path, errno);
    }
    if (S_ISDIR(st.st_mode)) {
      if (auto s = Walk(env, path, key, out); !s.ok()) return s;
    } else if (S_ISREG(st.st_mode) && name.find(kTmpMarker) == std::string::npos) {
      ObjectInfo info;
      info.key = key;
      info.size = static_cast<uint64_t>(st.st_size);
      info.last_modified_ns =
          static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
      out->push_back(std::move(info));
    }
  }
  return absl::OkStatus();
}

}  // namespace

LocalObjectStore::LocalObjectStore(Env* env, std::string dir)
    : env_(env), dir_(std::move(dir)), describe_(StrCat("file://", dir_)) {}

absl::StatusOr<std::string> LocalObjectStore::PathOf(std::string_view key) const {
  if (key.empty() || key.front() == '/' || key.back() == '/') {
    return absl::InvalidArgumentError(
        StrCat(describe_, ": object key \"", key, "\" is not a relative file name"));
  }
  for (size_t start = 0; start <= key.size();) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    const std::string_view part = key.substr(start, end - start);
    start = end + 1;
    if (part.empty() || part == "." || part == ".." ||
        part.find(kTmpMarker) != std::string_view::npos) {
      return absl::InvalidArgumentError(StrCat(describe_, ": object key \"", key,
                                               "\" has an empty, '.', '..' or temporary "
                                               "path segment"));
    }
  }
  return JoinPath(dir_, key);
}

absl::Status LocalObjectStore::WriteAtomically(
    const std::string& path, const std::function<absl::Status(WritableFile*)>& fill) {
  const std::string parent = DirName(path);
  if (auto s = env_->CreateDirs(parent); !s.ok()) return s;
  const std::string tmp = StrCat(path, kTmpMarker, ::getpid(), "-", tmp_counter_++);
  auto file = env_->NewWritableFile(tmp);
  if (!file.ok()) return file.status();
  absl::Status s = fill(file->get());
  if (s.ok()) s = (*file)->Sync();
  if (absl::Status c = (*file)->Close(); s.ok()) s = c;
  if (s.ok()) s = env_->RenameFile(tmp, path);
  if (s.ok()) s = env_->SyncDir(parent);
  if (!s.ok()) {
    (void)env_->RemoveFile(tmp);
    std::lock_guard<std::mutex> l(stats_mu_);
    ++stats_.failures;
  }
  return s;
}

absl::Status LocalObjectStore::Put(std::string_view key, std::string_view data, const PutOptions&) {
  auto path = PathOf(key);
  if (!path.ok()) return path.status();
  {
    std::lock_guard<std::mutex> l(stats_mu_);
    ++stats_.put_requests;
    stats_.bytes_out += data.size();
  }
  return WriteAtomically(*path, [&](WritableFile* f) { return f->Append(data); });
}

absl::Status LocalObjectStore::PutFile(std::string_view key, Env* env, const std::string& src,
                                       const PutOptions&) {
  auto path = PathOf(key);
  if (!path.ok()) return path.status();
  auto in = env->NewRandomAccessFile(src);
  if (!in.ok()) return in.status();
  const uint64_t size = (*in)->Size();
  {
    std::lock_guard<std::mutex> l(stats_mu_);
    ++stats_.put_requests;
    stats_.bytes_out += size;
  }
  return WriteAtomically(*path, [&](WritableFile* f) {
    std::string buf;
    for (uint64_t off = 0; off < size; off += kCopyChunk) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(kCopyChunk, size - off));
      if (auto s = (*in)->ReadAt(off, n, &buf); !s.ok()) return s;
      if (auto s = f->Append(buf); !s.ok()) return s;
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<ObjectInfo> LocalObjectStore::Head(std::string_view key) {
  auto path = PathOf(key);
  if (!path.ok()) return path.status();
  {
    std::lock_guard<std::mutex> l(stats_mu_);
    ++stats_.head_requests;
  }
  struct stat st;
  if (::stat(path->c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return absl::NotFoundError(StrCat(describe_, ": no object \"", key, "\""));
  }
  ObjectInfo info;
  info.key = std::string(key);
  info.size = static_cast<uint64_t>(st.st_size);
  info.last_modified_ns =
      static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  return info;
}

absl::Status LocalObjectStore::GetRanges(std::span<RangeRead> reads, Clock::time_point,
                                         RequestCounters* counters) {
  for (RangeRead& r : reads) {
    auto path = PathOf(r.key);
    if (!path.ok()) return path.status();
    if (!env_->FileExists(*path)) {
      return absl::NotFoundError(StrCat(describe_, ": no object \"", r.key, "\""));
    }
    auto file = env_->NewRandomAccessFile(*path);
    if (!file.ok()) return file.status();
    if (auto s = (*file)->ReadAt(r.offset, r.length, r.out); !s.ok()) return s;
    std::lock_guard<std::mutex> l(stats_mu_);
    ++stats_.get_requests;
    stats_.bytes_in += r.length;
    if (counters != nullptr) {
      ++counters->requests;
      counters->bytes_in += r.length;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> LocalObjectStore::Get(std::string_view key) {
  auto path = PathOf(key);
  if (!path.ok()) return path.status();
  if (!env_->FileExists(*path)) {
    return absl::NotFoundError(StrCat(describe_, ": no object \"", key, "\""));
  }
  auto data = env_->ReadFile(*path);
  if (!data.ok()) return data.status();
  std::lock_guard<std::mutex> l(stats_mu_);
  ++stats_.get_requests;
  stats_.bytes_in += data->size();
  return data;
}

absl::StatusOr<std::vector<ObjectInfo>> LocalObjectStore::List(std::string_view prefix) {
  {
    std::lock_guard<std::mutex> l(stats_mu_);
    ++stats_.list_requests;
  }
  // Walk only the directory the prefix is inside.
  std::string rel(
      prefix.substr(0, prefix.rfind('/') == std::string_view::npos ? 0 : prefix.rfind('/')));
  if (!rel.empty()) {
    // The directory part must stay inside the store, as keys must.
    if (auto path = PathOf(rel); !path.ok()) return path.status();
  }
  std::vector<ObjectInfo> all;
  const std::string start = rel.empty() ? dir_ : JoinPath(dir_, rel);
  if (auto s = Walk(env_, start, rel, &all); !s.ok()) return s;
  std::vector<ObjectInfo> out;
  for (ObjectInfo& o : all) {
    if (o.key.compare(0, prefix.size(), prefix) == 0) out.push_back(std::move(o));
  }
  std::sort(out.begin(), out.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

absl::Status LocalObjectStore::Delete(std::string_view key) {
  auto path = PathOf(key);
  if (!path.ok()) return path.status();
  {
    std::lock_guard<std::mutex> l(stats_mu_);
    ++stats_.delete_requests;
  }
  if (::unlink(path->c_str()) != 0 && errno != ENOENT) {
    return PosixError("unlink", *path, errno);
  }
  return absl::OkStatus();
}

ObjectStoreStats LocalObjectStore::stats() const {
  std::lock_guard<std::mutex> l(stats_mu_);
  return stats_;
}

}  // namespace timestore::tiering
