#include "compaction/tier_mover.h"

#include <random>
#include <set>

#include "common/crash_point.h"
#include "common/status_macros.h"
#include "common/status_util.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "segment/segment_format.h"
#include "spdlog/spdlog.h"

namespace timestore::compaction {
namespace {

int64_t PartitionEnd(const SegmentHandle& seg, const Dataset& ds) {
  const int64_t interval = seg.reader->meta().partition_interval > 0
                               ? seg.reader->meta().partition_interval
                               : ds.partition_interval_ns();
  return SaturatingAdd(seg.record.partition_start, interval);
}

}  // namespace

TierMover::TierMover(Engine* engine, TieringOptions options) : engine_(engine), options_(options) {}

TierMover::~TierMover() { Stop(); }

void TierMover::Start() {
  if (thread_.joinable() || engine_->targets() == nullptr) return;
  thread_ = std::thread([this] { Loop(); });
}

void TierMover::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

TieringStats TierMover::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return stats_;
}

absl::Status TierMover::MoveSegment(Dataset* ds, const SegmentPtr& seg, const std::string& target,
                                    tiering::ObjectStore* store) {
  Env* env = engine_->env();
  const segment::SegmentMeta& meta = seg->reader->meta();
  SegmentRecord record = seg->record;
  record.target = target;
  record.key = engine_->ObjectKey(*ds, seg->record);
  const uint64_t tail_len =
      std::min<uint64_t>(meta.footer_bytes + segment::kTrailerSize, seg->record.bytes);
  std::string tail;
  {
    ASSIGN_OR_RETURN(auto file, env->NewRandomAccessFile(seg->path));
    if (file->Size() != seg->record.bytes) {
      return absl::DataLossError(StrCat(seg->path, " has ", file->Size(),
                                        " bytes, the manifest says ", seg->record.bytes));
    }
    RETURN_IF_ERROR(file->ReadAt(seg->record.bytes - tail_len, tail_len, &tail));
  }
  CrashPoint("tier.upload_started");
  tiering::PutOptions put;
  put.metadata["timestore-dataset"] = DatasetIdString(ds->id());
  put.metadata["timestore-segment"] = DatasetIdString(seg->record.id);
  put.metadata["timestore-rows"] = StrCat(seg->record.rows);
  RETURN_IF_ERROR(store->PutFile(record.key, env, seg->path, put));
  // Verified before anything local changes: the object has the file's size,
  // and its trailer and footer (whose checksum covers every block's) are the
  // file's bytes.
  auto drop = [&](absl::Status why) {
    (void)store->Delete(record.key);
    return why;
  };
  auto head = store->Head(record.key);
  if (!head.ok()) return drop(head.status());
  if (head->size != seg->record.bytes) {
    return drop(
        absl::DataLossError(StrCat(store->Describe(), "/", record.key, " holds ", head->size,
                                   " bytes after the upload of ", seg->record.bytes)));
  }
  auto remote_tail = tiering::FetchTail(store, record.key, seg->record.bytes, tail_len,
                                        tiering::Clock::now() + std::chrono::seconds(60));
  if (!remote_tail.ok()) return drop(remote_tail.status());
  if (*remote_tail != tail) {
    return drop(absl::DataLossError(StrCat(store->Describe(), "/", record.key,
                                           ": the uploaded footer differs from the local file's")));
  }
  CrashPoint("tier.uploaded");
  const std::string footer = engine_->FooterPath(ds->id(), seg->record);
  RETURN_IF_ERROR(WriteFileAtomically(env, footer, tail));
  auto remote = engine_->OpenRemoteSegment(ds->id(), record, tail);
  if (!remote.ok()) {
    (void)env->RemoveFile(footer);
    return drop(remote.status());
  }
  absl::Status s = engine_->TierSegments(ds, {TieredSegment{record.id, record.target, record.key}},
                                         {*std::move(remote)});
  if (absl::IsAborted(s)) {
    // Compacted, dropped or deleted meanwhile: the copy is not needed,
    // unless another move recorded this very object (then it is the segment).
    for (const SegmentPtr& now : ds->segments()) {
      if (now->record.id == record.id && now->record.remote() && now->record.key == record.key &&
          now->record.target == record.target) {
        return s;
      }
    }
    (void)env->RemoveFile(footer);
    return drop(s);
  }
  // On another error the edit may be in the log or not; a restart decides,
  // and removes whichever of the two copies is not the segment.
  return s;
}

