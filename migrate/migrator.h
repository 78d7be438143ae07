// Runs schema migrations (docs/migrate.md): plans a MigrationSpec against a
// dataset, reports what a run would touch (dry run), and executes it:
//
//   1. begin   Engine::BeginSchemaMigration: ingest pauses while the rows in
//              memory are sealed, then one migrate_schema begin edit makes the
//              new schema (version N+1) current, with the governance stamp and
//              the operations (the plan a resume rebuilds). Older segments
//              read through the migration's column sources until rewritten.
//   2. rewrite partition by partition, oldest first: each segment written
//              before the begin is read, transformed and written as a new file
//              (fsynced), the dropped values are archived as NDJSON (fsynced),
//              then one replace_segments edit swaps the partition's files,
//              exactly like compaction.
//   3. commit  one migrate_schema commit edit, and the audit log.
//
// A kill -9 anywhere leaves a consistent store: before the begin edit
// nothing changed; after it, every partition is either wholly old or wholly
// rewritten. Resume finishes the rewrite and commits; rollback undoes the
// begin, and only while no segment was written under the new schema (else
// it refuses and says to resume).
//
// Thread-safe: one migrator per dataset at a time (Dataset::migration_mutex;
// a second gets 409 migration_busy).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/engine.h"
#include "migrate/migration_manifest.h"

namespace timestore::migrate {

struct MigrateOptions {
  // Where dropped values go; empty: the directory the migration began with
  // (a resume), else <storage root>/migration-archive.
  std::string archive_dir;
  size_t sample_rows = 1000;         // the dry run evaluates every expression over this many rows
  std::optional<std::string> actor;  // who asked (the audit log's actor)
  // Tests: called after each partition's edit; an error stops the run there,
  // leaving the migration under way as a kill would.
  std::function<absl::Status(int64_t partition_start)> after_partition;
  std::function<absl::Status()> after_begin;  // likewise, right after the begin edit
  // Tests: between the begin edit and its audit event (a kill there loses
  // the event; a resume or rollback writes it).
  std::function<absl::Status()> before_begin_audit;
};

struct PartitionReport {
  int64_t start = 0;  // the partition's id: its start in ns since the epoch
  uint64_t segments = 0, rows = 0, bytes = 0;
  bool done = false;  // rewritten (execute), or already rewritten (resume)
};

struct MigrationReport {
  std::string mode;     // "dry-run", "execute", "resume", "rollback"
  std::string outcome;  // "validated", "committed", "resumed and committed", "rolled back"
  std::string dataset, dataset_id, migration_id;
  std::string ticket_id, approved_by;
  uint32_t from_version = 0, to_version = 0;
  std::vector<Field> from_fields, to_fields;
  std::vector<PartitionReport> partitions;  // affected, oldest first
  uint64_t rows = 0, bytes = 0;             // in segments written before the migration
  uint64_t rows_in_memory = 0;              // sealed at the begin, then rewritten too
  uint64_t sampled_rows = 0;                // dry run
  uint64_t partitions_already_done = 0;     // resume: rewritten before the interruption
  std::vector<std::string> archive_files;   // written (execute) or to write (dry run)
  uint64_t archived_values = 0;
  std::vector<std::string> notes;  // what happened, for people

  std::string ToJson() const;
  std::string ToText() const;
};

absl::StatusOr<MigrationReport> DryRun(Engine* engine, const MigrationSpec& spec,
                                       const MigrateOptions& options);
// Runs the migration; when this same migration (same id) is under way
// already, resumes it.
absl::StatusOr<MigrationReport> Execute(Engine* engine, const MigrationSpec& spec,
                                        const MigrateOptions& options);
// Finishes the migration under way on `dataset` (slug or id) from the plan
// its begin edit stored. options.archive_dir empty: the one it began with.
absl::StatusOr<MigrationReport> Resume(Engine* engine, std::string_view dataset,
                                       const MigrateOptions& options);
absl::StatusOr<MigrationReport> Rollback(Engine* engine, std::string_view dataset,
                                         const MigrateOptions& options);

}  // namespace timestore::migrate
