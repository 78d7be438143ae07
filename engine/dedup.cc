#include "engine/dedup.h"

#include <string>

#include "absl/container/flat_hash_map.h"
#include "engine/row_compare.h"

namespace timestore {

std::optional<DedupPlan> MakeDedupPlan(const std::optional<DedupSettings>& dedup,
                                       const Schema& schema) {
  if (!dedup) return std::nullopt;
  DedupPlan plan;
  plan.time_index = schema.time_index();
  plan.keep_last = dedup->keep_last;
  for (const auto& k : dedup->keys) {
    int i = schema.IndexOf(k);
    if (i >= 0 && i != plan.time_index) plan.key_columns.push_back(i);
  }
  return plan;
}

std::vector<ChunkPtr> DedupChunks(const std::vector<ChunkPtr>& chunks, const DedupPlan& plan,
                                  uint64_t* removed) {
  size_t total = 0;
  for (const auto& c : chunks) total += c->rows;
  // Key -> winning (chunk, row), packed as chunk << 32 | row.
  absl::flat_hash_map<std::string, uint64_t> winner;
  winner.reserve(total);
  std::string key;
  for (uint32_t ci = 0; ci < chunks.size(); ++ci) {
    const Chunk& c = *chunks[ci];
    const int64_t* ts = c.timestamps();
    for (uint32_t r = 0; r < c.rows; ++r) {
      key.assign(reinterpret_cast<const char*>(&ts[r]), sizeof(int64_t));
      for (int k : plan.key_columns) AppendCellKey(c.column(k), r, &key);
      const uint64_t pos = (uint64_t{ci} << 32) | r;
      auto [it, inserted] = winner.try_emplace(key, pos);
      if (!inserted && plan.keep_last) it->second = pos;
    }
  }
  if (winner.size() == total) return chunks;
  if (removed != nullptr) *removed += total - winner.size();
  std::vector<std::vector<uint8_t>> keep(chunks.size());
  for (size_t ci = 0; ci < chunks.size(); ++ci) keep[ci].assign(chunks[ci]->rows, 0);
  for (const auto& [k, pos] : winner) keep[pos >> 32][pos & 0xffffffffu] = 1;
  std::vector<ChunkPtr> out;
  out.reserve(chunks.size());
  for (size_t ci = 0; ci < chunks.size(); ++ci) {
    const Chunk& c = *chunks[ci];
    uint32_t kept = 0;
    for (uint8_t k : keep[ci]) kept += k;
    if (kept == c.rows) {
      out.push_back(chunks[ci]);
      continue;
    }
    if (kept == 0) continue;
    auto n = std::make_shared<Chunk>();
    n->rows = kept;
    n->time_index = c.time_index;
    n->columns.reserve(c.columns.size());
    for (const ColumnVector& v : c.columns) {
      if (v.all_null) {
        n->columns.push_back(ColumnVector::AllNull(v.type, kept));
        continue;
      }
      ColumnBuilder b(v.type);
      for (uint32_t r = 0; r < c.rows; ++r) {
        if (keep[ci][r]) b.AppendFrom(v, r);
      }
      n->columns.push_back(b.Finish());
    }
    n->ComputeStats();
    out.push_back(std::move(n));
  }
  return out;
}

}  // namespace timestore
