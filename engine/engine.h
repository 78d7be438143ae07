// The storage engine: datasets, their schemas (manifest), the write-ahead log
// and the in-memory segments, recovery at start-up, and the query entry point.
//
// Ingest path: the caller parses a request into columns (IngestRequest); the
// engine merges its fields into the dataset schema (a manifest edit when it
// grows), checks back-pressure and idempotency, encodes one WAL record and
// hands it to the group-commit writer. Once the record is durable the writer
// thread applies the rows to the MemSegment (in WAL order) and answers. A query
// issued after the answer therefore sees the rows.
//
// Thread-safe.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "common/env.h"
#include "common/strings.h"
#include "engine/audit_log.h"
#include "engine/decoded_cache.h"
#include "engine/fetch_pool.h"
#include "engine/manifest.h"
#include "engine/mem_segment.h"
#include "engine/query.h"
#include "engine/schema.h"
#include "engine/wal_payload.h"
#include "segment/segment_reader.h"
#include "segment/segment_writer.h"
#include "tiering/block_cache.h"
#include "tiering/remote_file.h"
#include "tiering/storage_targets.h"
#include "wal/log_reader.h"
#include "wal/wal_writer.h"

namespace timestore {

struct EngineOptions {
  std::string root = "./data";
  wal::SyncMode wal_sync = wal::SyncMode::kAlways;
  int wal_sync_interval_ms = 100;
  uint64_t wal_max_file_bytes = 64ull << 20;
  // Ingest answers 503 while the in-memory segments hold more than this.
  uint64_t memtable_max_bytes = 2ull << 30;
  int64_t partition_interval_ns = 86'400'000'000'000;  // 1 day
  int64_t idempotency_ttl_ns = 86'400'000'000'000;     // keys remembered at least 24 h
  // kTornTailOnly refuses to start on mid-file WAL corruption; kTruncate drops
  // everything from the first bad record on (operator override).
  wal::TailPolicy wal_recovery = wal::TailPolicy::kTornTailOnly;
  // Sealing: an in-memory segment is written to segment files once it holds
  // this many rows, or its oldest row arrived this long ago, or the in-memory
  // budget is half used (the largest dataset goes first).
  uint64_t seal_max_rows = 1'000'000;
  int64_t seal_max_age_ms = 600'000;
  bool background_sealing = true;  // tests turn it off and call Flush()
  segment::WriteOptions segment_options;
  // Retention for datasets without their own deleteAfter (0: keep forever).
  int64_t retention_default_ns = 0;

