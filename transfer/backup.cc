#include "transfer/backup.h"

#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <map>
#include <random>

#include "absl/strings/str_format.h"
#include "common/checksum.h"
#include "common/crash_point.h"
#include "common/json_writer.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "simdjson.h"
#include "spdlog/spdlog.h"
#include "wal/log_writer.h"
#include "wal/wal_format.h"

namespace timestore::transfer {
namespace {

constexpr std::string_view kFormat = "timestore-backup/1";
constexpr std::string_view kBackupFile = "backup.json";
constexpr size_t kChunk = 4 << 20;

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string Hex64(uint64_t v) { return absl::StrFormat("%016x", v); }

// "20261203T151500.123Z-3fa2": sorts by time.
std::string NewBackupId(int64_t now_ns) {
  const time_t secs = static_cast<time_t>(now_ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  static std::mt19937 rng{std::random_device{}()};
  return absl::StrFormat("%04d%02d%02dT%02d%02d%02d.%03dZ-%04x", tm.tm_year + 1900, tm.tm_mon + 1,
                         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                         static_cast<int>(now_ns / 1'000'000 % 1000), rng() & 0xffff);
}

std::string BackupKey(const Destination& d, std::string_view id) {
  return d.Key(StrCat("backups/", id, "/", kBackupFile));
}

// One segment as a backup lists it.
struct SegmentEntry {
  SegmentRecord record;  // as restored: local (no target, no key)
  std::string object;    // relative to the destination
  uint64_t size = 0;
  uint64_t checksum = 0;
};

struct DatasetEntry {
  uint64_t id = 0;
  std::string slug;
  std::vector<std::string> edits;  // manifest edit JSON, in order
  std::vector<SegmentEntry> segments;
};

struct BackupDoc {
  std::string id;
  int64_t created_ns = 0, finished_ns = 0;
  std::string source_root;
  std::vector<DatasetEntry> datasets;
};

std::string EncodeDoc(const BackupDoc& doc) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("format").String(kFormat);
  w.Key("id").String(doc.id);
  w.Key("createdAt").Int(doc.created_ns);
  w.Key("finishedAt").Int(doc.finished_ns);
  w.Key("sourceRoot").String(doc.source_root);
  w.Key("datasets").BeginArray();
  for (const DatasetEntry& d : doc.datasets) {
    w.BeginObject();
    w.Key("id").String(DatasetIdString(d.id));
    w.Key("slug").String(d.slug);
    w.Key("edits").BeginArray();
    for (const std::string& e : d.edits) w.Raw(e);
    w.EndArray();
    w.Key("segments").BeginArray();
    for (const SegmentEntry& s : d.segments) {
      const SegmentRecord& r = s.record;
      w.BeginObject();
      w.Key("segment").String(DatasetIdString(r.id));
      w.Key("partitionStart").Int(r.partition_start);
      w.Key("rows").Uint(r.rows);
      w.Key("bytes").Uint(r.bytes);
      w.Key("minTs").Int(r.min_ts);
      w.Key("maxTs").Int(r.max_ts);
      w.Key("level").Uint(r.level);
      w.Key("object").String(s.object);
      w.Key("size").Uint(s.size);
      w.Key("xxh3").String(Hex64(s.checksum));
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return out;
}

absl::Status Malformed(std::string_view key, std::string_view what) {
  return absl::DataLossError(StrCat("backup file ", key, " is malformed: ", what));
}

// A 16-hex-digit id or checksum.
bool ParseHex64(std::string_view s, uint64_t* out) {
  return s.size() == 16 && ParseInt(s, out, 16);
}

absl::StatusOr<BackupDoc> DecodeDoc(std::string_view key, std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json.data(), json.size()).get(root)) return Malformed(key, "not JSON");
  BackupDoc doc;
  std::string_view format, id, source;
  if (root["format"].get(format) || format != kFormat) {
    return Malformed(key, StrCat("format is not \"", kFormat, "\""));
  }
  if (root["id"].get(id) || root["createdAt"].get(doc.created_ns) ||
      root["finishedAt"].get(doc.finished_ns) || root["sourceRoot"].get(source)) {
    return Malformed(key, "id, createdAt, finishedAt or sourceRoot is missing");
  }
  doc.id = std::string(id);
  doc.source_root = std::string(source);
  simdjson::dom::array datasets;
  if (root["datasets"].get(datasets)) return Malformed(key, "datasets is not an array");
  for (simdjson::dom::element d : datasets) {
    DatasetEntry entry;
    std::string_view ds_id, slug;
    simdjson::dom::array edits, segments;
    if (d["id"].get(ds_id) || !ParseHex64(ds_id, &entry.id) || d["slug"].get(slug) ||
        d["edits"].get(edits) || d["segments"].get(segments)) {
      return Malformed(key, "a dataset lacks id, slug, edits or segments");
    }
    entry.slug = std::string(slug);
    for (simdjson::dom::element e : edits) entry.edits.push_back(simdjson::minify(e));
    for (simdjson::dom::element s : segments) {
      SegmentEntry se;
      std::string_view seg, object, sum;
      uint64_t level = 0;
      if (s["segment"].get(seg) || !ParseHex64(seg, &se.record.id) ||
          s["partitionStart"].get(se.record.partition_start) || s["rows"].get(se.record.rows) ||
          s["bytes"].get(se.record.bytes) || s["minTs"].get(se.record.min_ts) ||
          s["maxTs"].get(se.record.max_ts) || s["level"].get(level) || s["object"].get(object) ||
          s["size"].get(se.size) || s["xxh3"].get(sum) || !ParseHex64(sum, &se.checksum)) {
        return Malformed(key, StrCat("a segment of dataset ", slug, " is incomplete"));
      }
      se.record.level = static_cast<uint32_t>(level);
      se.object = std::string(object);
      entry.segments.push_back(std::move(se));
    }
    doc.datasets.push_back(std::move(entry));
  }
  return doc;
}

// The manifest edits that recreate `ds`'s catalog (not its segments).
std::vector<std::string> CatalogEdits(const Dataset& ds, const Schema& schema) {
  std::vector<std::string> out;
  ManifestEdit create{ManifestEdit::Op::kCreateDataset, ds.id()};
  create.slug = ds.slug();
  create.time_column = schema.time_column;
  create.created_ns = ds.created_ns();
  create.partition_interval_ns = ds.partition_interval_ns();
  out.push_back(EncodeManifestEdit(create));
  ManifestEdit set_schema{ManifestEdit::Op::kSetSchema, ds.id()};
  set_schema.version = schema.version;
  set_schema.fields = schema.fields;
  out.push_back(EncodeManifestEdit(set_schema));
  // A schema migration (under way or the last committed one) as the
  // manifest's own snapshot writes it: segments not yet rewritten read
  // through it, and a restored migration under way can be resumed.
  if (schema.migration != nullptr) {
    ManifestEdit begin{ManifestEdit::Op::kMigrateSchema, ds.id()};
    begin.phase = "begin";
    begin.version = schema.version;
    begin.fields = schema.fields;
    begin.migration = schema.migration;
    out.push_back(EncodeManifestEdit(begin));
    if (!schema.migration->in_progress()) {
      ManifestEdit commit{ManifestEdit::Op::kMigrateSchema, ds.id()};
      commit.phase = "commit";
      commit.migration = schema.migration;
      commit.committed_ns = schema.migration->committed_ns;
      out.push_back(EncodeManifestEdit(commit));
    }
  }
  ManifestEdit settings{ManifestEdit::Op::kSetSettings, ds.id()};
  settings.partition_interval_ns = ds.partition_interval_ns();
  auto chosen = ds.chosen_segment_by();
  settings.segment_by_set = chosen.has_value();
  if (chosen) settings.segment_by = *chosen;
  settings.inferred_segment_by = ds.inferred_segment_by();
  settings.dedup = ds.dedup();
  std::tie(settings.display_name, settings.description) = ds.display_name_and_description();
  settings.iam = ds.iam();
  out.push_back(EncodeManifestEdit(settings));
  RetentionSettings retention = ds.retention();
  if (retention.delete_after || retention.cold_after) {
    ManifestEdit r{ManifestEdit::Op::kSetRetention, ds.id()};
    r.retention = retention;
    out.push_back(EncodeManifestEdit(r));
  }
  if (std::string target = ds.storage_target(); !target.empty()) {
    ManifestEdit t{ManifestEdit::Op::kSetStorageTarget, ds.id()};
    t.storage_target = target;
    out.push_back(EncodeManifestEdit(t));
  }
  return out;
}

// Every object checksum the complete backups at `dest` record, by key.
absl::StatusOr<std::map<std::string, uint64_t>> KnownObjects(const Destination& dest,
                                                             std::vector<BackupDoc>* docs) {
  auto listed = dest.store->List(dest.Key("backups/"));
  if (!listed.ok()) return listed.status();
  std::map<std::string, uint64_t> known;
  for (const tiering::ObjectInfo& o : *listed) {
    if (!o.key.ends_with(StrCat("/", kBackupFile))) continue;
    auto text = dest.store->Get(o.key);
    if (!text.ok()) {
      if (absl::IsNotFound(text.status())) continue;  // pruned meanwhile
      return text.status();
    }
    auto doc = DecodeDoc(o.key, *text);
    if (!doc.ok()) return doc.status();
    for (const DatasetEntry& d : doc->datasets) {
      for (const SegmentEntry& s : d.segments) known[s.object] = s.checksum;
    }
    if (docs != nullptr) docs->push_back(*std::move(doc));
  }
  return known;
}

// Reads the local file at `path` in chunks: its xxh3-64.
absl::StatusOr<uint64_t> FileChecksum(Env* env, const std::string& path, uint64_t* size) {
  auto file = env->NewRandomAccessFile(path);
  if (!file.ok()) return file.status();
  *size = (*file)->Size();
  XXH3_state_t* state = XXH3_createState();
  XXH3_64bits_reset(state);
  std::string buf;
  absl::Status s;
  for (uint64_t off = 0; off < *size && s.ok(); off += kChunk) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, *size - off));
    s = (*file)->ReadAt(off, n, &buf);
    if (s.ok()) XXH3_64bits_update(state, buf.data(), buf.size());
  }
  const uint64_t sum = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  if (!s.ok()) return s;
  return sum;
}