absl::StatusOr<TieringResult> TierMover::TierDataset(Dataset* ds, int64_t now_ns, bool background) {
  TieringResult result;
  if (ds->deleted()) {
    return MakeError(absl::StatusCode::kNotFound, "dataset_not_found",
                     StrCat("dataset \"", ds->slug(), "\" was deleted"));
  }
  result.target = engine_->EffectiveStorageTarget(*ds);
  result.cold_after_ns = engine_->EffectiveColdAfter(*ds);
  if (result.target.empty() || result.cold_after_ns <= 0) return result;
  result.cutoff_ns = SaturatingAdd(now_ns, -result.cold_after_ns);
  auto store = engine_->targets()->Store(result.target);
  if (!store.ok()) {
    return MakeError(
        absl::StatusCode::kFailedPrecondition, "storage_target_unavailable",
        StrCat("storage target \"", result.target, "\": ", ToStd(store.status().message())));
  }
  // Rows still in memory for a cold partition are sealed first, so they
  // move with it.
  // (A partition is cold when it ends by the cutoff: its rows lie before the
  // cutoff rounded down to a partition boundary.)
  RETURN_IF_ERROR(engine_->SealIfHotBefore(
      ds, FloorToMultiple(result.cutoff_ns, std::max<int64_t>(1, ds->partition_interval_ns()))));
  std::lock_guard<std::mutex> moving(move_mu_);
  std::set<int64_t> partitions;
  for (const SegmentPtr& seg : ds->segments()) {
    if (seg->remote() || PartitionEnd(*seg, *ds) > result.cutoff_ns) continue;
    // In the background, a segment just written (late rows of a cold
    // partition) waits until compaction has had its chance to merge it.
    if (background && now_ns - seg->reader->meta().created_ns < options_.min_segment_age_ns) {
      continue;
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      if (stop_) break;
    }
    absl::Status s;
    {
      Dataset::TieringScope tiering(ds);
      s = MoveSegment(ds, seg, result.target, store->get());
    }
    if (absl::IsAborted(s)) continue;
    if (!s.ok()) {
      ++result.segments_failed;
      if (result.error.empty()) result.error = std::string(ToStd(s.message()));
      {
        std::lock_guard<std::mutex> l(mu_);
        ++stats_.upload_failures;
      }
      spdlog::warn("dataset {}: moving segment {} to {} failed: {}", ds->slug(),
                   DatasetIdString(seg->record.id), result.target, ToStd(s.message()));
      // A store that is down fails every upload alike: try again later.
      if (tiering::IsRetryable(s) || absl::IsPermissionDenied(s)) break;
      continue;
    }
    ++result.segments_moved;
    result.rows_moved += seg->record.rows;
    result.bytes_moved += seg->record.bytes;
    partitions.insert(seg->record.partition_start);
    std::lock_guard<std::mutex> l(mu_);
    ++stats_.segments_moved;
    stats_.bytes_uploaded += seg->record.bytes;
  }
  result.partitions_moved = partitions.size();
  {
    std::lock_guard<std::mutex> l(mu_);
    ++stats_.runs;
  }
  if (result.segments_moved > 0) {
    spdlog::info("dataset {}: moved {} segment(s) of {} partition(s), {} bytes, to {}", ds->slug(),
                 result.segments_moved, result.partitions_moved, result.bytes_moved, result.target);
  }
  return result;
}

void TierMover::DrainGarbage() {
  std::lock_guard<std::mutex> moving(move_mu_);
  std::vector<RemoteObjectRef> todo = std::move(retry_deletes_);
  retry_deletes_.clear();
  for (RemoteObjectRef& ref : engine_->remote_garbage()->Take()) todo.push_back(std::move(ref));
  bool give_up = false;  // a store that is down: keep the rest for the next round
  for (RemoteObjectRef& ref : todo) {
    if (engine_->cache() != nullptr) engine_->cache()->EraseObject(ref.cache_name);
    {
      std::lock_guard<std::mutex> l(mu_);
      give_up = give_up || stop_;
    }
    if (give_up) {
      retry_deletes_.push_back(std::move(ref));
      continue;
    }
    auto store = engine_->targets()->Store(ref.target);
    absl::Status s = store.ok() ? (*store)->Delete(ref.key) : store.status();
    std::lock_guard<std::mutex> l(mu_);
    if (s.ok()) {
      ++stats_.objects_deleted;
      continue;
    }
    ++stats_.delete_failures;
    // Kept for the next round; should the process stop first, the sweep
    // finds the object.
    spdlog::warn("could not delete {} from storage target {}: {} (tried again later)", ref.key,
                 ref.target, ToStd(s.message()));
    give_up = !store.ok() || tiering::IsRetryable(s) || absl::IsPermissionDenied(s);
    retry_deletes_.push_back(std::move(ref));
  }
}

