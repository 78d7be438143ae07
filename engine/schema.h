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

// Immutable once shared (shared_ptr<const Schema>).
struct Schema {
  uint32_t version = 0;
  std::string time_column;
  std::vector<Field> fields;

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
