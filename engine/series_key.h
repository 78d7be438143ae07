// The series key of a dataset nobody configured: which string columns name a
// series, inferred from the rows of its first seal, so that a dataset gets a
// series-ordered layout (small files, fast per-series queries, the lastpoint
// footers) without a segmentBy setting.
//
// The rule:
//   - it is taken from the first seal of at least kMinSeriesKeyRows rows (a
//     smaller seal is sorted by time and the next one tries again);
//   - candidates are the string columns (tags) with at least 2 distinct values
//     and at most half as many distinct values as rows (a near-unique column,
//     such as a request id, is no series key);
//   - the key starts with the candidate with the most distinct values (the
//     finest tag: hostname, sensor_id);
//   - each other candidate, most distinct values first, joins the key unless
//     the first column determines it (every row with one hostname has one
//     region: region adds nothing) — at most 4 columns.
// An explicit segmentBy (PUT /admin/datasets/{id}/settings) always wins.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/chunk.h"
#include "engine/schema.h"

namespace timestore {

inline constexpr size_t kMaxSeriesKeyColumns = 4;
// Rows a seal needs before the key is inferred from it.
inline constexpr uint64_t kMinSeriesKeyRows = 1024;
// Distinct values counted per column before it is taken as near-unique.
inline constexpr size_t kMaxSeriesKeyDistinct = 1'000'000;

std::vector<std::string> InferSeriesKey(const Schema& schema, const std::vector<ChunkPtr>& chunks);

}  // namespace timestore