void Count(JobProgress* p, std::string_view counter, int64_t delta) {
  if (p != nullptr) p->Add(counter, delta);
}

absl::Status CheckCancelled(JobProgress* p) {
  if (p != nullptr && p->cancelled()) return absl::CancelledError("the server is shutting down");
  return absl::OkStatus();
}

// Copies one segment to `object` unless the destination already holds it.
absl::Status CopySegment(Engine* engine, const Destination& dest, const SegmentHandle& h,
                         const std::map<std::string, uint64_t>& known,
                         std::map<std::string, uint64_t>* present, SegmentEntry* entry,
                         BackupReport* report, JobProgress* progress) {
  const std::string key = dest.Key(entry->object);
  auto listed = present->find(key);
  if (auto it = known.find(entry->object); it != known.end() && listed != present->end()) {
    // Segments are immutable and named by id: an object an earlier backup
    // verified is this segment (its size comes from the listing: no request).
    entry->checksum = it->second;
    entry->size = listed->second;
    ++report->segments_reused;
    Count(progress, "segmentsReused", 1);
    return absl::OkStatus();
  }
  std::string data;  // remote segments: the object's bytes
  if (h.remote()) {
    auto store = engine->targets() == nullptr
                     ? absl::StatusOr<std::shared_ptr<tiering::ObjectStore>>(
                           absl::FailedPreconditionError("no storage targets"))
                     : engine->targets()->Store(h.record.target);
    if (!store.ok()) return store.status();
    auto got = (*store)->Get(h.record.key);
    if (!got.ok()) return got.status();
    data = *std::move(got);
    entry->size = data.size();
    entry->checksum = Checksum64(data);
  } else {
    auto sum = FileChecksum(engine->env(), h.path, &entry->size);
    if (!sum.ok()) return sum.status();
    entry->checksum = *sum;
  }
  if (listed != present->end()) {
    // Left by a backup that did not finish: keep it when it is whole.
    auto existing = dest.store->Get(key);
    if (existing.ok() && Checksum64(*existing) == entry->checksum) {
      ++report->segments_reused;
      Count(progress, "segmentsReused", 1);
      return absl::OkStatus();
    }
  }
  absl::Status put =
      h.remote() ? dest.store->Put(key, data) : dest.store->PutFile(key, engine->env(), h.path);
  if (!put.ok()) return put;
  // Verify what landed.
  auto back = dest.store->Get(key);
  if (!back.ok()) return back.status();
  if (back->size() != entry->size || Checksum64(*back) != entry->checksum) {
    return absl::DataLossError(StrCat("backup object ", dest.store->Describe(), "/", key,
                                      " does not read back as written (size ", back->size(),
                                      ", expected ", entry->size, ")"));
  }
  (*present)[key] = entry->size;
  CrashPoint("backup.segment_uploaded");  // kill -9 tests: mid-backup
  ++report->segments_uploaded;
  report->bytes_uploaded += entry->size;
  Count(progress, "segmentsUploaded", 1);
  Count(progress, "bytesUploaded", static_cast<int64_t>(entry->size));
  return absl::OkStatus();
}

}  // namespace

