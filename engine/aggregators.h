// Aggregators: one instance per aggregation of a downsample, with state per
// group. A query aggregates each chunk (a morsel) into aggregators of its own,
// then merges them into the query's in chunk order, so the answer is the same
// bit for bit however many threads aggregated the chunks.
//
// Thread-compatible: one thread updates an instance at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/node_hash_set.h"
#include "absl/status/status.h"
#include "common/strings.h"
#include "engine/chunk.h"
#include "engine/query.h"

namespace timestore {

// Owns the strings a query's answer keeps once the chunks they came from are
// gone (blocks are dropped as soon as they are aggregated).
class StringArena {
 public:
  std::string_view Intern(std::string_view s) {
    auto it = set_.find(s);
    if (it == set_.end()) {
      it = set_.emplace(s).first;
      bytes_ += s.size() + 32;
    }
    return *it;
  }
  size_t bytes() const { return bytes_; }

 private:
  absl::node_hash_set<std::string, StringViewHash, StringViewEq> set_;
  size_t bytes_ = 0;
};

class Aggregator {
 public:
  virtual ~Aggregator() = default;
  // Makes room for groups [0, groups).
  virtual void Grow(size_t groups) = 0;
  // Adds the rows `rows[0..n)` of `chunk` to groups `gids[0..n)`. `col` is
  // null when the chunk predates the column (all null).
  virtual void Update(const Chunk& chunk, const ColumnVector* col, const uint32_t* rows,
                      const uint32_t* gids, size_t n) = 0;
  // Adds every group g of `from` (the same kind of aggregator, holding rows
  // that came after this one's) to group map[g]; strings are copied into
  // `arena`. REQUIRES: Grow covers every map[g].
  virtual void Merge(const Aggregator& from, const uint32_t* map, StringArena* arena) = 0;
  virtual void Emit(const std::vector<uint32_t>& groups, ResultColumn* out) = 0;
  virtual absl::Status status() const { return absl::OkStatus(); }
  // Memory that grows with the rows, not the groups (percentiles, distinct
  // values); per-group state is counted by the caller.
  virtual size_t MemoryBytes() const { return 0; }
  ColumnType out_type = ColumnType::kDouble;
};

std::unique_ptr<Aggregator> MakeAggregator(const Aggregation& a, ColumnType t);

}  // namespace timestore
