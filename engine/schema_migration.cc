// The engine's part of a schema migration (engine.h BeginSchemaMigration and
// friends): pausing ingest while the dataset's rows in memory are sealed, so
// that no row laid out by the old schema is left in memory or unsealed in the
// WAL when the schema stops being additive, and the manifest edits. The
// rewrite of the older segments is migrate/migrator.cc's.
#include <atomic>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "common/crash_point.h"
#include "common/status_macros.h"
#include "common/status_util.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "engine/engine.h"
#include "engine/engine_internal.h"
#include "spdlog/spdlog.h"

namespace timestore {
namespace {

bool InProgress(const Schema& s) { return s.migration != nullptr && s.migration->in_progress(); }

}  // namespace

// Closes the gate and seals until the dataset holds no row in memory and no
// batch is in flight. New batches wait at the gate in PrepareBatch; batches
// prepared before it are refused in IngestMany, or counted in flight here.
static absl::Status Quiesce(Engine* engine, Dataset* ds, const std::function<bool()>& hot_empty) {
  // The gate was set (seq_cst) before this reads the in-flight count, and
  // IngestMany counts a batch before it reads the gate: with the fence, one
  // of the two sees the other.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  for (int round = 0;; ++round) {
    while (ds->inflight_batches() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    RETURN_IF_ERROR(engine->Flush(ds->slug()).status());
    if (ds->inflight_batches() == 0 && hot_empty()) return absl::OkStatus();
    if (round > 1000) return absl::UnavailableError("the dataset's rows in memory did not settle");
  }
}

absl::Status Engine::BeginSchemaMigration(Dataset* ds, const MakeMigration& make) {
  {
    std::lock_guard<std::mutex> l(ds->mu_);
    if (InProgress(*ds->schema_)) {
      return MakeError(
          absl::StatusCode::kAlreadyExists, "migration_in_progress",
          StrCat("dataset \"", ds->slug(), "\" has schema migration ", ds->schema_->migration->id,
                 " under way; resume or roll it back first"));
    }
    ds->migration_gate_.store(true);
    ds->layout_epoch_.fetch_add(1);
  }
  // Opens the gate again however this returns.
  absl::Cleanup gate = [ds] {
    {
      std::lock_guard<std::mutex> l(ds->mu_);
      ds->migration_gate_.store(false);
    }
    ds->gate_cv_.notify_all();
  };
  auto hot_empty = [ds] {
    std::lock_guard<std::mutex> l(ds->version_mu_);
    return ds->frozen_ == nullptr && ds->active_->first_seq() == 0;
  };
  TestPoint("Engine::BeginSchemaMigration:gate_closed");
  RETURN_IF_ERROR(Quiesce(this, ds, hot_empty));
  // `make` runs without the dataset lock (it may read the dataset's
  // settings); the gate keeps ingest from changing the schema meanwhile, and
  // the pointer check below catches anything else.
  SchemaPtr base = ds->schema();
  ASSIGN_OR_RETURN(Schema next, make(*base));
  std::lock_guard<std::mutex> l(ds->mu_);
  if (ds->deleted()) return engine_internal::NotFound(ds->slug());
  if (ds->schema_ != base) {
    return absl::AbortedError(StrCat("the schema of dataset \"", ds->slug(),
                                     "\" changed while its migration began; run it again"));
  }
  if (next.migration == nullptr || next.time_column != base->time_column) {
    return absl::InternalError("a migration must keep the time column and describe itself");
  }
  ManifestEdit edit{ManifestEdit::Op::kMigrateSchema, ds->id()};
  edit.phase = "begin";
  edit.version = next.version;
  edit.fields = next.fields;
  edit.migration = next.migration;
  RETURN_IF_ERROR(manifest_->LogEdit(edit));
  ds->schema_ = std::make_shared<Schema>(std::move(next));
  spdlog::info("dataset {}: schema migration {} began (schema version {} -> {})", ds->slug(),
               ds->schema_->migration->id, ds->schema_->migration->from_version,
               ds->schema_->version);
  return absl::OkStatus();
}

absl::Status Engine::CommitSchemaMigration(Dataset* ds, const std::string& migration_id) {
  SchemaPtr schema = ds->schema();
  if (!InProgress(*schema) || schema->migration->id != migration_id) {
    return MakeError(absl::StatusCode::kFailedPrecondition, "migration_conflict",
                     StrCat("schema migration ", migration_id, " of dataset \"", ds->slug(),
                            "\" is not under way"));
  }
  size_t waiting = 0;
  for (const SegmentPtr& seg : ds->segments()) {
    if (seg->reader->meta().schema_version < schema->migration->to_version) ++waiting;
  }
  if (waiting > 0) {
    return MakeError(absl::StatusCode::kFailedPrecondition, "migration_conflict",
                     StrCat("schema migration ", migration_id, " of dataset \"", ds->slug(),
                            "\" cannot commit: ", waiting,
                            " segments written before it still await their rewrite"));
  }
  std::lock_guard<std::mutex> l(ds->mu_);
  const int64_t now = NowNanos();
  ManifestEdit edit{ManifestEdit::Op::kMigrateSchema, ds->id()};
  edit.phase = "commit";
  edit.migration = ds->schema_->migration;
  edit.committed_ns = now;
  RETURN_IF_ERROR(manifest_->LogEdit(edit));
  auto next = std::make_shared<Schema>(*ds->schema_);
  auto done = std::make_shared<SchemaMigration>(*next->migration);
  done->committed_ns = now;
  next->migration = std::move(done);
  ds->schema_ = std::move(next);
  spdlog::info("dataset {}: schema migration {} committed", ds->slug(), migration_id);
  return absl::OkStatus();
}

absl::Status Engine::RollbackSchemaMigration(Dataset* ds, const std::string& migration_id) {
  {
    std::lock_guard<std::mutex> l(ds->mu_);
    if (!InProgress(*ds->schema_) || ds->schema_->migration->id != migration_id) {
      return MakeError(absl::StatusCode::kFailedPrecondition, "migration_conflict",
                       StrCat("schema migration ", migration_id, " of dataset \"", ds->slug(),
                              "\" is not under way"));
    }
    ds->migration_gate_.store(true);
    ds->layout_epoch_.fetch_add(1);
  }
  // Opens the gate again however this returns.
  absl::Cleanup gate = [ds] {
    {
      std::lock_guard<std::mutex> l(ds->mu_);
      ds->migration_gate_.store(false);
    }
    ds->gate_cv_.notify_all();
  };
  auto hot_empty = [ds] {
    std::lock_guard<std::mutex> l(ds->version_mu_);
    return ds->frozen_ == nullptr && ds->active_->first_seq() == 0;
  };
  RETURN_IF_ERROR(Quiesce(this, ds, hot_empty));
  std::lock_guard<std::mutex> l(ds->mu_);
  const SchemaMigration& m = *ds->schema_->migration;
  size_t rewritten = 0;
  for (const SegmentPtr& seg : ds->segments()) {
    if (seg->reader->meta().schema_version >= m.to_version) ++rewritten;
  }
  if (rewritten > 0) {
    return MakeError(absl::StatusCode::kFailedPrecondition, "migration_conflict",
                     StrCat("schema migration ", migration_id, " of dataset \"", ds->slug(),
                            "\" cannot roll back: ", rewritten,
                            " segments were written under the new schema (rewritten "
                            "partitions or rows ingested since it began); resume it instead"));
  }
  Schema back = *ds->schema_;
  back.version = ds->schema_->version + 1;
  back.fields = m.from_fields;
  // Columns added while it ran are in no segment (none was written since)
  // but keep their place, like any column once added.
  for (size_t i = m.sources.size(); i < ds->schema_->fields.size(); ++i) {
    if (back.IndexOf(ds->schema_->fields[i].name) < 0)
      back.fields.push_back(ds->schema_->fields[i]);
  }
  back.migration = nullptr;
  ManifestEdit edit{ManifestEdit::Op::kMigrateSchema, ds->id()};
  edit.phase = "rollback";
  edit.version = back.version;
  edit.fields = back.fields;
  edit.migration = ds->schema_->migration;
  RETURN_IF_ERROR(manifest_->LogEdit(edit));
  ds->schema_ = std::make_shared<Schema>(std::move(back));
  spdlog::info("dataset {}: schema migration {} rolled back (schema version {})", ds->slug(),
               migration_id, ds->schema_->version);
  return absl::OkStatus();
}

}  // namespace timestore
