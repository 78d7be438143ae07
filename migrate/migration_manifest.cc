#include "migrate/migration_manifest.h"

#include <set>

#include "absl/strings/str_format.h"
#include "common/checksum.h"
#include "common/json_writer.h"
#include "common/strings.h"
#include "yaml-cpp/yaml.h"

namespace timestore::migrate {
namespace {

// Errors name the source, the line (1-based) and the key path.
class Reader {
 public:
  explicit Reader(std::string_view source) : source_(source) {}

  absl::Status Error(const YAML::Node& at, std::string_view path, std::string_view what) const {
    std::string where(source_);
    if (at.IsDefined() && at.Mark().line >= 0) StrAppend(&where, ":", at.Mark().line + 1);
    return absl::InvalidArgumentError(StrCat(where, ": ", path, ": ", what));
  }

  absl::StatusOr<std::string> String(const YAML::Node& parent, std::string_view path,
                                     const char* key, bool required) const {
    const YAML::Node n = parent[key];
    const std::string full = path.empty() ? std::string(key) : StrCat(path, ".", key);
    if (!n.IsDefined() || n.IsNull()) {
      if (required) return Error(parent, full, "is required");
      return std::string();
    }
    if (!n.IsScalar()) return Error(n, full, "must be a string");
    std::string v = n.as<std::string>();
    if (required && v.empty()) return Error(n, full, "must not be empty");
    return v;
  }

  // Keys of `map` outside `known` are errors (a typo must not be ignored).
  absl::Status OnlyKeys(const YAML::Node& map, std::string_view path,
                        std::initializer_list<std::string_view> known) const {
    for (const auto& kv : map) {
      const std::string key = kv.first.as<std::string>();
      bool ok = false;
      for (std::string_view k : known) ok = ok || k == key;
      if (ok) continue;
      std::string list;
      for (std::string_view k : known) StrAppend(&list, list.empty() ? "" : ", ", k);
      return Error(kv.first, path.empty() ? key : StrCat(path, ".", key),
                   StrCat("unknown key (expected one of: ", list, ")"));
    }
    return absl::OkStatus();
  }

