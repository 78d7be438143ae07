#include "engine/engine.h"

#include <chrono>
#include <map>
#include <random>

#include "absl/container/flat_hash_set.h"
#include "common/crash_point.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "engine/dedup.h"
#include "engine/query_executor.h"
#include "engine/row_compare.h"
#include "common/status_util.h"
#include "spdlog/spdlog.h"

namespace timestore {
namespace {

std::string WalDir(const std::string& root) { return JoinPath(root, "wal"); }

absl::Status NotFound(std::string_view slug) {
  return MakeError(absl::StatusCode::kNotFound, "dataset_not_found",
                   StrCat("dataset \"", slug, "\" does not exist"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Engine>> Engine::Open(Env* env, EngineOptions options) {
  std::unique_ptr<Engine> e(new Engine(env, std::move(options)));
  RETURN_IF_ERROR(e->Recover());
  if (e->options_.background_sealing) e->sealer_ = std::thread([p = e.get()] { p->SealerLoop(); });
  return e;
}

Engine::~Engine() { Close(); }

SegmentHandle::~SegmentHandle() {
  if (!obsolete.load(std::memory_order_acquire) || env == nullptr) return;
  reader.reset();  // close the file first
  if (auto s = env->RemoveFile(path); !s.ok()) {
    spdlog::warn("could not delete obsolete segment {}: {} (removed at the next start)", path,
                 ToStd(s.message()));
    return;
  }
  CrashPoint("segment.deleted");
}

std::optional<int64_t> Dataset::hot_min_ts() const {
  std::vector<ChunkPtr> chunks;
  {
    std::lock_guard<std::mutex> l(version_mu_);
    chunks = active_->Snapshot();
    if (frozen_) {
      auto f = frozen_->Snapshot();
      chunks.insert(chunks.end(), f.begin(), f.end());
    }
  }
  std::optional<int64_t> min;
  for (const auto& c : chunks) {
    if (c->rows > 0 && (!min || c->min_ts < *min)) min = c->min_ts;
  }
  return min;
}

void Engine::Close() {
  {
    std::lock_guard<std::mutex> l(sealer_mu_);
    sealer_stop_ = true;
    sealer_cv_.notify_all();
  }
  if (sealer_.joinable()) sealer_.join();
  if (wal_ != nullptr) wal_->Close();
}

uint64_t Dataset::hot_rows() const {
  std::lock_guard<std::mutex> l(version_mu_);
  return active_->rows() + (frozen_ ? frozen_->rows() : 0);
}

uint64_t Dataset::hot_bytes() const {
  std::lock_guard<std::mutex> l(version_mu_);
  return active_->memory_bytes() + (frozen_ ? frozen_->memory_bytes() : 0);
}

std::string Engine::SegmentPath(uint64_t dataset_id, int64_t partition_start,
                                uint64_t segment_id) const {
  return JoinPath(
      JoinPath(JoinPath(JoinPath(options_.root, "datasets"), DatasetIdString(dataset_id)),
               StrCat(partition_start)),
      StrCat(DatasetIdString(segment_id), ".tseg"));
}

// Opens exactly the segments the manifest lists; a listed file that is missing
// or damaged stops start-up (DataLoss naming it). Files nobody lists are the
// leftovers of a seal that crashed before its manifest edit: reported, removed.
absl::Status Engine::OpenSegments(Dataset* ds, const DatasetMeta& meta) {
  std::vector<SegmentPtr> segs;
  absl::flat_hash_set<std::string> listed;
  for (const SegmentRecord& r : meta.segments) {
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
        spdlog::warn(
            "stray file {} is not in the manifest (a seal interrupted before its "
            "manifest edit); removing it",
            path);
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
void RemoveTree(Env* env, const std::string& path) {
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
      {
        std::lock_guard<std::mutex> l(ds->mu_);
        ds->segment_by_ = meta.segment_by;
        ds->dedup_ = meta.dedup;
        ds->retention_ = meta.retention;
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
        RemoveTree(env_, JoinPath(dir, n));
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
      if (r.type != wal::RecordType::kRowBatch) continue;
      auto rec = DecodeBatchRecord(r.payload);
      if (!rec.ok()) {
        return absl::DataLossError(
            StrCat(path, " at offset ", r.offset, ": ", rec.status().message()));
      }
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
      ++recovery_.records;
      recovery_.rows += c.rows;
    }
    if (log->dropped_bytes > 0) {
      recovery_.dropped_bytes += log->dropped_bytes;
      recovery_.dropped_detail = StrCat(path, ": ", log->drop_reason);
      spdlog::warn(
          "WAL recovery dropped {} bytes of {} ({}); those requests were never "
          "acknowledged",
          log->dropped_bytes, path, log->drop_reason);
      if (log->valid_bytes < wal::kFileHeaderSize) {
        // Cut inside its own header (a crash while the file was created): it
        // holds nothing, and as an older file it would no longer read cleanly.
        RETURN_IF_ERROR(env_->RemoveFile(path));
        RETURN_IF_ERROR(env_->SyncDir(wal_dir));
        file_last_seq.erase(numbers[i]);
      } else {
        // Cut the tail, durably, so this file reads cleanly once it is no
        // longer the newest.
        RETURN_IF_ERROR(env_->TruncateFile(path, log->valid_bytes));
        ASSIGN_OR_RETURN(auto f, env_->NewAppendableFile(path));
        RETURN_IF_ERROR(f->Sync());
        RETURN_IF_ERROR(f->Close());
      }
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

SchemaPtr Engine::GetSchema(std::string_view slug) const {
  auto ds = GetDataset(slug);
  return ds ? ds->schema() : nullptr;
}

std::shared_ptr<Dataset> Engine::GetDataset(std::string_view slug) const {
  std::shared_lock<std::shared_mutex> l(datasets_mu_);
  auto it = by_slug_.find(slug);
  return it == by_slug_.end() ? nullptr : it->second;
}

std::shared_ptr<Dataset> Engine::FindDataset(std::string_view id_or_slug) const {
  uint64_t id = 0;
  if (id_or_slug.size() == 16 && ParseInt(id_or_slug, &id, 16)) {
    std::shared_lock<std::shared_mutex> l(datasets_mu_);
    if (auto it = by_id_.find(id); it != by_id_.end()) return it->second;
  }
  return GetDataset(id_or_slug);
}

std::vector<std::shared_ptr<Dataset>> Engine::ListDatasets() const {
  std::shared_lock<std::shared_mutex> l(datasets_mu_);
  std::vector<std::shared_ptr<Dataset>> out;
  for (const auto& [slug, ds] : by_slug_) out.push_back(ds);
  return out;
}

absl::StatusOr<std::shared_ptr<Dataset>> Engine::CreateDataset(const std::string& slug,
                                                               const Schema& schema) {
  std::lock_guard<std::mutex> creating(create_mu_);
  if (auto existing = GetDataset(slug)) return existing;
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t id;
  {
    std::shared_lock<std::shared_mutex> l(datasets_mu_);
    do {
      id = rng();
    } while (id == 0 || by_id_.count(id));
  }
  ManifestEdit create{ManifestEdit::Op::kCreateDataset, id};
  create.slug = slug;
  create.time_column = schema.time_column;
  create.created_ns = NowNanos();
  create.partition_interval_ns = options_.partition_interval_ns;
  RETURN_IF_ERROR(manifest_->LogEdit(create));
  ManifestEdit set{ManifestEdit::Op::kSetSchema, id};
  set.version = schema.version;
  set.fields = schema.fields;
  RETURN_IF_ERROR(manifest_->LogEdit(set));
  auto ds = std::make_shared<Dataset>(id, slug, std::make_shared<Schema>(schema), create.created_ns,
                                      create.partition_interval_ns);
  std::unique_lock<std::shared_mutex> l(datasets_mu_);
  by_slug_[slug] = ds;
  by_id_[id] = ds;
  spdlog::info("created dataset {} ({})", slug, DatasetIdString(id));
  return ds;
}

absl::StatusOr<std::optional<IngestResult>> Engine::CheckIdempotency(std::string_view slug,
                                                                     const std::string& key,
                                                                     uint64_t request_hash) {
  auto ds = GetDataset(slug);
  if (ds == nullptr) return std::optional<IngestResult>();
  std::lock_guard<std::mutex> l(ds->mu_);
  auto it = ds->idempotency_.find(key);
  if (it == ds->idempotency_.end()) return std::optional<IngestResult>();
  const auto& e = it->second;
  if (NowNanos() - e.created_ns > options_.idempotency_ttl_ns && !e.pending) {
    ds->idempotency_.erase(it);
    return std::optional<IngestResult>();
  }
  if (e.request_hash != request_hash) {
    return MakeError(absl::StatusCode::kAlreadyExists, "idempotency_conflict",
                     StrCat("Idempotency-Key \"", key,
                            "\" was already used with a different body or query string"));
  }
  if (e.pending) {
    return MakeError(absl::StatusCode::kUnavailable, "request_in_progress",
                     StrCat("a request with Idempotency-Key \"", key,
                            "\" is still being written; retry to get its answer"));
  }
  return std::optional<IngestResult>(IngestResult{
      std::string(slug), e.answer.rows, e.answer.schema_version, e.answer.watermark, true});
}

void Engine::Ingest(IngestRequest req, IngestCallback done) {
  // Back-pressure first, so a refused request changes nothing (no new
  // dataset, no new columns): bounded memory, never unbounded growth.
  if (req.rows > 0) {
    uint64_t batch_bytes = 0;
    for (const auto& c : req.columns) batch_bytes += c.MemoryBytes();
    uint64_t mem = inflight_bytes_.load(std::memory_order_relaxed);
    for (const auto& d : ListDatasets()) mem += d->hot_bytes();
    if (mem + batch_bytes > options_.memtable_max_bytes) {
      sealer_cv_.notify_all();  // make room
      return done(MakeError(absl::StatusCode::kResourceExhausted, "backpressure",
                            StrCat("in-memory segments hold ", mem,
                                   " bytes, at the limit TIMESTORE_MEMTABLE_MAX_BYTES=",
                                   options_.memtable_max_bytes, "; retry later")));
    }
  }
  std::shared_ptr<Dataset> ds = GetDataset(req.slug);
  if (ds == nullptr) {
    if (req.rows == 0 && !req.schema_declared) {
      done(IngestResult{req.slug, 0, 0, std::nullopt, false});
      return;
    }
    Schema base;
    base.time_column = req.time_column;
    auto merged = MergeFields(base, req.fields);
    if (!merged.ok()) return done(merged.status());
    auto created = CreateDataset(req.slug, *merged);
    if (!created.ok()) return done(created.status());
    ds = *created;
  }

  std::unique_lock<std::mutex> l(ds->mu_);
  // Callbacks never run under the dataset lock (they may take it again).
  auto fail = [&](absl::Status s) {
    if (l.owns_lock()) l.unlock();
    done(std::move(s));
  };
  if (ds->deleted()) {
    return fail(MakeError(absl::StatusCode::kUnavailable, "dataset_deleted",
                          StrCat("dataset \"", req.slug,
                                 "\" was deleted while this request was in flight; retry to "
                                 "create it anew")));
  }
  SchemaPtr schema = ds->schema_;
  if (req.time_column != schema->time_column) {
    return fail(
        MakeError(absl::StatusCode::kInvalidArgument, "invalid_request",
                  StrCat("timestampColumn \"", req.time_column, "\" differs from dataset \"",
                         req.slug, "\"'s time column \"", schema->time_column,
                         "\", which is fixed when the dataset is created"),
                  ErrorDetails(-1, req.time_column, schema->time_column, req.time_column)));
  }
  auto merged = MergeFields(*schema, req.fields);
  if (!merged.ok()) return fail(merged.status());
  if (merged->version != schema->version) {
    ManifestEdit set{ManifestEdit::Op::kSetSchema, ds->id()};
    set.version = merged->version;
    set.fields = merged->fields;
    if (auto s = manifest_->LogEdit(set); !s.ok()) return fail(s);
    ds->schema_ = std::make_shared<Schema>(*std::move(merged));
    schema = ds->schema_;
    spdlog::info("dataset {}: schema version {} ({} columns)", ds->slug(), schema->version,
                 schema->fields.size());
  }

  if (!req.idempotency_key.empty()) {
    auto it = ds->idempotency_.find(req.idempotency_key);
    if (it != ds->idempotency_.end()) {
      // Raced with a request carrying the same key; CheckIdempotency explains.
      l.unlock();
      auto dup = CheckIdempotency(req.slug, req.idempotency_key, req.request_hash);
      if (!dup.ok()) return done(dup.status());
      if (dup->has_value()) return done(**dup);
      l.lock();
    }
  }

  // Lay the columns out by schema index.
  auto chunk = std::make_shared<Chunk>();
  chunk->rows = req.rows;
  chunk->time_index = schema->time_index();
  chunk->columns.resize(schema->fields.size());
  std::vector<bool> present(schema->fields.size(), false);
  for (size_t k = 0; k < req.columns.size(); ++k) {
    int idx = schema->IndexOf(req.fields[k].name);
    chunk->columns[idx] = std::move(req.columns[k]);
    present[idx] = true;
  }
  for (size_t k = 0; k < present.size(); ++k) {
    if (!present[k]) chunk->columns[k] = ColumnVector::AllNull(schema->fields[k].type, req.rows);
  }
  if (req.rows > 0 && !present[chunk->time_index]) {
    return fail(MakeError(absl::StatusCode::kInvalidArgument, "invalid_request",
                          "the batch has no time column"));
  }
  chunk->ComputeStats();

  IngestAnswer answer;
  answer.rows = req.rows;
  answer.schema_version = schema->version;
  if (req.rows > 0) ds->reserved_max_ts_ = std::max(ds->reserved_max_ts_, chunk->max_ts);
  if (ds->reserved_max_ts_ != Dataset::kNoTimestamp) answer.watermark = ds->reserved_max_ts_;

  if (req.rows == 0 && req.idempotency_key.empty()) {
    // Nothing to log (the schema, if any, is already durable in the manifest).
    l.unlock();
    return done(IngestResult{req.slug, 0, answer.schema_version, answer.watermark, false});
  }

  BatchRecord record;
  record.dataset_id = ds->id();
  record.schema_version = schema->version;
  record.chunk = chunk;
  if (!req.idempotency_key.empty()) {
    record.idempotency = IdempotencyInfo{req.idempotency_key, req.request_hash, NowNanos(), answer};
    auto& e = ds->idempotency_[req.idempotency_key];
    e = Dataset::IdempotencyEntry{
        req.request_hash, record.idempotency->created_ns, true, answer, 0, false};
  }
  std::string payload = EncodeBatchRecord(record);
  const uint64_t bytes = chunk->memory_bytes;
  inflight_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  auto shared_record = std::make_shared<BatchRecord>(std::move(record));
  std::string slug = req.slug;
  l.unlock();
  wal_->Append(
      wal::RecordType::kRowBatch, std::move(payload),
      [this, ds, shared_record, answer, bytes, slug, done = std::move(done)](const absl::Status& s,
                                                                             uint64_t seq) {
        inflight_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
        if (!s.ok()) {
          // DataLoss: an fsync failed, so the record may or may not be on
          // disk; the key stays reserved (a retry answers 503) and the restart
          // decides. Any other error means nothing was written.
          if (shared_record->idempotency && s.code() != absl::StatusCode::kDataLoss) {
            std::lock_guard<std::mutex> l(ds->mu_);
            ds->idempotency_.erase(shared_record->idempotency->key);
          }
          done(s);
          return;
        }
        Apply(ds.get(), *shared_record, seq);
        applied_seq_.store(seq, std::memory_order_release);
        done(IngestResult{slug, answer.rows, answer.schema_version, answer.watermark, false});
      });
}

void Engine::Apply(Dataset* ds, const BatchRecord& record, uint64_t seq) {
  const Chunk& c = *record.chunk;
  SchemaPtr schema = ds->schema();
  // The key first: a seal that freezes this record must find its key settled
  // (not pending) to carry it into the manifest before the WAL file goes.
  if (record.idempotency) {
    std::lock_guard<std::mutex> l(ds->mu_);
    const IdempotencyInfo& i = *record.idempotency;
    ds->idempotency_[i.key] =
        Dataset::IdempotencyEntry{i.request_hash, i.created_ns, false, i.answer, seq, false};
    MaybeSweepIdempotency(ds, NowNanos());
  }
  if (c.rows > 0 || seq != 0) {
    // Held across the append: a seal that freezes the active segment must see
    // this record either wholly in it or wholly in the next one; otherwise a
    // row could land in a frozen segment after its snapshot was taken.
    std::lock_guard<std::mutex> l(ds->version_mu_);
    ds->active_->NoteSeq(seq);
    if (c.rows > 0) ds->active_->Append(record.chunk, *schema, seq);
  }
  if (c.rows > 0) {
    int64_t cur = ds->applied_max_ts_.load(std::memory_order_relaxed);
    while (c.max_ts > cur &&
           !ds->applied_max_ts_.compare_exchange_weak(cur, c.max_ts, std::memory_order_release)) {
    }
    rows_ingested_.fetch_add(c.rows, std::memory_order_relaxed);
  }
}

void Engine::MaybeSweepIdempotency(Dataset* ds, int64_t now) {
  if (++ds->idempotency_inserts_ < std::max<size_t>(1024, ds->idempotency_.size())) return;
  ds->idempotency_inserts_ = 0;
  absl::erase_if(ds->idempotency_, [&](const auto& kv) {
    return !kv.second.pending && now - kv.second.created_ns > options_.idempotency_ttl_ns;
  });
}

namespace {

// Whether a block whose zone map is `b` may hold a row passing `f`. Only
// comparisons that are false for null and NaN prune; anything uncertain keeps
// the block.
bool BlockMayMatch(const Filter& f, ColumnType type, const segment::BlockInfo& b,
                   Precision precision) {
  if (f.op == FilterOp::kIsNull) return b.null_count > 0;
  if (b.null_count == b.rows) return false;  // every comparison with null is false
  if (f.op == FilterOp::kIsNotNull || f.op == FilterOp::kNeq || !b.has_minmax) return true;
  auto may = [&](auto lo, auto hi, auto v) {
    switch (f.op) {
      case FilterOp::kEq:
      case FilterOp::kIn:
        return v >= lo && v <= hi;
      case FilterOp::kLt:
        return lo < v;
      case FilterOp::kLte:
        return lo <= v;
      case FilterOp::kGt:
        return hi > v;
      case FilterOp::kGte:
        return hi >= v;
      default:
        return true;
    }
  };
  for (const Literal& l : f.values) {
    bool m = true;
    switch (type) {
      case ColumnType::kDouble:
        if (l.kind == Literal::Kind::kInt) {
          m = may(b.min_double, b.max_double, static_cast<double>(l.i));
        } else if (l.kind == Literal::Kind::kDouble) {
          m = may(b.min_double, b.max_double, l.d);
        }
        break;
      case ColumnType::kInteger:
        if (l.kind == Literal::Kind::kInt) {
          m = may(b.min_int, b.max_int, l.i);
        } else if (l.kind == Literal::Kind::kDouble) {
          m = may(static_cast<long double>(b.min_int), static_cast<long double>(b.max_int),
                  static_cast<long double>(l.d));
        }
        break;
      case ColumnType::kTimestamp:
        if (l.kind == Literal::Kind::kString) {
          if (auto ts = ParseRfc3339(l.s); ts.ok()) m = may(b.min_int, b.max_int, *ts);
        } else if (l.kind == Literal::Kind::kInt) {
          if (auto ts = ScaleToNanos(l.i, precision); ts.ok()) m = may(b.min_int, b.max_int, *ts);
        }
        break;
      case ColumnType::kString:
        if (l.kind == Literal::Kind::kString) {
          m = may(std::string_view(b.min_string), std::string_view(b.max_string),
                  std::string_view(l.s));
        }
        break;
      case ColumnType::kBoolean:
        if (l.kind == Literal::Kind::kBool) m = may(b.min_int, b.max_int, int64_t{l.b ? 1 : 0});
        break;
    }
    if (l.kind == Literal::Kind::kNull) m = false;  // comparing with null is false
    if (m) return true;
    if (f.op != FilterOp::kIn) return false;
  }
  return f.op != FilterOp::kIn;  // an empty in-list matches nothing
}

// The group column when `spec` asks only for the newest values per series
// (lastpoint: a downsample without an interval, grouped by one string column,
// of `last` of any columns and `max` of the time column, no filters), which a
// segment's footer answers (SegmentMeta::series_last); -1 otherwise. Not with
// dedup: a duplicate's null would hide an older value the footer still shows.
int LatestPerSeriesKey(const QuerySpec& spec, const Schema& schema, bool dedup) {
  if (dedup || !spec.downsample || spec.downsample->has_interval || !spec.filters.empty() ||
      spec.downsample->group_by.size() != 1 || spec.downsample->aggregations.empty()) {
    return -1;
  }
  const int key = schema.IndexOf(spec.downsample->group_by[0]);
  if (key < 0 || schema.fields[key].type != ColumnType::kString) return -1;
  for (const Aggregation& a : spec.downsample->aggregations) {
    const bool last = a.fn == AggFn::kLast;
    const bool max_time = a.fn == AggFn::kMax && a.column == schema.time_column;
    if (!last && !max_time) return -1;
  }
  return key;
}

// The rows that carry a segment's newest values per series: per series, one
// row at its newest time holding every needed column whose newest non-null
// value is at that time (usually all of them), and one more row per distinct
// older time for the columns whose newest value is older. `last` and
// `max(time)` over these rows equal those over the segment's rows.
ChunkPtr SeriesLastChunk(const segment::SegmentMeta& meta, const Schema& schema,
                         const std::vector<int>& seg_col, const std::vector<bool>& need, int key) {
  const int time = schema.time_index();
  std::vector<int> value_cols;  // needed columns with a value in this segment
  for (size_t c = 0; c < schema.fields.size(); ++c) {
    const int ci = static_cast<int>(c);
    if (ci != time && ci != key && need[c] && seg_col[c] >= 0) value_cols.push_back(ci);
  }
  std::vector<ColumnBuilder> cols;
  for (const Field& f : schema.fields) cols.emplace_back(f.type);
  std::vector<int64_t> times;  // distinct row times of one series, newest first
  for (const segment::SeriesLast& s : meta.series_last) {
    times.assign(1, s.last_ts);
    for (int c : value_cols) {
      const auto& v = s.values[seg_col[c]];
      if (v.has && std::find(times.begin(), times.end(), v.ts) == times.end())
        times.push_back(v.ts);
    }
    for (int64_t ts : times) {
      for (size_t i = 0; i < cols.size(); ++i) {
        const int c = static_cast<int>(i);
        if (c == time) {
          cols[i].AppendInt(ts);
          continue;
        }
        if (c == key) {
          s.key_null ? cols[i].AppendNull() : cols[i].AppendString(s.key);
          continue;
        }
        const bool value =
            need[i] && seg_col[i] >= 0 && s.values[seg_col[i]].has && s.values[seg_col[i]].ts == ts;
        if (!value) {
          cols[i].AppendNull();
          continue;
        }
        const segment::SeriesLast::Value& v = s.values[seg_col[i]];
        switch (schema.fields[i].type) {
          case ColumnType::kDouble:
            cols[i].AppendDouble(v.double_value);
            break;
          case ColumnType::kString:
            cols[i].AppendString(v.string_value);
            break;
          case ColumnType::kBoolean:
            cols[i].AppendBool(v.int_value != 0);
            break;
          default:
            cols[i].AppendInt(v.int_value);
        }
      }
    }
  }
  auto chunk = std::make_shared<Chunk>();
  chunk->time_index = time;
  for (auto& b : cols) chunk->columns.push_back(b.Finish());
  chunk->rows = static_cast<uint32_t>(chunk->columns[time].size());
  chunk->ComputeStats();
  return chunk;
}

// The dataset columns a query reads.
std::vector<bool> NeededColumns(const QuerySpec& spec, const Schema& schema) {
  std::vector<bool> need(schema.fields.size(), false);
  auto mark = [&](const std::string& name) {
    int i = schema.IndexOf(name);
    if (i >= 0) need[i] = true;
  };
  mark(schema.time_column);
  for (const auto& f : spec.filters) mark(f.column);
  if (spec.downsample) {
    for (const auto& g : spec.downsample->group_by) mark(g);
    for (const auto& a : spec.downsample->aggregations) mark(a.column);
  } else if (spec.columns) {
    for (const auto& c : *spec.columns) mark(c);
  } else {
    need.assign(need.size(), true);
  }
  return need;
}

}  // namespace

// The latest buckets first: a downsample over time alone, newest first,
// with a limit (TSBS groupby-orderby-limit: "the 5 latest minutes", often
// with no lower bound) needs only the last few buckets that hold data. It is
// run over the `limit` latest buckets, then 4x, 16x ... as many, until the
// window yields `limit` rows or covers the whole range. Windows start on a
// bucket boundary, so every bucket they hold is complete and equals the one
// the full query computes.
absl::StatusOr<QueryResult> Engine::Query(std::string_view slug, QuerySpec spec) {
  if (spec.downsample && spec.downsample->has_interval && spec.downsample->interval_ns > 0 &&
      spec.downsample->group_by.empty() && spec.descending && spec.limit > 0 &&
      spec.limit <= 100'000 && spec.end > spec.start) {
    const int64_t iv = spec.downsample->interval_ns;
    // Windows never reach below the oldest stored row: once one would, the
    // full query runs (so a range with fewer than `limit` buckets of data
    // costs at most the windows below the data's start, then one full query).
    int64_t data_min = std::numeric_limits<int64_t>::max();
    if (auto ds = GetDataset(slug)) {
      for (const SegmentPtr& seg : ds->segments())
        if (seg->record.rows > 0) data_min = std::min(data_min, seg->record.min_ts);
      if (auto hot = ds->hot_min_ts()) data_min = std::min(data_min, *hot);
    }
    const int64_t floor = std::max(spec.start, data_min);
    const int64_t last_bucket = FloorToMultiple(spec.end - 1, iv);
    for (__int128 span = spec.limit;; span *= 4) {
      const __int128 from = static_cast<__int128>(last_bucket) - (span - 1) * iv;
      if (from <= floor) break;  // the window would hold all the rows in range
      QuerySpec window = spec;
      window.start = static_cast<int64_t>(from);
      ASSIGN_OR_RETURN(QueryResult r, QueryOnce(slug, std::move(window)));
      if (r.rows >= spec.limit) return r;
    }
  }
  return QueryOnce(slug, std::move(spec));
}

absl::StatusOr<QueryResult> Engine::QueryOnce(std::string_view slug, QuerySpec spec) {
  auto ds = GetDataset(slug);
  if (ds == nullptr) return NotFound(slug);
  SchemaPtr schema = ds->schema();
  RETURN_IF_ERROR(ValidateQuery(&spec, *schema));
  // One consistent snapshot: segments, then the segment being sealed, then
  // the active rows. A seal swaps frozen rows for segments under the same lock.
  std::vector<SegmentPtr> segments;
  std::vector<ChunkPtr> hot;
  uint64_t hot_rows = 0;
  {
    std::lock_guard<std::mutex> l(ds->version_mu_);
    segments = ds->segments_;
    if (ds->frozen_) {
      hot = ds->frozen_->Snapshot();
      hot_rows += ds->frozen_->rows();
    }
    auto active = ds->active_->Snapshot();
    hot.insert(hot.end(), active.begin(), active.end());
    hot_rows += ds->active_->rows();
  }
  std::vector<bool> need = NeededColumns(spec, *schema);
  // Merge on read: duplicates are dropped before filtering, so a block may be
  // skipped only for its time range or a filter on a key column (a row's
  // duplicates share those values); other filters could hide the winner.
  const std::optional<DedupPlan> dedup = MakeDedupPlan(ds->dedup(), *schema);
  std::vector<bool> prunable(schema->fields.size(), true);
  if (dedup) {
    prunable.assign(schema->fields.size(), false);
    prunable[dedup->time_index] = true;
    for (int k : dedup->key_columns) need[k] = prunable[k] = true;
  }
  std::vector<ChunkPtr> chunks;
  QueryStats seg_stats;
  absl::flat_hash_set<int64_t> partitions;
  const int last_key = LatestPerSeriesKey(spec, *schema, dedup.has_value());
  for (const SegmentPtr& seg : segments) {
    const segment::SegmentMeta& meta = seg->reader->meta();
    if (meta.rows == 0 || meta.max_ts < spec.start || meta.min_ts >= spec.end) {
      ++seg_stats.segments_pruned;
      continue;
    }
    // Dataset column -> segment column (by name; a column added after the
    // segment was written, or whose type differs, reads as null).
    std::vector<int> seg_col(schema->fields.size(), -1);
    std::vector<int> read_cols;
    std::vector<int> read_targets;
    for (size_t i = 0; i < schema->fields.size(); ++i) {
      int sc = meta.ColumnIndex(schema->fields[i].name);
      if (sc >= 0 && meta.columns[sc].type != schema->fields[i].type) sc = -1;
      seg_col[i] = sc;
      if (need[i] && sc >= 0) {
        read_cols.push_back(sc);
        read_targets.push_back(static_cast<int>(i));
      }
    }
    // "The newest values per series" from the footer alone, when the whole
    // segment is in range and it is sorted by that series column.
    if (last_key >= 0 && !meta.series_last.empty() && meta.sort_key.size() == 2 &&
        meta.sort_key[0] == schema->fields[last_key].name && seg_col[last_key] >= 0 &&
        meta.min_ts >= spec.start && meta.max_ts < spec.end) {
      ++seg_stats.segments_scanned;
      partitions.insert(meta.partition_start);
      chunks.push_back(SeriesLastChunk(meta, *schema, seg_col, need, last_key));
      continue;
    }
    const auto& time_blocks = meta.columns[meta.time_column].blocks;
    std::vector<size_t> blocks;
    for (size_t b = 0; b < time_blocks.size(); ++b) {
      const auto& tb = time_blocks[b];
      if (tb.max_int < spec.start || tb.min_int >= spec.end) continue;
      bool keep = true;
      for (const auto& f : spec.filters) {
        if (!prunable[f.index]) continue;
        int sc = seg_col[f.index];
        if (sc < 0) {
          // Absent from this segment: every value is null.
          keep = f.op == FilterOp::kIsNull;
        } else {
          keep =
              BlockMayMatch(f, meta.columns[sc].type, meta.columns[sc].blocks[b], spec.precision);
        }
        if (!keep) break;
      }
      if (keep) blocks.push_back(b);
    }
    if (blocks.empty()) {
      ++seg_stats.segments_pruned;
      continue;
    }
    ++seg_stats.segments_scanned;
    partitions.insert(meta.partition_start);
    ASSIGN_OR_RETURN(auto decoded,
                     seg->reader->ReadBlocks(blocks, read_cols, &seg_stats.bytes_read));
    for (size_t k = 0; k < blocks.size(); ++k) {
      auto chunk = std::make_shared<Chunk>();
      chunk->rows = time_blocks[blocks[k]].rows;
      chunk->time_index = schema->time_index();
      chunk->columns.resize(schema->fields.size());
      std::vector<bool> filled(schema->fields.size(), false);
      for (size_t j = 0; j < read_cols.size(); ++j) {
        chunk->columns[read_targets[j]] = std::move(decoded[k][j]);
        filled[read_targets[j]] = true;
      }
      for (size_t i = 0; i < filled.size(); ++i) {
        if (!filled[i])
          chunk->columns[i] = ColumnVector::AllNull(schema->fields[i].type, chunk->rows);
      }
      chunk->min_ts = time_blocks[blocks[k]].min_int;
      chunk->max_ts = time_blocks[blocks[k]].max_int;
      chunks.push_back(std::move(chunk));
    }
  }
  const size_t segment_chunks = chunks.size();
  chunks.insert(chunks.end(), hot.begin(), hot.end());
  if (dedup) chunks = DedupChunks(chunks, *dedup);
  ASSIGN_OR_RETURN(QueryResult result, ExecuteQuery(spec, *schema, chunks));
  // The executor counted every chunk; the segment blocks are reported apart.
  result.stats.hot_chunks_scanned -=
      std::min<uint64_t>(result.stats.hot_chunks_scanned, segment_chunks);
  result.stats.segments_scanned = seg_stats.segments_scanned;
  result.stats.segments_pruned = seg_stats.segments_pruned;
  result.stats.partitions_scanned = partitions.size();
  result.stats.bytes_read = seg_stats.bytes_read;
  result.watermark = ds->watermark();
  result.hot_rows = hot_rows;
  return result;
}

namespace {

absl::Status InvalidSettings(std::string_view code, std::string message, std::string_view field,
                             std::string_view column = "") {
  return MakeError(
      absl::StatusCode::kInvalidArgument, code, std::move(message),
      column.empty() ? StrCat("{\"field\":\"", field, "\"}") : ErrorDetails(-1, column, "", ""));
}

absl::Status DeletedError(const Dataset& ds) {
  return MakeError(absl::StatusCode::kNotFound, "dataset_not_found",
                   StrCat("dataset \"", ds.slug(), "\" was deleted"));
}

}  // namespace

absl::Status Engine::UpdateSettings(Dataset* ds, const Settings& settings) {
  SchemaPtr schema = ds->schema();
  if (settings.partition_interval_ns && *settings.partition_interval_ns <= 0) {
    return InvalidSettings("invalid_settings", "partitionInterval must be a positive duration",
                           "partitionInterval");
  }
  auto check_column = [&](const std::string& c, std::string_view setting) -> absl::Status {
    int i = schema->IndexOf(c);
    if (i < 0) {
      return InvalidSettings("unknown_column",
                             StrCat(setting, " names column \"", c, "\", which dataset ",
                                    ds->slug(), " does not have"),
                             setting, c);
    }
    if (i == schema->time_index()) {
      return InvalidSettings("invalid_settings",
                             StrCat(setting,
                                    " must not name the time column (rows are always ordered "
                                    "and deduplicated by time as well)"),
                             setting, c);
    }
    return absl::OkStatus();
  };
  if (settings.segment_by) {
    for (const auto& c : *settings.segment_by) RETURN_IF_ERROR(check_column(c, "segmentBy"));
  }
  if (settings.dedup && *settings.dedup) {
    const DedupSettings& d = **settings.dedup;
    for (size_t i = 0; i < d.keys.size(); ++i) {
      RETURN_IF_ERROR(check_column(d.keys[i], "dedup.keys"));
      if (std::find(d.keys.begin(), d.keys.begin() + i, d.keys[i]) != d.keys.begin() + i) {
        return InvalidSettings("invalid_settings",
                               StrCat("dedup.keys names column \"", d.keys[i], "\" twice"),
                               "dedup.keys", d.keys[i]);
      }
    }
  }
  std::lock_guard<std::mutex> l(ds->mu_);
  if (ds->deleted()) return DeletedError(*ds);
  ManifestEdit e{ManifestEdit::Op::kSetSettings, ds->id()};
  e.partition_interval_ns =
      settings.partition_interval_ns.value_or(ds->partition_interval_ns_.load());
  e.segment_by = settings.segment_by.value_or(ds->segment_by_);
  e.dedup = settings.dedup.value_or(ds->dedup_);
  // Compaction finds a row's duplicates next to it in sort order only when
  // every segmentBy column is a key column; and inside a segment, rows equal
  // in the keys and time are in write order only then. That holds for the
  // sort keys of segments already stored, too.
  if (e.dedup && (settings.dedup || settings.segment_by)) {
    std::vector<std::string> sorted_by = e.segment_by;
    for (const SegmentPtr& seg : ds->segments()) {
      const auto& key = seg->reader->meta().sort_key;
      for (size_t i = 0; i + 1 < key.size(); ++i) {
        if (std::find(sorted_by.begin(), sorted_by.end(), key[i]) == sorted_by.end())
          sorted_by.push_back(key[i]);
      }
    }
    for (const auto& c : sorted_by) {
      if (std::find(e.dedup->keys.begin(), e.dedup->keys.end(), c) == e.dedup->keys.end()) {
        return InvalidSettings(
            "invalid_settings",
            StrCat("dedup.keys must include every segmentBy column (also those that stored "
                   "segments are sorted by), and \"",
                   c, "\" is missing (rows can only be duplicates within one series)"),
            settings.dedup ? "dedup.keys" : "segmentBy", c);
      }
    }
  }
  RETURN_IF_ERROR(manifest_->LogEdit(e));
  ds->partition_interval_ns_.store(e.partition_interval_ns);
  ds->segment_by_ = e.segment_by;
  ds->dedup_ = e.dedup;
  return absl::OkStatus();
}

absl::Status Engine::UpdateRetention(Dataset* ds, const RetentionPatch& patch) {
  for (const auto* v : {&patch.delete_after, &patch.cold_after}) {
    if (*v && **v && (**v)->ns <= 0) {
      return InvalidSettings("invalid_retention", "retention durations must be positive",
                             v == &patch.delete_after ? "deleteAfter" : "coldAfter");
    }
  }
  std::lock_guard<std::mutex> l(ds->mu_);
  if (ds->deleted()) return DeletedError(*ds);
  ManifestEdit e{ManifestEdit::Op::kSetRetention, ds->id()};
  e.retention = ds->retention_;
  if (patch.delete_after) e.retention.delete_after = *patch.delete_after;
  if (patch.cold_after) e.retention.cold_after = *patch.cold_after;
  RETURN_IF_ERROR(manifest_->LogEdit(e));
  ds->retention_ = e.retention;
  return absl::OkStatus();
}

int64_t Engine::EffectiveDeleteAfter(const Dataset& ds) const {
  RetentionSettings r = ds.retention();
  return r.delete_after ? r.delete_after->ns : options_.retention_default_ns;
}

absl::Status Engine::DeleteDataset(Dataset* ds) {
  std::lock_guard<std::mutex> seal_lock(ds->seal_mu_);
  std::lock_guard<std::mutex> edit_lock(ds->edit_mu_);
  std::vector<SegmentPtr> segments;
  {
    std::lock_guard<std::mutex> l(ds->mu_);
    if (ds->deleted()) return DeletedError(*ds);
    RETURN_IF_ERROR(manifest_->LogEdit(ManifestEdit{ManifestEdit::Op::kDropDataset, ds->id()}));
    ds->deleted_.store(true, std::memory_order_release);
    ds->idempotency_.clear();
  }
  {
    std::lock_guard<std::mutex> creating(create_mu_);
    std::unique_lock<std::shared_mutex> l(datasets_mu_);
    by_slug_.erase(ds->slug());
    by_id_.erase(ds->id());
  }
  {
    std::lock_guard<std::mutex> l(ds->version_mu_);
    segments.swap(ds->segments_);
    ds->active_ = std::make_shared<MemSegment>();
    ds->frozen_.reset();
  }
  for (const auto& seg : segments) seg->obsolete.store(true, std::memory_order_release);
  spdlog::info("deleted dataset {} ({}): {} segment file(s) go once no query reads them",
               ds->slug(), DatasetIdString(ds->id()), segments.size());
  segments.clear();  // deletes the files nobody else holds
  // The directories go now when empty, else at the next start.
  const std::string dir = JoinPath(JoinPath(options_.root, "datasets"), DatasetIdString(ds->id()));
  if (auto parts = env_->ListDir(dir); parts.ok()) {
    for (const auto& p : *parts) (void)env_->RemoveDir(JoinPath(dir, p));
    (void)env_->RemoveDir(dir);
  }
  int deleted = 0;
  (void)DeleteObsoleteWal(&deleted);
  return absl::OkStatus();
}

absl::Status Engine::ReplaceSegments(Dataset* ds, const std::vector<uint64_t>& remove,
                                     std::vector<SegmentPtr> add) {
  std::lock_guard<std::mutex> edit_lock(ds->edit_mu_);
  if (ds->deleted()) return absl::AbortedError(StrCat("dataset ", ds->slug(), " was deleted"));
  {
    std::lock_guard<std::mutex> l(ds->version_mu_);
    for (uint64_t id : remove) {
      auto it = std::find_if(ds->segments_.begin(), ds->segments_.end(),
                             [&](const SegmentPtr& p) { return p->record.id == id; });
      if (it == ds->segments_.end()) {
        return absl::AbortedError(StrCat("segment ", DatasetIdString(id), " of dataset ",
                                         ds->slug(), " is no longer listed"));
      }
    }
  }
  ManifestEdit e{ManifestEdit::Op::kReplaceSegments, ds->id()};
  e.remove = remove;
  for (const auto& h : add) e.segments.push_back(h->record);
  RETURN_IF_ERROR(manifest_->LogEdit(e));
  CrashPoint("replace.logged");
  std::vector<SegmentPtr> removed;
  {
    std::lock_guard<std::mutex> l(ds->version_mu_);
    size_t pos = ds->segments_.size();
    std::vector<SegmentPtr> kept;
    kept.reserve(ds->segments_.size() + add.size());
    for (auto& seg : ds->segments_) {
      if (std::find(remove.begin(), remove.end(), seg->record.id) != remove.end()) {
        pos = kept.size();
        removed.push_back(std::move(seg));
      } else {
        kept.push_back(std::move(seg));
      }
    }
    kept.insert(kept.begin() + static_cast<std::ptrdiff_t>(pos), add.begin(), add.end());
    ds->segments_ = std::move(kept);
  }
  for (const auto& seg : removed) seg->obsolete.store(true, std::memory_order_release);
  return absl::OkStatus();  // `removed` goes out of scope: unused files are deleted
}

absl::Status Engine::SealIfHotBefore(Dataset* ds, int64_t ts) {
  auto min = ds->hot_min_ts();
  if (!min || *min >= ts) return absl::OkStatus();
  ASSIGN_OR_RETURN(FlushResult r, Seal(ds));
  if (r.retried_leftover) RETURN_IF_ERROR(Seal(ds).status());
  return absl::OkStatus();
}

std::string Engine::NewSegmentPath(const Dataset& ds, int64_t partition_start,
                                   uint64_t* segment_id) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  do {
    *segment_id = rng();
  } while (*segment_id == 0);
  return SegmentPath(ds.id(), partition_start, *segment_id);
}

absl::StatusOr<SegmentPtr> Engine::OpenSegment(const std::string& path,
                                               const SegmentRecord& record) {
  auto h = std::make_shared<SegmentHandle>();
  h->record = record;
  h->path = path;
  h->env = env_;
  ASSIGN_OR_RETURN(h->reader, segment::SegmentReader::Open(env_, path));
  return SegmentPtr(std::move(h));
}

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
  std::vector<int> sort_cols;
  for (const auto& name : ds->segment_by()) {
    int i = schema->IndexOf(name);
    if (i >= 0 && i != time_index) sort_cols.push_back(i);
  }
  ManifestEdit edit(ManifestEdit::Op::kAddSegments, ds->id());
  edit.sealed_through_seq = sealed_seq;
  std::vector<SegmentPtr> handles;
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
    h->record = SegmentRecord{contents.segment_id, start, w.rows, w.bytes, w.min_ts, w.max_ts, 0};
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
  RETURN_IF_ERROR(manifest_->LogEdit(edit));
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

// A WAL file may go once every record in it is applied and, for each dataset,
// sealed: safe = min(everything applied, first unsealed record of any dataset - 1).
absl::Status Engine::DeleteObsoleteWal(int* deleted) {
  uint64_t safe = applied_seq_.load(std::memory_order_acquire);
  for (const auto& d : ListDatasets()) {
    std::lock_guard<std::mutex> l(d->version_mu_);
    uint64_t first = d->frozen_ ? d->frozen_->first_seq() : d->active_->first_seq();
    if (first != 0) safe = std::min(safe, first - 1);
  }
  ASSIGN_OR_RETURN(*deleted, wal_->DeleteObsoleteFiles(safe));
  return absl::OkStatus();
}

void Engine::SealerLoop() {
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
      {
        std::lock_guard<std::mutex> vl(ds->version_mu_);
        first = ds->active_->first_append_ns();
      }
      bool due = rows >= options_.seal_max_rows ||
                 (first != 0 && now - first >= options_.seal_max_age_ms * 1'000'000);
      if (due) {
        if (auto r = Seal(ds.get()); !r.ok()) {
          spdlog::error("sealing dataset {} failed: {}", ds->slug(), ToStd(r.status().message()));
        }
      }
    }
    if (largest != nullptr && total > options_.memtable_max_bytes / 2) {
      if (auto r = Seal(largest.get()); !r.ok()) {
        spdlog::error("sealing dataset {} failed: {}", largest->slug(),
                      ToStd(r.status().message()));
      }
    }
    l.lock();
  }
}

Engine::Stats Engine::GetStats() const {
  Stats s;
  for (const auto& d : ListDatasets()) {
    ++s.datasets;
    s.memtable_bytes += d->hot_bytes();
    s.memtable_rows += d->hot_rows();
    std::map<int64_t, uint64_t> per_partition;
    for (const auto& seg : d->segments()) {
      ++s.segments;
      s.segment_bytes += seg->record.bytes;
      ++per_partition[seg->record.partition_start];
    }
    s.partitions += per_partition.size();
    for (const auto& [start, n] : per_partition)
      s.max_segments_per_partition = std::max(s.max_segments_per_partition, n);
  }
  s.seals = seals_.load(std::memory_order_relaxed);
  s.seal_bytes_written = seal_bytes_.load(std::memory_order_relaxed);
  if (wal_ != nullptr) {
    s.wal = wal_->stats();
    s.wal_files = wal_->file_count();
  }
  s.rows_ingested = rows_ingested_.load(std::memory_order_relaxed);
  const std::string dir = WalDir(options_.root);
  if (auto names = env_->ListDir(dir); names.ok()) {
    for (const auto& n : *names) {
      if (auto size = env_->FileSize(JoinPath(dir, n)); size.ok()) s.wal_bytes_on_disk += *size;
    }
  }
  return s;
}

}  // namespace timestore