  // Object storage. `targets` (not owned, may be null: no tiering) resolves
  // the storage targets remote segments live in; it must outlive the engine.
  tiering::StorageTargets* targets = nullptr;
  // coldAfter of datasets without their own (0: none).
  int64_t cold_after_default_ns = 0;
  // The block cache of remote segments: <root>/cache when empty; 0 bytes: off.
  std::string cache_dir;
  uint64_t cache_max_bytes = 1ull << 30;
  uint64_t cache_memory_bytes = 64ull << 20;  // of it, kept in memory too
  tiering::RemoteFileOptions remote;
  // Remote segments of one query are read this many at a time.
  int remote_read_parallelism = 8;
  // Threads that decode and aggregate the blocks of one downsample query
  // (TIMESTORE_QUERY_THREADS); 0: one per core.
  int query_threads = 0;
  // A query running longer fails with DeadlineExceeded "query_timeout"
  // (TIMESTORE_QUERY_TIMEOUT); 0: no limit.
  std::chrono::nanoseconds query_timeout{0};
  // Memory one query may hold for decoded blocks, groups and aggregate state
  // (TIMESTORE_QUERY_MAX_MEMORY); beyond it the query fails with OutOfRange
  // "query_memory_limit". 0: no limit.
  uint64_t query_max_memory = 0;
  // Decoded columns of local segment blocks kept for later queries
  // (TIMESTORE_DECODED_CACHE_BYTES); 0: off.
  uint64_t decoded_cache_bytes = 1ull << 30;
};

// An object whose segment left the manifest (retention, a dataset delete):
// deleted from its store by the tiering mover, and from the block cache.
struct RemoteObjectRef {
  std::string target;
  std::string key;
  std::string cache_name;
};

// The remote objects of segment handles: those still held (a running query
// may read them, even after the manifest dropped them) and those whose
// segment left the manifest and whose last handle has gone (to delete).
// Thread-safe; shared by the handles and the engine (whose mover drains it).
class RemoteGarbage {
 public:
  void Add(RemoteObjectRef ref) {
    std::lock_guard<std::mutex> l(mu_);
    items_.push_back(std::move(ref));
  }
  std::vector<RemoteObjectRef> Take() {
    std::lock_guard<std::mutex> l(mu_);
    return std::exchange(items_, {});
  }
  size_t size() const {
    std::lock_guard<std::mutex> l(mu_);
    return items_.size();
  }
  // Objects queued for deletion in `target`.
  size_t CountIn(std::string_view target) const {
    std::lock_guard<std::mutex> l(mu_);
    return std::count_if(items_.begin(), items_.end(),
                         [&](const RemoteObjectRef& r) { return r.target == target; });
  }
  void Hold(const std::string& target, const std::string& key) {
    std::lock_guard<std::mutex> l(mu_);
    ++held_[target + '\n' + key];
  }
  void Release(const std::string& target, const std::string& key) {
    std::lock_guard<std::mutex> l(mu_);
    auto it = held_.find(target + '\n' + key);
    if (it != held_.end() && --it->second == 0) held_.erase(it);
  }
  // Keys of `target` some handle still holds.
  std::set<std::string> HeldIn(const std::string& target) const {
    std::lock_guard<std::mutex> l(mu_);
    std::set<std::string> out;
    for (const auto& [k, n] : held_) {
      if (k.size() > target.size() && k.compare(0, target.size(), target) == 0 &&
          k[target.size()] == '\n')
        out.insert(k.substr(target.size() + 1));
    }
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::vector<RemoteObjectRef> items_;
  std::map<std::string, int> held_;  // "<target>\n<key>" -> handles
};

// A sealed segment and its open reader. Immutable but for `obsolete`: once a
// manifest edit has removed the segment (compaction, retention, a dataset
// delete) or moved it to object storage (tiering), its local file is deleted
// when the last snapshot holding this handle lets go of it, so running queries
// keep reading their files. A remote segment's local file is its footer copy
// (<segment id>.tfoot); when it goes, its object is queued on `garbage`.
struct SegmentHandle {
  SegmentRecord record;
  std::string path;  // the local file: the segment, or a remote segment's footer
  std::shared_ptr<const segment::SegmentReader> reader;
  Env* env = nullptr;
  std::shared_ptr<RemoteGarbage> garbage;  // remote segments
  std::string cache_name;                  // remote segments: their block cache name
  mutable std::atomic<bool> obsolete{false};
  // Set with `obsolete` when the segment moved to object storage: only the
  // local file goes, the object is the segment now.
  mutable std::atomic<bool> tiered{false};
  bool remote() const { return record.remote(); }
  ~SegmentHandle();
};
using SegmentPtr = std::shared_ptr<const SegmentHandle>;

struct FlushResult {
  uint64_t rows = 0;
  std::vector<SegmentRecord> segments;
  uint64_t sealed_through_seq = 0;
  int wal_files_deleted = 0;
  double seconds = 0;
  bool retried_leftover = false;  // sealed what a failed seal had left frozen
};

// One ingest request, already parsed into columns.
struct IngestRequest {
  std::string slug;
  // Fields of the batch with their types (declared or inferred), parallel to
  // `columns`. Declared fields may have no column (all null).
  std::vector<Field> fields;
  std::vector<ColumnVector> columns;
  bool schema_declared = false;  // an explicit schema creates an empty dataset
  std::string time_column;       // the batch's time column name
  uint32_t rows = 0;
  std::string idempotency_key;  // empty: none
  uint64_t request_hash = 0;    // of body + query string, for idempotency
};

struct IngestResult {
  std::string dataset;
  uint64_t rows = 0;
  uint32_t schema_version = 0;
  std::optional<int64_t> watermark;
  bool duplicate = false;
};

struct RecoveryReport {
  uint64_t wal_files = 0;
  uint64_t records = 0;
  uint64_t rows = 0;
  uint64_t dropped_bytes = 0;
  std::string dropped_detail;  // file, offset and reason of a dropped torn tail
  double seconds = 0;
};

class Dataset {
 public:
  Dataset(uint64_t id, std::string slug, SchemaPtr schema, int64_t created_ns,
          int64_t partition_interval_ns)
      : id_(id),
        slug_(std::move(slug)),
        created_ns_(created_ns),
        partition_interval_ns_(partition_interval_ns),
        schema_(std::move(schema)) {}

