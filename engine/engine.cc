#include "engine/engine.h"

#include <chrono>
#include <filesystem>
#include <map>
#include <random>

#include "absl/container/flat_hash_set.h"
#include "common/crash_point.h"
#include "common/status_macros.h"
#include "common/status_util.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "engine/dedup.h"
#include "engine/engine_internal.h"
#include "engine/query_executor.h"
#include "engine/row_compare.h"
#include "spdlog/spdlog.h"

namespace timestore {
using engine_internal::NotFound;
using engine_internal::WalDir;

absl::StatusOr<std::unique_ptr<Engine>> Engine::Open(Env* env, EngineOptions options) {
  std::unique_ptr<Engine> e(new Engine(env, std::move(options)));
  RETURN_IF_ERROR(env->CreateDirs(e->options_.root));
  RETURN_IF_ERROR(e->OpenRootId());
  if (e->options_.targets != nullptr) {
    const std::string dir =
        e->options_.cache_dir.empty() ? JoinPath(e->options_.root, "cache") : e->options_.cache_dir;
    {
      // The cache owns its directory: it must not be the storage root or
      // hold it (the root's files would be taken for the cache's).
      std::error_code ec1, ec2;
      const auto root = std::filesystem::weakly_canonical(e->options_.root, ec1).string() + "/";
      const auto cache = std::filesystem::weakly_canonical(dir, ec2).string() + "/";
      if (!ec1 && !ec2 && root.starts_with(cache)) {
        return absl::InvalidArgumentError(
            StrCat("TIMESTORE_CACHE_DIR ", dir, " is or contains the storage root ",
                   e->options_.root, "; give the cache a directory of its own"));
      }
    }
    ASSIGN_OR_RETURN(e->cache_, tiering::BlockCache::Open(env, dir, e->options_.cache_max_bytes,
                                                          e->options_.cache_memory_bytes));
    e->fetch_pool_ =
        std::make_unique<FetchPool>(std::max(0, e->options_.remote_read_parallelism - 1));
  }
  e->query_threads_ = e->options_.query_threads > 0
                          ? e->options_.query_threads
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  // RunAll shares the work with the calling thread: threads - 1 in the pool.
  if (e->query_threads_ > 1) e->query_pool_ = std::make_unique<FetchPool>(e->query_threads_ - 1);
  if (e->options_.decoded_cache_bytes > 0)
    e->decoded_cache_ = std::make_unique<DecodedCache>(e->options_.decoded_cache_bytes);
  RETURN_IF_ERROR(e->Recover());
  if (e->options_.background_sealing) e->sealer_ = std::thread([p = e.get()] { p->SealerLoop(); });
  return e;
}

Engine::~Engine() { Close(); }

// <root>/ROOT_ID: 16 random hex digits made once. Object keys start with it,
// so several storage roots can share one bucket and prefix, and the orphan
// sweep of one never touches another's objects.
absl::Status Engine::OpenRootId() {
  const std::string path = JoinPath(options_.root, "ROOT_ID");
  if (env_->FileExists(path)) {
    ASSIGN_OR_RETURN(std::string id, env_->ReadFile(path));
    std::string_view v = StripWhitespace(id);
    uint64_t n = 0;
    if (v.size() != 16 || !ParseInt(v, &n, 16)) {
      return absl::DataLossError(
          StrCat(path, ": not a root id (16 hex digits): \"", v.substr(0, 40), "\""));
    }
    root_id_ = std::string(v);
    return absl::OkStatus();
  }
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t n = 0;
  while (n == 0) n = rng();
  root_id_ = DatasetIdString(n);
  return WriteFileAtomically(env_, path, root_id_ + "\n");
}

SegmentHandle::~SegmentHandle() {
  if (remote() && garbage != nullptr) garbage->Release(record.target, record.key);
  if (!obsolete.load(std::memory_order_acquire) || env == nullptr) return;
  reader.reset();  // close the file first
  if (remote() && garbage != nullptr) {
    // The object goes from the tiering mover's thread (a network call has
    // no place in a destructor a query may run); until then, or if the
    // process dies first, the orphan sweep finds it.
    garbage->Add(RemoteObjectRef{record.target, record.key, cache_name});
  }
  if (auto s = env->RemoveFile(path); !s.ok()) {
    spdlog::warn("could not delete obsolete segment file {}: {} (removed at the next start)", path,
                 ToStd(s.message()));
    return;
  }
  CrashPoint(tiered.load(std::memory_order_acquire) ? "tier.local_deleted" : "segment.deleted");
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
  if (auto half = half_created_.find(slug); half != half_created_.end()) {
    // Its create edit is logged but its schema edit failed (a full disk): the
    // same id again, so the manifest never holds two datasets of one slug.
    id = half->second;
  } else {
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
  if (absl::Status s = manifest_->LogEdit(set); !s.ok()) {
    half_created_[slug] = id;
    return s;
  }
  half_created_.erase(slug);
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

absl::Status Engine::CheckBackpressure(uint64_t batch_bytes) {
  uint64_t mem = inflight_bytes_.load(std::memory_order_relaxed);
  for (const auto& d : ListDatasets()) mem += d->hot_bytes();
  if (mem + batch_bytes > options_.memtable_max_bytes) {
    sealer_cv_.notify_all();  // make room
    return MakeError(absl::StatusCode::kResourceExhausted, "backpressure",
                     StrCat("in-memory segments hold ", mem,
                            " bytes, at the limit TIMESTORE_MEMTABLE_MAX_BYTES=",
                            options_.memtable_max_bytes, "; retry later"));
  }
  return absl::OkStatus();
}

namespace {

// How long a batch waits for a migration's begin (a seal and one edit) before
// it is answered 503 migration_starting.
constexpr auto kMigrationGateWait = std::chrono::seconds(5);

uint64_t BatchBytes(const IngestRequest& req) {
  uint64_t bytes = 0;
  for (const auto& c : req.columns) bytes += c.MemoryBytes();
  return bytes;
}

}  // namespace

absl::StatusOr<Engine::PreparedBatch> Engine::PrepareBatch(IngestRequest& req) {
  PreparedBatch out;
  out.slug = req.slug;
  std::shared_ptr<Dataset> ds = GetDataset(req.slug);
  if (ds == nullptr) {
    if (req.rows == 0 && !req.schema_declared) {
      out.immediate = IngestResult{req.slug, 0, 0, std::nullopt, false};
      return out;
    }
    Schema base;
    base.time_column = req.time_column;
    ASSIGN_OR_RETURN(Schema merged, MergeFields(base, req.fields));
    ASSIGN_OR_RETURN(ds, CreateDataset(req.slug, merged));
  }
  out.ds = ds;

  std::unique_lock<std::mutex> l(ds->mu_);
  if (ds->deleted()) {
    return MakeError(absl::StatusCode::kUnavailable, "dataset_deleted",
                     StrCat("dataset \"", req.slug,
                            "\" was deleted while this request was in flight; retry to "
                            "create it anew"));
  }
  // A schema migration is beginning: wait for its begin edit (a seal and one
  // manifest edit), then lay the batch out by the new schema. The wait is
  // bounded (the seal may take long and this may be an HTTP I/O thread):
  // past it the client is told to retry.
  if (!ds->gate_cv_.wait_for(l, kMigrationGateWait, [&] { return !ds->migration_gate_.load(); })) {
    return MakeError(absl::StatusCode::kUnavailable, "migration_starting",
                     StrCat("a schema migration of dataset \"", req.slug,
                            "\" is beginning (its rows in memory are being sealed); retry"));
  }
  out.layout_epoch = ds->layout_epoch_.load();
  SchemaPtr schema = ds->schema_;
  if (schema->migration != nullptr && schema->migration->in_progress()) {
    for (const Field& f : req.fields) {
      if (std::find(schema->migration->retired.begin(), schema->migration->retired.end(), f.name) ==
          schema->migration->retired.end())
        continue;
      return MakeError(
          absl::StatusCode::kAlreadyExists, "migration_in_progress",
          StrCat("column \"", f.name, "\" of dataset \"", req.slug,
                 "\" is renamed or dropped by schema migration ", schema->migration->id,
                 ", which is under way; write the new schema's columns (GET the "
                 "dataset's schema)"));
    }
  }
  if (req.time_column != schema->time_column) {
    return MakeError(absl::StatusCode::kInvalidArgument, "invalid_request",
                     StrCat("timestampColumn \"", req.time_column, "\" differs from dataset \"",
                            req.slug, "\"'s time column \"", schema->time_column,
                            "\", which is fixed when the dataset is created"),
                     ErrorDetails(-1, req.time_column, schema->time_column, req.time_column));
  }
  ASSIGN_OR_RETURN(Schema merged, MergeFields(*schema, req.fields));
  if (merged.version != schema->version) {
    ManifestEdit set{ManifestEdit::Op::kSetSchema, ds->id()};
    set.version = merged.version;
    set.fields = merged.fields;
    RETURN_IF_ERROR(manifest_->LogEdit(set));
    ds->schema_ = std::make_shared<Schema>(std::move(merged));
    schema = ds->schema_;
    spdlog::info("dataset {}: schema version {} ({} columns)", ds->slug(), schema->version,
                 schema->fields.size());
  }

  if (!req.idempotency_key.empty()) {
    auto it = ds->idempotency_.find(req.idempotency_key);
    if (it != ds->idempotency_.end()) {
      // Raced with a request carrying the same key; CheckIdempotency explains.
      l.unlock();
      ASSIGN_OR_RETURN(auto dup, CheckIdempotency(req.slug, req.idempotency_key, req.request_hash));
      if (dup.has_value()) {
        out.immediate = *dup;
        return out;
      }
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
    return MakeError(absl::StatusCode::kInvalidArgument, "invalid_request",
                     "the batch has no time column");
  }
  chunk->ComputeStats();

  IngestAnswer& answer = out.answer;
  answer.rows = req.rows;
  answer.schema_version = schema->version;
  if (req.rows > 0) ds->reserved_max_ts_ = std::max(ds->reserved_max_ts_, chunk->max_ts);
  if (ds->reserved_max_ts_ != Dataset::kNoTimestamp) answer.watermark = ds->reserved_max_ts_;

  if (req.rows == 0 && req.idempotency_key.empty()) {
    // Nothing to log (the schema, if any, is already durable in the manifest).
    out.immediate = IngestResult{req.slug, 0, answer.schema_version, answer.watermark, false};
    return out;
  }

  auto record = std::make_shared<BatchRecord>();
  record->dataset_id = ds->id();
  record->schema_version = schema->version;
  record->chunk = chunk;
  if (!req.idempotency_key.empty()) {
    record->idempotency =
        IdempotencyInfo{req.idempotency_key, req.request_hash, NowNanos(), answer};
    ds->idempotency_[req.idempotency_key] = Dataset::IdempotencyEntry{
        req.request_hash, record->idempotency->created_ns, true, answer, 0, false};
  }
  out.record = std::move(record);
  return out;
}

void Engine::ReleaseBatch(const PreparedBatch& batch) {
  if (batch.record == nullptr || !batch.record->idempotency) return;
  std::lock_guard<std::mutex> l(batch.ds->mu_);
  batch.ds->idempotency_.erase(batch.record->idempotency->key);
}

void Engine::Ingest(IngestRequest req, IngestCallback done) {
  std::vector<IngestRequest> one;
  one.push_back(std::move(req));
  IngestMany(std::move(one),
             [done = std::move(done)](absl::StatusOr<std::vector<IngestResult>> results) {
               if (!results.ok()) return done(results.status());
               done(std::move(results->front()));
             });
}

void Engine::IngestMany(std::vector<IngestRequest> requests, IngestManyCallback done) {
  // Back-pressure first, so a refused request changes nothing (no new
  // dataset, no new columns): bounded memory, never unbounded growth.
  uint64_t batch_bytes = 0;
  for (const auto& r : requests) batch_bytes += r.rows > 0 ? BatchBytes(r) : 0;
  if (batch_bytes > 0) {
    if (auto s = CheckBackpressure(batch_bytes); !s.ok()) return done(s);
  }
  // Callbacks never run under a dataset lock (they may take it again), and
  // PrepareBatch holds none when it returns.
  std::vector<PreparedBatch> prepared;
  prepared.reserve(requests.size());
  for (auto& req : requests) {
    auto p = PrepareBatch(req);
    if (!p.ok()) {
      for (const auto& q : prepared) ReleaseBatch(q);
      return done(p.status());
    }
    if (p->immediate && p->immediate->duplicate) {
      // The request was seen before: answer as it was then, store nothing.
      for (const auto& q : prepared) ReleaseBatch(q);
      return done(std::vector<IngestResult>{*p->immediate});
    }
    prepared.push_back(*std::move(p));
  }
  // Laid out, not yet counted in flight: the window a migration's begin must
  // not slip through unseen (tests run one here).
  TestPoint("Engine::IngestMany:prepared");

  std::vector<std::string> payloads;
  uint64_t bytes = 0;
  for (const auto& p : prepared) {
    if (p.record == nullptr) continue;
    payloads.push_back(EncodeBatchRecord(*p.record));
    bytes += p.record->chunk->memory_bytes;
  }
  auto answer_all = [prepared]() {
    std::vector<IngestResult> results;
    results.reserve(prepared.size());
    for (const auto& p : prepared) {
      if (p.immediate) {
        results.push_back(*p.immediate);
      } else {
        results.push_back(IngestResult{p.slug, p.answer.rows, p.answer.schema_version,
                                       p.answer.watermark, false});
      }
    }
    return results;
  };
  if (payloads.empty()) return done(answer_all());

  wal::RecordType type = wal::RecordType::kRowBatch;
  std::string payload;
  if (payloads.size() == 1) {
    payload = std::move(payloads.front());
  } else {
    type = wal::RecordType::kMultiRowBatch;
    payload = EncodeMultiBatchRecord(payloads);
  }
  inflight_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  for (const auto& p : prepared) {
    if (p.record != nullptr) p.ds->inflight_batches_.fetch_add(1);
  }
  auto settle = [](const std::vector<PreparedBatch>& batches) {
    for (const auto& p : batches) {
      if (p.record != nullptr) p.ds->inflight_batches_.fetch_sub(1, std::memory_order_acq_rel);
    }
  };
  // A migration that began after these batches were laid out by the old
  // schema (BeginSchemaMigration closes the gate and bumps the layout epoch,
  // then waits for in-flight batches: one of the two sees the other) refuses
  // them; nothing is stored. The epoch catches a begin that ran wholly
  // between the layout and the count above (the gate is open again by then).
  for (const auto& p : prepared) {
    if (p.record == nullptr ||
        (!p.ds->migration_gate_.load() && p.ds->layout_epoch_.load() == p.layout_epoch))
      continue;
    inflight_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
    for (const auto& q : prepared) ReleaseBatch(q);
    settle(prepared);
    return done(MakeError(absl::StatusCode::kUnavailable, "migration_starting",
                          StrCat("a schema migration of dataset \"", p.slug,
                                 "\" began while this request was in flight; retry")));
  }
  wal_->Append(type, std::move(payload),
               [this, prepared, bytes, answer_all, settle, done = std::move(done)](
                   const absl::Status& s, uint64_t seq) {
                 inflight_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
                 if (!s.ok()) {
                   // DataLoss: an fsync failed, so the record may or may not be
                   // on disk; the key stays reserved (a retry answers 503) and
                   // the restart decides. Any other error means nothing was
                   // written.
                   if (s.code() != absl::StatusCode::kDataLoss) {
                     for (const auto& p : prepared) ReleaseBatch(p);
                   }
                   settle(prepared);
                   done(s);
                   return;
                 }
                 for (const auto& p : prepared) {
                   if (p.record != nullptr) Apply(p.ds.get(), *p.record, seq);
                 }
                 settle(prepared);
                 applied_seq_.store(seq, std::memory_order_release);
                 done(answer_all());
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
      if (seg->remote()) {
        ++s.remote_segments;
        s.remote_segment_bytes += seg->record.bytes;
      }
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
