// The downsample operator: groups rows by time bucket and groupBy columns and
// aggregates them, a chunk (morsel) at a time.
//
//   GroupedAggregate op(spec, schema, filters);
//   for each chunk, on any thread:   partial = op.Aggregate(chunk);
//   in chunk order, on one thread:   op.Merge(std::move(partial));
//   op.Finish(result);               // ordered output columns, offset and limit applied
//
// Aggregate is const and thread-safe: it filters the chunk and aggregates it
// into groups and aggregators of its own (dense group ids when buckets × the
// group columns' dictionaries are few, hashing otherwise). Merge maps those
// groups to the query's and merges the aggregators. Because every chunk is
// aggregated alone and merged in chunk order, the answer does not depend on
// how many threads ran Aggregate. Once merged, a chunk is no longer needed:
// strings the answer keeps are copied into the operator's arena.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "common/strings.h"
#include "engine/aggregators.h"
#include "engine/chunk.h"
#include "engine/filters.h"
#include "engine/query.h"
#include "engine/schema.h"

namespace timestore {

class GroupedAggregate {
 public:
  // One chunk's groups and aggregates.
  struct Partial {
    ChunkPtr chunk;  // its dictionaries back the string codes until merged
    bool scanned = false;
    uint64_t rows = 0;           // rows of the chunk (when scanned)
    uint32_t groups = 0;         // local groups
    std::vector<uint64_t> keys;  // key_words per group: bucket, codes, null mask
    std::vector<std::unique_ptr<Aggregator>> aggs;
  };

  // REQUIRES: ValidateQuery(spec, schema) succeeded and spec.downsample is set.
  // `spec`, `schema` and `filters` must outlive the operator.
  GroupedAggregate(const QuerySpec& spec, const Schema& schema, const CompiledPredicate& filters);

  // Thread-safe.
  std::unique_ptr<Partial> Aggregate(ChunkPtr chunk) const;

  // In chunk order. Fails only when an aggregate fails (an integer sum overflows).
  absl::Status Merge(std::unique_ptr<Partial> p);

  // Memory held by the merged state: groups, aggregate state, strings.
  size_t MemoryBytes() const;
  uint32_t groups() const { return num_groups_; }

  // The ordered answer, `offset` groups skipped, at most `limit` after them;
  // hot_chunks_* and rows_scanned in its stats
  // count every merged chunk.
  absl::StatusOr<QueryResult> Finish(QueryResult result);

 private:
  const QuerySpec& spec_;
  const Schema& schema_;
  const CompiledPredicate& filters_;
  std::vector<int> group_cols_;
  std::vector<int> agg_cols_;
  std::vector<ColumnType> agg_types_;
  size_t key_words_ = 0;

  // Merged state.
  std::shared_ptr<StringArena> arena_ = std::make_shared<StringArena>();
  absl::flat_hash_map<std::string_view, uint32_t, StringViewHash, StringViewEq>
      string_ids_;  // views into arena_
  std::vector<std::string_view> strings_;
  StringMap<uint32_t> group_index_;
  std::vector<uint64_t> group_keys_;  // key_words_ per group
  uint32_t num_groups_ = 0;
  std::vector<std::unique_ptr<Aggregator>> aggs_;
  QueryStats stats_;
};

}  // namespace timestore