  uint64_t id() const { return id_; }
  const std::string& slug() const { return slug_; }
  int64_t created_ns() const { return created_ns_; }
  int64_t partition_interval_ns() const {
    return partition_interval_ns_.load(std::memory_order_relaxed);
  }
  // The sort key before time: the segmentBy the user chose, else the series
  // key inferred from the data (empty until the first seal infers it).
  std::vector<std::string> segment_by() const {
    std::lock_guard<std::mutex> l(mu_);
    return segment_by_set_ ? segment_by_ : inferred_segment_by_;
  }
  // What the user chose (nullopt: nothing) and what was inferred.
  std::optional<std::vector<std::string>> chosen_segment_by() const {
    std::lock_guard<std::mutex> l(mu_);
    return segment_by_set_ ? std::optional<std::vector<std::string>>(segment_by_) : std::nullopt;
  }
  std::vector<std::string> inferred_segment_by() const {
    std::lock_guard<std::mutex> l(mu_);
    return inferred_segment_by_;
  }
  // Free text for people (PUT settings displayName, description); "" if unset.
  std::pair<std::string, std::string> display_name_and_description() const {
    std::lock_guard<std::mutex> l(mu_);
    return {display_name_, description_};
  }
  // Per-dataset read and write scopes (PUT settings "iam"); empty if unset.
  DatasetIam iam() const {
    std::lock_guard<std::mutex> l(mu_);
    return iam_;
  }
  // Held while partitions of the dataset move to object storage (the tier
  // mover), so that listings say "tiering".
  class TieringScope {
   public:
    explicit TieringScope(Dataset* ds) : ds_(ds) { ds_->tiering_.fetch_add(1); }
    ~TieringScope() { ds_->tiering_.fetch_sub(1); }
    TieringScope(const TieringScope&) = delete;
    TieringScope& operator=(const TieringScope&) = delete;

   private:
    Dataset* ds_;
  };
  // The lifecycle state a dataset listing shows and filters on: "deleting"
  // once a delete has begun, "tiering" while partitions move to object
  // storage, else "active".
  std::string_view lifecycle() const {
    if (deleted()) return "deleting";
    if (tiering_.load(std::memory_order_acquire) > 0) return "tiering";
    return "active";
  }
  SchemaPtr schema() const {
    std::lock_guard<std::mutex> l(mu_);
    return schema_;
  }
  // Rows and bytes held in memory (active plus a segment being sealed).
  uint64_t hot_rows() const;
  uint64_t hot_bytes() const;
  // Sealed segments in write order (what dedup's "last written" follows).
  std::vector<SegmentPtr> segments() const {
    std::lock_guard<std::mutex> l(version_mu_);
    return segments_;
  }
  std::optional<DedupSettings> dedup() const {
    std::lock_guard<std::mutex> l(mu_);
    return dedup_;
  }
  RetentionSettings retention() const {
    std::lock_guard<std::mutex> l(mu_);
    return retention_;
  }
  // The storage target the dataset chose ("" = the server's default).
  std::string storage_target() const {
    std::lock_guard<std::mutex> l(mu_);
    return storage_target_;
  }
  // The oldest timestamp held in memory, if any row is.
  std::optional<int64_t> hot_min_ts() const;
  bool deleted() const { return deleted_.load(std::memory_order_acquire); }

