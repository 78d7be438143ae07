// How a dataset field is found in a segment file: by name, and while a schema
// migration is under way, in segments written before its begin, by the name
// the migration mapped it from (engine/schema.h SchemaMigration). Every
// reader of segment columns (queries, compaction) goes through here so they
// agree.
#pragma once

#include <cstddef>
#include <string_view>

#include "engine/schema.h"
#include "segment/segment_reader.h"

namespace timestore {

// True when `meta` was written before the schema's migration under way and
// so still has the old columns.
inline bool AwaitsMigration(const Schema& schema, const segment::SegmentMeta& meta) {
  return schema.migration != nullptr && schema.migration->in_progress() &&
         meta.schema_version < schema.migration->to_version;
}

// The segment column holding dataset field `i`, or -1 when the segment has
// none (it reads as null): a column added after the segment was written, one
// whose stored type differs, or a transformed column awaiting its rewrite.
inline int SegmentColumnFor(const Schema& schema, size_t i, const segment::SegmentMeta& meta) {
  const Field& f = schema.fields[i];
  std::string_view name = f.name;
  if (AwaitsMigration(schema, meta)) {
    const auto& sources = schema.migration->sources;
    if (i >= sources.size() || sources[i].empty()) return -1;
    name = sources[i];
  }
  int sc = meta.ColumnIndex(name);
  if (sc >= 0 && meta.columns[sc].type != f.type) sc = -1;
  return sc;
}

}  // namespace timestore
