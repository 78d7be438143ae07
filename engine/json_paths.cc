#include "engine/json_paths.h"

#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "engine/filter_tree.h"
#include "segment/typed_text.h"

namespace timestore {
namespace {

bool HoldsJson(ColumnType t) { return t == ColumnType::kJson || IsArrayType(t); }

// The derived field for `name`, added to `out` when `name` is a path.
void AddPath(const std::string& name, Schema* out) {
  if (out->IndexOf(name) >= 0) return;
  for (size_t dot = name.rfind('.'); dot != std::string::npos && dot > 0;
       dot = name.rfind('.', dot - 1)) {
    const int base = out->IndexOf(std::string_view(name).substr(0, dot));
    if (base >= 0 && HoldsJson(out->fields[base].type) && dot + 1 < name.size()) {
      DerivedField d;
      d.index = static_cast<int>(out->fields.size());
      d.base = base;
      d.path = SplitJsonPath(std::string_view(name).substr(dot + 1));
      out->fields.push_back(Field{name, ColumnType::kJson});
      out->derived.push_back(std::move(d));
      return;
    }
    if (dot == 0) break;
  }
}

std::vector<std::string> NamesOf(const QuerySpec& spec) {
  std::vector<std::string> names;
  if (spec.columns) names = *spec.columns;
  for (const Filter& f : spec.filters) names.push_back(f.column);
  for (const FilterTree& t : spec.filter_trees) {
    ForEachLeaf(t, [&](const Filter& f) { names.push_back(f.column); });
  }
  if (spec.downsample) {
    for (const std::string& g : spec.downsample->group_by) names.push_back(g);
    for (const Aggregation& a : spec.downsample->aggregations) {
      if (!a.column.empty()) names.push_back(a.column);
    }
  }
  return names;
}

// The values at `d.path` of `base`, a json column like `base`'s rows.
std::shared_ptr<const ColumnVector> Derive(const ColumnVector& base, const DerivedField& d) {
  auto out = std::make_shared<ColumnVector>();
  out->type = ColumnType::kJson;
  out->length = base.length;
  if (base.all_null || base.ids.empty()) {
    out->all_null = base.length > 0;
    return out;
  }
  // Once per distinct value: dictionary id -> new id (or -1 for null). The
  // index keys are views into out->dict, reserved so they never move.
  std::vector<int64_t> remap(base.dict.size(), -1);
  out->dict.reserve(base.dict.size());
  absl::flat_hash_map<std::string_view, uint32_t> index;
  for (size_t id = 0; id < base.dict.size(); ++id) {
    std::optional<std::string> v = ExtractJsonPath(base.dict[id], d.path);
    if (!v) continue;
    auto it = index.find(*v);
    if (it == index.end()) {
      out->dict.push_back(std::move(*v));
      it = index.emplace(out->dict.back(), static_cast<uint32_t>(out->dict.size() - 1)).first;
    }
    remap[id] = it->second;
  }
  out->ids.resize(base.length, 0);
  out->valid.resize(base.length, 0);
  size_t nulls = 0;
  for (uint32_t r = 0; r < base.length; ++r) {
    const int64_t m = base.IsNull(r) ? -1 : remap[base.ids[r]];
    if (m < 0) {
      ++nulls;
      continue;
    }
    out->ids[r] = static_cast<uint32_t>(m);
    out->valid[r] = 1;
  }
  if (nulls == base.length) {
    *out = ColumnVector::AllNull(ColumnType::kJson, base.length);
  } else if (nulls == 0) {
    out->valid.clear();
  }
  return out;
}

}  // namespace

SchemaPtr WithJsonPaths(const QuerySpec& spec, const SchemaPtr& schema) {
  bool any_json = false;
  for (const Field& f : schema->fields) any_json |= HoldsJson(f.type);
  if (!any_json) return schema;
  // Copy the schema only when the query names a column it lacks.
  const std::vector<std::string> names = NamesOf(spec);
  bool unknown = false;
  for (const std::string& name : names) unknown |= schema->IndexOf(name) < 0;
  if (!unknown) return schema;
  Schema copy = *schema;
  for (const std::string& name : names) AddPath(name, &copy);
  if (copy.derived.empty()) return schema;
  return std::make_shared<const Schema>(std::move(copy));
}

ChunkPtr AddDerivedColumns(const ChunkPtr& chunk, const Schema& schema) {
  if (schema.derived.empty() || chunk == nullptr) return chunk;
  auto out = std::make_shared<Chunk>();
  out->rows = chunk->rows;
  out->time_index = chunk->time_index;
  out->min_ts = chunk->min_ts;
  out->max_ts = chunk->max_ts;
  out->memory_bytes = chunk->memory_bytes;
  out->shared_columns.resize(schema.fields.size());
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    const ColumnVector* c = chunk->column(static_cast<int>(i));
    // Aliasing: shares ownership of the chunk, no copy.
    if (c != nullptr) out->shared_columns[i] = std::shared_ptr<const ColumnVector>(chunk, c);
  }
  for (const DerivedField& d : schema.derived) {
    const ColumnVector* base = chunk->column(d.base);
    out->shared_columns[d.index] = base == nullptr ? nullptr : Derive(*base, d);
  }
  return out;
}

void MarkDerivedBases(const Schema& schema, std::vector<bool>* need) {
  for (const DerivedField& d : schema.derived) {
    if ((*need)[d.index]) (*need)[d.base] = true;
  }
}

}  // namespace timestore
