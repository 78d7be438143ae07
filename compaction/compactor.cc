#include "compaction/compactor.h"

#include <chrono>
#include <map>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "common/crash_point.h"
#include "common/status_macros.h"
#include "common/status_util.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "compaction/merger.h"
#include "engine/dedup.h"
#include "spdlog/spdlog.h"

namespace timestore::compaction {

Compactor::Compactor(Engine* engine, CompactionOptions options)
    : engine_(engine), options_(std::move(options)), throttle_(options_.max_bytes_per_sec) {}

Compactor::~Compactor() { Stop(); }

void Compactor::Start() {
  std::lock_guard<std::mutex> l(mu_);
  if (started_) return;
  started_ = true;
  const int n = std::max(1, options_.concurrency);
  for (int i = 0; i < n; ++i) threads_.emplace_back([this, i] { Loop(i); });
}

void Compactor::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_.store(true);
    cv_.notify_all();
  }
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

CompactorStats Compactor::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return stats_;
}

absl::StatusOr<CompactionSummary> Compactor::CompactDataset(Dataset* ds) {
  return Compact(ds, /*force=*/true, /*wait_for_claims=*/true);
}

absl::StatusOr<CompactionSummary> Compactor::CompactDue(Dataset* ds) {
  return Compact(ds, /*force=*/false, /*wait_for_claims=*/true);
}

absl::StatusOr<RetentionResult> Compactor::EnforceRetentionNow(Dataset* ds) {
  ASSIGN_OR_RETURN(RetentionResult r, EnforceRetention(engine_, ds, NowNanos()));
  NoteRetention(r);
  return r;
}

void Compactor::NoteRetention(const RetentionResult& r) {
  std::lock_guard<std::mutex> l(mu_);
  ++stats_.retention_runs;
  stats_.retention_partitions_dropped += r.partitions_dropped;
  stats_.retention_segments_dropped += r.segments_dropped;
  stats_.retention_rows_dropped += r.rows_dropped;
  stats_.retention_bytes_dropped += r.bytes_dropped;
}

absl::StatusOr<CompactionSummary> Compactor::Compact(Dataset* ds, bool force,
                                                     bool wait_for_claims) {
  const auto t0 = std::chrono::steady_clock::now();
  CompactionSummary summary;
  absl::flat_hash_set<uint64_t> produced;  // outputs of this call
  // A forced call merges what existed when it began (and its own outputs):
  // segments sealed meanwhile wait for the next call, so it ends however fast
  // data arrives. They come after every segment it began with, so leaving
  // them out keeps each pick contiguous.
  absl::flat_hash_set<uint64_t> initial;
  for (const SegmentPtr& seg : ds->segments()) initial.insert(seg->record.id);
  std::set<int64_t> merged_partitions;
  PickerOptions po;
  po.min_segments = options_.min_segments;
  po.tier_base_bytes = options_.tier_base_bytes;
  po.quiet_ns = options_.quiet_ns;
  po.max_output_rows = options_.max_output_rows;
  po.force = force;
  constexpr int kMaxPasses = 16;
  bool progress = true;
  for (int pass = 0; progress && pass < kMaxPasses; ++pass) {
    progress = false;
    // Partitions, each with its segments in write order.
    std::map<std::pair<int64_t, int64_t>, std::vector<SegmentPtr>> parts;
    for (const SegmentPtr& seg : ds->segments()) {
      if (force && !initial.contains(seg->record.id) && !produced.contains(seg->record.id)) {
        continue;
      }
      parts[{seg->record.partition_start, seg->reader->meta().partition_interval}].push_back(seg);
    }
    for (const auto& [key, segs] : parts) {
      if (stop_.load()) break;
      std::vector<PickerSegment> ps;
      for (const SegmentPtr& seg : segs) {
        const auto& meta = seg->reader->meta();
        std::string sort_key;
        for (const auto& k : meta.sort_key) StrAppend(&sort_key, k, "\x1f");
        // Segments in object storage are never merged (that would download
        // them): a key of their own ends every run at them.
        if (seg->remote()) sort_key = StrCat("\x1eremote:", seg->record.id);
        ps.push_back({seg->record.bytes, seg->record.rows, meta.created_ns, sort_key,
                      produced.contains(seg->record.id)});
      }
      std::vector<size_t> pick = PickSegments(ps, po, NowNanos());
      if (pick.empty()) continue;
      std::vector<SegmentPtr> inputs;
      for (size_t i : pick) inputs.push_back(segs[i]);
      const PartitionKey claim{ds->id(), key.first};
      {
        std::unique_lock<std::mutex> l(mu_);
        if (claimed_.count(claim)) {
          if (!wait_for_claims) continue;
          cv_.wait(l, [&] { return !claimed_.count(claim) || stop_.load(); });
          if (stop_.load()) break;
          // The partition changed under the other merge: look again next pass.
          progress = true;
          continue;
        }
        claimed_.insert(claim);
      }
      auto merged = MergeOnce(ds, inputs, &summary, &produced);
      {
        std::lock_guard<std::mutex> l(mu_);
        claimed_.erase(claim);
        cv_.notify_all();
      }
      if (!merged.ok()) {
        if (stop_.load()) {
          return MakeError(absl::StatusCode::kUnavailable, "shutting_down",
                           "the server is shutting down; compaction stopped, nothing changed");
        }
        std::lock_guard<std::mutex> l(mu_);
        ++stats_.failures;
        return merged.status();
      }
      if (*merged) {
        merged_partitions.insert(key.first);
        progress = progress || force;
      }
    }
    if (!force) break;  // a background round merges each partition at most once
  }
  summary.partitions = merged_partitions.size();
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return summary;
}

