// The migration manifest (docs/migrate.md): what `timestore migrate
// --manifest FILE` and POST /admin/datasets/{id}/migrations read, as YAML or
// its JSON equivalent (JSON is YAML's flow style, so one parser reads both).
//
//   dataset: cpu
//   governance: {ticketId: CHG-1042, approvedBy: alice@example.com}
//   targetSchema:            # every column after the migration, name: type
//     timestamp: timestamp
//     hostname: string
//     usage_pct: double
//   operations:              # applied in order
//     - rename: {from: host, to: hostname}
//     - rename: {from: usage, to: usage_pct, transform: "usage * 100.0"}
//     - transform: {column: temp, expression: "(temp - 32) * 5 / 9", type: double}
//     - drop: {column: debug}
//
// Every error names the key path and the line ("migration.yaml:7:
// operations[1].rename.to: ...").
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/schema.h"

namespace timestore::migrate {

struct MigrationOp {
  enum class Kind { kRename, kTransform, kDrop };
  Kind kind = Kind::kRename;
  std::string column;              // rename: from; transform, drop: the column
  std::string to;                  // rename: the new name
  std::string expression;          // transform; rename: optional ("" = none)
  std::optional<ColumnType> type;  // transform: cast the result to it
  std::string where;  // "operations[2].rename (line 9)": for errors about the operation
};

struct MigrationSpec {
  std::string dataset;
  std::string ticket_id, approved_by;
  std::vector<Field> target_schema;  // in the manifest's order
  std::vector<MigrationOp> operations;
  std::string archive_dir;  // not part of the manifest: --archive-dir, kept for a resume

  // The canonical JSON form (what the route accepts and the manifest stores
  // for a resume); ParseMigrationManifest reads it back.
  std::string ToJson() const;
  // A stable id of the dataset, governance and operations: the same
  // manifest run again (a resume) has the same id.
  std::string Id() const;
};

// `source` names the text in errors (a file name, or "request body").
absl::StatusOr<MigrationSpec> ParseMigrationManifest(std::string_view text,
                                                     std::string_view source);

}  // namespace timestore::migrate
