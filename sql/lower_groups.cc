// GROUP BY and aggregates: time buckets (time_bucket, date_trunc, date_bin)
// and group columns to the engine's downsample, aggregate calls to its
// aggregations.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "sql/catalog.h"
#include "sql/planner_internal.h"

namespace timestore::sql::planner_internal {

std::optional<BoundExpr> Planner::GroupInput(const Expr& e) {
  for (size_t i = 0; i < group_exprs_.size(); ++i) {
    if (ExprEquals(group_exprs_[i], e) ||
        (e.kind == ExprKind::kColumn && group_exprs_[i].kind == ExprKind::kColumn &&
         e.name == group_exprs_[i].name)) {
      BoundExpr b;
      b.kind = K::kInput;
      b.input = group_inputs_[i];
      b.type = plan_.inputs[b.input].type;
      return b;
    }
  }
  return std::nullopt;
}

absl::StatusOr<Expr> Planner::ResolveGroupItem(const Expr& g) {
  if (g.kind == ExprKind::kConst && g.value.type == SqlType::kInt) {
    int64_t n = g.value.i;
    if (n < 1 || n > static_cast<int64_t>(sel_.targets.size())) {
      return SqlError("42P10", StrCat("GROUP BY position ", n, " is not in select list"));
    }
    return sel_.targets[n - 1].expr;
  }
  if (g.kind == ExprKind::kColumn && g.qualifier.empty() && schema_->IndexOf(g.name) < 0) {
    for (const SelectTarget& t : sel_.targets)
      if (t.alias == g.name) return t.expr;
  }
  return g;
}

absl::Status Planner::RequireTimeArg(const Expr& f, const Expr& arg) {
  if (!IsTimeColumn(arg)) {
    return Unsupported(
        StrCat(f.name, " over anything but the time column \"", schema_->time_column, "\""));
  }
  return absl::OkStatus();
}

absl::StatusOr<Value> Planner::ConstArg(const Expr& e, SqlType t) {
  ASSIGN_OR_RETURN(BoundExpr b, Bind(e));
  RETURN_IF_ERROR(Coerce(&b, t));
  if (b.kind != K::kConst) return Unsupported("a bucket width that is not a constant");
  if (b.value.type != t) {
    ASSIGN_OR_RETURN(b.value, CastValue(b.value, t));
  }
  return b.value;
}

absl::StatusOr<bool> Planner::LowerBucket(const Expr& g, Downsample* ds) {
  if (IsTimeColumn(g)) {
    ds->has_interval = true;
    ds->interval_ns = 1;  // one bucket per distinct timestamp
    return true;
  }
  if (g.kind != ExprKind::kFunc) return false;
  if (g.name == "time_bucket" || g.name == "date_bin") {
    if (g.args.size() < 2) return false;
    RETURN_IF_ERROR(RequireTimeArg(g, g.args[1]));
    ASSIGN_OR_RETURN(Value iv, ConstArg(g.args[0], SqlType::kInterval));
    if (iv.is_null()) return Unsupported("a NULL bucket width");
    if (g.args.size() == 3) {
      ASSIGN_OR_RETURN(Value origin, ConstArg(g.args[2], SqlType::kTimestamp));
      ASSIGN_OR_RETURN(int64_t w, FixedIntervalNanos(iv.iv));
      if (origin.is_null() || w <= 0 || FloorDiv(origin.i, w) * w != origin.i) {
        return Unsupported(StrCat(g.name,
                                  " with an origin that is not a multiple of the width "
                                  "from the Unix epoch"));
      }
    }
    if (iv.iv.months != 0) {
      if (iv.iv.days != 0 || iv.iv.nanos != 0) {
        return Unsupported("a bucket width mixing months with days or time");
      }
      if (iv.iv.months < 0)
        return SqlError(sqlstate::kInvalidParameterValue, "stride must be greater than zero");
      if (iv.iv.months % 12 == 0) {
        ds->calendar = CalendarUnit::kYear;
        ds->calendar_size = iv.iv.months / 12;
      } else {
        ds->calendar = CalendarUnit::kMonth;
        ds->calendar_size = iv.iv.months;
      }
      ds->has_interval = true;
      return true;
    }
    ASSIGN_OR_RETURN(int64_t w, FixedIntervalNanos(iv.iv));
    if (w <= 0)
      return SqlError(sqlstate::kInvalidParameterValue, "stride must be greater than zero");
    ds->has_interval = true;
    ds->interval_ns = w;
    return true;
  }
  if (g.name == "date_trunc") {
    if (g.args.size() != 2 && g.args.size() != 3) return false;
    RETURN_IF_ERROR(RequireTimeArg(g, g.args[1]));
    ASSIGN_OR_RETURN(Value unit, ConstArg(g.args[0], SqlType::kText));
    std::string u = AsciiLower(unit.s);
    if (g.args.size() == 3) {
      // Civil days, weeks, months and years in a time zone (the engine's
      // calendar buckets, daylight saving included).
      ASSIGN_OR_RETURN(Value tz, ConstArg(g.args[2], SqlType::kText));
      ASSIGN_OR_RETURN(Downsample zoned, ZonedTrunc(u, tz.is_null() ? "" : tz.s));
      ds->has_interval = true;
      ds->interval_ns = zoned.interval_ns;
      ds->calendar = zoned.calendar;
      ds->calendar_size = zoned.calendar_size;
      ds->timezone = zoned.timezone;
      return true;
    }
    static const std::map<std::string, int64_t> kFixed = {
        {"microsecond", 1000},        {"microseconds", 1000},      {"millisecond", 1'000'000},
        {"milliseconds", 1'000'000},  {"second", 1'000'000'000},   {"seconds", 1'000'000'000},
        {"minute", 60'000'000'000},   {"minutes", 60'000'000'000}, {"hour", 3'600'000'000'000},
        {"hours", 3'600'000'000'000}, {"day", kNanosPerDay},       {"days", kNanosPerDay}};
    ds->has_interval = true;
    if (auto it = kFixed.find(u); it != kFixed.end()) {
      ds->interval_ns = it->second;
    } else if (u == "week" || u == "weeks") {
      ds->calendar = CalendarUnit::kWeek;
    } else if (u == "month" || u == "months") {
      ds->calendar = CalendarUnit::kMonth;
    } else if (u == "quarter") {
      ds->calendar = CalendarUnit::kMonth;
      ds->calendar_size = 3;
    } else if (u == "year" || u == "years") {
      ds->calendar = CalendarUnit::kYear;
    } else {
      return SqlError(sqlstate::kInvalidParameterValue,
                      StrCat("unit \"", unit.s, "\" not recognized by date_trunc"));
    }
    return true;
  }
  return false;
}

absl::Status Planner::PlanGroups() {
  Downsample& ds = plan_.spec.downsample.emplace();
  plan_.spec.columns.reset();
  bool have_bucket = false;
  // Input 0 is the bucket (or the time range start when there is none).
  for (const Expr& raw : sel_.group_by) {
    ASSIGN_OR_RETURN(Expr g, ResolveGroupItem(raw));
    if (ContainsAggregate(g)) {
      return SqlError(sqlstate::kGroupingError, "aggregate functions are not allowed in GROUP BY");
    }
    Downsample probe;
    ASSIGN_OR_RETURN(bool bucket, LowerBucket(g, &probe));
    if (bucket) {
      if (have_bucket) {
        // The same bucket twice (GROUP BY 1, t) is harmless; two different ones are not.
        bool same = probe.interval_ns == ds.interval_ns && probe.calendar == ds.calendar &&
                    probe.calendar_size == ds.calendar_size && probe.timezone == ds.timezone;
        if (!same) return Unsupported("grouping by two different time buckets");
      } else {
        ds.has_interval = true;
        ds.interval_ns = probe.interval_ns;
        ds.calendar = probe.calendar;
        ds.calendar_size = probe.calendar_size;
        ds.timezone = probe.timezone;
        have_bucket = true;
      }
      group_exprs_.push_back(g);
      group_inputs_.push_back(0);
      continue;
    }
    if (g.kind != ExprKind::kColumn) {
      return Unsupported(
          "GROUP BY an expression other than a column, time_bucket, date_trunc "
          "or date_bin");
    }
    ASSIGN_OR_RETURN(int idx, TableColumn(g));
    const Field& f = schema_->fields[idx];
    bool dup = false;
    for (size_t i = 0; i < ds.group_by.size(); ++i)
      if (ds.group_by[i] == f.name) {
        group_exprs_.push_back(g);
        group_inputs_.push_back(static_cast<int>(i) + 1);
        dup = true;
      }
    if (dup) continue;
    ds.group_by.push_back(f.name);
    plan_.inputs.push_back({f.name, FromColumnType(f.type)});
    group_exprs_.push_back(g);
    group_inputs_.push_back(static_cast<int>(plan_.inputs.size()) - 1);
  }
  has_bucket_ = have_bucket;
  plan_.global_aggregate = sel_.group_by.empty();
  return absl::OkStatus();
}

absl::StatusOr<BoundExpr> Planner::BindAggregate(const Expr& e) {
  for (const AggSlot& s : aggs_) {
    if (ExprEquals(s.call, e)) return AggInput(&s - aggs_.data());
  }
  Aggregation agg;
  SqlType type = SqlType::kDouble;
  const std::string& f = e.name;
  auto column_arg = [&](const Expr& a) -> absl::StatusOr<const Field*> {
    if (a.kind != ExprKind::kColumn) {
      return Unsupported(StrCat(f, "() over an expression (aggregate a column)"));
    }
    ASSIGN_OR_RETURN(int idx, TableColumn(a));
    return &schema_->fields[idx];
  };
  if (e.distinct && f != "count") return Unsupported(StrCat(f, "(DISTINCT ...)"));
  if (f == "count") {
    agg.fn = AggFn::kCount;
    type = SqlType::kInt;
    if (!e.star) {
      if (e.args.size() != 1)
        return SqlError(sqlstate::kUndefinedFunction, "count takes one argument");
      const Expr& a = e.args[0];
      if (a.kind == ExprKind::kConst && !a.value.is_null() && !e.distinct) {
        // count(1): every row.
      } else {
        ASSIGN_OR_RETURN(const Field* col, column_arg(a));
        agg.column = col->name;
        if (e.distinct) agg.fn = AggFn::kCountDistinct;
      }
    }
  } else if (f == "sum" || f == "avg" || f == "min" || f == "max" || f == "median") {
    if (e.args.size() != 1) {
      return SqlError(sqlstate::kUndefinedFunction, StrCat(f, " takes one argument"));
    }
    ASSIGN_OR_RETURN(const Field* col, column_arg(e.args[0]));
    agg.column = col->name;
    SqlType ct = FromColumnType(col->type);
    if (((f == "sum" || f == "avg" || f == "median") && !Numeric(ct)) || IsTypedText(ct)) {
      return SqlError(sqlstate::kUndefinedFunction,
                      StrCat("function ", f, "(", SqlTypeName(ct), ") does not exist"));
    }
    agg.fn = f == "sum"   ? AggFn::kSum
             : f == "avg" ? AggFn::kAvg
             : f == "min" ? AggFn::kMin
             : f == "max" ? AggFn::kMax
                          : AggFn::kMedian;
    type = (f == "min" || f == "max" || f == "sum") ? ct : SqlType::kDouble;
  } else if (f == "percentile_cont") {
    if (e.within_group.size() != 1 || e.args.size() != 1) {
      return SqlError(sqlstate::kSyntaxError,
                      "percentile_cont needs one fraction and WITHIN GROUP (ORDER BY column)");
    }
    ASSIGN_OR_RETURN(Value p, ConstArg(e.args[0], SqlType::kDouble));
    if (p.is_null() || !(p.d >= 0 && p.d <= 1)) {
      return SqlError("22003", "percentile value must be between 0 and 1");
    }
    ASSIGN_OR_RETURN(const Field* col, column_arg(e.within_group[0]));
    if (!Numeric(FromColumnType(col->type))) {
      return SqlError(sqlstate::kUndefinedFunction, "percentile_cont needs a numeric column");
    }
    agg.fn = AggFn::kPercentile;
    agg.percentile = p.d;
    agg.column = col->name;
  } else if (f == "first" || f == "last") {
    if (e.args.size() != 2 || !IsTimeColumn(e.args[1])) {
      return Unsupported(StrCat(f, "(value, ", schema_->time_column,
                                ") is the only form (ordered by the time column)"));
    }
    ASSIGN_OR_RETURN(const Field* col, column_arg(e.args[0]));
    agg.fn = f == "first" ? AggFn::kFirst : AggFn::kLast;
    agg.column = col->name;
    type = FromColumnType(col->type);
  } else {
    return Unsupported(StrCat("the aggregate ", f));
  }
  agg.alias = StrCat("__agg", aggs_.size());
  aggs_.push_back({e, agg, type});
  return AggInput(aggs_.size() - 1);
}

BoundExpr Planner::AggInput(size_t i) {
  // Aggregates follow the bucket and group columns; their inputs are added
  // in FinishSpec, so indices are fixed here by position.
  BoundExpr b;
  b.kind = K::kInput;
  b.input = static_cast<int>(1 + plan_.spec.downsample->group_by.size() + i);
  b.type = aggs_[i].type;
  return b;
}

}  // namespace timestore::sql::planner_internal