std::string BackupReportJson(const BackupReport& r) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("id").String(r.id);
  w.Key("destination").String(r.destination);
  w.Key("datasets").Uint(r.datasets);
  w.Key("segments").Uint(r.segments);
  w.Key("rows").Uint(r.rows);
  w.Key("segmentsUploaded").Uint(r.segments_uploaded);
  w.Key("segmentsReused").Uint(r.segments_reused);
  w.Key("bytesUploaded").Uint(r.bytes_uploaded);
  w.Key("bytesTotal").Uint(r.bytes_total);
  w.Key("backupsDeleted").BeginArray();
  for (const auto& id : r.backups_deleted) w.String(id);
  w.EndArray();
  w.Key("objectsDeleted").Uint(r.objects_deleted);
  w.Key("verified").Bool(true);
  w.Key("seconds").Double(r.seconds);
  w.EndObject();
  return out;
}

absl::StatusOr<BackupReport> Backup(Engine* engine, const Destination& dest,
                                    const BackupOptions& options, JobProgress* progress) {
  const auto start = std::chrono::steady_clock::now();
  BackupReport report;
  report.destination = dest.describe;
  BackupDoc doc;
  doc.created_ns = NowNanos();
  doc.id = NewBackupId(doc.created_ns);
  report.id = doc.id;
  std::string root_id = engine->ObjectKeyRoot();
  root_id.pop_back();  // the trailing '/'
  doc.source_root = root_id;

  auto known = KnownObjects(dest, nullptr);
  if (!known.ok()) return known.status();
  std::map<std::string, uint64_t> present;  // key -> size of the objects already there
  {
    auto listed = dest.store->List(dest.Key("segments/"));
    if (!listed.ok()) return listed.status();
    for (const auto& o : *listed) present[o.key] = o.size;
  }

  for (const std::shared_ptr<Dataset>& ds : engine->ListDatasets()) {
    if (auto s = CheckCancelled(progress); !s.ok()) return s;
    if (ds->deleted()) continue;
    // Seal first: the backup then holds every row acknowledged before it began.
    if (ds->hot_rows() > 0) {
      auto flushed = engine->Flush(ds->slug());
      if (!flushed.ok()) {
        if (ds->deleted()) continue;
        return flushed.status();
      }
    }
    // The segment list as of one edit; the handles keep the files. The
    // schema must be the one those segments are read under: a migration's
    // begin or commit changes how older segments read, so a schema that
    // changed while the list was taken means taking both again.
    std::vector<SegmentPtr> segments;
    SchemaPtr schema;
    for (int attempt = 0;; ++attempt) {
      SchemaPtr before = ds->schema();
      segments = ds->segments();
      schema = ds->schema();
      if (schema == before) break;
      if (attempt == 100) {
        return absl::AbortedError(StrCat("backup of dataset ", ds->slug(),
                                         ": its schema kept changing while its segments were "
                                         "listed; try again"));
      }
    }
    DatasetEntry entry;
    entry.id = ds->id();
    entry.slug = ds->slug();
    entry.edits = CatalogEdits(*ds, *schema);
    for (const SegmentPtr& h : segments) {
      if (auto s = CheckCancelled(progress); !s.ok()) return s;
      SegmentEntry se;
      se.record = h->record;
      se.record.target.clear();
      se.record.key.clear();
      se.object = StrCat("segments/", root_id, "/", DatasetIdString(ds->id()), "/",
                         DatasetIdString(h->record.id), ".tseg");
      if (auto s = CopySegment(engine, dest, *h, *known, &present, &se, &report, progress);
          !s.ok()) {
        return absl::Status(s.code(), StrCat("backup of dataset ", ds->slug(), " segment ",
                                             DatasetIdString(h->record.id), ": ", s.message()));
      }
      ++report.segments;
      report.rows += se.record.rows;
      report.bytes_total += se.size;
      Count(progress, "segments", 1);
      Count(progress, "rows", static_cast<int64_t>(se.record.rows));
      entry.segments.push_back(std::move(se));
    }
    ++report.datasets;
    Count(progress, "datasets", 1);
    doc.datasets.push_back(std::move(entry));
  }

  // The backup exists once its file does; it is read back before it counts.
  doc.finished_ns = NowNanos();
  const std::string json = EncodeDoc(doc);
  const std::string key = BackupKey(dest, doc.id);
  if (auto s = dest.store->Put(key, json); !s.ok()) return s;
  auto back = dest.store->Get(key);
  if (!back.ok()) return back.status();
  if (*back != json) {
    return absl::DataLossError(
        StrCat("backup file ", dest.store->Describe(), "/", key, " does not read back as written"));
  }
  if (options.keep > 0) {
    if (auto s = PruneBackups(dest, options.keep, doc.created_ns, &report); !s.ok()) {
      return absl::Status(
          s.code(),
          StrCat("backup ", doc.id, " is complete, but pruning old backups failed: ", s.message()));
    }
  }
  report.seconds = SecondsSince(start);
  spdlog::info("backup {} to {}: {} datasets, {} segments ({} uploaded, {} reused), {} rows",
               doc.id, dest.describe, report.datasets, report.segments, report.segments_uploaded,
               report.segments_reused, report.rows);
  return report;
}

