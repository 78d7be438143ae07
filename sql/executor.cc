#include "sql/executor.h"

#include <algorithm>
#include <numeric>
#include <optional>
#include <unordered_set>

#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "engine/engine.h"
#include "engine/query_executor.h"
#include "sql/typed_value.h"

namespace timestore::sql {
namespace {

using K = BoundExpr::Kind;

// Json, uuid and arrays keep their column type: canonical text in `strings`.
ColumnType ResultType(SqlType t) { return ToColumnType(t); }

// An empty input table with the plan's input columns.
QueryResult EmptyInput(const Plan& plan) {
  QueryResult r;
  for (const InputColumn& c : plan.inputs) {
    ResultColumn col;
    col.name = c.name;
    col.type = ResultType(c.type);
    r.columns.push_back(std::move(col));
  }
  return r;
}

// The one row of an aggregate without GROUP BY over no rows: counts are 0,
// every other aggregate is null.
void AddEmptyAggregateRow(const Plan& plan, QueryResult* in) {
  for (size_t c = 0; c < in->columns.size(); ++c) {
    ResultColumn& col = in->columns[c];
    bool is_count = std::find(plan.count_inputs.begin(), plan.count_inputs.end(),
                              static_cast<int>(c)) != plan.count_inputs.end();
    col.valid.push_back(is_count ? 1 : 0);
    col.ints.push_back(0);
    col.doubles.push_back(0);
    col.strings.emplace_back();
  }
  in->rows = 1;
}

void AppendValue(const Value& v, SqlType type, QueryResult* out, ResultColumn* col) {
  if (v.is_null()) {
    col->valid.push_back(0);
    if (col->type == ColumnType::kDouble) {
      col->doubles.push_back(0);
    } else if (IsStringLike(col->type)) {
      col->strings.emplace_back();
    } else {
      col->ints.push_back(0);
    }
    return;
  }
  col->valid.push_back(1);
  if (IsStringLike(col->type) && col->type != ColumnType::kString) {
    // The canonical text of json, uuid and arrays (the plan typed the value).
    out->owned_strings.push_back(v.s);
    col->strings.push_back(out->owned_strings.back());
    return;
  }
  switch (col->type) {
    case ColumnType::kBoolean:
      col->ints.push_back(v.type == SqlType::kBool ? v.b : v.i != 0);
      break;
    case ColumnType::kInteger:
    case ColumnType::kTimestamp:
      col->ints.push_back(v.type == SqlType::kDouble ? static_cast<int64_t>(v.d) : v.i);
      break;
    case ColumnType::kDouble:
      col->doubles.push_back(v.type == SqlType::kInt ? static_cast<double>(v.i) : v.d);
      break;
    case ColumnType::kString:
      if (v.type == SqlType::kText || v.type == SqlType::kUnknown) {
        out->owned_strings.push_back(v.s);
      } else {
        out->owned_strings.push_back(ValueToText(v));
      }
      col->strings.push_back(out->owned_strings.back());
      break;
    default:
      break;
  }
}

// Copies row `r` of input column `in` to `out` (same type).
void CopyCell(const ResultColumn& in, size_t r, ResultColumn* out) {
  out->valid.push_back(in.valid.empty() ? 1 : in.valid[r]);
  if (in.type == ColumnType::kDouble) {
    out->doubles.push_back(in.doubles[r]);
  } else if (IsStringLike(in.type)) {
    out->strings.push_back(in.strings[r]);
  } else {
    out->ints.push_back(in.ints[r]);
  }
}

// Whether every output is an input column of the same type, so the
// engine's columns can be handed on as they are.
bool PassThrough(const Plan& plan, const QueryResult& in, const QueryResult& out) {
  for (size_t c = 0; c < plan.outputs.size(); ++c) {
    const BoundExpr& e = plan.outputs[c].expr;
    if (e.kind != BoundExpr::Kind::kInput || in.columns[e.input].type != out.columns[c].type) {
      return false;
    }
  }
  return true;
}

// Keeps rows [begin, begin + n) of a column of `rows` rows.
void SliceColumn(ResultColumn* c, size_t begin, size_t n, size_t rows) {
  auto cut = [&](auto& v) {
    if (v.size() != rows) return;  // a vector the column type does not use
    v.erase(v.begin(), v.begin() + begin);
    v.resize(n);
  };
  cut(c->valid);
  cut(c->ints);
  cut(c->doubles);
  cut(c->strings);
}

// A key for hashing a row of values (DISTINCT, DISTINCT ON): type-tagged
// text, so that 1 and '1' differ and -0.0 equals 0.0.
void AppendKey(const Value& v, std::string* key) {
  key->push_back(static_cast<char>(v.type));
  if (v.type == SqlType::kDouble) {
    double d = v.d == 0 ? 0.0 : v.d;
    key->append(ValueToText(Value::Double(d)));
  } else {
    key->append(ValueToText(v));
  }
  key->push_back('\0');
}

std::string Describe(const Literal& l, bool time) {
  switch (l.kind) {
    case Literal::Kind::kNull:
      return "NULL";
    case Literal::Kind::kBool:
      return l.b ? "true" : "false";
    case Literal::Kind::kInt:
      return time ? StrCat("'", FormatTimestampPg(l.i), "'") : std::to_string(l.i);
    case Literal::Kind::kDouble:
      return ValueToText(Value::Double(l.d));
    case Literal::Kind::kString:
      return StrCat("'", l.s, "'");
  }
  return "?";
}

std::string DescribeFilter(const Filter& f, const std::string& time_column) {
  static constexpr std::string_view kOps[] = {"=",  "<>", "<",       "<=",          ">",
                                              ">=", "IN", "IS NULL", "IS NOT NULL", "NOT IN"};
  std::string out = StrCat(f.column, " ", kOps[static_cast<int>(f.op)]);
  bool time = f.column == time_column;
  if (f.op == FilterOp::kIn || f.op == FilterOp::kNotIn) {
    out += " (";
    for (size_t i = 0; i < f.values.size(); ++i) {
      if (i) out += ", ";
      out += Describe(f.values[i], time);
    }
    out += ")";
  } else if (!f.values.empty()) {
    out += " " + Describe(f.values[0], time);
  }
  return out;
}

std::string DescribeTree(const FilterTree& t, const std::string& time_column) {
  if (t.kind == FilterTree::Kind::kLeaf) return DescribeFilter(t.leaf, time_column);
  if (t.children.empty()) return t.kind == FilterTree::Kind::kAnd ? "true" : "false";
  std::string out = "(";
  for (size_t i = 0; i < t.children.size(); ++i) {
    if (i) out += t.kind == FilterTree::Kind::kAnd ? " AND " : " OR ";
    out += DescribeTree(t.children[i], time_column);
  }
  return out + ")";
}

// The row cap, the engine's statistics and freshness, and the tag.
absl::StatusOr<SqlResult> FinishResult(SqlResult res, const QueryResult& in,
                                       const PlanContext& ctx) {
  QueryResult& t = res.table;
  if (t.rows > ctx.max_rows) {
    return SqlError(sqlstate::kProgramLimitExceeded,
                    StrCat("the statement returns more than ", ctx.max_rows,
                           " rows (TIMESTORE_QUERY_MAX_LIMIT); add a LIMIT"));
  }
  t.stats = in.stats;
  t.watermark = in.watermark;
  t.hot_rows = in.hot_rows;
  t.fresh = in.fresh;
  res.command_tag = StrCat("SELECT ", t.rows);
  return res;
}

}  // namespace

absl::StatusOr<SqlResult> ExecutePlan(Plan plan, const PlanContext& ctx,
                                      std::shared_ptr<const std::atomic<bool>> cancelled,
                                      QueryStats* stats) {
  QueryResult in;
  if (plan.source == Plan::Source::kDataset) {
    if (plan.skip_engine) {
      in = EmptyInput(plan);
    } else {
      QuerySpec spec = plan.spec;
      spec.cancelled = cancelled;
      ASSIGN_OR_RETURN(in, ctx.engine->Query(plan.table, std::move(spec)));
      if (stats != nullptr) *stats = in.stats;
      if (in.columns.size() != plan.inputs.size()) {
        return SqlError(sqlstate::kInternalError,
                        StrCat("the engine answered ", in.columns.size(),
                               " columns, the plan expects ", plan.inputs.size()));
      }
    }
    // Without a pushed limit the engine was asked for at most max_rows+1 rows
    // past the offset: reaching that means the answer would be cut short.
    if (!plan.limit_pushed && in.rows >= plan.spec.limit) {
      return SqlError(sqlstate::kProgramLimitExceeded,
                      StrCat("the statement needs more than ", ctx.max_rows,
                             " rows above the scan (TIMESTORE_QUERY_MAX_LIMIT); narrow the WHERE, "
                             "or ORDER BY the time column so the LIMIT can be pushed down"));
    }
  } else {
    in = std::move(plan.catalog_rows);
  }
  if (plan.global_aggregate && in.rows == 0) AddEmptyAggregateRow(plan, &in);

  std::vector<uint32_t> sel(in.rows);
  std::iota(sel.begin(), sel.end(), 0);
  if (plan.filter) {
    size_t out = 0;
    for (uint32_t r : sel) {
      ASSIGN_OR_RETURN(Value v, Eval(*plan.filter, in, r, ctx));
      if (!v.is_null() && v.b) sel[out++] = r;
    }
    sel.resize(out);
  }
  if (!plan.order.empty()) {
    // Sort keys once per row, then a stable sort (ties keep engine order).
    const size_t nk = plan.order.size();
    std::vector<Value> keys(sel.size() * nk);
    for (size_t i = 0; i < sel.size(); ++i) {
      for (size_t k = 0; k < nk; ++k) {
        ASSIGN_OR_RETURN(keys[i * nk + k], Eval(plan.order[k].expr, in, sel[i], ctx));
      }
    }
    // Array keys are parsed once here, not twice per comparison.
    std::vector<std::optional<ParsedArrayKeys>> arrays(nk);
    for (size_t k = 0; k < nk; ++k) {
      if (!IsSqlArray(plan.order[k].expr.type)) continue;
      arrays[k].emplace(plan.order[k].expr.type);
      for (size_t i = 0; i < sel.size(); ++i) arrays[k]->Add(keys[i * nk + k]);
    }
    std::vector<uint32_t> idx(sel.size());
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](uint32_t a, uint32_t b) {
      for (size_t k = 0; k < nk; ++k) {
        const Value& x = keys[a * nk + k];
        const Value& y = keys[b * nk + k];
        const SortKey& sk = plan.order[k];
        if (x.is_null() || y.is_null()) {
          if (x.is_null() && y.is_null()) continue;
          return x.is_null() == sk.nulls_first;
        }
        const std::optional<ParsedArrayKeys>& parsed = arrays[k];
        int c = parsed && parsed->parsed(a) && parsed->parsed(b) ? parsed->Compare(a, b)
                                                                 : CompareValues(x, y);
        if (c != 0) return sk.desc ? c > 0 : c < 0;
      }
      return false;
    });
    std::vector<uint32_t> sorted(sel.size());
    for (size_t i = 0; i < idx.size(); ++i) sorted[i] = sel[idx[i]];
    sel = std::move(sorted);
  }
  if (!plan.distinct_on.empty()) {
    std::unordered_set<std::string> seen;
    size_t out = 0;
    for (uint32_t r : sel) {
      std::string key;
      for (const BoundExpr& d : plan.distinct_on) {
        ASSIGN_OR_RETURN(Value v, Eval(d, in, r, ctx));
        AppendKey(v, &key);
      }
      if (seen.insert(std::move(key)).second) sel[out++] = r;
    }
    sel.resize(out);
  }

  SqlResult res;
  res.returns_rows = true;
  QueryResult& t = res.table;
  // Take over what the input's string views point into. A deque swap keeps
  // its elements in place; strings computed below are appended after them.
  t.owned_strings.swap(in.owned_strings);
  t.keepalive = std::move(in.keepalive);
  t.string_arena = std::move(in.string_arena);
  for (const OutputColumn& o : plan.outputs) {
    SqlType type = o.expr.type;
    if (type == SqlType::kNull || type == SqlType::kUnknown || type == SqlType::kInterval) {
      type = SqlType::kText;
    }
    res.columns.push_back({o.name, SqlTypeOid(type)});
    ResultColumn c;
    c.name = o.name;
    c.type = ResultType(type);
    t.columns.push_back(std::move(c));
  }
  const uint64_t limit = plan.limit.value_or(UINT64_MAX);
  // The common case (columns as the engine returned them, every row in
  // order): take the engine's columns whole, cut to OFFSET/LIMIT, instead of
  // copying cell by cell.
  if (!plan.filter && plan.order.empty() && plan.distinct_on.empty() && !plan.distinct &&
      PassThrough(plan, in, t)) {
    const size_t begin = std::min<uint64_t>(plan.offset, in.rows);
    const size_t n = std::min<uint64_t>(in.rows - begin, limit);
    std::vector<int> uses(in.columns.size(), 0);
    for (const OutputColumn& o : plan.outputs) ++uses[o.expr.input];
    for (size_t c = 0; c < plan.outputs.size(); ++c) {
      const int src = plan.outputs[c].expr.input;
      std::string name = std::move(t.columns[c].name);
      // The last use of an input column may take it; earlier ones copy.
      t.columns[c] = --uses[src] == 0 ? std::move(in.columns[src]) : in.columns[src];
      t.columns[c].name = std::move(name);
      SliceColumn(&t.columns[c], begin, n, in.rows);
    }
    t.rows = n;
    return FinishResult(std::move(res), in, ctx);
  }
  // Rows past OFFSET, up to LIMIT; DISTINCT first when asked (it changes
  // which rows are counted).
  std::unordered_set<std::string> distinct_seen;
  uint64_t skipped = 0;
  std::vector<Value> row_values(plan.outputs.size());
  for (uint32_t r : sel) {
    if (t.rows >= limit) break;
    if (cancelled != nullptr && cancelled->load(std::memory_order_relaxed)) {
      return SqlError(sqlstate::kQueryCanceled, "canceling statement due to user request");
    }
    bool direct_ok = !plan.distinct;
    if (plan.distinct) {
      std::string key;
      for (size_t c = 0; c < plan.outputs.size(); ++c) {
        ASSIGN_OR_RETURN(row_values[c], Eval(plan.outputs[c].expr, in, r, ctx));
        AppendKey(row_values[c], &key);
      }
      if (!distinct_seen.insert(std::move(key)).second) continue;
    }
    if (skipped < plan.offset) {
      ++skipped;
      continue;
    }
    for (size_t c = 0; c < plan.outputs.size(); ++c) {
      const BoundExpr& e = plan.outputs[c].expr;
      ResultColumn& col = t.columns[c];
      if (direct_ok && e.kind == K::kInput && in.columns[e.input].type == col.type) {
        CopyCell(in.columns[e.input], r, &col);
        continue;
      }
      if (direct_ok) {
        ASSIGN_OR_RETURN(row_values[c], Eval(e, in, r, ctx));
      }
      AppendValue(row_values[c], e.type, &t, &col);
    }
    ++t.rows;
  }
  return FinishResult(std::move(res), in, ctx);
}

