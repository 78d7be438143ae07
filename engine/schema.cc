#include "engine/schema.h"

#include "common/json_writer.h"
#include "common/status_util.h"
#include "common/strings.h"

namespace timestore {

int Schema::IndexOf(std::string_view name) const {
  for (size_t i = 0; i < fields.size(); ++i)
    if (fields[i].name == name) return static_cast<int>(i);
  return -1;
}

absl::StatusOr<Schema> MergeFields(const Schema& base, std::span<const Field> additions) {
  Schema out = base;
  bool changed = false;
  for (const Field& f : additions) {
    int idx = out.IndexOf(f.name);
    if (idx < 0) {
      out.fields.push_back(f);
      changed = true;
      continue;
    }
    const Field& stored = out.fields[idx];
    if (stored.type != f.type) {
      std::string details;
      JsonWriter w(&details);
      w.BeginObject()
          .Key("column")
          .String(f.name)
          .Key("storedType")
          .String(ColumnTypeName(stored.type))
          .Key("requestedType")
          .String(ColumnTypeName(f.type))
          .EndObject();
      return MakeError(absl::StatusCode::kFailedPrecondition, "schema_conflict",
                       StrCat("column \"", f.name, "\" is stored as ", ColumnTypeName(stored.type),
                              " and cannot change to ", ColumnTypeName(f.type),
                              " (schema changes may only add columns)"),
                       details);
    }
  }
  if (changed) out.version = base.version + 1;
  return out;
}

absl::Status ValidateColumnName(std::string_view name) {
  if (name.empty() || name.size() > 128) {
    return MakeError(
        absl::StatusCode::kInvalidArgument, "invalid_schema",
        StrCat("column name \"", name.substr(0, 64), "\" must be 1 to 128 bytes long"));
  }
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20) {
      return MakeError(absl::StatusCode::kInvalidArgument, "invalid_schema",
                       "column names may not contain control characters");
    }
  }
  return absl::OkStatus();
}

bool IsValidSlug(std::string_view slug) {
  if (slug.empty() || slug.size() > 64) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(slug[0])) return false;
  for (char c : slug.substr(1))
    if (!alnum(c) && c != '_' && c != '-') return false;
  return true;
}

}  // namespace timestore
