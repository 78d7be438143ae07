#include "tiering/remote_file.h"

#include <algorithm>
#include <vector>

#include "common/json_writer.h"
#include "common/status_macros.h"
#include "common/status_util.h"
#include "common/strings.h"

namespace timestore::tiering {
namespace {

std::string Details(std::string_view target, std::string_view object) {
  std::string out;
  JsonWriter(&out)
      .BeginObject()
      .Key("storageTarget")
      .String(target)
      .Key("object")
      .String(object)
      .EndObject();
  return out;
}

}  // namespace

RemoteFile::RemoteFile(StoreResolver resolve, std::string target, std::string location,
                       std::string key, uint64_t size, std::string tail, BlockCache* cache,
                       RemoteFileOptions options)
    : resolve_(std::move(resolve)),
      target_(std::move(target)),
      key_(std::move(key)),
      size_(size),
      tail_(tail.size() > size ? tail.substr(tail.size() - size) : std::move(tail)),
      cache_(cache),
      options_(options),
      path_(JoinKey(location, key_)),
      cache_name_(StrCat(target_, "/", key_)) {}

RemoteFile::RemoteFile(std::shared_ptr<ObjectStore> store, std::string target, std::string key,
                       uint64_t size, std::string tail, BlockCache* cache,
                       RemoteFileOptions options)
    : RemoteFile([store]() -> absl::StatusOr<std::shared_ptr<ObjectStore>> { return store; },
                 std::move(target), store->Describe(), std::move(key), size, std::move(tail), cache,
                 options) {}

absl::Status RemoteFile::ReadAt(uint64_t offset, size_t length, std::string* out) const {
  ReadRequest r{offset, length, out};
  return ReadManyCounted(std::span(&r, 1), nullptr);
}

absl::Status RemoteFile::ReadMany(std::span<ReadRequest> requests) const {
  return ReadManyCounted(requests, nullptr);
}

void RemoteFile::DropCached(uint64_t offset, uint64_t length) const {
  if (cache_ != nullptr) cache_->Erase(cache_name_, offset, length);
}

absl::Status RemoteFile::ReadManyCounted(std::span<ReadRequest> requests, IoStats* stats) const {
  IoStats local;
  IoStats* st = stats != nullptr ? stats : &local;
  const uint64_t tail_start = size_ - tail_.size();
  std::vector<size_t> missing;
  for (size_t i = 0; i < requests.size(); ++i) {
    ReadRequest& r = requests[i];
    if (r.offset > size_ || r.length > size_ - r.offset) {
      return absl::DataLossError(StrCat(path_, ": read of ", r.length, " bytes at offset ",
                                        r.offset, " is past the end of the ", size_,
                                        "-byte object"));
    }
    if (r.offset >= tail_start) {
      r.out->assign(tail_, r.offset - tail_start, r.length);
      continue;
    }
    if (cache_ != nullptr) {
      if (cache_->Lookup(cache_name_, r.offset, r.length, r.out)) {
        ++st->cache_hits;
        st->cache_bytes += r.length;
        continue;
      }
      ++st->cache_misses;
    }
    missing.push_back(i);
  }
  if (missing.empty()) return absl::OkStatus();

  std::sort(missing.begin(), missing.end(),
            [&](size_t a, size_t b) { return requests[a].offset < requests[b].offset; });
  struct Span {
    uint64_t begin = 0, end = 0;
    std::vector<size_t> members;
    std::string data;
  };
  std::vector<Span> spans;
  for (size_t i : missing) {
    const ReadRequest& r = requests[i];
    const uint64_t end = r.offset + r.length;
    if (!spans.empty()) {
      Span& s = spans.back();
      const uint64_t merged_end = std::max(s.end, end);
      if (r.offset <= s.end + options_.merge_gap_bytes &&
          merged_end - s.begin <= options_.max_merged_bytes) {
        s.end = merged_end;
        s.members.push_back(i);
        continue;
      }
    }
    spans.push_back(Span{r.offset, end, {i}, {}});
  }
  std::vector<RangeRead> reads;
  reads.reserve(spans.size());
  for (Span& s : spans) reads.push_back(RangeRead{key_, s.begin, s.end - s.begin, &s.data});
  auto store = resolve_();
  if (!store.ok()) {
    return MakeError(absl::StatusCode::kUnavailable, "remote_unavailable",
                     StrCat("storage target \"", target_, "\" cannot serve ", path_, ": ",
                            ToStd(store.status().message())),
                     Details(target_, path_));
  }
  RequestCounters counters;
  const auto deadline = std::min(Clock::now() + options_.timeout, st->deadline);
  absl::Status s = (*store)->GetRanges(reads, deadline, &counters);
  st->remote_requests += counters.requests;
  st->remote_bytes += counters.bytes_in;
  if (!s.ok()) {
    const std::string msg(ToStd(s.message()));
    if (absl::IsNotFound(s)) {
      return MakeError(
          absl::StatusCode::kDataLoss, "remote_object_missing",
          StrCat("storage target \"", target_, "\": segment object ", path_, " is missing: ", msg),
          Details(target_, path_));
    }
    // The store could not answer (down, slow, throttling, refusing the
    // credentials): worth retrying later. Anything else (a range the object
    // does not have, a cut answer) means the object is not what was recorded.
    if (IsRetryable(s) || absl::IsPermissionDenied(s) || absl::IsUnimplemented(s)) {
      return MakeError(
          absl::StatusCode::kUnavailable, "remote_unavailable",
          StrCat("storage target \"", target_, "\" could not serve ", path_, ": ", msg),
          Details(target_, path_));
    }
    return MakeError(absl::StatusCode::kDataLoss, "remote_object_corrupt",
                     StrCat("storage target \"", target_, "\": ", path_,
                            " does not hold the segment recorded: ", msg),
                     Details(target_, path_));
  }
  for (Span& sp : spans) {
    if (sp.data.size() != sp.end - sp.begin) {
      return MakeError(absl::StatusCode::kDataLoss, "remote_object_corrupt",
                       StrCat("storage target \"", target_, "\": ", path_, " returned ",
                              sp.data.size(), " bytes for the range ", sp.begin, "-", sp.end - 1,
                              " (the object is shorter than recorded)"),
                       Details(target_, path_));
    }
    for (size_t i : sp.members) {
      ReadRequest& r = requests[i];
      r.out->assign(sp.data, r.offset - sp.begin, r.length);
      if (cache_ != nullptr) cache_->Insert(cache_name_, r.offset, *r.out);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> FetchTail(ObjectStore* store, const std::string& key, uint64_t size,
                                      uint64_t bytes, Clock::time_point deadline) {
  const uint64_t n = std::min(size, bytes);
  std::string out;
  RangeRead r{key, size - n, n, &out};
  RETURN_IF_ERROR(store->GetRanges(std::span(&r, 1), deadline));
  if (out.size() != n) {
    return absl::DataLossError(StrCat(JoinKey(store->Describe(), key), ": expected ", n,
                                      " bytes at offset ", size - n, ", got ", out.size()));
  }
  return out;
}

}  // namespace timestore::tiering
