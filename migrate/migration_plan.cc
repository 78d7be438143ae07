#include <algorithm>
#include <set>

#include "common/status_util.h"
#include "common/strings.h"
#include "migrate/migrator_internal.h"

namespace timestore::migrate::internal {

absl::Status Invalid(std::string_view what) {
  return MakeError(absl::StatusCode::kInvalidArgument, "invalid_migration", what);
}

// Expression and plan errors (untagged InvalidArgument, FailedPrecondition)
// as the API's invalid_migration; others (I/O) as they are.
absl::Status Tag(absl::Status s) {
  if (s.ok() || !ErrorCodeOf(s).empty()) return s;
  if (s.code() == absl::StatusCode::kInvalidArgument ||
      s.code() == absl::StatusCode::kFailedPrecondition)
    return Invalid(ToStd(s.message()));
  return s;
}

absl::StatusOr<Plan> MakePlan(const Dataset& ds, const std::vector<Field>& from,
                              const std::string& time_column, uint32_t from_version,
                              const MigrationSpec& spec) {
  Plan plan;
  plan.id = spec.Id();
  plan.time_column = time_column;
  plan.from_fields = from;
  plan.from_version = from_version;
  plan.to_version = from_version + 1;
  struct Col {
    std::string name;
    Expression expr;
  };
  std::vector<Col> cols;
  for (size_t i = 0; i < from.size(); ++i)
    cols.push_back({from[i].name, Expression::Input(static_cast<int>(i), from[i].type)});
  auto find = [&](const std::string& name) -> int {
    for (size_t i = 0; i < cols.size(); ++i)
      if (cols[i].name == name) return static_cast<int>(i);
    return -1;
  };
  auto bindings = [&] {
    std::vector<Expression::Binding> b;
    for (const Col& c : cols) b.push_back({c.name, c.expr.type(), c.expr.node()});
    return b;
  };
  // Columns the sort order or dedup rely on cannot change (segments are
  // sorted by them); the user changes segmentBy first.
  std::set<std::string> keys;
  for (const auto& k : ds.segment_by()) keys.insert(k);
  if (auto d = ds.dedup()) keys.insert(d->keys.begin(), d->keys.end());
  for (const MigrationOp& op : spec.operations) {
    const int at = find(op.column);
    if (at < 0) {
      std::string names;
      for (const Col& c : cols) StrAppend(&names, names.empty() ? "" : ", ", c.name);
      return Invalid(StrCat(op.where, ": dataset \"", ds.slug(), "\" has no column \"", op.column,
                            "\" at this step (columns: ", names, ")"));
    }
    if (op.column == time_column) {
      return Invalid(StrCat(op.where, ": \"", op.column,
                            "\" is the time column, which a migration cannot change"));
    }
    if (keys.contains(op.column)) {
      return Invalid(StrCat(op.where, ": \"", op.column,
                            "\" is a segmentBy or dedup key column; change the dataset's settings "
                            "first (the stored segments are sorted by it)"));
    }
    switch (op.kind) {
      case MigrationOp::Kind::kRename: {
        if (find(op.to) >= 0) {
          return Invalid(StrCat(op.where, ": column \"", op.to, "\" exists already"));
        }
        if (!op.expression.empty()) {
          auto e = Expression::Compile(op.expression, bindings());
          if (!e.ok()) return Invalid(StrCat(op.where, ".transform: ", e.status().message()));
          cols[at].expr = *e;
        }
        cols[at].name = op.to;
        break;
      }
      case MigrationOp::Kind::kTransform: {
        auto e = Expression::Compile(op.expression, bindings());
        if (!e.ok()) return Invalid(StrCat(op.where, ".expression: ", e.status().message()));
        if (op.type) {
          e = Expression::CastTo(*e, *op.type);
          if (!e.ok()) return Invalid(StrCat(op.where, ".type: ", e.status().message()));
        }
        cols[at].expr = *e;
        break;
      }
      case MigrationOp::Kind::kDrop:
        plan.archives.push_back({op.column, cols[at].expr});
        cols.erase(cols.begin() + at);
        break;
    }
  }
  for (const Col& c : cols) {
    plan.to_fields.push_back(Field{c.name, c.expr.type()});
    plan.outputs.push_back(c.expr);
    const int in = c.expr.input_index();
    if (in >= 0) {
      plan.sources.push_back(from[in].name);
      plan.unchanged[from[in].name] = c.name;
    } else {
      plan.sources.push_back("");
    }
  }
  for (const Field& f : from) {
    bool kept = false;
    for (const Field& t : plan.to_fields) kept = kept || t.name == f.name;
    if (!kept) plan.retired.push_back(f.name);
  }
  // The manifest's targetSchema must be what the operations give.
  std::vector<std::string> diffs;
  for (const Field& t : spec.target_schema) {
    auto it = std::find_if(plan.to_fields.begin(), plan.to_fields.end(),
                           [&](const Field& f) { return f.name == t.name; });
    if (it == plan.to_fields.end()) {
      diffs.push_back(StrCat("\"", t.name, "\" is not a column after the operations"));
    } else if (it->type != t.type) {
      diffs.push_back(StrCat("\"", t.name, "\" is ", ColumnTypeName(it->type), ", not ",
                             ColumnTypeName(t.type)));
    }
  }
  for (const Field& f : plan.to_fields) {
    bool listed = false;
    for (const Field& t : spec.target_schema) listed = listed || t.name == f.name;
    if (!listed) {
      diffs.push_back(StrCat("\"", f.name, "\" (", ColumnTypeName(f.type),
                             ") is a column after the operations but not in targetSchema"));
    }
  }
  if (!diffs.empty()) {
    std::string all;
    for (const auto& d : diffs) StrAppend(&all, all.empty() ? "" : "; ", d);
    return Invalid(StrCat("targetSchema does not match the schema the operations give: ", all));
  }
  for (const auto& k : ds.segment_by()) {
    for (size_t i = 0; i < from.size(); ++i)
      if (from[i].name == k) plan.series.emplace_back(k, static_cast<int>(i));
  }
  return plan;
}

}  // namespace timestore::migrate::internal
