#include "migrate/migrator.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <mutex>
#include <set>

#include "common/crash_point.h"
#include "common/env.h"
#include "common/json_writer.h"
#include "common/status_macros.h"
#include "common/status_util.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "engine/segment_columns.h"
#include "migrate/expression.h"
#include "migrate/migrator_internal.h"
#include "segment/segment_writer.h"
#include "spdlog/spdlog.h"

namespace timestore::migrate {
using namespace internal;

namespace {

// Reads a segment written before the migration by the old fields.
struct OldReader {
  std::vector<int> read_cols;  // segment columns
  std::vector<int> targets;    // input (old field) indices
  int time_input = -1;
};

OldReader MakeOldReader(const Plan& plan, const segment::SegmentMeta& meta) {
  OldReader r;
  for (size_t i = 0; i < plan.from_fields.size(); ++i) {
    int sc = meta.ColumnIndex(plan.from_fields[i].name);
    if (sc >= 0 && meta.columns[sc].type == plan.from_fields[i].type) {
      r.read_cols.push_back(sc);
      r.targets.push_back(static_cast<int>(i));
    }
    if (plan.from_fields[i].name == plan.time_column) r.time_input = static_cast<int>(i);
  }
  return r;
}

// Calls fn(inputs, rows, time) for each block of `seg` (read by the old
// fields), or for the first blocks up to `max_rows` rows.
template <typename Fn>
absl::Status ForEachBlock(const Plan& plan, const SegmentHandle& seg, uint64_t max_rows, Fn&& fn) {
  const segment::SegmentMeta& meta = seg.reader->meta();
  OldReader rd = MakeOldReader(plan, meta);
  if (rd.time_input < 0) return absl::InternalError("the plan has no time column");
  uint64_t seen = 0;
  for (size_t b = 0; b < meta.num_blocks() && seen < max_rows; ++b) {
    ASSIGN_OR_RETURN(auto decoded,
                     seg.reader->ReadBlocks(std::span<const size_t>(&b, 1), rd.read_cols));
    std::vector<const ColumnVector*> inputs(plan.from_fields.size(), nullptr);
    uint32_t rows = 0;
    for (size_t j = 0; j < rd.targets.size(); ++j) {
      inputs[rd.targets[j]] = &decoded[0][j];
      rows = static_cast<uint32_t>(decoded[0][j].size());
    }
    const ColumnVector* time = inputs[rd.time_input];
    if (rows == 0 || time == nullptr) continue;
    RETURN_IF_ERROR(fn(std::span<const ColumnVector* const>(inputs), rows, time));
    seen += rows;
  }
  return absl::OkStatus();
}

// The rows keep their order, so the sort key keeps its columns, renamed;
// a segment sorted by a column the migration changes cannot be rewritten.
absl::StatusOr<std::vector<std::string>> NewSortKey(const Plan& plan, const SegmentHandle& seg) {
  std::vector<std::string> out;
  for (const auto& k : seg.reader->meta().sort_key) {
    auto it = plan.unchanged.find(k);
    if (it == plan.unchanged.end()) {
      return Invalid(StrCat("segment ", DatasetIdString(seg.record.id), " is sorted by column \"",
                            k,
                            "\", which the migration changes or drops; set the dataset's segmentBy "
                            "without it and compact first"));
    }
    out.push_back(it->second);
  }
  return out;
}

// The archive files of one partition, written as its rows are read (one
// temporary file per dropped column, never the whole partition in memory),
// then fsynced and renamed into place by Commit, before the partition's edit.
class PartitionArchive {
 public:
  PartitionArchive(Env* env, std::string dir, const std::string& slug, int64_t start,
                   const Plan& plan)
      : env_(env), dir_(std::move(dir)) {
    for (const auto& a : plan.archives)
      paths_.push_back(JoinPath(dir_, ArchiveName(slug, start, a.column)));
  }
  PartitionArchive(const PartitionArchive&) = delete;
  PartitionArchive& operator=(const PartitionArchive&) = delete;
  ~PartitionArchive() {
    if (committed_) return;
    for (auto& f : files_) {
      if (f != nullptr) (void)f->Close();
    }
    for (const auto& p : paths_) (void)env_->RemoveFile(p + ".tmp");
  }