  // Ingest batches for this dataset logged or being logged but not yet
  // applied: their rows are not visible yet (nor acknowledged).
  uint32_t inflight_batches() const { return inflight_batches_.load(std::memory_order_acquire); }

  // Held by the one migrator at work on the dataset (migrate/migrator.h):
  // an execute, resume or rollback; try_lock it and refuse when taken.
  std::mutex& migration_mutex() { return migration_mu_; }

  // Largest timestamp applied (visible to queries), if any row is.
  std::optional<int64_t> watermark() const {
    int64_t w = applied_max_ts_.load(std::memory_order_acquire);
    if (w == kNoTimestamp) return std::nullopt;
    return w;
  }

 private:
  friend class Engine;
  static constexpr int64_t kNoTimestamp = std::numeric_limits<int64_t>::min();

  struct IdempotencyEntry {
    uint64_t request_hash = 0;
    int64_t created_ns = 0;
    bool pending = false;  // in the WAL queue, not yet answered
    IngestAnswer answer;
    uint64_t seq = 0;        // WAL record that carried it
    bool persisted = false;  // in the manifest (its WAL file may be gone)
  };

  const uint64_t id_;
  const std::string slug_;
  const int64_t created_ns_;
  std::atomic<int64_t> partition_interval_ns_;

  mutable std::mutex mu_;
  SchemaPtr schema_ ABSL_GUARDED_BY(mu_);
  int64_t reserved_max_ts_ ABSL_GUARDED_BY(mu_) = kNoTimestamp;
  StringMap<IdempotencyEntry> idempotency_ ABSL_GUARDED_BY(mu_);
  // Inserts since the last sweep of expired keys (amortised O(1) per insert).
  size_t idempotency_inserts_ ABSL_GUARDED_BY(mu_) = 0;

  // The version: what a query snapshot reads. Segments in creation order, then
  // the frozen in-memory segment being sealed, then the active one.
  mutable std::mutex version_mu_;
  std::shared_ptr<MemSegment> active_ ABSL_GUARDED_BY(version_mu_) = std::make_shared<MemSegment>();
  std::shared_ptr<MemSegment> frozen_ ABSL_GUARDED_BY(version_mu_);
  std::vector<SegmentPtr> segments_ ABSL_GUARDED_BY(version_mu_);
  uint64_t sealed_through_seq_ ABSL_GUARDED_BY(version_mu_) = 0;
  std::mutex seal_mu_;                                        // one seal at a time per dataset
  std::vector<std::string> segment_by_ ABSL_GUARDED_BY(mu_);  // as chosen by the user
  bool segment_by_set_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::string> inferred_segment_by_ ABSL_GUARDED_BY(mu_);
  std::optional<DedupSettings> dedup_ ABSL_GUARDED_BY(mu_);
  std::string display_name_ ABSL_GUARDED_BY(mu_);
  std::string description_ ABSL_GUARDED_BY(mu_);
  DatasetIam iam_ ABSL_GUARDED_BY(mu_);
  std::atomic<int> tiering_{0};  // partition moves to object storage under way
  RetentionSettings retention_ ABSL_GUARDED_BY(mu_);
  std::string storage_target_ ABSL_GUARDED_BY(mu_);
  // Serialises the edits that change the segment list from the background
  // (compaction, retention) with each other and with a delete.
  std::mutex edit_mu_;
  std::atomic<bool> deleted_{false};  // dropped; no further manifest edits

  std::atomic<int64_t> applied_max_ts_{kNoTimestamp};
  std::atomic<uint32_t> inflight_batches_{0};
  // Set while a schema migration begins or rolls back: new batches wait
  // (gate_cv_, with mu_) and batches prepared before it are refused (503).
  std::atomic<bool> migration_gate_{false};
  // Bumped (with mu_ held) each time the gate closes: a batch laid out by
  // PrepareBatch under an older epoch may be of a schema that is no longer
  // the dataset's (the begin ran between its layout and its in-flight count),
  // and IngestMany refuses it with 503 migration_starting.
  std::atomic<uint64_t> layout_epoch_{0};
  std::condition_variable gate_cv_;
  std::mutex migration_mu_;
};

class Engine {
 public:
  // Opens (creating if needed) the storage root and recovers: manifest, then a
  // replay of the write-ahead log. Blocks until recovery has finished.
  static absl::StatusOr<std::unique_ptr<Engine>> Open(Env* env, EngineOptions options);
  ~Engine();

