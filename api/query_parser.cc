#include "api/query_parser.h"

#include <simdjson.h>

#include <cmath>

#include "absl/time/time.h"
#include "common/status_macros.h"
#include "common/status_util.h"
#include "common/strings.h"
#include "engine/filter_tree.h"
#include "engine/query_executor.h"

namespace timestore::api {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

absl::Status Bad(std::string_view message, std::string_view field = "") {
  std::string details;
  if (!field.empty()) details = StrCat("{\"field\":\"", field, "\"}");
  return MakeError(absl::StatusCode::kInvalidArgument, "invalid_query", message, details);
}

absl::Status CheckKeys(const object& o, std::string_view where,
                       std::initializer_list<std::string_view> allowed) {
  for (auto [key, value] : o) {
    bool ok = false;
    for (auto a : allowed) ok |= key == a;
    if (!ok) {
      std::string list;
      for (auto a : allowed) StrAppend(&list, list.empty() ? "" : ", ", a);
      return Bad(StrCat("unknown key \"", key, "\" in ", where, " (allowed: ", list, ")"), key);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ParseTime(element e, std::string_view field, Precision precision) {
  if (e.is_string()) {
    auto t = ParseRfc3339(std::string_view(e.get_string().value_unsafe()));
    if (!t.ok()) return Bad(StrCat(field, ": ", t.status().message()), field);
    return *t;
  }
  if (e.is_int64()) {
    auto t = ScaleToNanos(e.get_int64().value_unsafe(), precision);
    if (!t.ok()) return Bad(StrCat(field, ": ", t.status().message()), field);
    return *t;
  }
  return Bad(StrCat(field, " must be an RFC 3339 string or an integer in the unit of `precision`"),
             field);
}

absl::StatusOr<std::string> GetString(element e, std::string_view field) {
  std::string_view s;
  if (e.get(s)) return Bad(StrCat(field, " must be a string"), field);
  return std::string(s);
}

absl::StatusOr<Literal> ParseLiteral(element e, std::string_view field) {
  Literal l;
  switch (e.type()) {
    case element_type::NULL_VALUE:
      l.kind = Literal::Kind::kNull;
      break;
    case element_type::BOOL:
      l.kind = Literal::Kind::kBool;
      l.b = e.get_bool().value_unsafe();
      break;
    case element_type::INT64:
      l.kind = Literal::Kind::kInt;
      l.i = e.get_int64().value_unsafe();
      break;
    case element_type::UINT64:
      l.kind = Literal::Kind::kDouble;
      l.d = static_cast<double>(e.get_uint64().value_unsafe());
      break;
    case element_type::DOUBLE:
      l.kind = Literal::Kind::kDouble;
      l.d = e.get_double().value_unsafe();
      break;
    case element_type::STRING:
      l.kind = Literal::Kind::kString;
      l.s = std::string(e.get_string().value_unsafe());
      break;
    default:
      return Bad(StrCat(field, " must be a number, string, boolean or null"), field);
  }
  return l;
}

absl::StatusOr<std::vector<std::string>> GetStringArray(element e, std::string_view field) {
  simdjson::dom::array a;
  if (e.get(a)) return Bad(StrCat(field, " must be an array of column names"), field);
  std::vector<std::string> out;
  for (element x : a) {
    ASSIGN_OR_RETURN(std::string s, GetString(x, field));
    out.push_back(std::move(s));
  }
  return out;
}

absl::StatusOr<FilterOp> ParseOp(std::string_view op) {
  if (op == "eq") return FilterOp::kEq;
  if (op == "neq") return FilterOp::kNeq;
  if (op == "lt") return FilterOp::kLt;
  if (op == "lte") return FilterOp::kLte;
  if (op == "gt") return FilterOp::kGt;
  if (op == "gte") return FilterOp::kGte;
  if (op == "in") return FilterOp::kIn;
  if (op == "not_in") return FilterOp::kNotIn;
  if (op == "is_null") return FilterOp::kIsNull;
  if (op == "is_not_null") return FilterOp::kIsNotNull;
  return Bad(StrCat("unknown filter op \"", op,
                    "\" (expected eq, neq, lt, lte, gt, gte, in, not_in, is_null, is_not_null)"),
             "op");
}

// A leaf filter item: {"column", "op", "value"}.
absl::StatusOr<Filter> ParseLeaf(const object& fo, const std::string& where) {
  RETURN_IF_ERROR(CheckKeys(fo, where, {"column", "op", "value", "or", "and", "not"}));
  Filter f;
  element col, op;
  if (fo["column"].get(col) || fo["op"].get(op)) {
    return Bad(
        StrCat(where, " needs \"column\" and \"op\" (or is an \"or\", \"and\" or \"not\" item)"),
        "filters");
  }
  ASSIGN_OR_RETURN(f.column, GetString(col, StrCat(where, ".column")));
  ASSIGN_OR_RETURN(std::string op_name, GetString(op, StrCat(where, ".op")));
  ASSIGN_OR_RETURN(f.op, ParseOp(op_name));
  element value;
  bool has_value = !fo["value"].get(value);
  if (f.op == FilterOp::kIsNull || f.op == FilterOp::kIsNotNull) {
    // No value needed; one given is ignored.
  } else if (!has_value) {
    return Bad(StrCat(where, " (", op_name, ") needs a \"value\""), "value");
  } else if (f.op == FilterOp::kIn || f.op == FilterOp::kNotIn) {
    simdjson::dom::array va;
    if (value.get(va)) {
      return Bad(StrCat(where, ": op \"", op_name, "\" needs an array value"), "value");
    }
    for (element v : va) {
      ASSIGN_OR_RETURN(Literal l, ParseLiteral(v, StrCat(where, ".value")));
      f.values.push_back(std::move(l));
    }
  } else {
    ASSIGN_OR_RETURN(Literal l, ParseLiteral(value, StrCat(where, ".value")));
    f.values.push_back(std::move(l));
  }
  return f;
}

// A filter item: a leaf, or {"or": [items]}, {"and": [items]}, {"not": item}
// nested at most kMaxFilterNesting deep (`depth` counts from 1 at the top).
// NOT is pushed down as it is parsed (engine/filter_tree.h).
absl::StatusOr<FilterTree> ParseFilterItem(element e, const std::string& where, int depth) {
  object fo;
  if (e.get(fo)) return Bad(StrCat(where, " must be an object"), "filters");
  std::string_view kind;
  for (std::string_view k : {"or", "and", "not"}) {
    if (!fo[k].error()) kind = k;
  }
  if (kind.empty()) {
    ASSIGN_OR_RETURN(Filter f, ParseLeaf(fo, where));
    return FilterLeaf(std::move(f));
  }
  if (fo.size() != 1) {
    return Bad(StrCat(where, ": an \"", kind, "\" item has no other keys"), "filters");
  }
  if (depth > kMaxFilterNesting) {
    return Bad(StrCat(where, ": filter items nest deeper than ", kMaxFilterNesting, " levels"),
               "filters");
  }
  const std::string inner = StrCat(where, ".", kind);
  element body = fo[kind].value_unsafe();
  if (kind == "not") {
    ASSIGN_OR_RETURN(FilterTree t, ParseFilterItem(body, inner, depth + 1));
    return Negate(t);
  }
  simdjson::dom::array items;
  if (body.get(items) || items.size() == 0) {
    return Bad(StrCat(inner, " must be a non-empty array of filter items"), "filters");
  }
  FilterTree t;
  t.kind = kind == "or" ? FilterTree::Kind::kOr : FilterTree::Kind::kAnd;
  size_t i = 0;
  for (element item : items) {
    ASSIGN_OR_RETURN(FilterTree c, ParseFilterItem(item, StrCat(inner, "[", i++, "]"), depth + 1));
    t.children.push_back(std::move(c));
  }
  return t;
}

absl::StatusOr<AggFn> ParseFn(std::string_view fn) {
  if (fn == "avg") return AggFn::kAvg;
  if (fn == "min") return AggFn::kMin;
  if (fn == "max") return AggFn::kMax;
  if (fn == "sum") return AggFn::kSum;
  if (fn == "count") return AggFn::kCount;
  if (fn == "count_distinct") return AggFn::kCountDistinct;
  if (fn == "median") return AggFn::kMedian;
  if (fn == "percentile") return AggFn::kPercentile;
  if (fn == "first") return AggFn::kFirst;
  if (fn == "last") return AggFn::kLast;
  return Bad(StrCat("unknown aggregation fn \"", fn,
                    "\" (expected avg, min, max, sum, count, count_distinct, median, "
                    "percentile, first, last)"),
             "fn");
}

absl::StatusOr<int64_t> UnitNanos(std::string_view unit) {
  constexpr int64_t kMs = 1'000'000;
  if (unit == "millisecond") return kMs;
  if (unit == "second") return 1000 * kMs;
  if (unit == "minute") return 60'000 * kMs;
  if (unit == "hour") return 3'600'000 * kMs;
  if (unit == "day") return 86'400'000 * kMs;
  if (unit == "week") return 7 * 86'400'000 * kMs;
  if (unit == "month" || unit == "year") return 0;  // calendar units
  return Bad(StrCat("unknown intervalUnit \"", unit,
                    "\" (expected millisecond, second, minute, hour, day, week, month, year)"),
             "intervalUnit");
}

absl::StatusOr<Downsample> ParseDownsample(element e) {
  object o;
  if (e.get(o)) return Bad("downsample must be an object", "downsample");
  RETURN_IF_ERROR(CheckKeys(
      o, "downsample", {"intervalUnit", "intervalSize", "groupBy", "aggregations", "timezone"}));
  Downsample ds;
  element tz_e;
  if (!o["timezone"].get(tz_e) && !tz_e.is_null()) {
    ASSIGN_OR_RETURN(ds.timezone, GetString(tz_e, "downsample.timezone"));
    absl::TimeZone tz;
    if (ds.timezone.empty() || !absl::LoadTimeZone(ds.timezone, &tz)) {
      return Bad(StrCat("downsample.timezone \"", ds.timezone.substr(0, 64),
                        "\" is not an IANA time zone name (e.g. \"Europe/Berlin\", \"UTC\")"),
                 "timezone");
    }
  }
  element unit;
  if (!o["intervalUnit"].get(unit) && !unit.is_null()) {
    ASSIGN_OR_RETURN(std::string u, GetString(unit, "downsample.intervalUnit"));
    ASSIGN_OR_RETURN(int64_t unit_ns, UnitNanos(u));
    int64_t size = 1;
    element size_e;
    if (!o["intervalSize"].get(size_e)) {
      if (size_e.get(size) || size < 1) {
        return Bad("downsample.intervalSize must be a positive integer", "intervalSize");
      }
    }
    ds.has_interval = true;
    // Months and years are calendar buckets; so are days and weeks in a
    // named time zone. Everything else is a fixed width from the epoch.
    const bool zoned = !ds.timezone.empty();
    if (u == "month" || u == "year" || (zoned && (u == "day" || u == "week"))) {
      if (size > 1'000'000) return Bad("downsample interval is too large", "intervalSize");
      ds.calendar = u == "month"  ? CalendarUnit::kMonth
                    : u == "year" ? CalendarUnit::kYear
                    : u == "week" ? CalendarUnit::kWeek
                                  : CalendarUnit::kDay;
      ds.calendar_size = size;
    } else if (zoned) {
      return Bad(
          StrCat("downsample.timezone applies to day, week, month and year buckets, not ", u),
          "timezone");
    } else if (__builtin_mul_overflow(unit_ns, size, &ds.interval_ns)) {
      return Bad("downsample interval is too large", "intervalSize");
    }
  } else if (!o["intervalSize"].error()) {
    return Bad("downsample.intervalSize needs downsample.intervalUnit", "intervalSize");
  } else if (!ds.timezone.empty()) {
    return Bad("downsample.timezone needs downsample.intervalUnit", "timezone");
  }
  element group_by;
  if (!o["groupBy"].get(group_by)) {
    ASSIGN_OR_RETURN(ds.group_by, GetStringArray(group_by, "downsample.groupBy"));
  }
  simdjson::dom::array aggs;
  if (o["aggregations"].get(aggs)) {
    return Bad("downsample.aggregations must be an array of {\"fn\", \"column\", ...}",
               "aggregations");
  }
  size_t i = 0;
  for (element a : aggs) {
    object ao;
    std::string where = StrCat("downsample.aggregations[", i, "]");
    if (a.get(ao)) return Bad(StrCat(where, " must be an object"), "aggregations");
    RETURN_IF_ERROR(CheckKeys(ao, where, {"fn", "column", "percentile", "alias"}));
    Aggregation agg;
    element fn;
    if (ao["fn"].get(fn)) return Bad(StrCat(where, " needs \"fn\""), "fn");
    ASSIGN_OR_RETURN(std::string fn_name, GetString(fn, StrCat(where, ".fn")));
    ASSIGN_OR_RETURN(agg.fn, ParseFn(fn_name));
    element col;
    if (!ao["column"].get(col) && !col.is_null()) {
      ASSIGN_OR_RETURN(agg.column, GetString(col, StrCat(where, ".column")));
    }
    element pct;
    if (!ao["percentile"].get(pct)) {
      if (agg.fn != AggFn::kPercentile)
        return Bad(StrCat(where, ": \"percentile\" only goes with fn percentile"), "percentile");
      double p;
      if (pct.is_int64()) {
        p = static_cast<double>(pct.get_int64().value_unsafe());
      } else if (pct.get(p)) {
        return Bad(StrCat(where, ".percentile must be a number in [0, 1]"), "percentile");
      }
      agg.percentile = p;
    } else if (agg.fn == AggFn::kPercentile) {
      return Bad(StrCat(where, ": fn percentile needs \"percentile\" in [0, 1]"), "percentile");
    }
    if (agg.fn == AggFn::kPercentile && !(agg.percentile >= 0 && agg.percentile <= 1)) {
      return Bad(StrCat(where, ".percentile must be in [0, 1]"), "percentile");
    }
    element alias;
    if (!ao["alias"].get(alias) && !alias.is_null()) {
      ASSIGN_OR_RETURN(agg.alias, GetString(alias, StrCat(where, ".alias")));
      if (agg.alias.empty()) return Bad(StrCat(where, ".alias must not be empty"), "alias");
    }
    ds.aggregations.push_back(std::move(agg));
    ++i;
  }
  return ds;
}

// "computed": [{"alias": "...", "expr": "<SQL scalar expression>"}, ...].
// The expressions are parsed later, by the SQL layer (sql/projection.h).
absl::StatusOr<std::vector<ComputedColumn>> ParseComputed(element e) {
  constexpr size_t kMaxComputed = 64;
  simdjson::dom::array a;
  if (e.get(a)) return Bad("computed must be an array of {\"alias\", \"expr\"}", "computed");
  if (a.size() > kMaxComputed) {
    return Bad(StrCat("computed has ", a.size(), " items; at most ", kMaxComputed), "computed");
  }
  std::vector<ComputedColumn> out;
  for (element item : a) {
    const std::string where = StrCat("computed[", out.size(), "]");
    object c;
    if (item.get(c)) return Bad(StrCat(where, " must be an object"), where);
    RETURN_IF_ERROR(CheckKeys(c, where, {"alias", "expr"}));
    ComputedColumn col;
    std::string_view alias, expr;
    if (c["alias"].get(alias) || alias.empty()) {
      return Bad(StrCat(where, ".alias must be a non-empty string"), where);
    }
    if (c["expr"].get(expr) || expr.empty()) {
      return Bad(StrCat(where, ".expr must be a non-empty string (a SQL expression)"), where);
    }
    for (const ComputedColumn& prev : out) {
      if (prev.alias == alias) return Bad(StrCat(where, ".alias repeats \"", alias, "\""), where);
    }
    col.alias = std::string(alias);
    col.expr = std::string(expr);
    out.push_back(std::move(col));
  }
  return out;
}

}  // namespace

absl::StatusOr<QuerySpec> ParseQueryBody(std::string_view body, Precision precision,
                                         uint64_t max_limit) {
  simdjson::dom::parser parser;
  element root;
  if (auto err = parser.parse(body.data(), body.size()).get(root)) {
    return MakeError(absl::StatusCode::kInvalidArgument, "invalid_json",
                     StrCat("malformed JSON query: ", simdjson::error_message(err)));
  }
  object o;
  if (root.get(o)) return Bad("the query must be a JSON object");
  RETURN_IF_ERROR(
      CheckKeys(o, "the query",
                {"timeRange", "columns", "filters", "downsample", "order", "limit", "offset",
                 "timestampFormat", "requireFresh", "minWatermark", "computed"}));
  QuerySpec spec;
  spec.precision = precision;
  object range;
  if (o["timeRange"].get(range)) {
    return Bad("timeRange is required: {\"start\": ..., \"end\": ...}", "timeRange");
  }
  RETURN_IF_ERROR(CheckKeys(range, "timeRange", {"start", "end"}));
  element start, end;
  if (range["start"].get(start) || range["end"].get(end)) {
    return Bad("timeRange needs both start and end", "timeRange");
  }
  ASSIGN_OR_RETURN(spec.start, ParseTime(start, "timeRange.start", precision));
  ASSIGN_OR_RETURN(spec.end, ParseTime(end, "timeRange.end", precision));

  element columns;
  if (!o["columns"].get(columns) && !columns.is_null()) {
    ASSIGN_OR_RETURN(spec.columns, GetStringArray(columns, "columns"));
  }
  element filters;
  if (!o["filters"].get(filters) && !filters.is_null()) {
    simdjson::dom::array fa;
    if (filters.get(fa)) return Bad("filters must be an array", "filters");
    size_t i = 0;
    for (element fe : fa) {
      ASSIGN_OR_RETURN(FilterTree t, ParseFilterItem(fe, StrCat("filters[", i++, "]"), 1));
      AddConjunct(&spec, std::move(t));
    }
  }
  element ds;
  if (!o["downsample"].get(ds) && !ds.is_null()) {
    ASSIGN_OR_RETURN(spec.downsample, ParseDownsample(ds));
  }
  element order;
  if (!o["order"].get(order) && !order.is_null()) {
    ASSIGN_OR_RETURN(std::string s, GetString(order, "order"));
    if (s == "desc") {
      spec.descending = true;
    } else if (s != "asc") {
      return Bad("order must be \"asc\" or \"desc\"", "order");
    }
  }
  element limit;
  if (!o["limit"].get(limit) && !limit.is_null()) {
    // get<uint64_t> also takes integers above INT64_MAX: they are too large
    // like any other, and the answer must name the maximum.
    uint64_t n;
    if (limit.get(n)) return Bad("limit must be a non-negative integer", "limit");
    if (n > max_limit) {
      return MakeError(
          absl::StatusCode::kInvalidArgument, "invalid_query",
          StrCat("limit ", n, " exceeds the maximum ", max_limit, " (TIMESTORE_QUERY_MAX_LIMIT)"),
          StrCat("{\"field\":\"limit\",\"maximum\":", max_limit, "}"));
    }
    spec.limit = n;
  }
  spec.limit = std::min<uint64_t>(spec.limit, max_limit);
  element offset;
  if (!o["offset"].get(offset) && !offset.is_null()) {
    uint64_t n;
    if (offset.get(n)) return Bad("offset must be a non-negative integer", "offset");
    if (n > kMaxQueryOffset) {
      return MakeError(absl::StatusCode::kInvalidArgument, "invalid_query",
                       StrCat("offset ", n, " exceeds the maximum ", kMaxQueryOffset),
                       StrCat("{\"field\":\"offset\",\"maximum\":", kMaxQueryOffset, "}"));
    }
    spec.offset = n;
  }
  element fresh;
  if (!o["requireFresh"].get(fresh) && !fresh.is_null()) {
    if (fresh.get(spec.require_fresh))
      return Bad("requireFresh must be true or false", "requireFresh");
  }
  element min_watermark;
  if (!o["minWatermark"].get(min_watermark) && !min_watermark.is_null()) {
    ASSIGN_OR_RETURN(spec.min_watermark, ParseTime(min_watermark, "minWatermark", precision));
  }
  element computed;
  if (!o["computed"].get(computed) && !computed.is_null()) {
    ASSIGN_OR_RETURN(spec.computed, ParseComputed(computed));
  }
  element tf;
  if (!o["timestampFormat"].get(tf) && !tf.is_null()) {
    ASSIGN_OR_RETURN(std::string s, GetString(tf, "timestampFormat"));
    if (s == "epoch_ns") {
      spec.epoch_ns = true;
    } else if (s != "rfc3339") {
      return Bad("timestampFormat must be \"rfc3339\" or \"epoch_ns\"", "timestampFormat");
    }
  }
  return spec;
}

}  // namespace timestore::api
