#include "engine/grouped_aggregate.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "common/status_macros.h"
#include "common/time_util.h"
#include "engine/buckets.h"
#include "engine/json_paths.h"
#include "engine/query_executor.h"

namespace timestore {
namespace {

// Dense group ids when buckets × the group columns' code ranges are at most
// this many slots.
constexpr uint64_t kMaxDenseSlots = 1 << 16;

// A group column's code for row r: strings -> the chunk's dictionary id;
// doubles -> normalised bits; others -> the value. Nulls are flagged apart.
inline uint64_t Code(const ColumnVector* g, uint32_t r) {
  switch (g->type) {
  TIMESTORE_STRING_LIKE_CASES:
    return g->ids[r];
    case ColumnType::kDouble:
      return DoubleKey(g->doubles[r]);
    case ColumnType::kBoolean:
      return g->bools[r];
    default:
      return static_cast<uint64_t>(g->ints[r]);
  }
}

}  // namespace

GroupedAggregate::GroupedAggregate(const QuerySpec& spec, const Schema& schema,
                                   const CompiledPredicate& filters)
    : spec_(spec), schema_(schema), filters_(filters) {
  const Downsample& ds = *spec.downsample;
  for (const auto& g : ds.group_by) group_cols_.push_back(schema.IndexOf(g));
  key_words_ = 2 + group_cols_.size();  // bucket, codes..., null mask
  for (const auto& a : ds.aggregations) {
    const int idx = a.column.empty() ? -1 : schema.IndexOf(a.column);
    agg_cols_.push_back(idx);
    agg_types_.push_back(idx < 0 ? ColumnType::kInteger : schema.fields[idx].type);
    aggs_.push_back(MakeAggregator(a, agg_types_.back()));
  }
}

std::unique_ptr<GroupedAggregate::Partial> GroupedAggregate::Aggregate(ChunkPtr chunk) const {
  auto p = std::make_unique<Partial>();
  if (!chunk->MeetsRange(spec_.start, spec_.end)) {
    p->chunk = std::move(chunk);
    return p;
  }
  chunk = AddDerivedColumns(chunk, schema_);  // json paths, for chunks in range only
  const Chunk& c = *chunk;
  p->chunk = std::move(chunk);
  p->scanned = true;
  p->rows = c.rows;
  std::vector<uint32_t> sel;
  SelectRows(c, spec_, filters_, &sel);
  if (sel.empty()) return p;

  const Downsample& ds = *spec_.downsample;
  const size_t ng = group_cols_.size();
  std::vector<const ColumnVector*> gcol(ng);
  for (size_t k = 0; k < ng; ++k) {
    gcol[k] = c.column(group_cols_[k]);
    if (gcol[k] != nullptr && gcol[k]->all_null) gcol[k] = nullptr;
  }
  const int64_t* ts = c.timestamps();
  Bucketer bucketer(ds, spec_.start);
  auto bucket_of = [&](int64_t t) { return bucketer.Floor(t); };
  std::vector<uint32_t> gids(sel.size());
  std::vector<uint64_t>& keys = p->keys;
  const size_t kw = key_words_;
  auto add_group = [&](const uint64_t* key) {
    keys.insert(keys.end(), key, key + kw);
    return p->groups++;
  };
  std::vector<uint64_t> key(kw);

  // Dense: every group column is a dictionary (or absent), and buckets ×
  // (dictionary size + null) is small.
  uint64_t slots = 1;
  int64_t first_ordinal = 0;
  if (ds.has_interval) {
    int64_t last_ordinal = 0;
    bucketer.Floor(std::max(c.min_ts, spec_.start), &first_ordinal);
    bucketer.Floor(std::min(c.max_ts, spec_.end - 1), &last_ordinal);
    const __int128 span = static_cast<__int128>(last_ordinal) - first_ordinal + 1;
    slots = span > kMaxDenseSlots ? kMaxDenseSlots + 1 : static_cast<uint64_t>(span);
  }
  bool dense = true;
  std::vector<uint64_t> dims(ng, 1);
  for (size_t k = 0; k < ng && dense; ++k) {
    if (gcol[k] == nullptr) continue;
    if (!IsStringLike(gcol[k]->type)) {
      dense = false;
      break;
    }
    dims[k] = gcol[k]->dict.size() + 1;  // the last code is null
    if (slots > kMaxDenseSlots / dims[k]) dense = false;
    slots *= dims[k];
  }
  if (dense && slots <= kMaxDenseSlots) {
    std::vector<uint32_t> slot_gid(slots, std::numeric_limits<uint32_t>::max());
    for (size_t i = 0; i < sel.size(); ++i) {
      const uint32_t r = sel[i];
      int64_t ordinal = 0;
      const int64_t bucket = bucketer.Floor(ts[r], &ordinal);
      uint64_t slot = static_cast<uint64_t>(ordinal - first_ordinal);
      for (size_t k = 0; k < ng; ++k) {
        const ColumnVector* g = gcol[k];
        const uint64_t code = g == nullptr || g->IsNull(r) ? dims[k] - 1 : g->ids[r];
        slot = slot * dims[k] + code;
      }
      uint32_t& gid = slot_gid[slot];
      if (gid == std::numeric_limits<uint32_t>::max()) {
        key[0] = static_cast<uint64_t>(bucket);
        uint64_t nulls = 0;
        for (size_t k = 0; k < ng; ++k) {
          const ColumnVector* g = gcol[k];
          const bool null = g == nullptr || g->IsNull(r);
          if (null) nulls |= uint64_t{1} << (k & 63);
          key[1 + k] = null ? 0 : g->ids[r];
        }
        key[1 + ng] = nulls;
        gid = add_group(key.data());
      }
      gids[i] = gid;
    }
  } else {
    StringMap<uint32_t> index;
    std::string keybuf(kw * 8, '\0'), prev(kw * 8, '\0');
    uint64_t* kb = reinterpret_cast<uint64_t*>(keybuf.data());
    for (size_t i = 0; i < sel.size(); ++i) {
      const uint32_t r = sel[i];
      kb[0] = static_cast<uint64_t>(bucket_of(ts[r]));
      uint64_t nulls = 0;
      for (size_t k = 0; k < ng; ++k) {
        const ColumnVector* g = gcol[k];
        const bool null = g == nullptr || g->IsNull(r);
        if (null) nulls |= uint64_t{1} << (k & 63);
        kb[1 + k] = null ? 0 : Code(g, r);
      }
      kb[1 + ng] = nulls;
      // Rows of one bucket and series come in runs (segments are sorted by
      // series, then time): the previous row's group is the likely one.
      if (i > 0 && std::memcmp(prev.data(), keybuf.data(), keybuf.size()) == 0) {
        gids[i] = gids[i - 1];
        continue;
      }
      auto [it, fresh] = index.try_emplace(keybuf, p->groups);
      if (fresh) add_group(kb);
      gids[i] = it->second;
      std::memcpy(prev.data(), keybuf.data(), keybuf.size());
    }
  }
  p->aggs.reserve(agg_cols_.size());
  for (size_t a = 0; a < agg_cols_.size(); ++a) {
    std::unique_ptr<Aggregator> agg =
        MakeAggregator(spec_.downsample->aggregations[a], agg_types_[a]);
    agg->Grow(p->groups);
    agg->Update(c, agg_cols_[a] < 0 ? nullptr : c.column(agg_cols_[a]), sel.data(), gids.data(),
                sel.size());
    p->aggs.push_back(std::move(agg));
  }
  return p;
}

absl::Status GroupedAggregate::Merge(std::unique_ptr<Partial> p) {
  if (!p->scanned) {
    ++stats_.hot_chunks_pruned;
    return absl::OkStatus();
  }
  ++stats_.hot_chunks_scanned;
  stats_.rows_scanned += p->rows;
  if (p->groups == 0) return absl::OkStatus();
  const Chunk& c = *p->chunk;
  const size_t ng = group_cols_.size();
  const size_t kw = key_words_;
  // Chunk dictionary id -> query string id, per group column, as needed.
  std::vector<std::vector<uint32_t>> string_id(ng);
  std::vector<uint32_t> map(p->groups);
  std::string keybuf(kw * 8, '\0');
  uint64_t* kb = reinterpret_cast<uint64_t*>(keybuf.data());
  for (uint32_t lg = 0; lg < p->groups; ++lg) {
    const uint64_t* lk = &p->keys[static_cast<size_t>(lg) * kw];
    kb[0] = lk[0];
    kb[1 + ng] = lk[1 + ng];
    for (size_t k = 0; k < ng; ++k) {
      kb[1 + k] = lk[1 + k];
      if ((lk[1 + ng] >> (k & 63)) & 1) continue;
      const ColumnVector* g = c.column(group_cols_[k]);
      if (!IsStringLike(g->type)) continue;
      std::vector<uint32_t>& ids = string_id[k];
      if (ids.empty()) ids.assign(g->dict.size(), std::numeric_limits<uint32_t>::max());
      uint32_t& id = ids[lk[1 + k]];
      if (id == std::numeric_limits<uint32_t>::max()) {
        const std::string_view s = g->dict[lk[1 + k]];
        auto it = string_ids_.find(s);
        if (it == string_ids_.end()) {
          const std::string_view owned = arena_->Intern(s);
          it = string_ids_.emplace(owned, static_cast<uint32_t>(strings_.size())).first;
          strings_.push_back(owned);
        }
        id = it->second;
      }
      kb[1 + k] = id;
    }
    auto [it, fresh] = group_index_.try_emplace(keybuf, num_groups_);
    if (fresh) {
      group_keys_.insert(group_keys_.end(), kb, kb + kw);
      ++num_groups_;
    }
    map[lg] = it->second;
  }
  for (size_t a = 0; a < aggs_.size(); ++a) {
    aggs_[a]->Grow(num_groups_);
    aggs_[a]->Merge(*p->aggs[a], map.data(), arena_.get());
  }
  return absl::OkStatus();
}

size_t GroupedAggregate::MemoryBytes() const {
  size_t bytes = arena_->bytes() + strings_.capacity() * 40;
  bytes += static_cast<size_t>(num_groups_) * (key_words_ * 16 + 48 + aggs_.size() * 24);
  for (const auto& a : aggs_) bytes += a->MemoryBytes();
  return bytes;
}

absl::StatusOr<QueryResult> GroupedAggregate::Finish(QueryResult result) {
  for (auto& a : aggs_) {
    a->Grow(num_groups_);
    RETURN_IF_ERROR(a->status());
  }
  result.stats.hot_chunks_scanned += stats_.hot_chunks_scanned;
  result.stats.hot_chunks_pruned += stats_.hot_chunks_pruned;
  result.stats.rows_scanned += stats_.rows_scanned;
  const Downsample& ds = *spec_.downsample;
  const size_t ng = group_cols_.size();
  const size_t kw = key_words_;

  // Order: bucket (asc/desc), then group values ascending, nulls last.
  std::vector<uint32_t> order(num_groups_);
  for (uint32_t g = 0; g < num_groups_; ++g) order[g] = g;
  auto key_of = [&](uint32_t g) { return &group_keys_[static_cast<size_t>(g) * kw]; };
  std::vector<ColumnType> gtypes;
  for (int idx : group_cols_) gtypes.push_back(schema_.fields[idx].type);
  auto less = [&](uint32_t a, uint32_t b) {
    const uint64_t* ka = key_of(a);
    const uint64_t* kb = key_of(b);
    int64_t ba = static_cast<int64_t>(ka[0]), bb = static_cast<int64_t>(kb[0]);
    if (ba != bb) return spec_.descending ? ba > bb : ba < bb;
    for (size_t k = 0; k < ng; ++k) {
      bool na = (ka[1 + ng] >> (k & 63)) & 1, nb = (kb[1 + ng] >> (k & 63)) & 1;
      if (na != nb) return nb;  // nulls last
      if (na) continue;
      uint64_t ca = ka[1 + k], cb = kb[1 + k];
      if (ca == cb) continue;
      switch (gtypes[k]) {
      TIMESTORE_STRING_LIKE_CASES:
        return strings_[ca] < strings_[cb];
        case ColumnType::kDouble: {
          double da, db;
          std::memcpy(&da, &ca, 8);
          std::memcpy(&db, &cb, 8);
          return DoubleLess(da, db);
        }
        case ColumnType::kBoolean:
          return ca < cb;
        default:
          return static_cast<int64_t>(ca) < static_cast<int64_t>(cb);
      }
    }
    return false;
  };
  size_t n = std::min<uint64_t>(order.size(), RowsToRank(spec_));
  if (n < order.size()) {
    std::partial_sort(order.begin(), order.begin() + static_cast<ptrdiff_t>(n), order.end(), less);
    order.resize(n);
  } else {
    std::sort(order.begin(), order.end(), less);
  }
  const size_t skip = std::min<uint64_t>(n, spec_.offset);
  if (skip > 0) order.erase(order.begin(), order.begin() + static_cast<ptrdiff_t>(skip));
  n -= skip;

  // Columns: time (bucket start), groupBy columns, aggregations.
  result.columns.resize(1 + ng + aggs_.size());
  ResultColumn& tcol = result.columns[0];
  tcol.name = schema_.time_column;
  tcol.type = ColumnType::kTimestamp;
  for (uint32_t g : order) {
    tcol.valid.push_back(1);
    tcol.ints.push_back(static_cast<int64_t>(key_of(g)[0]));
  }
  for (size_t k = 0; k < ng; ++k) {
    ResultColumn& out = result.columns[1 + k];
    out.name = ds.group_by[k];
    out.type = gtypes[k];
    for (uint32_t g : order) {
      const uint64_t* key_g = key_of(g);
      bool null = (key_g[1 + ng] >> (k & 63)) & 1;
      uint64_t code = key_g[1 + k];
      out.valid.push_back(null ? 0 : 1);
      switch (out.type) {
      TIMESTORE_STRING_LIKE_CASES:
        out.strings.push_back(null ? std::string_view() : strings_[code]);
        break;
        case ColumnType::kDouble: {
          double d;
          std::memcpy(&d, &code, 8);
          out.doubles.push_back(null ? 0 : d);
          break;
        }
        default:
          out.ints.push_back(null ? 0 : static_cast<int64_t>(code));
      }
    }
  }
  for (size_t a = 0; a < aggs_.size(); ++a) {
    ResultColumn& out = result.columns[1 + ng + a];
    out.name = ds.aggregations[a].alias;
    out.type = aggs_[a]->out_type;
    aggs_[a]->Emit(order, &out);
  }
  result.rows = n;
  result.string_arena = arena_;
  return result;
}

}  // namespace timestore
