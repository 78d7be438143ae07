// Deduplication: rows with equal key columns and equal timestamp collapse to
// the last written (or the first). Used on read (before compaction has made
// it physical), when sealing, and by compaction.
#pragma once

#include <optional>
#include <vector>

#include "engine/chunk.h"
#include "engine/manifest.h"
#include "engine/schema.h"

namespace timestore {

struct DedupPlan {
  std::vector<int> key_columns;  // schema indices, in the order of the setting
  int time_index = 0;
  bool keep_last = true;
};

// Null when `dedup` is off. Key columns missing from `schema` are skipped (the
// setting is validated against the schema when it is made).
std::optional<DedupPlan> MakeDedupPlan(const std::optional<DedupSettings>& dedup,
                                       const Schema& schema);

// `chunks` are in write order (oldest first). Returns them with the losing
// duplicates removed; a chunk without losers is returned as it is. Columns
// keep their layout (only whole rows are dropped). `removed` (optional)
// counts the rows dropped.
std::vector<ChunkPtr> DedupChunks(const std::vector<ChunkPtr>& chunks, const DedupPlan& plan,
                                  uint64_t* removed = nullptr);

}  // namespace timestore
