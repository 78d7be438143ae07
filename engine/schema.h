// Dataset schemas. Evolution is additive: a column, once added, keeps its
// index and type for the life of the dataset, so data written under an older
// version reads correctly under every newer one.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "segment/column.h"

namespace timestore {

struct Field {
  std::string name;
  ColumnType type;
  bool operator==(const Field&) const = default;
};

// A schema migration (migrate/, docs/migrate.md): the one change that is not
// additive. Its begin edit makes the new fields the schema (version
// `to_version`) at once; segments written earlier (footer schema_version <
// to_version) are rewritten partition by partition, and until a segment is,
// a reader finds dataset field i in it under `sources[i]`: the field's old
// name ("" = nothing: a transformed column reads as null until its partition
// is rewritten). Fields added after the begin (i >= sources.size()) are in no
// older segment. Once committed the sources are unused and the record stays
// as the governance stamp of the dataset's latest migration.
struct SchemaMigration {
  std::string id;  // names the migration in the manifest, audit log and errors
  uint32_t from_version = 0;
  uint32_t to_version = 0;
  std::vector<Field> from_fields;    // the schema before the begin
  std::vector<std::string> sources;  // parallel to the fields at the begin
  std::vector<std::string> retired;  // old names ingest may not use until the commit
  std::string ticket_id, approved_by;
  std::string operations_json;  // the operations as a JSON array (the plan to resume)
  int64_t begun_ns = 0;
  int64_t committed_ns = 0;  // 0: under way
  bool in_progress() const { return committed_ns == 0; }
};

// A query-only field computed from a json or array column by a path
// (engine/json_paths.h): "attributes.http.status" is path {"http", "status"}
// into column "attributes". Never stored.
struct DerivedField {
  int index = -1;  // in Schema::fields
  int base = -1;   // the json or array column
  std::vector<std::string> path;
};

// Immutable once shared (shared_ptr<const Schema>).
struct Schema {
  uint32_t version = 0;
  std::string time_column;
  std::vector<Field> fields;
  // The latest migration, under way or committed; null: none ever ran.
  std::shared_ptr<const SchemaMigration> migration;
  // Query schemas only: fields appended for json paths the query names.
  std::vector<DerivedField> derived;

  // Index of `name`, or -1.
  int IndexOf(std::string_view name) const;
  int time_index() const { return IndexOf(time_column); }
};

using SchemaPtr = std::shared_ptr<const Schema>;

// Returns `base` extended by the fields of `additions` it lacks (version + 1
// when anything was added; unchanged otherwise). A field whose type differs
// from the stored one is 422 schema_conflict naming column, stored type and
// requested type.
absl::StatusOr<Schema> MergeFields(const Schema& base, std::span<const Field> additions);

// Column names: 1-128 bytes of UTF-8, no control characters.
absl::Status ValidateColumnName(std::string_view name);
// Dataset slugs: [a-z0-9][a-z0-9_-]{0,63}.
bool IsValidSlug(std::string_view slug);

}  // namespace timestore