absl::StatusOr<std::vector<BackupInfo>> ListBackups(const Destination& dest) {
  std::vector<BackupDoc> docs;
  auto known = KnownObjects(dest, &docs);
  if (!known.ok()) return known.status();
  std::vector<BackupInfo> out;
  for (const BackupDoc& d : docs) {
    BackupInfo info;
    info.id = d.id;
    info.created_ns = d.created_ns;
    info.datasets = d.datasets.size();
    for (const DatasetEntry& ds : d.datasets) {
      for (const SegmentEntry& s : ds.segments) {
        ++info.segments;
        info.rows += s.record.rows;
        info.bytes += s.size;
      }
    }
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(),
            [](const BackupInfo& a, const BackupInfo& b) { return a.id > b.id; });
  return out;
}

std::string BackupListJson(const std::vector<BackupInfo>& backups) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject().Key("backups").BeginArray();
  for (const BackupInfo& b : backups) {
    w.BeginObject();
    w.Key("id").String(b.id);
    w.Key("createdAt").String(FormatRfc3339(b.created_ns));
    w.Key("datasets").Uint(b.datasets);
    w.Key("segments").Uint(b.segments);
    w.Key("rows").Uint(b.rows);
    w.Key("bytes").Uint(b.bytes);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return out;
}

