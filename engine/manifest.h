// The engine-wide manifest: an append-only log of catalog edits (datasets,
// schemas, settings; segments from the segment layer on) in the framing of
// wal/wal_format.h with record type kManifestEdit, one JSON object per edit.
//
//   <root>/CURRENT            names the live manifest file ("MANIFEST-000007\n")
//   <root>/MANIFEST-NNNNNN    the log
//
// Edits (payload JSON):
//   {"op":"create_dataset","id":"<16 hex>","slug":"cpu","timeColumn":"timestamp",
//    "createdAt":<ns>,"partitionInterval":<ns>}
//   {"op":"set_schema","id":"<16 hex>","version":2,
//    "fields":[{"name":"timestamp","type":"timestamp"},...]}
//   {"op":"set_settings","id":"<16 hex>","partitionInterval":<ns>,"segmentBy":["host"],
//    "dedup":{"keys":["host"],"keep":"last"},           (dedup absent or null: off)
//    "segmentBySet":true, "inferredSegmentBy":["host"]}
//     segmentBySet: the user chose segmentBy (even empty); absent in older
//     manifests, read as "segmentBy is not empty". inferredSegmentBy: the
//     series key inferred from the data, the sort key while none was chosen.
//   {"op":"set_retention","id":"<16 hex>","deleteAfter":{"ns":n,"raw":"\"30d\""}|null,
//    "coldAfter":{...}|null}        raw: the JSON value as it was PUT
//   {"op":"replace_segments","id":"<16 hex>","remove":["<segment id>",...],
//    "add":[<segment entries as in add_segments>]}
//     Compaction (remove inputs, add outputs) and retention (remove only) in
//     one atomic edit. The added segments take the list position of the last
//     removed one, so the list stays in write order (dedup's "last" relies on it).
//   {"op":"drop_dataset","id":"<16 hex>"}
//   {"op":"tier_segments","id":"<16 hex>","segments":[{"segment":"<16 hex>",
//    "target":"<storage target id>","key":"<object key>"},...]}
//     The listed segments now live in object storage (uploaded and verified
//     before this edit); their local files go. Segment entries of remote
//     segments carry the same "target" and "key" members.
//   {"op":"set_storage_target","id":"<16 hex>","target":"<id>"}   ("": the default)
//   {"op":"migrate_schema","id":"<16 hex>","phase":"begin","version":n,"fields":[...],
//    "migration":{"id":"<migration id>","fromVersion":n,"toVersion":n,"fromFields":[...],
//                 "sources":["old name" | "",...],"retired":["name",...],
//                 "ticketId":"..","approvedBy":"..","operations":"<JSON array text>",
//                 "begunAt":<ns>}}
//     A schema migration begins (engine/schema.h SchemaMigration): the fields
//     become the schema at once; older segments are read through `sources`
//     until replace_segments edits swap in their rewritten files.
//   {"op":"migrate_schema","id":"<16 hex>","phase":"commit","migration":"<id>",
//    "committedAt":<ns>}
//     Every older segment was rewritten; the migration stays as the stamp.
//   {"op":"migrate_schema","id":"<16 hex>","phase":"rollback","migration":"<id>",
//    "version":n,"fields":[...]}
//     Undone before any segment was rewritten: the fields (the old ones plus
//     any added meanwhile) are the schema again.
//     A snapshot writes a migration under way (or the last committed one) as
//     its begin edit after set_schema, plus the commit edit when committed.
//   {"op":"add_segments","id":"<16 hex>","sealedThroughSeq":<WAL seq>,
//    "segments":[{"segment":"<16 hex>","partitionStart":<ns>,"rows":n,"bytes":n,
//                 "minTs":<ns>,"maxTs":<ns>,"level":0}],
//    "idempotency":[{"key":"...","hash":"<16 hex>","createdAt":<ns>,"rows":n,
//                    "schemaVersion":n,"watermark":<ns>|null}]}
//     Rows of every WAL record of the dataset with seq <= sealedThroughSeq are
//     in its segments; replay skips them, and the keys those records carried
//     live on here once the WAL files are deleted.
//
// At open the log is replayed, then rewritten as a fresh file holding one edit
// per live fact (write new file, fsync, swap CURRENT by write-temp + fsync +
// rename, fsync the directory, then delete the old file), so it never grows
// without bound. Every later edit is appended and fsynced before it counts.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "common/env.h"
#include "engine/schema.h"
#include "engine/wal_payload.h"
#include "wal/log_writer.h"

namespace timestore {

// A segment as the manifest lists it; the file is
// <root>/datasets/<dataset id>/<partition start>/<segment id>.tseg.
// A remote segment (target non-empty) is the object `key` in that storage
// target, with its footer kept locally beside where the file was
// (<segment id>.tfoot).
struct SegmentRecord {
  uint64_t id = 0;
  int64_t partition_start = 0;
  uint64_t rows = 0;
  uint64_t bytes = 0;
  int64_t min_ts = 0;
  int64_t max_ts = 0;
  uint32_t level = 0;
  std::string target;  // empty: a local file
  std::string key;     // the object's key in `target`