  const RecoveryReport& recovery() const { return recovery_; }
  // The audit log at <root>/audit.log; never null once Open has returned.
  AuditLog* audit() const { return audit_.get(); }

  // The dataset's current schema, or null when the dataset does not exist.
  SchemaPtr GetSchema(std::string_view slug) const;
  std::shared_ptr<Dataset> GetDataset(std::string_view slug) const;
  // By 16-hex-digit id or by slug (admin routes accept either).
  std::shared_ptr<Dataset> FindDataset(std::string_view id_or_slug) const;
  std::vector<std::shared_ptr<Dataset>> ListDatasets() const;

  // A repeat of a remembered Idempotency-Key: its first answer (duplicate =
  // true), 409 when the body differs, nullopt when the key is unknown.
  absl::StatusOr<std::optional<IngestResult>> CheckIdempotency(std::string_view slug,
                                                               const std::string& key,
                                                               uint64_t request_hash);

  // Stores the rows durably, then calls `done` (on the WAL writer thread, or
  // at once on error). All-or-nothing: on error nothing is stored.
  using IngestCallback = std::function<void(absl::StatusOr<IngestResult>)>;
  void Ingest(IngestRequest request, IngestCallback done);
  // Stores the batches of one request that writes several datasets (a line
  // protocol body with several measurements) in one WAL record: all of them
  // or none, on error or crash alike. An Idempotency-Key goes on the first
  // batch only; when that batch is a duplicate, nothing else is stored and the
  // answers are its first answer alone.
  using IngestManyCallback = std::function<void(absl::StatusOr<std::vector<IngestResult>>)>;
  void IngestMany(std::vector<IngestRequest> requests, IngestManyCallback done);

  // Runs a query over everything acknowledged before the call.
  absl::StatusOr<QueryResult> Query(std::string_view slug, QuerySpec spec);

  // Seals the dataset's in-memory rows into segment files now; returns once
  // the files and the manifest edit are durable.
  absl::StatusOr<FlushResult> Flush(std::string_view slug);

  struct Settings {
    std::optional<int64_t> partition_interval_ns;
    std::optional<std::vector<std::string>> segment_by;
    // Outer optional: whether to change it; inner: on (settings) or off.
    std::optional<std::optional<DedupSettings>> dedup;
    std::optional<std::string> display_name, description;  // "" clears
    std::optional<DatasetIam> iam;
  };
  // Changes dataset settings (durably). partitionInterval and segmentBy apply
  // to rows sealed from now on; dedup applies to every stored row at once
  // (queries merge on read; compaction makes it physical). Unknown columns, a
  // non-positive interval, or dedup keys that leave out a segmentBy column
  // are 400.
  absl::Status UpdateSettings(Dataset* ds, const Settings& settings);

  // Changes the dataset's retention settings (durably): each member of the
  // patch that is set replaces the stored value (an empty inner value clears
  // it); the merge happens under the dataset lock, so concurrent patches of
  // different members both stick.
  struct RetentionPatch {
    std::optional<std::optional<RetentionValue>> delete_after, cold_after;
  };
  absl::Status UpdateRetention(Dataset* ds, const RetentionPatch& patch);
  // Replaces both retention settings.
  absl::Status SetRetention(Dataset* ds, const RetentionSettings& retention) {
    return UpdateRetention(ds, RetentionPatch{retention.delete_after, retention.cold_after});
  }
  // The deleteAfter in force: the dataset's own, else the global default; 0 = none.
  int64_t EffectiveDeleteAfter(const Dataset& ds) const;
  // The coldAfter in force, likewise; 0 = none.
  int64_t EffectiveColdAfter(const Dataset& ds) const;

