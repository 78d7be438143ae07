// Sealing: in-memory rows to segment files, the manifest edit, WAL file
// deletion, and the background sealer.
#include <chrono>
#include <map>
#include <random>

#include "absl/container/flat_hash_set.h"
#include "common/crash_point.h"
#include "common/status_macros.h"
#include "common/status_util.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "engine/dedup.h"
#include "engine/engine.h"
#include "engine/engine_internal.h"
#include "engine/query_executor.h"
#include "engine/row_compare.h"
#include "engine/series_key.h"
#include "spdlog/spdlog.h"

namespace timestore {
using engine_internal::NotFound;
using engine_internal::WalDir;

absl::StatusOr<FlushResult> Engine::Flush(std::string_view slug) {
  auto ds = GetDataset(slug);
  if (ds == nullptr) return NotFound(slug);
  ASSIGN_OR_RETURN(FlushResult r, Seal(ds.get()));
  if (!r.retried_leftover) return r;
  // That seal finished one a failed seal had left frozen; the rows that came
  // in since are sealed too, so "flushed" means everything.
  ASSIGN_OR_RETURN(FlushResult more, Seal(ds.get()));
  r.rows += more.rows;
  r.segments.insert(r.segments.end(), more.segments.begin(), more.segments.end());
  r.sealed_through_seq = std::max(r.sealed_through_seq, more.sealed_through_seq);
  r.wal_files_deleted += more.wal_files_deleted;
  r.seconds += more.seconds;
  return r;
}

absl::StatusOr<FlushResult> Engine::Seal(Dataset* ds) {
  std::lock_guard<std::mutex> seal_lock(ds->seal_mu_);
  auto t0 = std::chrono::steady_clock::now();
  FlushResult result;
  if (ds->deleted()) return result;
  // Freeze: new rows go to a fresh active segment from here on. A frozen
  // segment left by a failed seal is retried first.
  std::shared_ptr<MemSegment> frozen;
  {
    std::lock_guard<std::mutex> l(ds->version_mu_);
    if (!ds->frozen_) {
      if (ds->active_->first_seq() == 0) return result;  // nothing applied
      ds->frozen_ = ds->active_;
      ds->active_ = std::make_shared<MemSegment>();
    } else {
      result.retried_leftover = true;
    }
    frozen = ds->frozen_;
  }
  const uint64_t sealed_seq = frozen->last_seq();
  SchemaPtr schema = ds->schema();
  std::vector<ChunkPtr> chunks = frozen->Snapshot();
  // Duplicates within what is sealed now go here; those against older
  // segments are resolved on read and by compaction.
  if (auto plan = MakeDedupPlan(ds->dedup(), *schema)) chunks = DedupChunks(chunks, *plan);

  // Split by partition, then order each partition by segmentBy, then time;
  // the sort is stable, so rows equal in both keep their ingest order.
  const int64_t interval = ds->partition_interval_ns() > 0 ? ds->partition_interval_ns()
                                                           : options_.partition_interval_ns;
  struct RowRef {
    uint32_t chunk;
    uint32_t row;
  };
  std::map<int64_t, std::vector<RowRef>> parts;
  for (uint32_t ci = 0; ci < chunks.size(); ++ci) {
    const int64_t* ts = chunks[ci]->timestamps();
    for (uint32_t r = 0; r < chunks[ci]->rows; ++r) {
      parts[FloorToMultiple(ts[r], interval)].push_back({ci, r});
    }
  }
  const int time_index = schema->time_index();
  MaybeInferSeriesKey(ds, *schema, chunks);
  std::vector<int> sort_cols;
  for (const auto& name : ds->segment_by()) {
    int i = schema->IndexOf(name);
    if (i >= 0 && i != time_index) sort_cols.push_back(i);
  }
  ManifestEdit edit(ManifestEdit::Op::kAddSegments, ds->id());
  edit.sealed_through_seq = sealed_seq;
  std::vector<SegmentPtr> handles;
  // When the seal fails before its edit is logged, the files it wrote are in
  // no manifest: they go with their handles, or on a full disk they would
  // hold the space the retry needs until a restart. When the manifest cannot
  // tell whether the edit was logged (broken()), they stay for the restart.
  struct DropUnlisted {
    std::vector<SegmentPtr>* handles;
    bool keep = false;
    ~DropUnlisted() {
      if (keep) return;
      for (const SegmentPtr& h : *handles) h->obsolete.store(true, std::memory_order_release);
    }
  } unlisted{&handles};
  for (auto& [start, rows] : parts) {
    std::stable_sort(rows.begin(), rows.end(), [&](const RowRef& a, const RowRef& b) {
      for (int col : sort_cols) {
        int c =
            CompareCells(chunks[a.chunk]->column(col), a.row, chunks[b.chunk]->column(col), b.row);
        if (c != 0) return c < 0;
      }
      return chunks[a.chunk]->timestamps()[a.row] < chunks[b.chunk]->timestamps()[b.row];
    });
    std::vector<ColumnVector> columns;
    columns.reserve(schema->fields.size());
    for (size_t col = 0; col < schema->fields.size(); ++col) {
      ColumnBuilder b(schema->fields[col].type);
      for (const RowRef& r : rows) {
        const ColumnVector* v = chunks[r.chunk]->column(static_cast<int>(col));
        if (v == nullptr || v->all_null) {
          b.AppendNull();
        } else {
          b.AppendFrom(*v, r.row);
        }
      }
      columns.push_back(b.Finish());
    }
    segment::SegmentContents contents;
    contents.dataset_id = ds->id();
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    contents.segment_id = rng();
    contents.schema_version = schema->version;
    contents.partition_start = start;
    contents.partition_interval = interval;
    contents.created_ns = NowNanos();
    contents.time_column = static_cast<uint32_t>(time_index);
    for (int c : sort_cols) contents.sort_key.push_back(schema->fields[c].name);
    contents.sort_key.push_back(schema->time_column);
    contents.rows = static_cast<uint32_t>(rows.size());
    for (size_t col = 0; col < schema->fields.size(); ++col) {
      contents.specs.push_back({schema->fields[col].name, schema->fields[col].type});
      contents.columns.push_back(&columns[col]);
    }
    const std::string path = SegmentPath(ds->id(), start, contents.segment_id);
    RETURN_IF_ERROR(env_->CreateDirs(DirName(path)));
    RETURN_IF_ERROR(env_->SyncDir(DirName(DirName(path))));
    ASSIGN_OR_RETURN(segment::WrittenSegment w,
                     segment::WriteSegmentFile(env_, path, contents, options_.segment_options));
    auto h = std::make_shared<SegmentHandle>();
    h->record =
        SegmentRecord{contents.segment_id, start, w.rows, w.bytes, w.min_ts, w.max_ts, 0, "", ""};
    h->path = path;
    h->env = env_;
    ASSIGN_OR_RETURN(h->reader, segment::SegmentReader::Open(env_, path));
    seal_bytes_.fetch_add(w.bytes, std::memory_order_relaxed);
    edit.segments.push_back(h->record);
    handles.push_back(std::move(h));
    result.rows += rows.size();
  }
  // Keys of the sealed records move to the manifest, since their WAL files go.
  std::vector<std::string> keys;
  {
    std::lock_guard<std::mutex> l(ds->mu_);
    for (const auto& [key, e] : ds->idempotency_) {
      if (e.pending || e.persisted || e.seq > sealed_seq) continue;
      edit.keys.push_back(IdempotencyInfo{key, e.request_hash, e.created_ns, e.answer});
      keys.push_back(key);
    }
  }
  // The files are durable; this edit makes them visible to a restart.
  if (absl::Status s = manifest_->LogEdit(edit); !s.ok()) {
    unlisted.keep = manifest_->broken();
    return s;
  }
  unlisted.keep = true;
  {
    std::lock_guard<std::mutex> l(ds->mu_);
    for (const auto& k : keys) {
      auto it = ds->idempotency_.find(k);
      if (it != ds->idempotency_.end()) it->second.persisted = true;
    }
  }
  {
    std::lock_guard<std::mutex> l(ds->version_mu_);
    ds->segments_.insert(ds->segments_.end(), handles.begin(), handles.end());
    ds->frozen_.reset();
    ds->sealed_through_seq_ = std::max(ds->sealed_through_seq_, sealed_seq);
  }
  seals_.fetch_add(1, std::memory_order_relaxed);
  result.segments = edit.segments;
  result.sealed_through_seq = sealed_seq;
  RETURN_IF_ERROR(DeleteObsoleteWal(&result.wal_files_deleted));
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  spdlog::info("dataset {}: sealed {} rows into {} segment(s) in {:.3f} s; {} WAL file(s) deleted",
               ds->slug(), result.rows, result.segments.size(), result.seconds,
               result.wal_files_deleted);
  return result;
}

// A dataset nobody gave a segmentBy gets the series key of its rows (see
// engine/series_key.h), once: every later seal sorts the same way, so its
// segments stay mergeable and the layout stable. Persisted before the seal's
// files are written, so a restart sorts as the files already on disk do.
void Engine::MaybeInferSeriesKey(Dataset* ds, const Schema& schema,
                                 const std::vector<ChunkPtr>& chunks) {
  {
    std::lock_guard<std::mutex> l(ds->mu_);
    if (ds->segment_by_set_ || !ds->inferred_segment_by_.empty() || ds->dedup_) return;
  }
  std::vector<std::string> key = InferSeriesKey(schema, chunks);
  if (key.empty()) return;
  std::lock_guard<std::mutex> l(ds->mu_);
  if (ds->segment_by_set_ || !ds->inferred_segment_by_.empty() || ds->dedup_ || ds->deleted()) {
    return;
  }
  ManifestEdit e{ManifestEdit::Op::kSetSettings, ds->id()};
  e.partition_interval_ns = ds->partition_interval_ns_.load();
  e.segment_by = ds->segment_by_;
  e.segment_by_set = false;
  e.inferred_segment_by = key;
  e.dedup = ds->dedup_;
  e.display_name = ds->display_name_;
  e.description = ds->description_;
  e.iam = ds->iam_;
  if (absl::Status s = manifest_->LogEdit(e); !s.ok()) {
    spdlog::warn("dataset {}: could not record the inferred series key: {}", ds->slug(),
                 ToStd(s.message()));
    return;  // this seal sorts by time; the next one tries again
  }
  ds->inferred_segment_by_ = key;
  std::string names;
  for (const auto& k : key) StrAppend(&names, names.empty() ? "" : ", ", k);
  spdlog::info("dataset {}: series key inferred from the data: {} (segmentBy overrides it)",
               ds->slug(), names);
}

// A WAL file may go once every record in it is applied and, for each dataset,
// sealed: safe = min(everything applied, first unsealed record of any dataset - 1).
absl::Status Engine::DeleteObsoleteWal(int* deleted) {
  const uint64_t applied = applied_seq_.load(std::memory_order_acquire);
  uint64_t safe = applied;
  for (const auto& d : ListDatasets()) {
    std::lock_guard<std::mutex> l(d->version_mu_);
    uint64_t first = d->frozen_ ? d->frozen_->first_seq() : d->active_->first_seq();
    if (first != 0) safe = std::min(safe, first - 1);
  }
  // Everything applied is sealed: the file being written holds nothing the
  // segments lack, so it is closed and can go too (a flush frees the log).
  if (safe == applied && wal_->stats().records > 0) RETURN_IF_ERROR(wal_->Rotate());
  ASSIGN_OR_RETURN(*deleted, wal_->DeleteObsoleteFiles(safe));
  return absl::OkStatus();
}

void Engine::SealerLoop() {
  // A seal that fails (a full disk, an I/O error) is retried with a doubling
  // delay, 100 ms up to 5 s, per dataset, and logged at failures 1, 2, 4, 8,
  // ...: every 50 ms would fill the log and keep writing files that cannot
  // be finished. A success resets it.
  struct Backoff {
    int64_t next_ns = 0;
    int64_t delay_ns = 0;
    uint64_t failures = 0;
  };
  std::map<uint64_t, Backoff> backoff;
  auto seal = [&](Dataset* ds, int64_t now) {
    Backoff& b = backoff[ds->id()];
    if (now < b.next_ns) return;
    auto r = Seal(ds);
    if (r.ok()) {
      if (b.failures > 0) {
        spdlog::info("sealing dataset {} succeeded after {} failed attempt(s)", ds->slug(),
                     b.failures);
      }
      backoff.erase(ds->id());
      return;
    }
    ++b.failures;
    b.delay_ns = std::min<int64_t>(b.delay_ns == 0 ? 100'000'000 : b.delay_ns * 2, 5'000'000'000);
    b.next_ns = now + b.delay_ns;
    if ((b.failures & (b.failures - 1)) == 0) {
      spdlog::error("sealing dataset {} failed (attempt {}; retrying in {} ms): {}", ds->slug(),
                    b.failures, b.delay_ns / 1'000'000, ToStd(r.status().message()));
    }
  };
  std::unique_lock<std::mutex> l(sealer_mu_);
  while (!sealer_stop_) {
    sealer_cv_.wait_for(l, std::chrono::milliseconds(50));
    if (sealer_stop_) break;
    l.unlock();
    const int64_t now = NowNanos();
    uint64_t total = 0;
    std::shared_ptr<Dataset> largest;
    uint64_t largest_bytes = 0;
    for (const auto& ds : ListDatasets()) {
      uint64_t bytes = ds->hot_bytes();
      total += bytes;
      if (bytes > largest_bytes) {
        largest_bytes = bytes;
        largest = ds;
      }
      uint64_t rows = ds->hot_rows();
      int64_t first;
      bool leftover;
      {
        std::lock_guard<std::mutex> vl(ds->version_mu_);
        first = ds->active_->first_append_ns();
        leftover = ds->frozen_ != nullptr;
      }
      // A failed seal's leftover is retried even when no row arrives after
      // it (a full disk freed while ingest had stopped).
      bool due = rows >= options_.seal_max_rows || leftover ||
                 (first != 0 && now - first >= options_.seal_max_age_ms * 1'000'000);
      if (due) seal(ds.get(), now);
    }
    if (largest != nullptr && total > options_.memtable_max_bytes / 2) seal(largest.get(), now);
    l.lock();
  }
}

}  // namespace timestore
