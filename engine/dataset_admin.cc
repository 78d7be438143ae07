// Engine operations on one dataset's settings and segment list: settings,
// retention, deletion, segment swaps (compaction, retention, tiering).
#include <chrono>
#include <map>
#include <random>

#include "absl/container/flat_hash_set.h"
#include "common/coding.h"
#include "common/crash_point.h"
#include "common/json_writer.h"
#include "common/status_macros.h"
#include "common/status_util.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "engine/dedup.h"
#include "engine/engine.h"
#include "engine/engine_internal.h"
#include "engine/query_executor.h"
#include "engine/row_compare.h"
#include "spdlog/spdlog.h"

namespace timestore {
using engine_internal::NotFound;
using engine_internal::WalDir;

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
    // A column a migration under way renames or transforms holds old values
    // under another name in the segments not yet rewritten: sorting or
    // deduplicating by it would read those as null.
    if (const SchemaMigration* m = schema->migration.get();
        m != nullptr && m->in_progress() && static_cast<size_t>(i) < m->sources.size() &&
        m->sources[i] != c) {
      return MakeError(absl::StatusCode::kAlreadyExists, "migration_in_progress",
                       StrCat(setting, " names column \"", c, "\", which schema migration ", m->id,
                              " of dataset \"", ds->slug(),
                              "\" renames or transforms and is under way; set it after the "
                              "commit"));
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
  e.segment_by_set = ds->segment_by_set_ || settings.segment_by.has_value();
  e.inferred_segment_by = ds->inferred_segment_by_;
  e.dedup = settings.dedup.value_or(ds->dedup_);
  e.display_name = settings.display_name.value_or(ds->display_name_);
  e.description = settings.description.value_or(ds->description_);
  e.iam = settings.iam.value_or(ds->iam_);
  // Compaction finds a row's duplicates next to it in sort order only when
  // every segmentBy column is a key column; and inside a segment, rows equal
  // in the keys and time are in write order only then. That holds for the
  // sort keys of segments already stored, too.
  if (e.dedup && (settings.dedup || settings.segment_by)) {
    std::vector<std::string> sorted_by = e.segment_by_set ? e.segment_by : e.inferred_segment_by;
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
  ds->segment_by_set_ = e.segment_by_set;
  ds->dedup_ = e.dedup;
  ds->display_name_ = e.display_name;
  ds->description_ = e.description;
  ds->iam_ = e.iam;
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

int64_t Engine::EffectiveColdAfter(const Dataset& ds) const {
  RetentionSettings r = ds.retention();
  return r.cold_after ? r.cold_after->ns : options_.cold_after_default_ns;
}

std::string Engine::EffectiveStorageTarget(const Dataset& ds) const {
  if (options_.targets == nullptr) return "";
  std::string t = ds.storage_target();
  if (t.empty()) t = options_.targets->default_target();
  return t == tiering::kLocalTarget ? "" : t;
}

absl::Status Engine::SetStorageTarget(Dataset* ds, const std::string& target) {
  if (!target.empty() && target != tiering::kLocalTarget &&
      (options_.targets == nullptr || !options_.targets->Get(target))) {
    std::string known(tiering::kLocalTarget);
    if (options_.targets != nullptr) {
      for (const auto& c : options_.targets->List()) StrAppend(&known, ", ", c.id);
    }
    std::string details;
    JsonWriter(&details)
        .BeginObject()
        .Key("field")
        .String("storageTargetId")
        .Key("expected")
        .String(known)
        .Key("got")
        .String(target.substr(0, 200))
        .EndObject();
    return MakeError(
        absl::StatusCode::kInvalidArgument, "unknown_storage_target",
        StrCat("unknown storage target \"", target.substr(0, 80), "\"; known targets: ", known),
        details);
  }
  std::lock_guard<std::mutex> l(ds->mu_);
  if (ds->deleted()) return DeletedError(*ds);
  ManifestEdit e{ManifestEdit::Op::kSetStorageTarget, ds->id()};
  e.storage_target = target;
  RETURN_IF_ERROR(manifest_->LogEdit(e));
  ds->storage_target_ = target;
  return absl::OkStatus();
}

std::string Engine::ObjectKey(const Dataset& ds, const SegmentRecord& r) const {
  return StrCat(root_id_, "/", DatasetIdString(ds.id()), "/", r.partition_start, "/",
                DatasetIdString(r.id), ".tseg");
}

std::string Engine::FooterPath(uint64_t dataset_id, const SegmentRecord& r) const {
  std::string p = SegmentPath(dataset_id, r.partition_start, r.id);
  p.resize(p.size() - 5);  // ".tseg"
  return p + ".tfoot";
}

absl::StatusOr<std::string> Engine::FetchFooter(const SegmentRecord& r) {
  if (options_.targets == nullptr) {
    return absl::FailedPreconditionError("no storage targets are configured");
  }
  ASSIGN_OR_RETURN(std::shared_ptr<tiering::ObjectStore> store, options_.targets->Store(r.target));
  const auto deadline = tiering::Clock::now() + options_.remote.timeout;
  // Most footers fit in the first read; a larger one takes a second.
  constexpr uint64_t kGuess = 64u << 10;
  ASSIGN_OR_RETURN(std::string tail,
                   tiering::FetchTail(store.get(), r.key, r.bytes, kGuess, deadline));
  if (tail.size() < segment::kTrailerSize) {
    return absl::DataLossError(StrCat(r.key, ": object too short for a segment"));
  }
  const uint64_t footer_len = DecodeFixed32(tail.data() + tail.size() - segment::kTrailerSize);
  const uint64_t need = footer_len + segment::kTrailerSize;
  if (footer_len > segment::kMaxFooterBytes || need > r.bytes) {
    return absl::DataLossError(StrCat(r.key, ": impossible footer length ", footer_len));
  }
  if (need > tail.size()) {
    ASSIGN_OR_RETURN(tail, tiering::FetchTail(store.get(), r.key, r.bytes, need, deadline));
  }
  return tail.substr(tail.size() - need);
}

absl::StatusOr<SegmentPtr> Engine::OpenRemoteSegment(uint64_t dataset_id,
                                                     const SegmentRecord& record,
                                                     std::string tail) {
  // The store is looked up at each read: a target that is not configured
  // (yet) fails the queries that need it, 503 naming it, not start-up.
  tiering::StorageTargets* targets = options_.targets;
  const std::string target = record.target;
  tiering::StoreResolver resolve =
      [targets, target]() -> absl::StatusOr<std::shared_ptr<tiering::ObjectStore>> {
    if (targets == nullptr) {
      return absl::FailedPreconditionError("no storage targets are configured");
    }
    auto store = targets->Store(target);
    if (!store.ok()) {
      return absl::Status(store.status().code(),
                          StrCat(ToStd(store.status().message()),
                                 " (configure it through TIMESTORE_STORAGE_DRIVER or "
                                 "PUT /admin/storage-targets)"));
    }
    return store;
  };
  std::string location = StrCat(target, ":");
  if (targets != nullptr) {
    if (auto c = targets->Get(target)) location = c->Location();
  }
  auto file = std::make_unique<tiering::RemoteFile>(std::move(resolve), record.target, location,
                                                    record.key, record.bytes, std::move(tail),
                                                    cache_.get(), options_.remote);
  auto h = std::make_shared<SegmentHandle>();
  h->record = record;
  h->path = FooterPath(dataset_id, record);
  h->env = env_;
  h->cache_name = file->cache_name();
  ASSIGN_OR_RETURN(h->reader, segment::SegmentReader::Open(std::move(file)));
  const segment::SegmentMeta& m = h->reader->meta();
  if (m.dataset_id != dataset_id || m.segment_id != record.id || m.rows != record.rows) {
    return absl::DataLossError(StrCat(h->reader->path(), ": the footer copy ", h->path,
                                      " does not describe segment ", DatasetIdString(record.id)));
  }
  garbage_->Hold(record.target, record.key);
  h->garbage = garbage_;  // from here on, the destructor releases the hold
  return SegmentPtr(std::move(h));
}

absl::Status Engine::TierSegments(Dataset* ds, const std::vector<TieredSegment>& tiered,
                                  std::vector<SegmentPtr> remote) {
  std::lock_guard<std::mutex> edit_lock(ds->edit_mu_);
  if (ds->deleted()) return absl::AbortedError(StrCat("dataset ", ds->slug(), " was deleted"));
  {
    std::lock_guard<std::mutex> l(ds->version_mu_);
    for (const TieredSegment& t : tiered) {
      auto it = std::find_if(ds->segments_.begin(), ds->segments_.end(),
                             [&](const SegmentPtr& p) { return p->record.id == t.id; });
      if (it == ds->segments_.end() || (*it)->remote()) {
        return absl::AbortedError(StrCat("segment ", DatasetIdString(t.id), " of dataset ",
                                         ds->slug(), " is no longer listed as local"));
      }
    }
  }
  // The target must still be configured and still be the dataset's, and
  // stays so until the edit is logged (a target cannot be removed or pointed
  // elsewhere while pinned).
  std::vector<tiering::StorageTargets::Pin> pins;
  for (const TieredSegment& t : tiered) {
    if (options_.targets == nullptr || EffectiveStorageTarget(*ds) != t.target) {
      return absl::AbortedError(
          StrCat("dataset ", ds->slug(), " no longer goes to storage target ", t.target));
    }
    auto pin = options_.targets->PinTarget(t.target);
    if (!pin.ok()) return absl::AbortedError(pin.status().message());
    pins.push_back(*std::move(pin));
  }
  ManifestEdit e{ManifestEdit::Op::kTierSegments, ds->id()};
  e.tiered = tiered;
  RETURN_IF_ERROR(manifest_->LogEdit(e));
  CrashPoint("tier.logged");
  std::vector<SegmentPtr> replaced;
  {
    std::lock_guard<std::mutex> l(ds->version_mu_);
    for (SegmentPtr& seg : ds->segments_) {
      for (SegmentPtr& r : remote) {
        if (r != nullptr && r->record.id == seg->record.id) {
          replaced.push_back(std::move(seg));
          seg = std::move(r);
          break;
        }
      }
    }
  }
  for (const auto& old : replaced) {
    old->tiered.store(true, std::memory_order_release);
    old->obsolete.store(true, std::memory_order_release);
  }
  return absl::OkStatus();  // `replaced` goes out of scope: unused local files are deleted
}

std::set<std::string> Engine::LiveObjects(const std::string& target) const {
  std::set<std::string> out = garbage_->HeldIn(target);
  for (const auto& ds : ListDatasets()) {
    for (const SegmentPtr& seg : ds->segments()) {
      if (seg->record.target == target) out.insert(seg->record.key);
    }
  }
  return out;
}

}  // namespace timestore