absl::StatusOr<bool> Compactor::MergeOnce(Dataset* ds, const std::vector<SegmentPtr>& inputs,
                                          CompactionSummary* summary,
                                          absl::flat_hash_set<uint64_t>* produced) {
  const auto t0 = std::chrono::steady_clock::now();
  SchemaPtr schema = ds->schema();
  // A migration under way rewrites the older segments itself; merging them
  // now would read its transformed columns as null (migrate/migrator.h).
  if (schema->migration != nullptr && schema->migration->in_progress()) return false;
  MergeOptions mo;
  mo.dedup = MakeDedupPlan(ds->dedup(), *schema);
  mo.max_output_rows = options_.max_output_rows;
  mo.throttle = &throttle_;
  mo.stop = &stop_;
  ASSIGN_OR_RETURN(MergeResult r, MergeSegments(engine_, *ds, *schema, inputs, mo));
  CrashPoint("compaction.written");
  std::vector<uint64_t> remove;
  for (const auto& in : inputs) remove.push_back(in->record.id);
  absl::Status s = engine_->ReplaceSegments(ds, remove, r.outputs);
  if (!s.ok()) {
    // Aborted: the edit was never logged, the outputs are garbage. A failed
    // manifest write was not logged either unless the manifest is broken (a
    // failed fsync): then the edit may be on disk, so the outputs stay and the
    // next start keeps whichever files the manifest lists.
    if (absl::IsAborted(s) || !engine_->manifest_broken()) {
      for (const auto& out : r.outputs) out->obsolete.store(true, std::memory_order_release);
    }
    if (absl::IsAborted(s)) {
      ++summary->aborted;
      std::lock_guard<std::mutex> l(mu_);
      ++stats_.aborted;
      return false;
    }
    return s;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ++summary->merges;
  summary->segments_merged += inputs.size();
  summary->segments_written += r.outputs.size();
  summary->rows_read += r.rows_read;
  summary->rows_written += r.rows_written;
  summary->duplicates_dropped += r.duplicates_dropped;
  summary->bytes_read += r.bytes_read;
  summary->bytes_written += r.bytes_written;
  for (const auto& out : r.outputs) produced->insert(out->record.id);
  {
    std::lock_guard<std::mutex> l(mu_);
    ++stats_.runs;
    stats_.segments_merged += inputs.size();
    stats_.segments_written += r.outputs.size();
    stats_.rows_read += r.rows_read;
    stats_.rows_written += r.rows_written;
    stats_.duplicates_dropped += r.duplicates_dropped;
    stats_.bytes_read += r.bytes_read;
    stats_.bytes_written += r.bytes_written;
    stats_.seconds += secs;
  }
  spdlog::info(
      "dataset {}: compacted {} segment(s) of partition {} into {} ({} rows, {} duplicates "
      "dropped, {} bytes read, {} written) in {:.3f} s",
      ds->slug(), inputs.size(), FormatRfc3339(inputs.front()->record.partition_start),
      r.outputs.size(), r.rows_written, r.duplicates_dropped, r.bytes_read, r.bytes_written, secs);
  return true;
}

void Compactor::Loop(int index) {
  auto last_retention = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_.load()) {
    cv_.wait_for(l, std::chrono::milliseconds(options_.interval_ms));
    if (stop_.load()) break;
    l.unlock();
    if (options_.enabled) {
      for (const auto& ds : engine_->ListDatasets()) {
        if (stop_.load()) break;
        auto r = Compact(ds.get(), /*force=*/false, /*wait_for_claims=*/false);
        if (!r.ok() && !absl::IsCancelled(r.status())) {
          spdlog::error("compaction of dataset {} failed: {}", ds->slug(),
                        ToStd(r.status().message()));
        }
      }
    }
    const auto now = std::chrono::steady_clock::now();
    if (index == 0 &&
        now - last_retention >= std::chrono::milliseconds(options_.retention_interval_ms)) {
      last_retention = now;
      for (const auto& ds : engine_->ListDatasets()) {
        if (stop_.load()) break;
        auto r = EnforceRetentionNow(ds.get());
        if (!r.ok()) {
          spdlog::error("retention of dataset {} failed: {}", ds->slug(),
                        ToStd(r.status().message()));
        }
      }
    }
    l.lock();
  }
}

}  // namespace timestore::compaction
