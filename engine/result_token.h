// What a query answer over [start, end) depends on, for the query result
// cache (api/query_cache.h): two tokens that compare equal promise the same
// answer to the same query.
//
// A token exists only while no row in memory (active or being sealed) falls
// in the range: the answer then comes from sealed segments alone, and those
// are immutable. It names them by id (ids are random 64-bit and never reused;
// compaction, retention, a migration rewrite and a seal of late rows all put
// new ids in or take ids out), and adds what decides how they are read: the
// dataset's id (a deleted and re-created dataset has a new one), its schema
// object (every schema change, additive or a migration, makes a new one) and
// its dedup settings. Tiering moves a segment without changing its id or its
// rows, so a moved segment still matches.
//
// A query reports the token of the snapshot it read (QueryResult::source,
// built by the scan with the same rules); the cache keeps an answer only if
// that equals the token taken before the run. Comparing the tokens before
// and after the run would not do: rows sealed into a new segment and dropped
// again (retention) while the query ran leave them equal, though the answer
// may hold those rows.
//
// Read order matters: the rows in memory are read before the segment list, so
// a row acknowledged before the call is either seen in memory (no token) or
// already in a listed segment; never in neither.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "engine/manifest.h"
#include "engine/schema.h"

namespace timestore {

class Engine;
struct SegmentHandle;

struct ResultToken {
  uint64_t dataset_id = 0;
  SchemaPtr schema;  // compared by identity
  std::optional<DedupSettings> dedup;
  std::vector<uint64_t> segments;  // ids of the segments with rows in range, in list order

  bool operator==(const ResultToken& o) const {
    return dataset_id == o.dataset_id && schema.get() == o.schema.get() && dedup == o.dedup &&
           segments == o.segments;
  }
  // Memory it holds, roughly (for the cache's byte budget).
  uint64_t bytes() const { return sizeof(ResultToken) + segments.size() * sizeof(uint64_t); }
};

// The token of dataset `slug` over [start, end); nullopt when the dataset does
// not exist, is being deleted, or holds rows in memory in the range.
std::optional<ResultToken> ResultTokenFor(const Engine& engine, std::string_view slug,
                                          int64_t start, int64_t end);

// The ids of `segments` (in their order) whose footer range meets
// [start, end): the segments a token names, and those a scan reads from.
std::vector<uint64_t> SegmentIdsInRange(
    const std::vector<std::shared_ptr<const SegmentHandle>>& segments, int64_t start, int64_t end);

}  // namespace timestore
