#include "tiering/memory_object_store.h"

#include <thread>

#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_util.h"

namespace timestore::tiering {

MemoryObjectStore::MemoryObjectStore(std::string name) : name_("memory://" + std::move(name)) {}

void MemoryObjectStore::FailOps(int ops, absl::Status status) {
  std::lock_guard<std::mutex> l(mu_);
  fail_ops_ = ops;
  fail_status_ = std::move(status);
}

void MemoryObjectStore::FailNext(int ops, int count, absl::Status status, int skip) {
  std::lock_guard<std::mutex> l(mu_);
  fail_next_ops_ = ops;
  fail_next_count_ = count;
  fail_next_skip_ = skip;
  fail_next_status_ = std::move(status);
}

void MemoryObjectStore::SetLatency(std::chrono::milliseconds latency) {
  std::lock_guard<std::mutex> l(mu_);
  latency_ = latency;
}

void MemoryObjectStore::ClearFaults() {
  std::lock_guard<std::mutex> l(mu_);
  fail_ops_ = 0;
  fail_next_count_ = 0;
  latency_ = std::chrono::milliseconds(0);
}

void MemoryObjectStore::SetMultipart(uint64_t threshold, uint64_t part_bytes) {
  std::lock_guard<std::mutex> l(mu_);
  multipart_threshold_ = threshold;
  part_bytes_ = std::max<uint64_t>(part_bytes, 1);
}

std::map<std::string, std::string> MemoryObjectStore::objects() const {
  std::lock_guard<std::mutex> l(mu_);
  std::map<std::string, std::string> out;
  for (const auto& [k, o] : objects_) out[k] = o.data;
  return out;
}

void MemoryObjectStore::SetObject(const std::string& key, std::string data) {
  std::lock_guard<std::mutex> l(mu_);
  objects_[key].data = std::move(data);
}

bool MemoryObjectStore::EraseObject(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  return objects_.erase(key) > 0;
}

void MemoryObjectStore::AddPendingUpload(PendingUpload upload) {
  std::lock_guard<std::mutex> l(mu_);
  pending_[upload.upload_id] = std::move(upload);
}

uint64_t MemoryObjectStore::requests() const {
  std::lock_guard<std::mutex> l(mu_);
  return requests_;
}

absl::Status MemoryObjectStore::Enter(Op op, std::string_view key, Clock::time_point deadline) {
  std::chrono::milliseconds latency;
  absl::Status fault;
  {
    std::lock_guard<std::mutex> l(mu_);
    ++requests_;
    switch (op) {
      case kGet:
        ++stats_.get_requests;
        break;
      case kPut:
        ++stats_.put_requests;
        break;
      case kHead:
        ++stats_.head_requests;
        break;
      case kList:
        ++stats_.list_requests;
        break;
      case kDelete:
        ++stats_.delete_requests;
        break;
      default:
        ++stats_.other_requests;
    }
    latency = latency_;
    if ((fail_next_ops_ & op) && fail_next_skip_ > 0) {
      --fail_next_skip_;
    } else if ((fail_next_ops_ & op) && fail_next_count_ > 0) {
      --fail_next_count_;
      fault = fail_next_status_;
    } else if (fail_ops_ & op) {
      fault = fail_status_;
    }
  }
  if (latency.count() > 0) {
    if (Clock::now() + latency > deadline) {
      std::this_thread::sleep_until(deadline);
      return absl::DeadlineExceededError(StrCat(name_, ": no answer for ", key, " in time"));
    }
    std::this_thread::sleep_for(latency);
  }
  if (!fault.ok()) {
    std::lock_guard<std::mutex> l(mu_);
    ++stats_.failures;
    return absl::Status(fault.code(), StrCat(name_, "/", key, ": ", ToStd(fault.message())));
  }
  return absl::OkStatus();
}

absl::Status MemoryObjectStore::Put(std::string_view key, std::string_view data,
                                    const PutOptions& options) {
  RETURN_IF_ERROR(Enter(kPut, key));
  std::lock_guard<std::mutex> l(mu_);
  Object& o = objects_[std::string(key)];
  o.data.assign(data);
  o.metadata = options.metadata;
  o.modified_ns = NowNanos();
  stats_.bytes_out += data.size();
  return absl::OkStatus();
}

absl::Status MemoryObjectStore::PutFile(std::string_view key, Env* env, const std::string& path,
                                        const PutOptions& options) {
  ASSIGN_OR_RETURN(std::string data, env->ReadFile(path));
  uint64_t threshold, part;
  {
    std::lock_guard<std::mutex> l(mu_);
    threshold = multipart_threshold_;
    part = part_bytes_;
  }
  if (data.size() <= threshold) return Put(key, data, options);
  PendingUpload up;
  {
    std::lock_guard<std::mutex> l(mu_);
    up = PendingUpload{std::string(key), StrCat("upload-", next_upload_++), NowNanos()};
  }
  RETURN_IF_ERROR(Enter(kPut, key));  // initiate
  {
    std::lock_guard<std::mutex> l(mu_);
    pending_[up.upload_id] = up;
  }
  for (uint64_t off = 0; off < data.size(); off += part) {
    if (absl::Status s = Enter(kPut, key); !s.ok()) {
      (void)AbortUpload(up);  // on failure it stays pending, as on S3
      return s;
    }
    std::lock_guard<std::mutex> l(mu_);
    stats_.bytes_out += std::min<uint64_t>(part, data.size() - off);
  }
  RETURN_IF_ERROR(Enter(kPut, key));  // complete
  std::lock_guard<std::mutex> l(mu_);
  pending_.erase(up.upload_id);
  Object& o = objects_[std::string(key)];
  o.data = std::move(data);
  o.metadata = options.metadata;
  o.modified_ns = NowNanos();
  return absl::OkStatus();
}

absl::StatusOr<ObjectInfo> MemoryObjectStore::Head(std::string_view key) {
  RETURN_IF_ERROR(Enter(kHead, key));
  std::lock_guard<std::mutex> l(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return absl::NotFoundError(StrCat(name_, "/", key, ": no such object"));
  return ObjectInfo{std::string(key), it->second.data.size(), it->second.modified_ns, "",
                    it->second.metadata};
}

absl::Status MemoryObjectStore::GetRanges(std::span<RangeRead> reads, Clock::time_point deadline,
                                          RequestCounters* counters) {
  // Parallel reads cost one latency, as they would over the network.
  for (size_t i = 0; i < reads.size(); ++i) {
    RangeRead& r = reads[i];
    absl::Status s = i == 0 ? Enter(kGet, r.key, deadline) : [&] {
      // Later reads of the batch: counted and faulted, not delayed again.
      std::lock_guard<std::mutex> l(mu_);
      ++requests_;
      ++stats_.get_requests;
      if ((fail_next_ops_ & kGet) && fail_next_skip_ > 0) {
        --fail_next_skip_;
      } else if ((fail_next_ops_ & kGet) && fail_next_count_ > 0) {
        --fail_next_count_;
        ++stats_.failures;
        return absl::Status(fail_next_status_.code(),
                            StrCat(name_, "/", r.key, ": ", ToStd(fail_next_status_.message())));
      }
      if (fail_ops_ & kGet) {
        ++stats_.failures;
        return absl::Status(fail_status_.code(),
                            StrCat(name_, "/", r.key, ": ", ToStd(fail_status_.message())));
      }
      return absl::OkStatus();
    }();
    if (counters != nullptr) ++counters->requests;
    RETURN_IF_ERROR(s);
    std::lock_guard<std::mutex> l(mu_);
    auto it = objects_.find(r.key);
    if (it == objects_.end()) {
      ++stats_.failures;
      return absl::NotFoundError(StrCat(name_, "/", r.key, ": no such object"));
    }
    const std::string& d = it->second.data;
    if (r.offset >= d.size() && r.length > 0) {
      return absl::InvalidArgumentError(
          StrCat(name_, "/", r.key, ": range ", r.offset, "+", r.length, " is not satisfiable"));
    }
    // Like S3, a range past the end is cut short; callers check the length.
    r.out->assign(d, r.offset, r.length);
    stats_.bytes_in += r.out->size();
    if (counters != nullptr) counters->bytes_in += r.out->size();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> MemoryObjectStore::Get(std::string_view key) {
  RETURN_IF_ERROR(Enter(kGet, key));
  std::lock_guard<std::mutex> l(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return absl::NotFoundError(StrCat(name_, "/", key, ": no such object"));
  stats_.bytes_in += it->second.data.size();
  return it->second.data;
}

absl::StatusOr<std::vector<ObjectInfo>> MemoryObjectStore::List(std::string_view prefix) {
  RETURN_IF_ERROR(Enter(kList, prefix));
  std::lock_guard<std::mutex> l(mu_);
  std::vector<ObjectInfo> out;
  for (auto it = objects_.lower_bound(prefix); it != objects_.end(); ++it) {
    if (!std::string_view(it->first).starts_with(prefix)) break;
    out.push_back(ObjectInfo{it->first, it->second.data.size(), it->second.modified_ns, "", {}});
  }
  return out;
}

absl::Status MemoryObjectStore::Delete(std::string_view key) {
  RETURN_IF_ERROR(Enter(kDelete, key));
  std::lock_guard<std::mutex> l(mu_);
  auto it = objects_.find(key);
  if (it != objects_.end()) objects_.erase(it);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<PendingUpload>> MemoryObjectStore::ListPendingUploads(
    std::string_view prefix) {
  RETURN_IF_ERROR(Enter(kList, prefix));
  std::lock_guard<std::mutex> l(mu_);
  std::vector<PendingUpload> out;
  for (const auto& [id, u] : pending_)
    if (std::string_view(u.key).starts_with(prefix)) out.push_back(u);
  return out;
}

absl::Status MemoryObjectStore::AbortUpload(const PendingUpload& upload) {
  RETURN_IF_ERROR(Enter(kAbort, upload.key));
  std::lock_guard<std::mutex> l(mu_);
  pending_.erase(upload.upload_id);
  return absl::OkStatus();
}

ObjectStoreStats MemoryObjectStore::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return stats_;
}

}  // namespace timestore::tiering