std::vector<std::string> ExplainPlan(const Plan& plan, const QueryStats* stats,
                                     uint64_t result_rows) {
  std::vector<std::string> out;
  std::string indent;
  // The operators above the scan, outermost first.
  if (plan.limit || plan.offset > 0) {
    out.push_back(StrCat("Limit", plan.limit ? StrCat(" ", *plan.limit) : "",
                         plan.offset ? StrCat(" offset ", plan.offset) : ""));
    indent = "  ";
  }
  if (plan.distinct || !plan.distinct_on.empty()) {
    out.push_back(indent + (plan.distinct ? "Distinct" : "Distinct On"));
    indent += "  ";
  }
  if (!plan.order.empty()) {
    out.push_back(indent + StrCat("Sort (", plan.order.size(), " key",
                                  plan.order.size() > 1 ? "s" : "", ", above the scan)"));
    indent += "  ";
  }
  if (plan.filter) {
    out.push_back(indent + (plan.spec.downsample ? "Filter (HAVING)" : "Filter (residual WHERE)"));
    indent += "  ";
  }
  if (plan.source == Plan::Source::kNone) {
    out.push_back(indent + "Result (no table)");
    return out;
  }
  if (plan.source == Plan::Source::kCatalog) {
    out.push_back(indent + StrCat("Catalog Scan on ", plan.table));
    return out;
  }
  const QuerySpec& s = plan.spec;
  const std::string time_col = plan.inputs.empty() ? "" : plan.inputs[0].name;
  out.push_back(
      indent +
      StrCat(s.downsample ? "Timestore Aggregate Scan on " : "Timestore Scan on ", plan.table));
  std::string in = indent + "  ";
  if (plan.skip_engine) out.push_back(in + "Skipped: the WHERE matches no rows");
  auto bound = [](int64_t t, bool lo) {
    if (lo && t == std::numeric_limits<int64_t>::min()) return std::string("-infinity");
    if (!lo && t == std::numeric_limits<int64_t>::max()) return std::string("infinity");
    return FormatTimestampPg(t);
  };
  out.push_back(in + StrCat("Time Range: [", bound(s.start, true), ", ", bound(s.end, false),
                            ")  (partitions and segments outside it are pruned)"));
  if (!s.filters.empty() || !s.filter_trees.empty()) {
    std::string f;
    for (const Filter& x : s.filters) f += (f.empty() ? "" : " AND ") + DescribeFilter(x, time_col);
    for (const FilterTree& x : s.filter_trees) {
      f += (f.empty() ? "" : " AND ") + DescribeTree(x, time_col);
    }
    out.push_back(in + "Pushed Filter: " + f + "  (zone maps prune blocks)");
  }
  if (s.downsample) {
    const Downsample& d = *s.downsample;
    std::string b = "none (one group per key)";
    if (d.has_interval) {
      static constexpr std::string_view kUnits[] = {"", "day", "week", "month", "year"};
      b = d.calendar == CalendarUnit::kNone
              ? StrCat(d.interval_ns, " ns")
              : StrCat(d.calendar_size, " ", kUnits[static_cast<int>(d.calendar)],
                       " (calendar, UTC)");
    }
    out.push_back(in + "Buckets: " + b);
    if (!d.group_by.empty()) {
      std::string g;
      for (const std::string& x : d.group_by) g += (g.empty() ? "" : ", ") + x;
      out.push_back(in + "Group By: " + g);
    }
    std::string a;
    for (const Aggregation& x : d.aggregations) {
      if (x.alias == "__groups") continue;
      a += StrCat(a.empty() ? "" : ", ", AggFnName(x.fn), "(", x.column.empty() ? "*" : x.column,
                  x.fn == AggFn::kPercentile ? StrCat(", ", x.percentile) : "", ")");
    }
    if (!a.empty()) out.push_back(in + "Aggregates: " + a);
    bool lastpoint = !d.has_interval && s.filters.empty() && s.filter_trees.empty() &&
                     d.group_by.size() == 1 && !d.aggregations.empty();
    for (const Aggregation& x : d.aggregations) {
      if (!(x.fn == AggFn::kLast || (x.fn == AggFn::kMax && x.column == time_col)))
        lastpoint = false;
    }
    out.push_back(in + StrCat("Footer Shortcut: ", lastpoint
                                                       ? "yes (newest values per series from "
                                                         "segment footers, unless dedup is on)"
                                                       : "no"));
  } else {
    std::string cols;
    for (size_t i = 0; i < plan.inputs.size(); ++i) cols += (i ? ", " : "") + plan.inputs[i].name;
    out.push_back(in + "Columns: " + cols);
  }
  out.push_back(in + StrCat("Engine Order: ", s.descending ? "descending" : "ascending",
                            plan.order_pushed ? " (is the ORDER BY)" : ""));
  out.push_back(in + StrCat("Engine Limit: ", s.limit,
                            plan.limit_pushed ? " (LIMIT pushed down)"
                                              : " (cap: TIMESTORE_QUERY_MAX_LIMIT + 1)"));
  out.push_back(in +
                "Parallelism: partitions and segments are scanned in morsels on the query pool");
  for (const std::string& n : plan.notes) out.push_back(in + "Note: " + n);
  if (stats != nullptr) {
    out.push_back(StrCat("Rows: ", result_rows));
    out.push_back(StrCat("Partitions Scanned: ", stats->partitions_scanned));
    out.push_back(StrCat("Segments: ", stats->segments_scanned, " scanned, ",
                         stats->segments_pruned, " pruned, ", stats->segments_remote, " remote"));
    out.push_back(StrCat("Blocks: ", stats->blocks_scanned, " scanned, ", stats->blocks_pruned,
                         " pruned (time range and zone maps)"));
    out.push_back(StrCat("Hot Chunks: ", stats->hot_chunks_scanned, " scanned, ",
                         stats->hot_chunks_pruned, " pruned"));
    out.push_back(StrCat("Rows Scanned: ", stats->rows_scanned));
    out.push_back(StrCat("Bytes Read: ", stats->bytes_read, " (remote ", stats->remote_bytes_read,
                         " in ", stats->remote_requests, " requests; cache ", stats->cache_hits,
                         " hits, ", stats->cache_misses, " misses)"));
    out.push_back(StrCat("Execution Time: ", stats->elapsed_ms, " ms"));
  }
  return out;
}

}  // namespace timestore::sql