  absl::Status Open() {
    for (const auto& p : paths_) {
      ASSIGN_OR_RETURN(auto f, env_->NewWritableFile(p + ".tmp"));
      files_.push_back(std::move(f));
    }
    return absl::OkStatus();
  }
  // Appends each archive's lines of one block (and clears them).
  absl::Status Add(std::vector<std::string>* lines) {
    for (size_t a = 0; a < files_.size(); ++a) {
      if ((*lines)[a].empty()) continue;
      RETURN_IF_ERROR(files_[a]->Append((*lines)[a]));
      (*lines)[a].clear();
    }
    return absl::OkStatus();
  }
  absl::Status Commit() {
    for (size_t a = 0; a < files_.size(); ++a) {
      RETURN_IF_ERROR(files_[a]->Sync());
      RETURN_IF_ERROR(files_[a]->Close());
      files_[a] = nullptr;
      RETURN_IF_ERROR(env_->RenameFile(paths_[a] + ".tmp", paths_[a]));
    }
    if (!files_.empty()) RETURN_IF_ERROR(env_->SyncDir(dir_));
    committed_ = true;
    return absl::OkStatus();
  }
  const std::vector<std::string>& paths() const { return paths_; }

 private:
  Env* env_;
  std::string dir_;
  std::vector<std::string> paths_;
  std::vector<std::unique_ptr<WritableFile>> files_;
  bool committed_ = false;
};

// Writes the rewritten copy of `seg` (durable when this returns).
absl::StatusOr<SegmentPtr> RewriteSegment(Engine* engine, const Dataset& ds, const Plan& plan,
                                          const SegmentPtr& seg, PartitionArchive* archive,
                                          uint64_t* archived) {
  const segment::SegmentMeta& meta = seg->reader->meta();
  segment::SegmentContents header;
  header.dataset_id = ds.id();
  const std::string path = engine->NewSegmentPath(ds, meta.partition_start, &header.segment_id);
  header.schema_version = plan.to_version;
  header.partition_start = meta.partition_start;
  header.partition_interval = meta.partition_interval;
  header.level = seg->record.level;
  header.created_ns = NowNanos();
  for (size_t i = 0; i < plan.to_fields.size(); ++i) {
    if (plan.to_fields[i].name == plan.time_column) header.time_column = static_cast<uint32_t>(i);
    header.specs.push_back({plan.to_fields[i].name, plan.to_fields[i].type});
  }
  ASSIGN_OR_RETURN(header.sort_key, NewSortKey(plan, *seg));
  RETURN_IF_ERROR(engine->env()->CreateDirs(DirName(path)));
  ASSIGN_OR_RETURN(auto builder,
                   segment::SegmentFileBuilder::Create(engine->env(), path, header,
                                                       engine->options().segment_options));
  RETURN_IF_ERROR(ForEachBlock(plan, *seg, UINT64_MAX,
                               [&](std::span<const ColumnVector* const> inputs, uint32_t rows,
                                   const ColumnVector* time) -> absl::Status {
                                 std::vector<ColumnVector> out;
                                 out.reserve(plan.outputs.size());
                                 for (const Expression& e : plan.outputs) {
                                   ASSIGN_OR_RETURN(ColumnVector v, e.Evaluate(inputs, rows, time));
                                   out.push_back(std::move(v));
                                 }
                                 std::vector<const ColumnVector*> ptrs;
                                 for (const auto& c : out) ptrs.push_back(&c);
                                 RETURN_IF_ERROR(builder->AddBlock(ptrs));
                                 std::vector<std::string> lines(plan.archives.size());
                                 RETURN_IF_ERROR(
                                     ArchiveBlock(plan, inputs, rows, time, &lines, archived));
                                 return archive->Add(&lines);
                               }));
  ASSIGN_OR_RETURN(segment::WrittenSegment written, builder->Finish());
  SegmentRecord r{header.segment_id,
                  meta.partition_start,
                  written.rows,
                  written.bytes,
                  written.min_ts,
                  written.max_ts,
                  seg->record.level,
                  "",
                  ""};
  auto handle = engine->OpenSegment(path, r);
  if (!handle.ok()) (void)engine->env()->RemoveFile(path);
  return handle;
}

struct Awaiting {
  std::map<int64_t, std::vector<SegmentPtr>> by_partition;  // in write order
  std::set<int64_t> done;  // partitions holding only segments of the new schema
};

Awaiting FindAwaiting(const Dataset& ds, uint32_t to_version) {
  Awaiting a;
  std::set<int64_t> all;
  for (const SegmentPtr& seg : ds.segments()) {
    all.insert(seg->record.partition_start);
    if (seg->reader->meta().schema_version < to_version)
      a.by_partition[seg->record.partition_start].push_back(seg);
  }
  for (int64_t p : all)
    if (!a.by_partition.contains(p)) a.done.insert(p);
  return a;
}

// Evaluates every new column's expression over every row of the segments
// awaiting the rewrite, block by block (nothing is kept), except the segments
// in `checked`, which it extends: a bad cast or a division by zero in any row
// fails here, before the begin, instead of halfway through the rewrite (where
// a resume fails the same way and a rollback is refused).
absl::Status CheckEveryRow(const Plan& plan, const Dataset& ds, std::set<uint64_t>* checked) {
  Awaiting aw = FindAwaiting(ds, plan.to_version);
  for (const auto& [start, segs] : aw.by_partition) {
    for (const SegmentPtr& seg : segs) {
      if (checked->contains(seg->record.id)) continue;
      RETURN_IF_ERROR(NewSortKey(plan, *seg).status());
      RETURN_IF_ERROR(ForEachBlock(
          plan, *seg, UINT64_MAX,
          [&](std::span<const ColumnVector* const> inputs, uint32_t rows,
              const ColumnVector* time) -> absl::Status {
            for (size_t i = 0; i < plan.outputs.size(); ++i) {
              auto v = plan.outputs[i].Evaluate(inputs, rows, time);
              if (v.ok()) continue;
              if (v.status().code() != absl::StatusCode::kInvalidArgument) return v.status();
              return Invalid(StrCat("column \"", plan.to_fields[i].name, "\" in partition ",
                                    FormatRfc3339(start), ": ", ToStd(v.status().message()),
                                    "; every row is checked before the migration begins, and "
                                    "nothing was changed"));
            }
            return absl::OkStatus();
          }));
      checked->insert(seg->record.id);
    }
  }
  return absl::OkStatus();
}

void Audit(Engine* engine, const Dataset& ds, const MigrateOptions& options, std::string action,
           const Plan& plan, const std::string& ticket, const std::string& approver,
           std::string_view detail_json) {
  AuditEvent e;
  e.time_ns = NowNanos();
  e.actor = options.actor;
  e.action = std::move(action);
  e.dataset_id = DatasetIdString(ds.id());
  e.dataset = ds.slug();
  std::string before, after;
  JsonWriter b(&before);
  b.BeginObject().Key("schemaVersion").Uint(plan.from_version).Key("fields").BeginArray();
  for (const Field& f : plan.from_fields) b.String(StrCat(f.name, ":", ColumnTypeName(f.type)));
  b.EndArray().EndObject();
  JsonWriter w(&after);
  w.BeginObject().Key("migration").String(plan.id);
  w.Key("ticketId").String(ticket).Key("approvedBy").String(approver);
  w.Key("schemaVersion").Uint(plan.to_version).Key("fields").BeginArray();
  for (const Field& f : plan.to_fields) w.String(StrCat(f.name, ":", ColumnTypeName(f.type)));
  w.EndArray();
  if (!detail_json.empty()) w.Key("detail").Raw(detail_json);
  w.EndObject();
  e.before = before;
  e.after = after;
  if (auto s = engine->audit()->Append(e, /*sync=*/true); !s.ok()) {
    spdlog::warn("dataset {}: audit event {} not written: {}", ds.slug(), e.action,
                 ToStd(s.message()));
  }
}

// The begin's audit event is written after its manifest edit: a kill in
// between loses it. A resume or rollback writes it (marked) when the audit
// log's events in memory have none for this migration.
void EnsureBeginAudited(Engine* engine, const Dataset& ds, const MigrateOptions& options,
                        const Plan& plan, const MigrationSpec& spec) {
  const std::string needle = StrCat("\"migration\":\"", plan.id, "\"");
  for (const AuditEvent& e : engine->audit()->Query(DatasetIdString(ds.id()), 10'000)) {
    if (e.action == "schema.migration.begin" && e.after.find(needle) != std::string::npos) return;
  }
  spdlog::warn("dataset {}: the audit event of migration {}'s begin is missing; writing it now",
               ds.slug(), plan.id);
  Audit(engine, ds, options, "schema.migration.begin", plan, spec.ticket_id, spec.approved_by,
        R"j({"reEmitted":true,"reason":"the begin's event was lost (a crash after its edit)"})j");
}

void FillFromPlan(const Plan& plan, const std::string& ticket, const std::string& approver,
                  MigrationReport* r) {
  r->migration_id = plan.id;
  r->ticket_id = ticket;
  r->approved_by = approver;
  r->from_version = plan.from_version;
  r->to_version = plan.to_version;
  r->from_fields = plan.from_fields;
  r->to_fields = plan.to_fields;
}

// Rewrites every partition still awaiting the migration, oldest first.
absl::Status RewritePartitions(Engine* engine, Dataset* ds, const Plan& plan,
                               const std::string& archive_dir, const MigrateOptions& options,
                               MigrationReport* report) {
  for (int attempt = 0;; ++attempt) {
    Awaiting aw = FindAwaiting(*ds, plan.to_version);
    if (aw.by_partition.empty()) return absl::OkStatus();
    if (attempt > 8) {
      return absl::AbortedError(
          StrCat("dataset \"", ds->slug(), "\": its segments kept changing under the migration"));
    }
    const std::string dir = MigrationArchiveDir(archive_dir, plan.id);
    for (auto& [start, segs] : aw.by_partition) {
      PartitionArchive archive(engine->env(), dir, ds->slug(), start, plan);
      uint64_t values = 0;
      std::vector<SegmentPtr> outputs;
      std::vector<uint64_t> remove;
      PartitionReport pr;
      pr.start = start;
      absl::Status s = archive.Open();
      for (const SegmentPtr& seg : segs) {
        if (!s.ok()) break;
        auto out = RewriteSegment(engine, *ds, plan, seg, &archive, &values);
        if (!out.ok()) {
          s = Tag(out.status());
          break;
        }
        outputs.push_back(*out);
        remove.push_back(seg->record.id);
        ++pr.segments;
        pr.rows += seg->record.rows;
        pr.bytes += seg->record.bytes;
      }
      // Archive first: once the edit is logged, the old files may go.
      const std::vector<std::string>& files = archive.paths();
      if (s.ok()) s = archive.Commit();
      if (s.ok()) {
        CrashPoint("migrate.partition_written");
        s = engine->ReplaceSegments(ds, remove, outputs);
      }
      if (!s.ok()) {
        for (const SegmentPtr& o : outputs) o->obsolete.store(true, std::memory_order_release);
        if (absl::IsAborted(s) && !ds->deleted()) break;  // the list changed: plan again
        return s;
      }
      pr.done = true;
      report->partitions.push_back(pr);
      report->rows += pr.rows;
      report->bytes += pr.bytes;
      report->archived_values += values;
      report->archive_files.insert(report->archive_files.end(), files.begin(), files.end());
      spdlog::info("dataset {}: migration {} rewrote partition {} ({} segments, {} rows)",
                   ds->slug(), plan.id, start, pr.segments, pr.rows);
      CrashPoint("migrate.partition_replaced");
      if (options.after_partition) RETURN_IF_ERROR(options.after_partition(start));
    }
  }
}

absl::Status Busy(const Dataset& ds) {
  return MakeError(absl::StatusCode::kAlreadyExists, "migration_busy",
                   StrCat("a migration of dataset \"", ds.slug(), "\" is running now"));
}

absl::StatusOr<std::shared_ptr<Dataset>> Find(Engine* engine, std::string_view name) {
  auto ds = engine->FindDataset(name);
  if (ds == nullptr) {
    return MakeError(absl::StatusCode::kNotFound, "dataset_not_found",
                     StrCat("dataset \"", name, "\" not found"));
  }
  return ds;
}

// The plan of the migration under way, from what its begin edit stored.
absl::StatusOr<std::pair<Plan, MigrationSpec>> PlanUnderWay(const Dataset& ds,
                                                            const Schema& schema) {
  const SchemaMigration& m = *schema.migration;
  auto parsed = ParseMigrationManifest(m.operations_json, "the migration's stored plan");
  if (!parsed.ok()) return absl::DataLossError(parsed.status().message());
  MigrationSpec spec = *std::move(parsed);
  ASSIGN_OR_RETURN(Plan plan,
                   MakePlan(ds, m.from_fields, schema.time_column, m.from_version, spec));
  if (plan.id != m.id || plan.to_version != m.to_version) {
    return absl::InternalError(
        StrCat("the stored plan of migration ", m.id, " does not rebuild the same migration"));
  }
  return std::make_pair(std::move(plan), std::move(spec));
}

absl::StatusOr<MigrationReport> Finish(Engine* engine, Dataset* ds, const Plan& plan,
                                       const MigrationSpec& spec, const MigrateOptions& options,
                                       MigrationReport report) {
  // Always the directory the migration began with (stored in its begin
  // edit), so that no partition's archive is split across two directories.
  const std::string archive_dir =
      spec.archive_dir.empty() ? ArchiveDir(engine, options, spec) : spec.archive_dir;
  if (!options.archive_dir.empty() && options.archive_dir != archive_dir) {
    spdlog::warn("dataset {}: migration {} archives to {}, where it began; {} is not used",
                 ds->slug(), plan.id, archive_dir, options.archive_dir);
    report.notes.push_back(StrCat("the archive directory is ", archive_dir,
                                  ", where the migration began; ", options.archive_dir,
                                  " was not used"));
  }
  RETURN_IF_ERROR(CheckArchiveDir(plan, archive_dir, engine->env()));
  RETURN_IF_ERROR(RewritePartitions(engine, ds, plan, archive_dir, options, &report));
  CrashPoint("migrate.before_commit");
  RETURN_IF_ERROR(engine->CommitSchemaMigration(ds, plan.id));
  std::string detail;
  JsonWriter w(&detail);
  w.BeginObject().Key("partitions").Uint(report.partitions.size());
  w.Key("rows").Uint(report.rows).Key("archiveFiles").BeginArray();
  for (const auto& f : report.archive_files) w.String(f);
  w.EndArray().EndObject();
  Audit(engine, *ds, options, "schema.migration.commit", plan, spec.ticket_id, spec.approved_by,
        detail);
  return report;
}

}  // namespace

absl::StatusOr<MigrationReport> DryRun(Engine* engine, const MigrationSpec& spec,
                                       const MigrateOptions& options) {
  ASSIGN_OR_RETURN(auto ds, Find(engine, spec.dataset));
  SchemaPtr schema = ds->schema();
  MigrationReport report;
  report.mode = "dry-run";
  report.dataset = ds->slug();
  report.dataset_id = DatasetIdString(ds->id());
  Plan plan;
  uint32_t to_version;
  if (schema->migration != nullptr && schema->migration->in_progress()) {
    if (schema->migration->id != spec.Id()) {
      return MakeError(absl::StatusCode::kAlreadyExists, "migration_in_progress",
                       StrCat("dataset \"", ds->slug(), "\" has schema migration ",
                              schema->migration->id, " under way; resume or roll it back first"));
    }
    ASSIGN_OR_RETURN(auto p, PlanUnderWay(*ds, *schema));
    plan = std::move(p.first);
    to_version = plan.to_version;
    report.notes.push_back(
        "this migration is under way already (interrupted): --execute or --resume finishes it");
  } else {
    ASSIGN_OR_RETURN(plan,
                     MakePlan(*ds, schema->fields, schema->time_column, schema->version, spec));
    to_version = plan.to_version;
    // The begin seals and stamps version+1; ingest may add columns first.
  }
  FillFromPlan(plan, spec.ticket_id, spec.approved_by, &report);
  const std::string archive_dir = ArchiveDir(engine, options, spec);
  // Every expression over a sample of the stored rows: a bad cast or a
  // division by zero shows here, before anything changes.
  Awaiting aw = FindAwaiting(*ds, to_version);
  report.partitions_already_done =
      schema->migration != nullptr && schema->migration->in_progress() ? aw.done.size() : 0;
  uint64_t sampled = 0;
  for (const auto& [start, segs] : aw.by_partition) {
    PartitionReport pr;
    pr.start = start;
    for (const SegmentPtr& seg : segs) {
      ++pr.segments;
      pr.rows += seg->record.rows;
      pr.bytes += seg->record.bytes;
      RETURN_IF_ERROR(NewSortKey(plan, *seg).status());
      if (sampled >= options.sample_rows) continue;
      std::vector<std::string> lines(plan.archives.size());
      uint64_t values = 0;
      RETURN_IF_ERROR(Tag(
          ForEachBlock(plan, *seg, options.sample_rows - sampled,
                       [&](std::span<const ColumnVector* const> inputs, uint32_t rows,
                           const ColumnVector* time) -> absl::Status {
                         for (const Expression& e : plan.outputs) {
                           RETURN_IF_ERROR(e.Evaluate(inputs, rows, time).status());
                         }
                         RETURN_IF_ERROR(ArchiveBlock(plan, inputs, rows, time, &lines, &values));
                         sampled += rows;
                         return absl::OkStatus();
                       })));
    }
    report.rows += pr.rows;
    report.bytes += pr.bytes;
    for (const auto& a : plan.archives) {
      report.archive_files.push_back(JoinPath(MigrationArchiveDir(archive_dir, plan.id),
                                              ArchiveName(ds->slug(), start, a.column)));
    }
    report.partitions.push_back(pr);
  }
  report.sampled_rows = sampled;
  report.rows_in_memory = ds->hot_rows();
  if (report.rows_in_memory > 0) {
    report.notes.push_back(StrCat(report.rows_in_memory,
                                  " rows in memory are sealed when the migration begins and "
                                  "rewritten with their partitions (not counted above)"));
  }
  report.outcome = "validated";
  report.notes.push_back("dry run: nothing was changed");
  return report;
}

absl::StatusOr<MigrationReport> Execute(Engine* engine, const MigrationSpec& spec,
                                        const MigrateOptions& options) {
  ASSIGN_OR_RETURN(auto ds, Find(engine, spec.dataset));
  std::unique_lock<std::mutex> lock(ds->migration_mutex(), std::try_to_lock);
  if (!lock.owns_lock()) return Busy(*ds);
  SchemaPtr schema = ds->schema();
  if (schema->migration != nullptr && schema->migration->in_progress()) {
    if (schema->migration->id != spec.Id()) {
      return MakeError(absl::StatusCode::kAlreadyExists, "migration_in_progress",
                       StrCat("dataset \"", ds->slug(), "\" has schema migration ",
                              schema->migration->id, " under way; resume or roll it back first"));
    }
    lock.unlock();
    return Resume(engine, ds->slug(), options);
  }
  // Everything a dry run checks, before anything changes.
  MigrateOptions dry = options;
  ASSIGN_OR_RETURN(MigrationReport checked, DryRun(engine, spec, dry));
  MigrationSpec stored = spec;
  stored.archive_dir = ArchiveDir(engine, options, spec);  // a resume writes there too
  Plan plan;
  ASSIGN_OR_RETURN(plan,
                   MakePlan(*ds, schema->fields, schema->time_column, schema->version, stored));
  RETURN_IF_ERROR(CheckNoArchiveFiles(plan, *ds, stored.archive_dir, engine->env()));
  // Every row of every segment (the dry run read a sample), while ingest
  // goes on; what the begin's seal adds is checked inside the gate below.
  std::set<uint64_t> checked_segments;
  RETURN_IF_ERROR(CheckEveryRow(plan, *ds, &checked_segments));
  RETURN_IF_ERROR(CheckArchiveDir(plan, stored.archive_dir, engine->env()));
  const int64_t now = NowNanos();
  RETURN_IF_ERROR(
      engine->BeginSchemaMigration(ds.get(), [&](const Schema& current) -> absl::StatusOr<Schema> {
        // Ingest may have added columns since the plan: plan again on what
        // is current now that ingest is paused.
        ASSIGN_OR_RETURN(
            plan, MakePlan(*ds, current.fields, current.time_column, current.version, stored));
        // The segments sealed since the check above (the begin's seal among
        // them), before the begin edit: a failure leaves the schema as it was.
        RETURN_IF_ERROR(CheckEveryRow(plan, *ds, &checked_segments));
        auto m = std::make_shared<SchemaMigration>();
        m->id = plan.id;
        m->from_version = plan.from_version;
        m->to_version = plan.to_version;
        m->from_fields = plan.from_fields;
        m->sources = plan.sources;
        m->retired = plan.retired;
        m->ticket_id = stored.ticket_id;
        m->approved_by = stored.approved_by;
        m->operations_json = stored.ToJson();
        m->begun_ns = now;
        Schema next;
        next.version = plan.to_version;
        next.time_column = current.time_column;
        next.fields = plan.to_fields;
        next.migration = std::move(m);
        return next;
      }));
  if (options.before_begin_audit) RETURN_IF_ERROR(options.before_begin_audit());
  Audit(engine, *ds, options, "schema.migration.begin", plan, stored.ticket_id, stored.approved_by,
        {});
  CrashPoint("migrate.begun");
  if (options.after_begin) RETURN_IF_ERROR(options.after_begin());
  MigrationReport report;
  report.mode = "execute";
  report.dataset = ds->slug();
  report.dataset_id = DatasetIdString(ds->id());
  FillFromPlan(plan, stored.ticket_id, stored.approved_by, &report);
  report.sampled_rows = checked.sampled_rows;  // what the checks before the begin read
  report.rows_in_memory = checked.rows_in_memory;
  ASSIGN_OR_RETURN(report, Finish(engine, ds.get(), plan, stored, options, std::move(report)));
  report.outcome = "committed";
  report.notes.push_back(StrCat("schema version ", plan.to_version, " is current; ",
                                report.partitions.size(), " partitions rewritten"));
  return report;
}

absl::StatusOr<MigrationReport> Resume(Engine* engine, std::string_view dataset,
                                       const MigrateOptions& options) {
  ASSIGN_OR_RETURN(auto ds, Find(engine, dataset));
  std::unique_lock<std::mutex> lock(ds->migration_mutex(), std::try_to_lock);
  if (!lock.owns_lock()) return Busy(*ds);
  SchemaPtr schema = ds->schema();
  if (schema->migration == nullptr || !schema->migration->in_progress()) {
    return MakeError(absl::StatusCode::kFailedPrecondition, "no_migration",
                     StrCat("dataset \"", ds->slug(), "\" has no schema migration under way"));
  }
  ASSIGN_OR_RETURN(auto p, PlanUnderWay(*ds, *schema));
  auto& [plan, spec] = p;
  EnsureBeginAudited(engine, *ds, options, plan, spec);
  MigrationReport report;
  report.mode = "resume";
  report.dataset = ds->slug();
  report.dataset_id = DatasetIdString(ds->id());
  FillFromPlan(plan, spec.ticket_id, spec.approved_by, &report);
  report.to_fields = schema->fields;  // with any column added while it ran
  Awaiting aw = FindAwaiting(*ds, plan.to_version);
  report.partitions_already_done = aw.done.size();
  std::string todo;
  for (const auto& [start, segs] : aw.by_partition)
    StrAppend(&todo, todo.empty() ? "" : ", ", start);
  report.notes.push_back(StrCat("resuming migration ", plan.id, ": ", aw.done.size(),
                                " partitions are done (rewritten, or written since it began), ",
                                aw.by_partition.size(), " remain",
                                todo.empty() ? std::string() : StrCat(" (", todo, ")")));
  ASSIGN_OR_RETURN(report, Finish(engine, ds.get(), plan, spec, options, std::move(report)));
  report.outcome = "resumed and committed";
  return report;
}

absl::StatusOr<MigrationReport> Rollback(Engine* engine, std::string_view dataset,
                                         const MigrateOptions& options) {
  ASSIGN_OR_RETURN(auto ds, Find(engine, dataset));
  std::unique_lock<std::mutex> lock(ds->migration_mutex(), std::try_to_lock);
  if (!lock.owns_lock()) return Busy(*ds);
  SchemaPtr schema = ds->schema();
  if (schema->migration == nullptr || !schema->migration->in_progress()) {
    return MakeError(absl::StatusCode::kFailedPrecondition, "no_migration",
                     StrCat("dataset \"", ds->slug(), "\" has no schema migration under way"));
  }
  ASSIGN_OR_RETURN(auto p, PlanUnderWay(*ds, *schema));
  auto& [plan, spec] = p;
  EnsureBeginAudited(engine, *ds, options, plan, spec);
  RETURN_IF_ERROR(engine->RollbackSchemaMigration(ds.get(), plan.id));
  MigrationReport report;
  report.mode = "rollback";
  report.dataset = ds->slug();
  report.dataset_id = DatasetIdString(ds->id());
  FillFromPlan(plan, spec.ticket_id, spec.approved_by, &report);
  SchemaPtr now = ds->schema();
  report.to_version = now->version;
  report.to_fields = now->fields;
  report.outcome = "rolled back";
  report.notes.push_back(StrCat("migration ", plan.id,
                                " undone: no segment had been rewritten; "
                                "the old columns are the schema again as version ",
                                now->version));
  Audit(engine, *ds, options, "schema.migration.rollback", plan, spec.ticket_id, spec.approved_by,
        {});
  return report;
}

std::string MigrationReport::ToJson() const {
  std::string out;
  JsonWriter w(&out);
  auto fields = [&w](const std::vector<Field>& fs) {
    w.BeginArray();
    for (const Field& f : fs)
      w.BeginObject()
          .Key("name")
          .String(f.name)
          .Key("type")
          .String(ColumnTypeName(f.type))
          .EndObject();
    w.EndArray();
  };
  w.BeginObject();
  w.Key("mode").String(mode).Key("outcome").String(outcome);
  w.Key("dataset").String(dataset).Key("datasetId").String(dataset_id);
  w.Key("migration").String(migration_id);
  w.Key("governance").BeginObject().Key("ticketId").String(ticket_id);
  w.Key("approvedBy").String(approved_by).EndObject();
  w.Key("fromSchemaVersion").Uint(from_version).Key("toSchemaVersion").Uint(to_version);
  w.Key("fromFields");
  fields(from_fields);
  w.Key("toFields");
  fields(to_fields);
  w.Key("partitions").Uint(partitions.size());
  w.Key("rows").Uint(rows).Key("bytes").Uint(bytes);
  w.Key("rowsInMemory").Uint(rows_in_memory);
  w.Key("sampledRows").Uint(sampled_rows);
  w.Key("partitionsAlreadyDone").Uint(partitions_already_done);
  w.Key("partitionList").BeginArray();
  for (const auto& p : partitions) {
    w.BeginObject().Key("id").Int(p.start).Key("start").String(FormatRfc3339(p.start));
    w.Key("segments").Uint(p.segments).Key("rows").Uint(p.rows).Key("bytes").Uint(p.bytes);
    w.Key("done").Bool(p.done).EndObject();
  }
  w.EndArray();
  w.Key("archiveFiles").BeginArray();
  for (const auto& f : archive_files) w.String(f);
  w.EndArray();
  w.Key("archivedValues").Uint(archived_values);
  w.Key("notes").BeginArray();
  for (const auto& n : notes) w.String(n);
  w.EndArray();
  w.EndObject();
  return out;
}

std::string MigrationReport::ToText() const {
  std::string out =
      StrCat("migration ", migration_id, " of dataset ", dataset, " (", mode, "): ", outcome, "\n");
  StrAppend(&out, "  governance: ticket ", ticket_id, ", approved by ", approved_by, "\n");
  StrAppend(&out, "  schema version ", from_version, " -> ", to_version, ":");
  for (const Field& f : to_fields) StrAppend(&out, " ", f.name, ":", ColumnTypeName(f.type));
  StrAppend(&out, "\n  partitions ", partitions.size(), ", rows ", rows, ", bytes ", bytes, "\n");
  if (sampled_rows > 0) StrAppend(&out, "  expressions checked on ", sampled_rows, " rows\n");
  for (const auto& f : archive_files) StrAppend(&out, "  archive ", f, "\n");
  for (const auto& n : notes) StrAppend(&out, "  ", n, "\n");
  return out;
}

}  // namespace timestore::migrate
