#include "engine/series_key.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"

namespace timestore {
namespace {

struct Candidate {
  int column = 0;
  size_t distinct = 0;
};

// Distinct non-null values of string column `c`, up to kMaxSeriesKeyDistinct + 1.
size_t CountDistinct(const std::vector<ChunkPtr>& chunks, int c) {
  absl::flat_hash_set<std::string_view> seen;
  for (const ChunkPtr& chunk : chunks) {
    const ColumnVector* v = chunk->column(c);
    if (v == nullptr || v->all_null) continue;
    for (const std::string& s : v->dict) {
      seen.insert(s);
      if (seen.size() > kMaxSeriesKeyDistinct) return seen.size();
    }
  }
  return seen.size();
}

// Whether every row with one value of `by` has one value of `c` (nulls count
// as a value).
bool Determines(const std::vector<ChunkPtr>& chunks, int by, int c) {
  absl::flat_hash_map<std::string_view, std::string_view> value_of;
  constexpr std::string_view kNull("\0null", 5);
  for (const ChunkPtr& chunk : chunks) {
    const ColumnVector* a = chunk->column(by);
    const ColumnVector* b = chunk->column(c);
    if (a == nullptr) continue;
    for (uint32_t r = 0; r < chunk->rows; ++r) {
      const std::string_view ka = a->IsNull(r) ? kNull : std::string_view(a->dict[a->ids[r]]);
      const std::string_view kb =
          b == nullptr || b->IsNull(r) ? kNull : std::string_view(b->dict[b->ids[r]]);
      auto [it, fresh] = value_of.emplace(ka, kb);
      if (!fresh && it->second != kb) return false;
    }
  }
  return true;
}

}  // namespace

std::vector<std::string> InferSeriesKey(const Schema& schema, const std::vector<ChunkPtr>& chunks) {
  uint64_t rows = 0;
  for (const ChunkPtr& c : chunks) rows += c->rows;
  if (rows < kMinSeriesKeyRows) return {};
  std::vector<Candidate> candidates;
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    if (schema.fields[i].type != ColumnType::kString || static_cast<int>(i) == schema.time_index())
      continue;
    const size_t distinct = CountDistinct(chunks, static_cast<int>(i));
    if (distinct < 2 || distinct > kMaxSeriesKeyDistinct) continue;
    if (distinct > rows / 2) continue;  // near-unique: an id, not a tag
    candidates.push_back({static_cast<int>(i), distinct});
  }
  if (candidates.empty()) return {};
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) { return a.distinct > b.distinct; });
  std::vector<std::string> key = {schema.fields[candidates[0].column].name};
  for (size_t k = 1; k < candidates.size() && key.size() < kMaxSeriesKeyColumns; ++k) {
    if (Determines(chunks, candidates[0].column, candidates[k].column)) continue;
    key.push_back(schema.fields[candidates[k].column].name);
  }
  return key;
}

}  // namespace timestore