absl::Status PruneBackups(const Destination& dest, int keep, int64_t protect_after_ns,
                          BackupReport* report) {
  if (keep < 1) return absl::InvalidArgumentError("keep must be at least 1");
  auto backups = ListBackups(dest);
  if (!backups.ok()) return backups.status();
  for (size_t i = static_cast<size_t>(keep); i < backups->size(); ++i) {
    const std::string& id = (*backups)[i].id;
    if (auto s = dest.store->Delete(BackupKey(dest, id)); !s.ok()) return s;
    report->backups_deleted.push_back(id);
  }
  // What the kept backups list (read again: only complete backups count).
  auto referenced = KnownObjects(dest, nullptr);
  if (!referenced.ok()) return referenced.status();
  auto listed = dest.store->List(dest.Key("segments/"));
  if (!listed.ok()) return listed.status();
  const size_t strip = dest.prefix.empty() ? 0 : dest.prefix.size() + 1;
  for (const tiering::ObjectInfo& o : *listed) {
    const std::string rel = o.key.substr(strip);
    if (referenced->contains(rel)) continue;
    // An object newer than this backup's start may belong to a backup
    // running now; a later prune takes it if nothing lists it.
    if (o.last_modified_ns != 0 && o.last_modified_ns >= protect_after_ns) continue;
    if (auto s = dest.store->Delete(o.key); !s.ok()) return s;
    ++report->objects_deleted;
  }
  return absl::OkStatus();
}

