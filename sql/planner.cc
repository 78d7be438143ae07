// The Planner's frame: FROM, the select list, ORDER BY and LIMIT, and what
// the engine orders and limits (FinishSpec).
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "sql/catalog.h"
#include "sql/planner_internal.h"

namespace timestore::sql::planner_internal {

absl::StatusOr<Plan> Planner::Run() {
  RETURN_IF_ERROR(ResolveSource());
  aggregate_ = !sel_.group_by.empty() || (sel_.having.has_value());
  for (const SelectTarget& t : sel_.targets)
    if (ContainsAggregate(t.expr)) aggregate_ = true;
  for (const SortItem& o : sel_.order_by)
    if (ContainsAggregate(o.expr)) aggregate_ = true;
  if (sel_.where && ContainsAggregate(*sel_.where)) {
    return SqlError(sqlstate::kGroupingError, "aggregate functions are not allowed in WHERE");
  }
  if (aggregate_ && plan_.source != Plan::Source::kDataset) {
    return Unsupported(ctx_.input_table != nullptr ? "aggregates in computed columns"
                       : plan_.source == Plan::Source::kCatalog
                           ? "aggregates and GROUP BY over catalog tables"
                           : "aggregates without a FROM table");
  }
  if (aggregate_ && !sel_.distinct_on.empty()) return Unsupported("DISTINCT ON with GROUP BY");
  if (plan_.source == Plan::Source::kDataset) {
    plan_.spec.start = std::numeric_limits<int64_t>::min();
    plan_.spec.end = std::numeric_limits<int64_t>::max();
    plan_.spec.precision = Precision::kNanoseconds;
    plan_.spec.columns.emplace();
    // The engine's answer starts with the time column (raw) or the bucket.
    plan_.inputs.push_back({schema_->time_column, SqlType::kTimestamp});
    RETURN_IF_ERROR(LowerWhere());
    if (aggregate_) RETURN_IF_ERROR(PlanGroups());
  } else if (sel_.where) {
    ASSIGN_OR_RETURN(BoundExpr w, Bind(*sel_.where));
    RETURN_IF_ERROR(RequireBool(w, "WHERE"));
    plan_.filter = std::move(w);
  }
  RETURN_IF_ERROR(BindTargets());
  if (sel_.having) {
    ASSIGN_OR_RETURN(BoundExpr h, Bind(*sel_.having));
    RETURN_IF_ERROR(RequireBool(h, "HAVING"));
    plan_.filter = std::move(h);
  }
  RETURN_IF_ERROR(BindOrder());
  plan_.distinct = sel_.distinct && sel_.distinct_on.empty();
  for (const Expr& d : sel_.distinct_on) {
    ASSIGN_OR_RETURN(BoundExpr b, BindOutputRef(d));
    plan_.distinct_on.push_back(std::move(b));
  }
  RETURN_IF_ERROR(PlanLimit());
  if (plan_.source == Plan::Source::kDataset) FinishSpec();
  return std::move(plan_);
}

absl::Status Planner::ResolveSource() {
  if (!sel_.from) {
    plan_.source = Plan::Source::kNone;
    plan_.catalog_rows.rows = 1;
    return absl::OkStatus();
  }
  const TableRef& t = *sel_.from;
  if (ctx_.input_table != nullptr) {
    plan_.source = Plan::Source::kCatalog;
    plan_.table = "the query's answer";
    for (const ResultColumn& c : ctx_.input_table->columns) {
      plan_.inputs.push_back({c.name, FromColumnType(c.type)});
    }
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(std::optional<CatalogTable> cat, ReadCatalogTable(t.schema, t.name, ctx_));
  if (cat) {
    plan_.source = Plan::Source::kCatalog;
    plan_.table = t.name;
    plan_.inputs = std::move(cat->columns);
    plan_.catalog_rows = std::move(cat->rows);
    return absl::OkStatus();
  }
  if (!t.schema.empty() && t.schema != "public") {
    return SqlError("3F000", StrCat("schema \"", t.schema, "\" does not exist"));
  }
  if (ctx_.engine == nullptr) {
    return SqlError(sqlstate::kServiceUnavailable,
                    "the server is starting up (replaying its write-ahead log)");
  }
  std::shared_ptr<Dataset> ds = ctx_.engine->GetDataset(t.name);
  if (ds == nullptr) {
    return SqlError(sqlstate::kUndefinedTable, StrCat("relation \"", t.name, "\" does not exist"));
  }
  schema_ = ds->schema();
  if (schema_ == nullptr) {
    auto empty = std::make_shared<Schema>();
    empty->time_column = "timestamp";
    schema_ = empty;
  }
  plan_.source = Plan::Source::kDataset;
  plan_.table = t.name;
  return absl::OkStatus();
}

absl::StatusOr<int> Planner::TableColumn(const Expr& e) {
  if (!e.qualifier.empty()) {
    const TableRef* t = sel_.from ? &*sel_.from : nullptr;
    bool ok = t != nullptr && (e.qualifier == t->name || e.qualifier == t->alias);
    if (!ok) {
      return SqlError(sqlstate::kUndefinedTable,
                      StrCat("missing FROM-clause entry for table \"", e.qualifier, "\""));
    }
  }
  if (plan_.source == Plan::Source::kDataset) {
    int i = schema_->IndexOf(e.name);
    if (i < 0) {
      return WithPosition(
          SqlError(sqlstate::kUndefinedColumn, StrCat("column \"", e.name, "\" does not exist")),
          e.location + 1);
    }
    return i;
  }
  for (size_t i = 0; i < plan_.inputs.size(); ++i)
    if (plan_.inputs[i].name == e.name) return static_cast<int>(i);
  return WithPosition(
      SqlError(sqlstate::kUndefinedColumn, StrCat("column \"", e.name, "\" does not exist")),
      e.location + 1);
}

bool Planner::IsTimeColumn(const Expr& e) {
  return plan_.source == Plan::Source::kDataset && e.kind == ExprKind::kColumn &&
         e.name == schema_->time_column && TableColumn(e).ok();
}

int Planner::RawInput(int schema_index) {
  const Field& f = schema_->fields[schema_index];
  if (f.name == schema_->time_column) return 0;
  for (size_t i = 1; i < plan_.inputs.size(); ++i)
    if (plan_.inputs[i].name == f.name) return static_cast<int>(i);
  plan_.inputs.push_back({f.name, FromColumnType(f.type)});
  plan_.spec.columns->push_back(f.name);
  return static_cast<int>(plan_.inputs.size()) - 1;
}

absl::Status Planner::BindTargets() {
  for (const SelectTarget& t : sel_.targets) {
    if (t.expr.kind == ExprKind::kStar) {
      if (aggregate_) return SqlError(sqlstate::kGroupingError, "SELECT * with GROUP BY");
      if (!t.expr.qualifier.empty() && sel_.from && t.expr.qualifier != sel_.from->name &&
          t.expr.qualifier != sel_.from->alias) {
        return SqlError(sqlstate::kUndefinedTable,
                        StrCat("missing FROM-clause entry for table \"", t.expr.qualifier, "\""));
      }
      if (plan_.source == Plan::Source::kNone) {
        return SqlError(sqlstate::kSyntaxError, "SELECT * with no tables specified is not valid");
      }
      if (plan_.source == Plan::Source::kDataset) {
        // The time column first, then the others in schema order (the JSON API's raw order).
        int ti = schema_->time_index();
        if (ti >= 0) AddOutput(schema_->time_column, InputRef(RawInput(ti)));
        for (size_t i = 0; i < schema_->fields.size(); ++i) {
          if (static_cast<int>(i) == ti) continue;
          AddOutput(schema_->fields[i].name, InputRef(RawInput(static_cast<int>(i))));
        }
      } else {
        for (size_t i = 0; i < plan_.inputs.size(); ++i) {
          AddOutput(plan_.inputs[i].name, InputRef(static_cast<int>(i)));
        }
      }
      continue;
    }
    ASSIGN_OR_RETURN(BoundExpr b, Bind(t.expr));
    if (b.type == SqlType::kUnknown) {
      RETURN_IF_ERROR(Coerce(&b, SqlType::kText));
      b.type = SqlType::kText;
    }
    AddOutput(t.alias.empty() ? DefaultColumnName(t.expr) : t.alias, std::move(b));
  }
  return absl::OkStatus();
}

BoundExpr Planner::InputRef(int i) {
  BoundExpr b;
  b.kind = K::kInput;
  b.input = i;
  b.type = plan_.inputs[i].type;
  return b;
}

void Planner::AddOutput(std::string name, BoundExpr e) {
  plan_.outputs.push_back({std::move(name), std::move(e)});
}

absl::StatusOr<BoundExpr> Planner::BindOutputRef(const Expr& e) {
  if (e.kind == ExprKind::kConst && e.value.type == SqlType::kInt) {
    int64_t n = e.value.i;
    if (n < 1 || n > static_cast<int64_t>(plan_.outputs.size())) {
      return SqlError("42P10", StrCat("ORDER BY position ", n, " is not in select list"));
    }
    return plan_.outputs[n - 1].expr;
  }
  if (e.kind == ExprKind::kColumn && e.qualifier.empty()) {
    const OutputColumn* match = nullptr;
    for (const OutputColumn& o : plan_.outputs) {
      if (o.name != e.name) continue;
      if (match != nullptr && !(o.expr.kind == K::kInput && match->expr.kind == K::kInput &&
                                o.expr.input == match->expr.input)) {
        return SqlError(sqlstate::kAmbiguousColumn,
                        StrCat("ORDER BY \"", e.name, "\" is ambiguous"));
      }
      match = &o;
    }
    if (match != nullptr) return match->expr;
  }
  ASSIGN_OR_RETURN(BoundExpr b, Bind(e));
  if (plan_.distinct) {
    bool found = false;
    for (const OutputColumn& o : plan_.outputs)
      if (o.expr.kind == K::kInput && b.kind == K::kInput && o.expr.input == b.input) found = true;
    if (!found && b.kind != K::kConst) {
      return SqlError("42P10",
                      "for SELECT DISTINCT, ORDER BY expressions must appear in select list");
    }
  }
  return b;
}

absl::Status Planner::BindOrder() {
  plan_.distinct = sel_.distinct && sel_.distinct_on.empty();
  for (const SortItem& s : sel_.order_by) {
    ASSIGN_OR_RETURN(BoundExpr b, BindOutputRef(s.expr));
    SortKey k;
    k.expr = std::move(b);
    k.desc = s.desc;
    k.nulls_first = s.nulls_first.value_or(s.desc);
    plan_.order.push_back(std::move(k));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<uint64_t>> Planner::Count(const std::optional<Expr>& e,
                                                       std::string_view what,
                                                       std::string_view state) {
  if (!e) return std::nullopt;
  ASSIGN_OR_RETURN(std::optional<BoundExpr> c, ConstantOf(*e));
  if (!c) return SqlError("42P10", StrCat("argument of ", what, " must not contain variables"));
  RETURN_IF_ERROR(Coerce(&*c, SqlType::kInt));
  if (c->value.is_null()) return std::nullopt;  // LIMIT ALL / NULL
  Value v = c->value;
  if (v.type == SqlType::kDouble) {
    ASSIGN_OR_RETURN(v, CastValue(v, SqlType::kInt));
  }
  if (v.type != SqlType::kInt) {
    return SqlError(sqlstate::kDatatypeMismatch, StrCat("argument of ", what, " must be a number"));
  }
  if (v.i < 0) return SqlError(state, StrCat(what, " must not be negative"));
  return static_cast<uint64_t>(v.i);
}

absl::Status Planner::PlanLimit() {
  ASSIGN_OR_RETURN(plan_.limit, Count(sel_.limit, "LIMIT", "2201W"));
  ASSIGN_OR_RETURN(std::optional<uint64_t> off, Count(sel_.offset, "OFFSET", "2201X"));
  plan_.offset = off.value_or(0);
  return absl::OkStatus();
}

void Planner::FinishSpec() {
  QuerySpec& s = plan_.spec;
  if (s.downsample) {
    for (const AggSlot& a : aggs_) {
      s.downsample->aggregations.push_back(a.agg);
      plan_.inputs.push_back({a.agg.alias, a.type});
      if (a.agg.fn == AggFn::kCount || a.agg.fn == AggFn::kCountDistinct) {
        plan_.count_inputs.push_back(static_cast<int>(plan_.inputs.size()) - 1);
      }
    }
    if (aggs_.empty()) {
      // GROUP BY without aggregates (SELECT DISTINCT-like): count rows.
      Aggregation c;
      c.fn = AggFn::kCount;
      c.alias = "__groups";
      s.downsample->aggregations.push_back(c);
      plan_.inputs.push_back({c.alias, SqlType::kInt});
    }
  }
  // Can the engine's order stand for the ORDER BY? Raw: time, either way.
  // Aggregated: the bucket either way, then group columns ascending (nulls
  // last), as the engine sorts them.
  bool order_ok = false;
  if (plan_.order.empty()) {
    order_ok = true;
  } else if (!s.downsample) {
    const SortKey& k = plan_.order[0];
    order_ok = plan_.order.size() == 1 && k.expr.kind == K::kInput && k.expr.input == 0;
    if (order_ok) s.descending = k.desc;
  } else {
    size_t next_group = 1;
    size_t i = 0;
    if (has_bucket_ && plan_.order[0].expr.kind == K::kInput && plan_.order[0].expr.input == 0) {
      s.descending = plan_.order[0].desc;
      i = 1;
    } else if (has_bucket_) {
      next_group = static_cast<size_t>(-1);  // groups are sorted within buckets only
    }
    order_ok = next_group != static_cast<size_t>(-1);
    for (; order_ok && i < plan_.order.size(); ++i) {
      const SortKey& k = plan_.order[i];
      if (k.expr.kind != K::kInput || k.expr.input != static_cast<int>(next_group) || k.desc ||
          k.nulls_first) {
        order_ok = false;
      }
      ++next_group;
    }
  }
  plan_.order_pushed = order_ok;
  const bool top_ops = plan_.filter.has_value() || plan_.distinct || !plan_.distinct_on.empty();
  if (order_ok && !top_ops && !(plan_.global_aggregate && s.downsample)) {
    uint64_t want =
        plan_.limit ? std::min<uint64_t>(*plan_.limit, ctx_.max_rows + 1) : ctx_.max_rows + 1;
    s.limit = SaturatingAdd(static_cast<int64_t>(want), static_cast<int64_t>(plan_.offset));
    plan_.limit_pushed = true;
    if (plan_.order_pushed) plan_.order.clear();
  } else {
    // Everything the statement could return, and one more row to tell
    // that it would return too many.
    s.limit =
        SaturatingAdd(static_cast<int64_t>(ctx_.max_rows), 1 + static_cast<int64_t>(plan_.offset));
    if (order_ok && !plan_.filter && !plan_.distinct && plan_.distinct_on.empty()) {
      plan_.order.clear();
    }
  }
}

}  // namespace timestore::sql::planner_internal

namespace timestore::sql {

absl::StatusOr<Plan> PlanSelect(const Select& select, const PlanContext& ctx) {
  planner_internal::Planner p(select, ctx);
  return p.Run();
}

}  // namespace timestore::sql