 private:
  std::string source_;
};

std::string OpWhere(std::string_view path, const YAML::Node& n) {
  return StrCat(path, " (line ", n.Mark().line + 1, ")");
}

}  // namespace

absl::StatusOr<MigrationSpec> ParseMigrationManifest(std::string_view text,
                                                     std::string_view source) {
  Reader r(source);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        StrCat(source, ":", e.mark.line + 1, ": not valid YAML or JSON: ", e.msg));
  }
  if (!root.IsMap()) return r.Error(root, "(top level)", "must be a mapping");
  try {
    MigrationSpec spec;
    if (auto s = r.OnlyKeys(root, "",
                            {"dataset", "governance", "targetSchema", "operations", "archiveDir"});
        !s.ok())
      return s;
    auto dataset = r.String(root, "", "dataset", true);
    if (!dataset.ok()) return dataset.status();
    spec.dataset = *dataset;
    auto archive = r.String(root, "", "archiveDir", false);
    if (!archive.ok()) return archive.status();
    spec.archive_dir = *archive;

    const YAML::Node gov = root["governance"];
    if (!gov.IsDefined() || gov.IsNull()) return r.Error(root, "governance", "is required");
    if (!gov.IsMap())
      return r.Error(gov, "governance", "must be a mapping with ticketId and approvedBy");
    if (auto s = r.OnlyKeys(gov, "governance", {"ticketId", "approvedBy"}); !s.ok()) return s;
    auto ticket = r.String(gov, "governance", "ticketId", true);
    if (!ticket.ok()) return ticket.status();
    auto approver = r.String(gov, "governance", "approvedBy", true);
    if (!approver.ok()) return approver.status();
    spec.ticket_id = *ticket;
    spec.approved_by = *approver;

    const YAML::Node target = root["targetSchema"];
    if (!target.IsDefined() || target.IsNull())
      return r.Error(root, "targetSchema", "is required (every column after the migration)");
    if (!target.IsMap() || target.size() == 0)
      return r.Error(target, "targetSchema", "must be a mapping of column name to type");
    std::set<std::string> seen;
    for (const auto& kv : target) {
      const std::string name = kv.first.as<std::string>();
      const std::string path = StrCat("targetSchema.", name);
      if (auto s = ValidateColumnName(name); !s.ok())
        return r.Error(kv.first, path, ToStd(s.message()));
      if (!seen.insert(name).second) return r.Error(kv.first, path, "is listed twice");
      if (!kv.second.IsScalar())
        return r.Error(kv.second, path,
                       "must be a type: timestamp, double, integer, string or boolean");
      auto type = ParseColumnType(kv.second.as<std::string>());
      if (!type)
        return r.Error(kv.second, path,
                       StrCat("unknown type \"", kv.second.as<std::string>(),
                              "\" (timestamp, double, integer, string or boolean)"));
      spec.target_schema.push_back(Field{name, *type});
    }

    const YAML::Node ops = root["operations"];
    if (!ops.IsDefined() || ops.IsNull()) return r.Error(root, "operations", "is required");
    if (!ops.IsSequence() || ops.size() == 0)
      return r.Error(ops, "operations", "must be a non-empty list of rename, transform or drop");
    for (size_t i = 0; i < ops.size(); ++i) {
      const YAML::Node item = ops[i];
      const std::string path = StrCat("operations[", i, "]");
      if (!item.IsMap() || item.size() != 1)
        return r.Error(item, path,
                       "must be a mapping with exactly one key: rename, transform or drop");
      const std::string kind = item.begin()->first.as<std::string>();
      const YAML::Node body = item.begin()->second;
      const std::string bpath = StrCat(path, ".", kind);
      if (!body.IsMap()) return r.Error(body.IsDefined() ? body : item, bpath, "must be a mapping");
      MigrationOp op;
      op.where = OpWhere(bpath, body);
      if (kind == "rename") {
        op.kind = MigrationOp::Kind::kRename;
        if (auto s = r.OnlyKeys(body, bpath, {"from", "to", "transform"}); !s.ok()) return s;
        auto from = r.String(body, bpath, "from", true);
        if (!from.ok()) return from.status();
        auto to = r.String(body, bpath, "to", true);
        if (!to.ok()) return to.status();
        auto expr = r.String(body, bpath, "transform", false);
        if (!expr.ok()) return expr.status();
        if (auto s = ValidateColumnName(*to); !s.ok())
          return r.Error(body["to"], StrCat(bpath, ".to"), ToStd(s.message()));
        op.column = *from;
        op.to = *to;
        op.expression = *expr;
      } else if (kind == "transform") {
        op.kind = MigrationOp::Kind::kTransform;
        if (auto s = r.OnlyKeys(body, bpath, {"column", "expression", "type"}); !s.ok()) return s;
        auto col = r.String(body, bpath, "column", true);
        if (!col.ok()) return col.status();
        auto expr = r.String(body, bpath, "expression", true);
        if (!expr.ok()) return expr.status();
        auto type = r.String(body, bpath, "type", false);
        if (!type.ok()) return type.status();
        op.column = *col;
        op.expression = *expr;
        if (!type->empty()) {
          op.type = ParseColumnType(*type);
          if (!op.type)
            return r.Error(body["type"], StrCat(bpath, ".type"),
                           StrCat("unknown type \"", *type,
                                  "\" (timestamp, double, integer, string or boolean)"));
        }
      } else if (kind == "drop") {
        op.kind = MigrationOp::Kind::kDrop;
        if (auto s = r.OnlyKeys(body, bpath, {"column"}); !s.ok()) return s;
        auto col = r.String(body, bpath, "column", true);
        if (!col.ok()) return col.status();
        op.column = *col;
      } else {
        return r.Error(item.begin()->first, path,
                       StrCat("unknown operation \"", kind, "\" (rename, transform or drop)"));
      }
      spec.operations.push_back(std::move(op));
    }
    return spec;
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(StrCat(source, ":", e.mark.line + 1, ": ", e.msg));
  }
}

std::string MigrationSpec::ToJson() const {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("dataset").String(dataset);
  w.Key("governance").BeginObject();
  w.Key("ticketId").String(ticket_id).Key("approvedBy").String(approved_by);
  w.EndObject();
  w.Key("targetSchema").BeginObject();
  for (const Field& f : target_schema) w.Key(f.name).String(ColumnTypeName(f.type));
  w.EndObject();
  w.Key("operations").BeginArray();
  for (const MigrationOp& op : operations) {
    w.BeginObject();
    switch (op.kind) {
      case MigrationOp::Kind::kRename:
        w.Key("rename").BeginObject().Key("from").String(op.column).Key("to").String(op.to);
        if (!op.expression.empty()) w.Key("transform").String(op.expression);
        w.EndObject();
        break;
      case MigrationOp::Kind::kTransform:
        w.Key("transform").BeginObject().Key("column").String(op.column);
        w.Key("expression").String(op.expression);
        if (op.type) w.Key("type").String(ColumnTypeName(*op.type));
        w.EndObject();
        break;
      case MigrationOp::Kind::kDrop:
        w.Key("drop").BeginObject().Key("column").String(op.column).EndObject();
        break;
    }
    w.EndObject();
  }
  w.EndArray();
  if (!archive_dir.empty()) w.Key("archiveDir").String(archive_dir);
  w.EndObject();
  return out;
}

std::string MigrationSpec::Id() const {
  MigrationSpec key = *this;
  key.archive_dir.clear();
  return absl::StrFormat("%016x", Checksum64(key.ToJson()));
}

}  // namespace timestore::migrate