std::string RestoreReportJson(const RestoreReport& r) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("id").String(r.id);
  w.Key("root").String(r.root);
  w.Key("datasets").Uint(r.datasets);
  w.Key("segments").Uint(r.segments);
  w.Key("rows").Uint(r.rows);
  w.Key("bytes").Uint(r.bytes);
  w.Key("seconds").Double(r.seconds);
  w.EndObject();
  return out;
}

absl::StatusOr<RestoreReport> Restore(const Destination& from, Env* env, const std::string& root,
                                      const RestoreOptions& options, JobProgress* progress) {
  const auto start = std::chrono::steady_clock::now();
  if (root.empty()) return absl::InvalidArgumentError("the restore needs a target root");
  if (env->FileExists(root)) {
    auto names = env->ListDir(root);
    if (!names.ok()) return names.status();
    for (const auto& n : *names) {
      if (n != "." && n != "..") {
        return absl::FailedPreconditionError(
            StrCat("restore target ", root, " exists and is not empty: restore into a new root"));
      }
    }
  }
  // Which backup.
  std::string id = options.backup_id;
  if (id.empty()) {
    auto backups = ListBackups(from);
    if (!backups.ok()) return backups.status();
    if (backups->empty()) {
      return absl::NotFoundError(StrCat("no complete backup at ", from.describe));
    }
    id = backups->front().id;
  }
  const std::string key = BackupKey(from, id);
  auto text = from.store->Get(key);
  if (!text.ok()) {
    if (absl::IsNotFound(text.status())) {
      return absl::NotFoundError(StrCat("no backup ", id, " at ", from.describe));
    }
    return text.status();
  }
  auto doc = DecodeDoc(key, *text);
  if (!doc.ok()) return doc.status();

  RestoreReport report;
  report.id = id;
  report.root = root;
  const std::string staging = StrCat(root, ".restoring");
  if (env->FileExists(staging)) {
    // Left by a restore that was killed: nothing uses it.
    std::error_code ec;
    std::filesystem::remove_all(staging, ec);
    if (ec) {
      return absl::FailedPreconditionError(StrCat(
          staging,
          " is left from a restore that did not finish and cannot be removed: ", ec.message()));
    }
  }
  if (auto s = env->CreateDirs(staging); !s.ok()) return s;
  // A restore that fails takes its staging root with it (but for a failed
  // check, which leaves it for inspection).
  bool keep_staging = false;
  struct Cleanup {
    const std::string& dir;
    const bool& keep;
    bool done = false;
    ~Cleanup() {
      std::error_code ec;
      if (!done && !keep) std::filesystem::remove_all(dir, ec);
    }
  } cleanup{staging, keep_staging};

  std::vector<std::string> edits;
  for (const DatasetEntry& d : doc->datasets) {
    for (const std::string& e : d.edits) {
      auto decoded = DecodeManifestEdit(e);
      if (!decoded.ok() || decoded->dataset_id != d.id) {
        return Malformed(key, StrCat("an edit of dataset ", d.slug, " is not valid"));
      }
      edits.push_back(e);
    }
    ManifestEdit add{ManifestEdit::Op::kAddSegments, d.id};
    for (const SegmentEntry& s : d.segments) {
      if (auto c = CheckCancelled(progress); !c.ok()) return c;
      const std::string object_key = from.Key(s.object);
      auto data = from.store->Get(object_key);
      if (!data.ok()) {
        return absl::Status(data.status().code(), StrCat("backup ", id, " dataset ", d.slug, ": ",
                                                         data.status().message()));
      }
      if (data->size() != s.size || Checksum64(*data) != s.checksum) {
        return absl::DataLossError(StrCat(
            "backup ", id, " object ", from.store->Describe(), "/", object_key, " (dataset ",
            d.slug, ", segment ", DatasetIdString(s.record.id), ") is corrupt: ", data->size(),
            " bytes with checksum ", Hex64(Checksum64(*data)), ", expected ", s.size,
            " bytes with checksum ", Hex64(s.checksum)));
      }
      const std::string dir =
          JoinPath(JoinPath(JoinPath(staging, "datasets"), DatasetIdString(d.id)),
                   StrCat(s.record.partition_start));
      if (auto st = env->CreateDirs(dir); !st.ok()) return st;
      const std::string path = JoinPath(dir, StrCat(DatasetIdString(s.record.id), ".tseg"));
      if (auto st = WriteFileAtomically(env, path, *data); !st.ok()) return st;
      add.segments.push_back(s.record);
      ++report.segments;
      report.rows += s.record.rows;
      report.bytes += s.size;
      Count(progress, "segments", 1);
      Count(progress, "rows", static_cast<int64_t>(s.record.rows));
    }
    if (!add.segments.empty()) edits.push_back(EncodeManifestEdit(add));
    ++report.datasets;
  }
  // The manifest, as the engine writes its own at open: a log of edits.
  const std::string manifest = "MANIFEST-000001";
  {
    auto log = wal::LogWriter::Create(env, JoinPath(staging, manifest), wal::kManifestMagic);
    if (!log.ok()) return log.status();
    uint64_t seq = 1;
    for (const std::string& e : edits) {
      if (auto s = (*log)->AddRecord(wal::RecordType::kManifestEdit, seq++, e); !s.ok()) return s;
    }
    if (auto s = (*log)->Sync(); !s.ok()) return s;
  }
  if (auto s = WriteFileAtomically(env, JoinPath(staging, "CURRENT"), manifest + "\n"); !s.ok()) {
    return s;
  }
  if (options.check) {
    if (auto s = options.check(staging); !s.ok()) {
      keep_staging = true;
      return absl::Status(s.code(),
                          StrCat("the restored root ", staging,
                                 " failed its check (left for inspection): ", s.message()));
    }
  }
  if (env->FileExists(root)) {
    if (auto s = env->RemoveDir(root); !s.ok()) return s;  // empty, checked above
  }
  if (auto s = env->RenameFile(staging, root); !s.ok()) return s;
  cleanup.done = true;
  if (auto s = env->SyncDir(DirName(root)); !s.ok()) return s;
  report.seconds = SecondsSince(start);
  return report;
}

}  // namespace timestore::transfer