  // Object storage.
  // The target cold partitions move to: the dataset's own, else the
  // server's default; "" when the data stays local (none configured, or the
  // dataset chose "local").
  std::string EffectiveStorageTarget(const Dataset& ds) const;
  // Sets the dataset's target durably: a configured target's id, "local", or
  // "" (back to the default). Unknown ids are 400. Segments already remote
  // stay where they are.
  absl::Status SetStorageTarget(Dataset* ds, const std::string& target);
  // The object key of a segment in its target:
  // <root id>/<dataset id>/<partition start>/<segment id>.tseg
  std::string ObjectKey(const Dataset& ds, const SegmentRecord& record) const;
  // The prefix under which this storage root's objects live in any target.
  std::string ObjectKeyRoot() const { return root_id_ + "/"; }
  // Where a remote segment's footer copy lives (beside the segment's path).
  std::string FooterPath(uint64_t dataset_id, const SegmentRecord& record) const;
  // Opens a remote segment over `store`, its footer from `tail` (the
  // object's last bytes, already durable at FooterPath).
  absl::StatusOr<SegmentPtr> OpenRemoteSegment(uint64_t dataset_id, const SegmentRecord& record,
                                               std::string tail);
  // Marks segments as moved to object storage: one durable tier_segments
  // edit, then `remote` (handles from OpenRemoteSegment) replace them in the
  // list and their local files go once no snapshot holds them. Aborted (and
  // nothing changes) when a segment is no longer listed or already remote.
  absl::Status TierSegments(Dataset* ds, const std::vector<TieredSegment>& tiered,
                            std::vector<SegmentPtr> remote);
  tiering::StorageTargets* targets() const { return options_.targets; }
  tiering::BlockCache* cache() const { return cache_.get(); }
  // Objects of segments that left the manifest, to delete remotely.
  RemoteGarbage* remote_garbage() const { return garbage_.get(); }
  // Every remote object that must stay, in `target`: those the manifest
  // lists and those a segment handle still holds (a running query).
  std::set<std::string> LiveObjects(const std::string& target) const;

  // Deletes the dataset: one manifest edit, then its files (each when no
  // running query holds it any more). Its name is free again at once.
  absl::Status DeleteDataset(Dataset* ds);

  // Swaps segments in one durable manifest edit: `remove` leaves the list,
  // `add` (files already durable) takes the place of the last removed one.
  // Aborted (and nothing changes) when a removed segment is no longer listed
  // or the dataset was deleted. Removed files go once no snapshot holds them.
  absl::Status ReplaceSegments(Dataset* ds, const std::vector<uint64_t>& remove,
                               std::vector<SegmentPtr> add);
  // Schema migrations (migrate/migrator.h drives them; docs/migrate.md).
  // Begin: ingest to the dataset pauses (new batches wait, batches already
  // prepared under the old schema are refused with 503 migration_starting),
  // everything in memory is sealed, then `make` builds the new schema and
  // its SchemaMigration from the sealed one and one durable migrate_schema
  // begin edit makes it the schema; the paused batches go on under it.
  // 409 migration_in_progress when a migration is under way already.
  using MakeMigration = std::function<absl::StatusOr<Schema>(const Schema&)>;
  absl::Status BeginSchemaMigration(Dataset* ds, const MakeMigration& make);
  // Commit: one durable edit once no segment awaits a rewrite
  // (FailedPrecondition naming the count otherwise).
  absl::Status CommitSchemaMigration(Dataset* ds, const std::string& migration_id);
  // Rollback: only while nothing was written under the new schema (after
  // sealing what is in memory); the old fields, plus columns added since,
  // are the schema again under a new version. FailedPrecondition otherwise.
  absl::Status RollbackSchemaMigration(Dataset* ds, const std::string& migration_id);

  // Seals `ds` (like Flush) when it holds rows in memory older than `ts`.
  absl::Status SealIfHotBefore(Dataset* ds, int64_t ts);

  // For writers of segment files (compaction): a fresh segment id and its path.
  std::string NewSegmentPath(const Dataset& ds, int64_t partition_start, uint64_t* segment_id);
  // Opens a durable segment file as a handle for ReplaceSegments.
  absl::StatusOr<SegmentPtr> OpenSegment(const std::string& path, const SegmentRecord& record);
  Env* env() const { return env_; }
  const EngineOptions& options() const { return options_; }
  // True once a manifest write's outcome is unknown (a failed fsync): every
  // change fails until a restart. While false, a failed change was not made.
  bool manifest_broken() const { return manifest_->broken(); }

