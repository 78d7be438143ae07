#include "engine/query_executor.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "common/status_macros.h"
#include "common/status_util.h"
#include "common/strings.h"
#include "engine/filter_tree.h"
#include "engine/filters.h"
#include "engine/grouped_aggregate.h"
#include "engine/json_paths.h"
#include "segment/typed_text.h"

namespace timestore {
namespace {

absl::Status Invalid(std::string_view message, std::string_view column = "") {
  return InvalidQuery(message, column);
}

absl::Status UnknownColumn(std::string_view where, std::string_view column) {
  return MakeError(absl::StatusCode::kInvalidArgument, "unknown_column",
                   StrCat("unknown column \"", column, "\" in ", where),
                   ErrorDetails(-1, column, "", ""));
}

bool IsNumeric(ColumnType t) { return t == ColumnType::kDouble || t == ColumnType::kInteger; }

// ---------------------------------------------------------------------------
// Output helpers

void AppendValue(const ColumnVector* c, uint32_t r, ResultColumn* out) {
  bool null = c == nullptr || c->IsNull(r);
  out->valid.push_back(null ? 0 : 1);
  switch (out->type) {
    case ColumnType::kDouble:
      out->doubles.push_back(null ? 0 : c->doubles[r]);
      break;
    case ColumnType::kInteger:
    case ColumnType::kTimestamp:
      out->ints.push_back(null ? 0 : c->ints[r]);
      break;
    case ColumnType::kBoolean:
      out->ints.push_back(null ? 0 : c->bools[r]);
      break;
    TIMESTORE_STRING_LIKE_CASES:
      out->strings.push_back(null ? std::string_view() : std::string_view(c->dict[c->ids[r]]));
      break;
  }
}

absl::StatusOr<QueryResult> ExecuteRaw(const QuerySpec& spec, const Schema& schema,
                                       const std::vector<ChunkPtr>& chunks,
                                       const CompiledPredicate& filters, QueryResult result,
                                       uint64_t* offset_skipped) {
  // Output columns: the time column, then `columns` (or every other column).
  const int time_index = schema.time_index();
  std::vector<int> out_cols = {time_index};
  if (spec.columns) {
    for (const auto& name : *spec.columns) {
      int idx = schema.IndexOf(name);
      if (idx != time_index && std::find(out_cols.begin(), out_cols.end(), idx) == out_cols.end())
        out_cols.push_back(idx);
    }
  } else {
    for (int i = 0; i < static_cast<int>(schema.fields.size()); ++i)
      if (i != time_index) out_cols.push_back(i);
  }

  struct RowRef {
    int64_t ts;
    uint32_t chunk;
    uint32_t row;
  };
  std::vector<RowRef> refs;
  std::vector<uint32_t> sel;
  for (uint32_t ci = 0; ci < chunks.size(); ++ci) {
    const Chunk& c = *chunks[ci];
    if (!c.MeetsRange(spec.start, spec.end)) {
      ++result.stats.hot_chunks_pruned;
      continue;
    }
    ++result.stats.hot_chunks_scanned;
    result.stats.rows_scanned += c.rows;
    SelectRows(c, spec, filters, &sel);
    const int64_t* ts = c.timestamps();
    for (uint32_t r : sel) refs.push_back(RowRef{ts[r], ci, r});
  }
  // (chunk, row) is ingest order, so the sort key is unique and ties in time
  // keep ingest order in both directions.
  auto less = [desc = spec.descending](const RowRef& a, const RowRef& b) {
    if (a.ts != b.ts) return desc ? a.ts > b.ts : a.ts < b.ts;
    if (a.chunk != b.chunk) return a.chunk < b.chunk;
    return a.row < b.row;
  };
  // The first offset + limit rows in order, then the offset dropped.
  size_t n = std::min<uint64_t>(refs.size(), RowsToRank(spec));
  if (n < refs.size()) {
    std::partial_sort(refs.begin(), refs.begin() + static_cast<ptrdiff_t>(n), refs.end(), less);
    refs.resize(n);
  } else {
    std::sort(refs.begin(), refs.end(), less);
  }
  const size_t skip = std::min<uint64_t>(n, spec.offset);
  if (offset_skipped != nullptr) *offset_skipped = skip;
  if (skip > 0) refs.erase(refs.begin(), refs.begin() + static_cast<ptrdiff_t>(skip));
  n -= skip;

  result.columns.resize(out_cols.size());
  for (size_t k = 0; k < out_cols.size(); ++k) {
    ResultColumn& out = result.columns[k];
    out.name = schema.fields[out_cols[k]].name;
    out.type = schema.fields[out_cols[k]].type;
    out.valid.reserve(n);
    for (const RowRef& ref : refs)
      AppendValue(chunks[ref.chunk]->column(out_cols[k]), ref.row, &out);
  }
  result.rows = n;
  return result;
}

// Downsampling over chunks in memory: one morsel per chunk, merged in order
// (as the scan does on many threads, so both give the same answer).
absl::StatusOr<QueryResult> ExecuteDownsample(const QuerySpec& spec, const Schema& schema,
                                              const std::vector<ChunkPtr>& chunks,
                                              const CompiledPredicate& filters,
                                              QueryResult result) {
  GroupedAggregate op(spec, schema, filters);
  for (const ChunkPtr& c : chunks) RETURN_IF_ERROR(op.Merge(op.Aggregate(c)));
  return op.Finish(std::move(result));
}

absl::Status ValidateFilter(Filter* f, const Schema& schema, Precision precision) {
  f->index = schema.IndexOf(f->column);
  if (f->index < 0) return UnknownColumn("filters", f->column);
  if (schema.fields[f->index].type == ColumnType::kUuid) {
    // Canonical, like the stored values, for zone maps and comparisons.
    for (Literal& l : f->values) {
      if (l.kind != Literal::Kind::kString) continue;
      if (std::optional<std::string> u = CanonicalUuid(l.s)) l.s = *u;
    }
  }
  if ((f->op == FilterOp::kEq || f->op == FilterOp::kNeq || f->op == FilterOp::kLt ||
       f->op == FilterOp::kLte || f->op == FilterOp::kGt || f->op == FilterOp::kGte) &&
      f->values.size() != 1) {
    return Invalid(StrCat("filter on column \"", f->column, "\" needs exactly one value"),
                   f->column);
  }
  return CompileFilter(*f, schema, precision).status();
}

}  // namespace

std::string_view AggFnName(AggFn fn) {
  switch (fn) {
    case AggFn::kAvg:
      return "avg";
    case AggFn::kMin:
      return "min";
    case AggFn::kMax:
      return "max";
    case AggFn::kSum:
      return "sum";
    case AggFn::kCount:
      return "count";
    case AggFn::kCountDistinct:
      return "count_distinct";
    case AggFn::kMedian:
      return "median";
    case AggFn::kPercentile:
      return "percentile";
    case AggFn::kFirst:
      return "first";
    case AggFn::kLast:
      return "last";
  }
  return "?";
}

absl::Status ValidateQuery(QuerySpec* spec, const Schema& schema) {
  if (spec->end <= spec->start) {
    return Invalid("timeRange.end must be later than timeRange.start (the range is [start, end))");
  }
  if (spec->columns) {
    for (const auto& c : *spec->columns)
      if (schema.IndexOf(c) < 0) return UnknownColumn("columns", c);
  }
  for (auto& f : spec->filters) RETURN_IF_ERROR(ValidateFilter(&f, schema, spec->precision));
  for (auto& t : spec->filter_trees) {
    if (FilterTreeDepth(t) > kMaxFilterTreeDepth) {
      return Invalid(StrCat("filters nest deeper than ", kMaxFilterTreeDepth, " levels"));
    }
    absl::Status status;
    ForEachLeaf(t, [&](Filter& f) {
      if (status.ok()) status = ValidateFilter(&f, schema, spec->precision);
    });
    RETURN_IF_ERROR(status);
  }
  if (spec->offset > kMaxQueryOffset) {
    return MakeError(absl::StatusCode::kInvalidArgument, "invalid_query",
                     StrCat("offset ", spec->offset, " exceeds the maximum ", kMaxQueryOffset),
                     StrCat("{\"field\":\"offset\",\"maximum\":", kMaxQueryOffset, "}"));
  }
  if (!spec->downsample) return absl::OkStatus();
  Downsample& ds = *spec->downsample;
  if (ds.aggregations.empty()) return Invalid("downsample.aggregations must not be empty");
  std::vector<std::string> names = {schema.time_column};
  for (const auto& g : ds.group_by) {
    if (schema.IndexOf(g) < 0) return UnknownColumn("downsample.groupBy", g);
    if (std::find(names.begin(), names.end(), g) != names.end())
      return Invalid(StrCat("column \"", g, "\" appears twice in the output"), g);
    names.push_back(g);
  }
  for (auto& a : ds.aggregations) {
    if (a.column.empty()) {
      if (a.fn != AggFn::kCount) {
        return Invalid(StrCat("aggregation \"", AggFnName(a.fn), "\" needs a column"));
      }
    } else {
      int idx = schema.IndexOf(a.column);
      if (idx < 0) return UnknownColumn("downsample.aggregations", a.column);
      ColumnType t = schema.fields[idx].type;
      bool numeric_only = a.fn == AggFn::kAvg || a.fn == AggFn::kSum || a.fn == AggFn::kMedian ||
                          a.fn == AggFn::kPercentile;
      if ((a.fn == AggFn::kMin || a.fn == AggFn::kMax) &&
          (t == ColumnType::kJson || IsArrayType(t))) {
        return MakeError(absl::StatusCode::kInvalidArgument, "invalid_query",
                         StrCat("aggregation \"", AggFnName(a.fn), "\" needs an ordered column; \"",
                                a.column, "\" is ", ColumnTypeName(t),
                                " (count, count_distinct, first and last take any column)"),
                         ErrorDetails(-1, a.column, "a scalar column", ColumnTypeName(t)));
      }
      if (numeric_only && !IsNumeric(t)) {
        return MakeError(absl::StatusCode::kInvalidArgument, "invalid_query",
                         StrCat("aggregation \"", AggFnName(a.fn), "\" needs a numeric column; \"",
                                a.column, "\" is ", ColumnTypeName(t)),
                         ErrorDetails(-1, a.column, "double or integer", ColumnTypeName(t)));
      }
    }
    if (a.fn == AggFn::kPercentile && !(a.percentile >= 0 && a.percentile <= 1)) {
      return Invalid("percentile must be between 0 and 1", a.column);
    }
    if (a.alias.empty()) {
      a.alias =
          a.column.empty() ? std::string(AggFnName(a.fn)) : StrCat(AggFnName(a.fn), "_", a.column);
    }
    if (std::find(names.begin(), names.end(), a.alias) != names.end()) {
      return Invalid(StrCat("output column \"", a.alias,
                            "\" appears twice; give the aggregation a distinct alias"),
                     a.alias);
    }
    names.push_back(a.alias);
  }
  return absl::OkStatus();
}

absl::StatusOr<QueryResult> ExecuteQuery(const QuerySpec& spec, const Schema& schema,
                                         const std::vector<ChunkPtr>& chunks,
                                         uint64_t* offset_skipped) {
  auto t0 = std::chrono::steady_clock::now();
  if (offset_skipped != nullptr) *offset_skipped = 0;
  // Raw rows need the json paths computed here, for chunks in range only
  // (ExecuteRaw skips the others); GroupedAggregate computes them chunk by
  // chunk itself.
  std::vector<ChunkPtr> with_paths;
  const bool derive = !schema.derived.empty() && !spec.downsample;
  if (derive) {
    with_paths.reserve(chunks.size());
    for (const ChunkPtr& c : chunks) {
      with_paths.push_back(c->MeetsRange(spec.start, spec.end) ? AddDerivedColumns(c, schema) : c);
    }
  }
  const std::vector<ChunkPtr>& input = derive ? with_paths : chunks;
  ASSIGN_OR_RETURN(CompiledPredicate filters, CompileFilters(spec, schema));
  QueryResult result;
  result.downsampled = spec.downsample.has_value();
  result.keepalive = input;
  absl::StatusOr<QueryResult> out =
      spec.downsample ? ExecuteDownsample(spec, schema, input, filters, std::move(result))
                      : ExecuteRaw(spec, schema, input, filters, std::move(result), offset_skipped);
  if (out.ok()) {
    out->stats.elapsed_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  }
  return out;
}

}  // namespace timestore