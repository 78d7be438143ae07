#include "engine/engine.h"

#include <chrono>
#include <random>

#include "common/strings.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "engine/query_executor.h"
#include "engine/status_util.h"
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
  return e;
}

Engine::~Engine() { Close(); }

void Engine::Close() {
  if (wal_ != nullptr) wal_->Close();
}

absl::Status Engine::Recover() {
  auto t0 = std::chrono::steady_clock::now();
  RETURN_IF_ERROR(env_->CreateDirs(options_.root));
  ASSIGN_OR_RETURN(manifest_, Manifest::Open(env_, options_.root));
  {
    std::unique_lock<std::shared_mutex> l(datasets_mu_);
    for (const auto& [id, meta] : manifest_->datasets()) {
      auto ds = std::make_shared<Dataset>(id, meta.slug, std::make_shared<Schema>(meta.schema),
                                          meta.created_ns, meta.partition_interval_ns);
      by_slug_[meta.slug] = ds;
      by_id_[id] = ds;
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
  const int64_t now = NowNanos();
  for (size_t i = 0; i < numbers.size(); ++i) {
    const bool last = i + 1 == numbers.size();
    const std::string path = JoinPath(wal_dir, wal::WalFileName(numbers[i]));
    wal::TailPolicy policy = options_.wal_recovery == wal::TailPolicy::kTruncate
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
        spdlog::warn("WAL {} offset {}: rows for unknown dataset {} skipped", path, r.offset,
                     DatasetIdString(rec->dataset_id));
        continue;
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
          return absl::DataLossError(StrCat(path, " at offset ", r.offset, ": column ",
                                                  schema->fields[k].name, " has type ",
                                                  ColumnTypeName(c.columns[k].type),
                                                  " in the log but ",
                                                  ColumnTypeName(schema->fields[k].type),
                                                  " in the schema"));
        }
      }
      if (rec->idempotency && now - rec->idempotency->created_ns > options_.idempotency_ttl_ns)
        rec->idempotency.reset();
      {
        std::lock_guard<std::mutex> l(ds->mu_);
        ds->reserved_max_ts_ = std::max(ds->reserved_max_ts_, c.rows ? c.max_ts : ds->reserved_max_ts_);
      }
      Apply(ds.get(), *rec);
      ++recovery_.records;
      recovery_.rows += c.rows;
    }
    if (log->dropped_bytes > 0) {
      recovery_.dropped_bytes += log->dropped_bytes;
      recovery_.dropped_detail = StrCat(path, ": ", log->drop_reason);
      spdlog::warn("WAL recovery dropped {} bytes of {} ({}); those requests were never "
                   "acknowledged",
                   log->dropped_bytes, path, log->drop_reason);
      if (log->valid_bytes < wal::kFileHeaderSize) {
        // Cut inside its own header (a crash while the file was created): it
        // holds nothing, and as an older file it would no longer read cleanly.
        RETURN_IF_ERROR(env_->RemoveFile(path));
        RETURN_IF_ERROR(env_->SyncDir(wal_dir));
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
  wal::WalOptions wo;
  wo.dir = wal_dir;
  wo.sync_mode = options_.wal_sync;
  wo.sync_interval_ms = options_.wal_sync_interval_ms;
  wo.max_file_bytes = options_.wal_max_file_bytes;
  uint64_t next_file = numbers.empty() ? 1 : numbers.back() + 1;
  ASSIGN_OR_RETURN(wal_, wal::WalWriter::Open(env_, wo, next_file, last_seq));
  recovery_.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
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
  auto ds = std::make_shared<Dataset>(id, slug, std::make_shared<Schema>(schema),
                                      create.created_ns, create.partition_interval_ns);
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
  return std::optional<IngestResult>(IngestResult{std::string(slug), e.answer.rows,
                                                  e.answer.schema_version, e.answer.watermark,
                                                  true});
}

void Engine::Ingest(IngestRequest req, IngestCallback done) {
  // Back-pressure first, so a refused request changes nothing (no new
  // dataset, no new columns): bounded memory, never unbounded growth.
  if (req.rows > 0) {
    uint64_t batch_bytes = 0;
    for (const auto& c : req.columns) batch_bytes += c.MemoryBytes();
    uint64_t mem = inflight_bytes_.load(std::memory_order_relaxed);
    for (const auto& d : ListDatasets()) mem += d->mem().memory_bytes();
    if (mem + batch_bytes > options_.memtable_max_bytes) {
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
  SchemaPtr schema = ds->schema_;
  if (req.time_column != schema->time_column) {
    return done(MakeError(
        absl::StatusCode::kInvalidArgument, "invalid_request",
        StrCat("timestampColumn \"", req.time_column, "\" differs from dataset \"",
                     req.slug, "\"'s time column \"", schema->time_column,
                     "\", which is fixed when the dataset is created"),
        ErrorDetails(-1, req.time_column, schema->time_column, req.time_column)));
  }
  auto merged = MergeFields(*schema, req.fields);
  if (!merged.ok()) return done(merged.status());
  if (merged->version != schema->version) {
    ManifestEdit set{ManifestEdit::Op::kSetSchema, ds->id()};
    set.version = merged->version;
    set.fields = merged->fields;
    if (auto s = manifest_->LogEdit(set); !s.ok()) return done(s);
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
    return done(MakeError(absl::StatusCode::kInvalidArgument, "invalid_request",
                          "the batch has no time column"));
  }
  chunk->ComputeStats();

  IngestAnswer answer;
  answer.rows = req.rows;
  answer.schema_version = schema->version;
  if (req.rows > 0)
    ds->reserved_max_ts_ = std::max(ds->reserved_max_ts_, chunk->max_ts);
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
    record.idempotency =
        IdempotencyInfo{req.idempotency_key, req.request_hash, NowNanos(), answer};
    auto& e = ds->idempotency_[req.idempotency_key];
    e = Dataset::IdempotencyEntry{req.request_hash, record.idempotency->created_ns, true, answer};
  }
  std::string payload = EncodeBatchRecord(record);
  const uint64_t bytes = chunk->memory_bytes;
  inflight_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  auto shared_record = std::make_shared<BatchRecord>(std::move(record));
  std::string slug = req.slug;
  wal_->Append(wal::RecordType::kRowBatch, std::move(payload),
               [this, ds, shared_record, answer, bytes, slug, done = std::move(done)](
                   const absl::Status& s, uint64_t) {
                 inflight_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
                 if (!s.ok()) {
                   if (shared_record->idempotency) {
                     std::lock_guard<std::mutex> l(ds->mu_);
                     ds->idempotency_.erase(shared_record->idempotency->key);
                   }
                   done(s);
                   return;
                 }
                 Apply(ds.get(), *shared_record);
                 done(IngestResult{slug, answer.rows, answer.schema_version, answer.watermark,
                                   false});
               });
}

void Engine::Apply(Dataset* ds, const BatchRecord& record) {
  const Chunk& c = *record.chunk;
  if (c.rows > 0) {
    ds->mem_.Append(record.chunk, *ds->schema());
    int64_t cur = ds->applied_max_ts_.load(std::memory_order_relaxed);
    while (c.max_ts > cur &&
           !ds->applied_max_ts_.compare_exchange_weak(cur, c.max_ts, std::memory_order_release)) {
    }
    rows_ingested_.fetch_add(c.rows, std::memory_order_relaxed);
  }
  if (record.idempotency) {
    std::lock_guard<std::mutex> l(ds->mu_);
    const IdempotencyInfo& i = *record.idempotency;
    ds->idempotency_[i.key] =
        Dataset::IdempotencyEntry{i.request_hash, i.created_ns, false, i.answer};
    MaybeSweepIdempotency(ds, NowNanos());
  }
}

void Engine::MaybeSweepIdempotency(Dataset* ds, int64_t now) {
  if (++ds->idempotency_inserts_ < std::max<size_t>(1024, ds->idempotency_.size())) return;
  ds->idempotency_inserts_ = 0;
  absl::erase_if(ds->idempotency_, [&](const auto& kv) {
    return !kv.second.pending && now - kv.second.created_ns > options_.idempotency_ttl_ns;
  });
}

absl::StatusOr<QueryResult> Engine::Query(std::string_view slug, QuerySpec spec) {
  auto ds = GetDataset(slug);
  if (ds == nullptr) return NotFound(slug);
  SchemaPtr schema = ds->schema();
  RETURN_IF_ERROR(ValidateQuery(&spec, *schema));
  std::vector<ChunkPtr> chunks = ds->mem().Snapshot();
  ASSIGN_OR_RETURN(QueryResult result, ExecuteQuery(spec, *schema, chunks));
  result.watermark = ds->watermark();
  result.hot_rows = ds->mem().rows();
  return result;
}

Engine::Stats Engine::GetStats() const {
  Stats s;
  for (const auto& d : ListDatasets()) {
    ++s.datasets;
    s.memtable_bytes += d->mem().memory_bytes();
    s.memtable_rows += d->mem().rows();
  }
  if (wal_ != nullptr) s.wal = wal_->stats();
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