SweepResult TierMover::Sweep(int64_t now_ns) {
  std::lock_guard<std::mutex> moving(move_mu_);
  SweepResult result;
  const std::string root = engine_->ObjectKeyRoot();
  auto stopping = [&] {
    std::lock_guard<std::mutex> l(mu_);
    return stop_;
  };
  for (const auto& config : engine_->targets()->List()) {
    if (stopping()) break;
    auto store = engine_->targets()->Store(config.id);
    if (!store.ok()) continue;
    auto objects = (*store)->List(root);
    if (!objects.ok()) {
      ++result.failures;
      spdlog::warn("orphan sweep of storage target {} failed: {}", config.id,
                   ToStd(objects.status().message()));
      continue;
    }
    result.objects_listed += objects->size();
    // Taken after the listing: a segment recorded in between is live. Live
    // also are the objects of segments a running query still reads.
    const std::set<std::string> live = engine_->LiveObjects(config.id);
    for (const tiering::ObjectInfo& o : *objects) {
      if (live.contains(o.key)) continue;
      if (o.last_modified_ns != 0 && now_ns - o.last_modified_ns < options_.orphan_grace_ns)
        continue;
      if (stopping()) break;
      if (absl::Status s = (*store)->Delete(o.key); s.ok()) {
        ++result.orphans_deleted;
        spdlog::info("deleted orphan object {} from storage target {} (no segment lists it)", o.key,
                     config.id);
      } else {
        ++result.failures;
        if (tiering::IsRetryable(s)) break;  // down: the next sweep tries again
      }
    }
    auto uploads = (*store)->ListPendingUploads(root);
    if (!uploads.ok()) {
      // Not every S3-compatible server lists them (s3rver answers 501).
      if (!absl::IsUnimplemented(uploads.status())) ++result.failures;
      continue;
    }
    for (const tiering::PendingUpload& u : *uploads) {
      if (u.initiated_ns != 0 && now_ns - u.initiated_ns < options_.orphan_grace_ns) continue;
      if (stopping()) break;
      if (absl::Status s = (*store)->AbortUpload(u); s.ok()) {
        ++result.uploads_aborted;
        spdlog::info("aborted an interrupted multipart upload of {} in storage target {}", u.key,
                     config.id);
      } else {
        ++result.failures;
        spdlog::warn("could not abort the multipart upload of {} in storage target {}: {}", u.key,
                     config.id, ToStd(s.message()));
      }
    }
  }
  std::lock_guard<std::mutex> l(mu_);
  ++stats_.sweeps;
  stats_.orphans_deleted += result.orphans_deleted;
  stats_.uploads_aborted += result.uploads_aborted;
  return result;
}

void TierMover::Loop() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  int64_t last_sweep = 0;
  bool first = true;
  while (true) {
    {
      std::unique_lock<std::mutex> l(mu_);
      // The predicate: a Stop() that came while the loop was busy is seen.
      if (!first) {
        cv_.wait_for(l, std::chrono::milliseconds(options_.interval_ms), [&] { return stop_; });
      }
      if (stop_) return;
    }
    first = false;
    DrainGarbage();
    const int64_t now = NowNanos();
    if (options_.enabled) {
      {
        // Forget the backoff of datasets that are gone.
        std::set<uint64_t> ids;
        for (const auto& ds : engine_->ListDatasets()) ids.insert(ds->id());
        std::lock_guard<std::mutex> l(mu_);
        std::erase_if(backoff_, [&](const auto& kv) { return !ids.contains(kv.first); });
      }
      for (const auto& ds : engine_->ListDatasets()) {
        {
          std::lock_guard<std::mutex> l(mu_);
          if (stop_) return;
          auto it = backoff_.find(ds->id());
          if (it != backoff_.end() && now < it->second.next_ns) continue;
        }
        auto r = TierDataset(ds.get(), now, /*background=*/true);
        const bool failed = !r.ok() || r->segments_failed > 0;
        std::lock_guard<std::mutex> l(mu_);
        if (!failed) {
          backoff_.erase(ds->id());
          continue;
        }
        Backoff& b = backoff_[ds->id()];
        ++b.failures;
        const int64_t cap = std::min<int64_t>(
            options_.retry_max_ms, options_.retry_base_ms << std::min(b.failures - 1, 20));
        const int64_t wait_ms = std::uniform_int_distribution<int64_t>(cap / 2, cap)(rng);
        b.next_ns = now + wait_ms * 1'000'000;
        spdlog::warn("dataset {}: tiering failed ({}); next attempt in {} ms", ds->slug(),
                     r.ok() ? r->error : std::string(ToStd(r.status().message())), wait_ms);
      }
    }
    if (last_sweep == 0 || now - last_sweep >= options_.sweep_interval_ms * 1'000'000) {
      last_sweep = now;
      Sweep(now);
    }
  }
}

}  // namespace timestore::compaction