  bool remote() const { return !target.empty(); }
};

// Rows with equal key columns and equal timestamp collapse to one.
struct DedupSettings {
  std::vector<std::string> keys;
  bool keep_last = true;  // false: keep the first written
  bool operator==(const DedupSettings&) const = default;
};

// Who may read and write a dataset (PUT settings "iam"): when a list is
// non-empty, the request needs one of its scopes instead of the server's
// read or write scope.
struct DatasetIam {
  std::vector<std::string> read_scopes, write_scopes;
  bool empty() const { return read_scopes.empty() && write_scopes.empty(); }
  bool operator==(const DatasetIam&) const = default;
};

// A retention duration as stored: nanoseconds plus the JSON value the user
// PUT (shown back by GET /retention).
struct RetentionValue {
  int64_t ns = 0;
  std::string raw;
};

struct RetentionSettings {
  std::optional<RetentionValue> delete_after;
  std::optional<RetentionValue> cold_after;
};

struct DatasetMeta {
  uint64_t id = 0;
  std::string slug;
  int64_t created_ns = 0;
  int64_t partition_interval_ns = 0;
  Schema schema;  // latest version; schema.time_column is fixed at creation
  std::vector<SegmentRecord> segments;
  uint64_t sealed_through_seq = 0;
  std::vector<IdempotencyInfo> keys;  // keys of sealed records, oldest first
  std::vector<std::string> segment_by;
  bool segment_by_set = false;
  std::vector<std::string> inferred_segment_by;
  std::optional<DedupSettings> dedup;
  RetentionSettings retention;
  std::string storage_target;             // empty: the server's default target
  std::string display_name, description;  // free text for people; empty: none
  DatasetIam iam;
};

// Where one segment went: tier_segments.
struct TieredSegment {
  uint64_t id = 0;
  std::string target;
  std::string key;
};

struct ManifestEdit {
  enum class Op {
    kCreateDataset,
    kSetSchema,
    kAddSegments,
    kSetSettings,
    kSetRetention,
    kReplaceSegments,
    kDropDataset,
    kTierSegments,
    kSetStorageTarget,
    kMigrateSchema
  };
  ManifestEdit() = default;
  ManifestEdit(Op o, uint64_t id) : op(o), dataset_id(id) {}
  Op op = Op::kCreateDataset;
  uint64_t dataset_id = 0;
  // kCreateDataset
  std::string slug;
  std::string time_column;
  int64_t created_ns = 0;
  int64_t partition_interval_ns = 0;
  // kSetSchema
  uint32_t version = 0;
  std::vector<Field> fields;
  // kSetSettings (and partition_interval_ns)
  std::vector<std::string> segment_by;
  bool segment_by_set = false;
  std::vector<std::string> inferred_segment_by;
  std::optional<DedupSettings> dedup;
  std::string display_name, description;
  DatasetIam iam;
  // kSetRetention
  RetentionSettings retention;
  // kAddSegments; kReplaceSegments adds `segments` and removes `remove`
  uint64_t sealed_through_seq = 0;
  std::vector<SegmentRecord> segments;
  std::vector<IdempotencyInfo> keys;
  std::vector<uint64_t> remove;
  // kTierSegments
  std::vector<TieredSegment> tiered;
  // kSetStorageTarget
  std::string storage_target;
  // kMigrateSchema (with version and fields for "begin" and "rollback")
  std::string phase;                                 // "begin", "commit" or "rollback"
  std::shared_ptr<const SchemaMigration> migration;  // begin: all of it; else its id
  int64_t committed_ns = 0;                          // commit
};

std::string EncodeManifestEdit(const ManifestEdit& edit);
absl::StatusOr<ManifestEdit> DecodeManifestEdit(std::string_view json);
std::string DatasetIdString(uint64_t id);

// Applies a replace_segments edit to a segment list in write order: removes
// `remove` and puts `add` where the last removed segment was (at the end when
// nothing is removed). False when a removed id is not in the list.
bool ReplaceInList(std::vector<SegmentRecord>* list, const std::vector<uint64_t>& remove,
                   const std::vector<SegmentRecord>& add);
// Applies a tier_segments edit; false when a segment is not in the list.
bool TierInList(std::vector<SegmentRecord>* list, const std::vector<TieredSegment>& tiered);

// Thread-safe.
class Manifest {
 public:
  // Idempotency keys older than `key_ttl_ns` are dropped when the log is rewritten.
  static absl::StatusOr<std::unique_ptr<Manifest>> Open(Env* env, const std::string& root,
                                                        int64_t key_ttl_ns);

  // The state as loaded; read once at start-up, before any LogEdit.
  const std::map<uint64_t, DatasetMeta>& datasets() const { return datasets_; }

  // Appends the edit and fsyncs it; returns only once it is durable. When the
  // append fails (ENOSPC, EIO), the log is cut back to its last whole record
  // and the edit is not made: later edits may succeed (a full disk can
  // clear). When the fsync fails, or the cut does, the edit's fate is unknown
  // and every later edit fails until a restart (see broken()).
  absl::Status LogEdit(const ManifestEdit& edit);
  // True once an edit's outcome is unknown; a failed LogEdit while this is
  // false was not made, so files only it would have listed can go.
  bool broken() const;

 private:
  Manifest(Env* env, std::string root) : env_(env), root_(std::move(root)) {}
  absl::Status Apply(const ManifestEdit& edit);
  absl::Status WriteSnapshot(uint64_t number, int64_t key_ttl_ns);

  Env* const env_;
  const std::string root_;
  mutable std::mutex mu_;
  std::map<uint64_t, DatasetMeta> datasets_;  // mutated only at open and under mu_
  std::unique_ptr<wal::LogWriter> log_ ABSL_GUARDED_BY(mu_);
  // Set by a failed sync, or an append that could not be cut off. Appending
  // after a partial record would leave corruption in the middle of the log;
  // refusing keeps the damage a droppable torn tail, and a restart rewrites
  // the manifest cleanly.
  absl::Status failed_ ABSL_GUARDED_BY(mu_);
  uint64_t next_seq_ = 1;
};

}  // namespace timestore
