// Engine start-up: the manifest, the segment files it lists (strays removed),
// then a replay of the write-ahead log.
#include <chrono>
#include <map>
#include <random>

#include "absl/container/flat_hash_set.h"
#include "common/coding.h"
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
#include "segment/segment_format.h"
#include "spdlog/spdlog.h"

namespace timestore {
using engine_internal::NotFound;
using engine_internal::WalDir;

namespace {

// The footer and trailer of a local segment file of `size` bytes.
absl::StatusOr<std::string> ReadSegmentTail(Env* env, const std::string& path, uint64_t size) {
  ASSIGN_OR_RETURN(auto file, env->NewRandomAccessFile(path));
  if (file->Size() != size || size < segment::kHeaderSize + segment::kTrailerSize) {
    return absl::DataLossError(StrCat(path, " has ", file->Size(), " bytes, not ", size));
  }
  std::string trailer;
  RETURN_IF_ERROR(file->ReadAt(size - segment::kTrailerSize, segment::kTrailerSize, &trailer));
  const uint64_t footer_len = DecodeFixed32(trailer.data());
  if (footer_len > segment::kMaxFooterBytes ||
      footer_len > size - segment::kTrailerSize - segment::kHeaderSize) {
    return absl::DataLossError(StrCat(path, ": impossible footer length ", footer_len));
  }
  std::string tail;
  RETURN_IF_ERROR(file->ReadAt(size - segment::kTrailerSize - footer_len,
                               footer_len + segment::kTrailerSize, &tail));
  return tail;
}

}  // namespace

// Opens exactly the segments the manifest lists; a listed file that is missing
// or damaged stops start-up (DataLoss naming it). Files nobody lists are the
// leftovers of a seal that crashed before its manifest edit: reported, removed.
// Tiering leaves two kinds of leftovers, both removed: the local file of a
// segment recorded as remote (a crash before its delete), and the footer copy
// of a segment still recorded as local (a crash before the manifest edit; its
// uploaded object is an orphan for the sweep).
absl::Status Engine::OpenSegments(Dataset* ds, const DatasetMeta& meta) {
  std::vector<SegmentPtr> segs;
  absl::flat_hash_set<std::string> listed;
  for (const SegmentRecord& r : meta.segments) {
    if (r.remote()) {
      const std::string footer = FooterPath(meta.id, r);
      absl::StatusOr<SegmentPtr> h = absl::NotFoundError("no footer copy");
      if (env_->FileExists(footer)) {
        auto tail = env_->ReadFile(footer);
        h = tail.ok() ? OpenRemoteSegment(meta.id, r, *std::move(tail)) : tail.status();
      }
      if (!h.ok()) {
        // The copy is lost or damaged: take the footer again from the local
        // file when it is still there (a crash between the manifest edit and
        // its delete), else from the object.
        const std::string local = SegmentPath(meta.id, r.partition_start, r.id);
        absl::StatusOr<std::string> tail =
            env_->FileExists(local) ? ReadSegmentTail(env_, local, r.bytes) : FetchFooter(r);
        if (!tail.ok()) {
          return absl::DataLossError(
              StrCat("dataset ", meta.slug, ": the footer copy ", footer, " of remote segment ",
                     DatasetIdString(r.id), " is unusable (", h.status().message(),
                     ") and could not be fetched again from storage target \"", r.target,
                     "\": ", tail.status().message()));
        }
        RETURN_IF_ERROR(env_->CreateDirs(DirName(footer)));
        RETURN_IF_ERROR(WriteFileAtomically(env_, footer, *tail));
        spdlog::warn("dataset {}: footer copy {} was unusable ({}); took it again", meta.slug,
                     footer, ToStd(h.status().message()));
        h = OpenRemoteSegment(meta.id, r, *std::move(tail));
        if (!h.ok()) {
          return absl::DataLossError(StrCat("dataset ", meta.slug,
                                            ": remote segment listed in the manifest cannot be "
                                            "opened: ",
                                            h.status().message()));
        }
      }
      listed.insert(footer);
      segs.push_back(*std::move(h));
      continue;
    }
    auto h = std::make_shared<SegmentHandle>();
    h->record = r;
    h->path = SegmentPath(meta.id, r.partition_start, r.id);
    h->env = env_;
    auto reader = segment::SegmentReader::Open(env_, h->path);
    if (!reader.ok()) {
      return absl::DataLossError(StrCat("dataset ", meta.slug, ": segment listed in the manifest ",
                                        "cannot be opened: ", reader.status().message()));
    }
    h->reader = *std::move(reader);
    listed.insert(h->path);
    segs.push_back(std::move(h));
  }
  const std::string dir = JoinPath(JoinPath(options_.root, "datasets"), DatasetIdString(meta.id));
  if (env_->FileExists(dir)) {
    ASSIGN_OR_RETURN(std::vector<std::string> parts, env_->ListDir(dir));
    for (const auto& part : parts) {
      auto files = env_->ListDir(JoinPath(dir, part));
      if (!files.ok()) continue;
      for (const auto& f : *files) {
        std::string path = JoinPath(JoinPath(dir, part), f);
        if (listed.contains(path)) continue;
        std::string_view why = "a seal interrupted before its manifest edit";
        if (f.ends_with(".tfoot")) {
          why = "tiering interrupted before its manifest edit; the object is swept";
        } else if (listed.contains(path.substr(0, path.size() - 5) + ".tfoot")) {
          why = "the local copy of a segment already in object storage";
        }
        spdlog::warn("stray file {} is not in the manifest ({}); removing it", path, why);
        (void)env_->RemoveFile(path);
      }
    }
  }
  std::lock_guard<std::mutex> l(ds->version_mu_);
  ds->segments_ = std::move(segs);
  ds->sealed_through_seq_ = meta.sealed_through_seq;
  return absl::OkStatus();
}

// Directories under datasets/ that no dataset owns: a delete whose files were
// still in use at shutdown, or a crash during one.
void engine_internal::RemoveTree(Env* env, const std::string& path) {
  auto names = env->ListDir(path);
  if (names.ok()) {
    for (const auto& n : *names) RemoveTree(env, JoinPath(path, n));
  }
  (void)env->RemoveFile(path);
  (void)env->RemoveDir(path);
}

absl::Status Engine::Recover() {
  auto t0 = std::chrono::steady_clock::now();
  RETURN_IF_ERROR(env_->CreateDirs(options_.root));
  audit_ = AuditLog::Open(env_, JoinPath(options_.root, "audit.log"));  // never fails
  ASSIGN_OR_RETURN(manifest_, Manifest::Open(env_, options_.root, options_.idempotency_ttl_ns));
  {
    const int64_t now = NowNanos();
    for (const auto& [id, meta] : manifest_->datasets()) {
      auto ds = std::make_shared<Dataset>(id, meta.slug, std::make_shared<Schema>(meta.schema),
                                          meta.created_ns, meta.partition_interval_ns);
      RETURN_IF_ERROR(OpenSegments(ds.get(), meta));
      if (const auto& m = meta.schema.migration; m != nullptr && m->in_progress()) {
        size_t waiting = 0;
        std::set<int64_t> partitions;
        for (const auto& seg : ds->segments()) {
          if (seg->reader->meta().schema_version >= m->to_version) continue;
          ++waiting;
          partitions.insert(seg->record.partition_start);
        }
        spdlog::warn(
            "dataset {}: schema migration {} (ticket {}) is under way: {} segments in {} "
            "partitions await their rewrite; finish it with `timestore migrate --resume` or undo "
            "it with `timestore migrate --rollback` (docs/migrate.md)",
            meta.slug, m->id, m->ticket_id, waiting, partitions.size());
      }
      {
        std::lock_guard<std::mutex> l(ds->mu_);
        ds->segment_by_ = meta.segment_by;
        ds->segment_by_set_ = meta.segment_by_set;
        ds->inferred_segment_by_ = meta.inferred_segment_by;
        ds->dedup_ = meta.dedup;
        ds->display_name_ = meta.display_name;
        ds->description_ = meta.description;
        ds->iam_ = meta.iam;
        ds->retention_ = meta.retention;
        ds->storage_target_ = meta.storage_target;
      }
      {
        std::lock_guard<std::mutex> l(ds->mu_);
        for (const IdempotencyInfo& k : meta.keys) {
          if (now - k.created_ns > options_.idempotency_ttl_ns) continue;
          Dataset::IdempotencyEntry e{k.request_hash, k.created_ns, false, k.answer, 0, true};
          ds->idempotency_[k.key] = e;
        }
        for (const SegmentRecord& r : meta.segments) {
          if (r.rows > 0) ds->reserved_max_ts_ = std::max(ds->reserved_max_ts_, r.max_ts);
        }
        int64_t wm = ds->reserved_max_ts_;
        ds->applied_max_ts_.store(wm, std::memory_order_release);
      }
      std::unique_lock<std::shared_mutex> l(datasets_mu_);
      by_slug_[meta.slug] = ds;
      by_id_[id] = ds;
    }
    const std::string dir = JoinPath(options_.root, "datasets");
    if (auto names = env_->ListDir(dir); names.ok()) {
      for (const auto& n : *names) {
        uint64_t id = 0;
        if (ParseInt(n, &id, 16) && manifest_->datasets().count(id)) continue;
        spdlog::warn("removing {}: no dataset in the manifest owns it (a deleted dataset)",
                     JoinPath(dir, n));
        engine_internal::RemoveTree(env_, JoinPath(dir, n));
      }
    }
  }

  const std::string wal_dir = WalDir(options_.root);
  RETURN_IF_ERROR(env_->CreateDirs(wal_dir));
  ASSIGN_OR_RETURN(std::vector<std::string> names, env_->ListDir(wal_dir));
  std::vector<uint64_t> numbers;
  for (const auto& n : names) {
    if (uint64_t num = wal::ParseWalFileName(n)) numbers.push_back(num);
  }
  std::sort(numbers.begin(), numbers.end());
  uint64_t last_seq = 0;
  uint64_t skipped_records = 0;
  std::map<uint64_t, uint64_t> file_last_seq;
  const int64_t now = NowNanos();
  for (size_t i = 0; i < numbers.size(); ++i) {
    const bool last = i + 1 == numbers.size();
    const std::string path = JoinPath(wal_dir, wal::WalFileName(numbers[i]));
    wal::TailPolicy policy =
        options_.wal_recovery == wal::TailPolicy::kTruncate
            ? wal::TailPolicy::kTruncate
            : (last ? wal::TailPolicy::kTornTailOnly : wal::TailPolicy::kStrict);
    auto log = wal::ReadLog(env_, path, wal::kWalMagic, policy);
    if (!log.ok()) {
      return absl::DataLossError(StrCat(
          "write-ahead log recovery failed: ", log.status().message(),
          ". The data before that offset is intact. Inspect it with `timestore wal-dump ", path,
          "`; to start anyway, dropping everything from the corrupt record on, set "
          "TIMESTORE_WAL_RECOVERY=truncate (or --wal-recovery=truncate)."));
    }
    ++recovery_.wal_files;
    file_last_seq[numbers[i]] = log->records.empty() ? 0 : log->records.back().seq;
    for (const wal::LogRecord& r : log->records) {
      last_seq = std::max(last_seq, r.seq);
      if (!CarriesRows(r.type)) continue;
      auto batches = DecodeRowRecord(r.type, r.payload);
      if (!batches.ok()) {
        return absl::DataLossError(
            StrCat(path, " at offset ", r.offset, ": ", batches.status().message()));
      }
      bool applied = false;
      for (BatchRecord& batch : *batches) {
        BatchRecord* rec = &batch;
        std::shared_ptr<Dataset> ds;
        {
          std::shared_lock<std::shared_mutex> l(datasets_mu_);
          auto it = by_id_.find(rec->dataset_id);
          if (it != by_id_.end()) ds = it->second;
        }
        if (ds == nullptr) {
          // A deleted dataset's rows (its WAL files were not obsolete yet).
          ++skipped_records;
          continue;
        }
        {
          // Already in a segment: sealed before the crash.
          std::lock_guard<std::mutex> l(ds->version_mu_);
          if (r.seq <= ds->sealed_through_seq_) continue;
        }
        SchemaPtr schema = ds->schema();
        const Chunk& c = *rec->chunk;
        // Columns are by position: a batch laid out before a migration began
        // (every such batch is sealed by the begin; ingest refuses the rest)
        // would put its values in the wrong columns under the new schema.
        if (schema->migration != nullptr && rec->schema_version < schema->migration->to_version) {
          return absl::DataLossError(
              StrCat(path, " at offset ", r.offset, ": row batch of dataset ", ds->slug(),
                     " was laid out under schema version ", rec->schema_version,
                     ", before schema migration ", schema->migration->id, " (version ",
                     schema->migration->to_version, ") began, and was not sealed by it"));
        }
        if (c.columns.size() > schema->fields.size() || c.time_index != schema->time_index()) {
          return absl::DataLossError(StrCat(path, " at offset ", r.offset,
                                            ": row batch does not match the schema of "
                                            "dataset ",
                                            ds->slug()));
        }
        for (size_t k = 0; k < c.columns.size(); ++k) {
          if (c.columns[k].type != schema->fields[k].type) {
            return absl::DataLossError(
                StrCat(path, " at offset ", r.offset, ": column ", schema->fields[k].name,
                       " has type ", ColumnTypeName(c.columns[k].type), " in the log but ",
                       ColumnTypeName(schema->fields[k].type), " in the schema"));
          }
        }
        if (rec->idempotency && now - rec->idempotency->created_ns > options_.idempotency_ttl_ns)
          rec->idempotency.reset();
        {
          std::lock_guard<std::mutex> l(ds->mu_);
          ds->reserved_max_ts_ =
              std::max(ds->reserved_max_ts_, c.rows ? c.max_ts : ds->reserved_max_ts_);
        }
        Apply(ds.get(), *rec, r.seq);
        recovery_.rows += c.rows;
        applied = true;
      }
      if (applied) ++recovery_.records;
    }
    if (log->dropped_bytes > 0) {
      recovery_.dropped_bytes += log->dropped_bytes;
      recovery_.dropped_detail = StrCat(path, ": ", log->drop_reason);
      spdlog::warn(
          "WAL recovery dropped {} bytes of {} ({}); those requests were never "
          "acknowledged",
          log->dropped_bytes, path, log->drop_reason);
    }
    if (log->valid_bytes < wal::kFileHeaderSize) {
      // Cut inside its own header, or empty (a crash between creating the file
      // and writing its header; nothing is dropped then): it holds nothing,
      // and as an older file it would no longer read cleanly.
      RETURN_IF_ERROR(env_->RemoveFile(path));
      RETURN_IF_ERROR(env_->SyncDir(wal_dir));
      file_last_seq.erase(numbers[i]);
    } else if (log->dropped_bytes > 0) {
      // Cut the tail, durably, so this file reads cleanly once it is no
      // longer the newest.
      RETURN_IF_ERROR(env_->TruncateFile(path, log->valid_bytes));
      ASSIGN_OR_RETURN(auto f, env_->NewAppendableFile(path));
      RETURN_IF_ERROR(f->Sync());
      RETURN_IF_ERROR(f->Close());
    }
  }
  if (skipped_records > 0) {
    spdlog::info("WAL replay skipped {} record(s) of deleted datasets", skipped_records);
  }
  wal::WalOptions wo;
  wo.dir = wal_dir;
  wo.sync_mode = options_.wal_sync;
  wo.sync_interval_ms = options_.wal_sync_interval_ms;
  wo.max_file_bytes = options_.wal_max_file_bytes;
  uint64_t next_file = numbers.empty() ? 1 : numbers.back() + 1;
  // Sequence numbers continue after the highest ever used, including records
  // whose WAL files were already deleted after sealing.
  for (const auto& ds : ListDatasets()) {
    std::lock_guard<std::mutex> l(ds->version_mu_);
    last_seq = std::max(last_seq, ds->sealed_through_seq_);
  }
  applied_seq_.store(last_seq, std::memory_order_release);
  ASSIGN_OR_RETURN(wal_,
                   wal::WalWriter::Open(env_, wo, next_file, last_seq, std::move(file_last_seq)));
  recovery_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return absl::OkStatus();
}

}  // namespace timestore