  // Makes everything written so far durable; stops the WAL writer and the
  // background sealer. Idempotent.
  void Close();

  struct Stats {
    uint64_t datasets = 0;
    uint64_t segments = 0;
    uint64_t segment_bytes = 0;
    uint64_t seals = 0;
    uint64_t wal_files = 0;
    uint64_t memtable_bytes = 0;
    uint64_t memtable_rows = 0;
    uint64_t wal_bytes_on_disk = 0;
    wal::WalWriter::Stats wal;
    uint64_t rows_ingested = 0;
    uint64_t seal_bytes_written = 0;
    uint64_t partitions = 0;
    uint64_t max_segments_per_partition = 0;
    uint64_t remote_segments = 0;
    uint64_t remote_segment_bytes = 0;  // of segment_bytes
  };
  Stats GetStats() const;

 private:
  Engine(Env* env, EngineOptions options) : env_(env), options_(std::move(options)) {}
  // One segment's part of a query: the blocks and columns it needs, then
  // what they decoded to (or the chunk its footer answers).
  struct SegmentRead {
    const SegmentHandle* seg = nullptr;
    std::vector<size_t> blocks;
    std::vector<int> read_cols;     // segment column indices
    std::vector<int> read_targets;  // the dataset columns they fill
    ChunkPtr footer_chunk;          // set: answered by the footer, nothing to read
    std::vector<std::vector<ColumnVector>> decoded;
    uint64_t bytes_read = 0;
  };
  // Reads every SegmentRead (only the remote ones when `remote_only`);
  // remote segments side by side on the fetch pool.
  absl::Status ReadSegments(std::vector<SegmentRead>& reads, IoStats* io, bool remote_only = false);
  // Block k of a local read as a chunk, its columns from the decoded cache
  // where it has them, the others decoded (and cached). Adds the bytes of its
  // columns to `held`.
  absl::StatusOr<ChunkPtr> CachedBlockChunk(uint64_t dataset_id, const SegmentRead& r, size_t k,
                                            const Schema& schema, uint64_t* bytes_read, IoStats* io,
                                            uint64_t* held);
  bool UseDecodedCache(const SegmentRead& r) const {
    return decoded_cache_ != nullptr && r.footer_chunk == nullptr && !r.seg->remote();
  }
  // A downsample over planned reads and hot chunks: blocks are decoded and
  // aggregated as morsels on the query pool, merged in order, dropped once
  // merged (see engine/grouped_aggregate.h).
  struct QueryLimits {
    std::chrono::steady_clock::time_point deadline;  // max(): none
    uint64_t max_memory = 0;                         // 0: none
    const std::atomic<bool>* cancelled = nullptr;    // set when the client has gone
  };
  // A raw query without dedup: the reads in time-disjoint windows (groups of
  // overlapping segments), in query order, each decoded, executed with the
  // hot rows of its time range and freed, until `limit` rows are out.
  absl::StatusOr<QueryResult> ScanRaw(uint64_t dataset_id, const QuerySpec& spec,
                                      const Schema& schema, std::vector<SegmentRead>& reads,
                                      const std::vector<ChunkPtr>& hot, const QueryLimits& limits,
                                      IoStats* io, uint64_t* bytes_read);
  absl::StatusOr<QueryResult> ScanDownsample(uint64_t dataset_id, const QuerySpec& spec,
                                             const Schema& schema, std::vector<SegmentRead>& reads,
                                             const std::vector<ChunkPtr>& hot,
                                             const QueryLimits& limits, IoStats* io,
                                             uint64_t* bytes_read);
  absl::Status OpenRootId();
  void MaybeInferSeriesKey(Dataset* ds, const Schema& schema, const std::vector<ChunkPtr>& chunks);
  // The footer and trailer of a remote segment, fetched from its object.
  absl::StatusOr<std::string> FetchFooter(const SegmentRecord& record);
  absl::Status Recover();
  // `deadline` bounds remote reads, `query_deadline` the whole query.
  // `range_start` is the start of the range asked (spec.start but for a
  // window, whose answer stands for the whole range): QueryResult::source
  // covers [range_start, spec.end).
  absl::StatusOr<QueryResult> QueryOnce(std::string_view slug, QuerySpec spec, int64_t range_start,
                                        std::chrono::steady_clock::time_point deadline,
                                        std::chrono::steady_clock::time_point query_deadline);
  absl::StatusOr<FlushResult> Seal(Dataset* ds);
  absl::Status DeleteObsoleteWal(int* deleted);
  void SealerLoop();
  std::string SegmentPath(uint64_t dataset_id, int64_t partition_start, uint64_t segment_id) const;
  absl::Status OpenSegments(Dataset* ds, const DatasetMeta& meta);
  absl::StatusOr<std::shared_ptr<Dataset>> CreateDataset(const std::string& slug,
                                                         const Schema& schema);
  void Apply(Dataset* ds, const BatchRecord& record, uint64_t seq);
  // One batch made ready to log: dataset created, schema merged, columns laid
  // out, Idempotency-Key reserved. `immediate` is set when nothing needs
  // logging (no rows, or a duplicate answered from memory).
  struct PreparedBatch {
    std::shared_ptr<Dataset> ds;
    std::shared_ptr<BatchRecord> record;
    IngestAnswer answer;
    std::string slug;
    std::optional<IngestResult> immediate;
    uint64_t layout_epoch = 0;  // the dataset's layout_epoch_ when laid out
  };
  // 503 backpressure when `batch_bytes` more would pass the memtable limit.
  absl::Status CheckBackpressure(uint64_t batch_bytes);
  absl::StatusOr<PreparedBatch> PrepareBatch(IngestRequest& req);
  // Undoes PrepareBatch's key reservation for a batch that will not be logged.
  void ReleaseBatch(const PreparedBatch& batch);
  // Drops remembered keys older than the TTL once enough inserts accumulated.
  void MaybeSweepIdempotency(Dataset* ds, int64_t now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(ds->mu_);

  Env* const env_;
  const EngineOptions options_;
  std::unique_ptr<Manifest> manifest_;
  std::unique_ptr<wal::WalWriter> wal_;
  std::unique_ptr<AuditLog> audit_;
  RecoveryReport recovery_;
  std::string root_id_;  // <root>/ROOT_ID: names this root's objects in shared buckets
  std::unique_ptr<tiering::BlockCache> cache_;
  std::shared_ptr<RemoteGarbage> garbage_ = std::make_shared<RemoteGarbage>();
  std::unique_ptr<FetchPool> fetch_pool_;
  std::unique_ptr<FetchPool> query_pool_;        // null: queries run on their caller alone
  std::unique_ptr<DecodedCache> decoded_cache_;  // null: off
  int query_threads_ = 1;

  mutable std::shared_mutex datasets_mu_;
  std::map<std::string, std::shared_ptr<Dataset>, std::less<>> by_slug_
      ABSL_GUARDED_BY(datasets_mu_);
  std::map<uint64_t, std::shared_ptr<Dataset>> by_id_ ABSL_GUARDED_BY(datasets_mu_);
  std::mutex create_mu_;  // serialises dataset creation
  // Slugs whose create edit was logged but whose schema edit failed: a retry
  // logs both again under the same id.
  std::map<std::string, uint64_t, std::less<>> half_created_ ABSL_GUARDED_BY(create_mu_);

  std::atomic<uint64_t> inflight_bytes_{0};
  std::atomic<uint64_t> rows_ingested_{0};
  std::atomic<uint64_t> applied_seq_{0};  // every record with seq <= this is applied
  std::atomic<uint64_t> seals_{0};
  std::atomic<uint64_t> seal_bytes_{0};

  std::mutex sealer_mu_;
  std::condition_variable sealer_cv_;
  bool sealer_stop_ = false;  // guarded by sealer_mu_
  std::thread sealer_;
};

}  // namespace timestore
