// Internal to the migrator (migration_plan.cc, archive.cc, migrator.cc):
// the plan a migration compiles to, how it is made, and the NDJSON archive
// of dropped values. Not part of the public interface; include
// migrate/migrator.h instead.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/env.h"
#include "migrate/expression.h"
#include "migrate/migrator.h"

namespace timestore::migrate::internal {

// InvalidArgument tagged invalid_migration.
absl::Status Invalid(std::string_view what);

// Expression and plan errors (untagged InvalidArgument, FailedPrecondition)
// as the API's invalid_migration; others (I/O) as they are.
absl::Status Tag(absl::Status s);

// What a migration does, compiled against the schema it starts from: each
// new column as an expression over the old columns (the inputs, by index).
struct Plan {
  std::string id;
  std::string time_column;
  std::vector<Field> from_fields, to_fields;
  uint32_t from_version = 0, to_version = 0;
  std::vector<Expression> outputs;   // parallel to to_fields
  std::vector<std::string> sources;  // parallel to to_fields
  std::vector<std::string> retired;
  // Old column name -> new name, for columns carried over unchanged.
  std::map<std::string, std::string> unchanged;
  struct Archive {
    std::string column;
    Expression expr;
  };
  std::vector<Archive> archives;
  std::vector<std::pair<std::string, int>> series;  // the series key: name, input index
};

absl::StatusOr<Plan> MakePlan(const Dataset& ds, const std::vector<Field>& from,
                              const std::string& time_column, uint32_t from_version,
                              const MigrationSpec& spec);

// ---- The archive of dropped values (archive.cc) ----

// `<dataset>-<partition start>-<column>.jsonl`, the column percent-encoded
// (all but letters, digits, '_', '-' and '.'; a name of dots alone entirely):
// a column name may hold '/', '..' or anything else but a control character.
std::string ArchiveName(const std::string& slug, int64_t partition, const std::string& column);

// The directory of one migration's archive files: <archive dir>/<migration id>,
// so two migrations that drop a column of the same name never share a file.
std::string MigrationArchiveDir(const std::string& base, const std::string& id);

// The archive lines of a block: one per non-null value of each dropped column.
absl::Status ArchiveBlock(const Plan& plan, std::span<const ColumnVector* const> inputs,
                          uint32_t rows, const ColumnVector* time, std::vector<std::string>* lines,
                          uint64_t* values);

// Where dropped values go: the caller's directory, else the one the
// migration began with (a resume), else <storage root>/migration-archive.
std::string ArchiveDir(Engine* engine, const MigrateOptions& options, const MigrationSpec& spec);

// Creates the migration's archive directory (<base>/<id>) durably: the
// directories and their entries in their parents are fsynced.
absl::Status CheckArchiveDir(const Plan& plan, const std::string& base, Env* env);

// A new migration never replaces archive files: refused when its directory
// holds any of the dataset's (left by an earlier run of the same manifest
// that was rolled back after a crash; move them away first).
absl::Status CheckNoArchiveFiles(const Plan& plan, const Dataset& ds, const std::string& base,
                                 Env* env);

}  // namespace timestore::migrate::internal
