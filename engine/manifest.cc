#include "engine/manifest.h"

#include <simdjson.h>

#include <algorithm>

#include "absl/strings/str_format.h"
#include "common/json_writer.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "wal/log_reader.h"

namespace timestore {
namespace {

std::string ManifestFileName(uint64_t n) { return absl::StrFormat("MANIFEST-%06d", n); }

absl::Status Corrupt(std::string_view why) {
  return absl::DataLossError(StrCat("malformed manifest edit: ", why));
}

void WriteSegments(JsonWriter& w, const std::vector<SegmentRecord>& segs) {
  w.BeginArray();
  for (const SegmentRecord& r : segs) {
    w.BeginObject();
    w.Key("segment").String(DatasetIdString(r.id));
    w.Key("partitionStart").Int(r.partition_start);
    w.Key("rows").Uint(r.rows);
    w.Key("bytes").Uint(r.bytes);
    w.Key("minTs").Int(r.min_ts);
    w.Key("maxTs").Int(r.max_ts);
    w.Key("level").Uint(r.level);
    if (r.remote()) {
      w.Key("target").String(r.target);
      w.Key("key").String(r.key);
    }
    w.EndObject();
  }
  w.EndArray();
}

absl::Status ReadSegments(simdjson::dom::array segs, std::vector<SegmentRecord>* out) {
  for (simdjson::dom::element s : segs) {
    SegmentRecord r;
    std::string_view sid;
    if (s["segment"].get(sid) || !ParseInt(sid, &r.id, 16) ||
        s["partitionStart"].get(r.partition_start) || s["rows"].get(r.rows) ||
        s["bytes"].get(r.bytes) || s["minTs"].get(r.min_ts) || s["maxTs"].get(r.max_ts))
      return Corrupt("bad segment entry");
    uint64_t level = 0;
    if (s["level"].get(level)) return Corrupt("bad segment level");
    r.level = static_cast<uint32_t>(level);
    std::string_view target, key;
    if (!s["target"].get(target)) {
      if (s["key"].get(key) || target.empty() || key.empty())
        return Corrupt("bad remote segment entry");
      r.target = std::string(target);
      r.key = std::string(key);
    }
    out->push_back(r);
  }
  return absl::OkStatus();
}

void WriteRetentionValue(JsonWriter& w, const std::optional<RetentionValue>& v) {
  if (!v) {
    w.Null();
    return;
  }
  w.BeginObject().Key("ns").Int(v->ns).Key("raw").String(v->raw).EndObject();
}

absl::Status ReadRetentionValue(simdjson::dom::element root, std::string_view key,
                                std::optional<RetentionValue>* out) {
  simdjson::dom::element v;
  if (root[key].get(v) || v.is_null()) return absl::OkStatus();
  RetentionValue r;
  std::string_view raw;
  if (v["ns"].get(r.ns) || v["raw"].get(raw)) return Corrupt(StrCat("bad ", key));
  r.raw = std::string(raw);
  *out = std::move(r);
  return absl::OkStatus();
}

void WriteFields(JsonWriter& w, const std::vector<Field>& fields) {
  w.BeginArray();
  for (const Field& f : fields) {
    w.BeginObject().Key("name").String(f.name).Key("type").String(ColumnTypeName(f.type));
    w.EndObject();
  }
  w.EndArray();
}

absl::Status ReadFields(simdjson::dom::array fields, std::vector<Field>* out) {
  for (simdjson::dom::element f : fields) {
    std::string_view name, type;
    if (f["name"].get(name) || f["type"].get(type)) return Corrupt("bad field");
    auto t = ParseColumnType(type);
    if (!t) return Corrupt(StrCat("unknown column type ", type));
    out->push_back(Field{std::string(name), *t});
  }
  return absl::OkStatus();
}

}  // namespace

bool ReplaceInList(std::vector<SegmentRecord>* list, const std::vector<uint64_t>& remove,
                   const std::vector<SegmentRecord>& add) {
  size_t pos = list->size();
  size_t found = 0;
  std::vector<SegmentRecord> kept;
  kept.reserve(list->size() + add.size());
  for (const SegmentRecord& r : *list) {
    if (std::find(remove.begin(), remove.end(), r.id) != remove.end()) {
      ++found;
      pos = kept.size();
      continue;
    }
    kept.push_back(r);
  }
  if (found != remove.size()) return false;
  kept.insert(kept.begin() + static_cast<std::ptrdiff_t>(pos), add.begin(), add.end());
  *list = std::move(kept);
  return true;
}

bool TierInList(std::vector<SegmentRecord>* list, const std::vector<TieredSegment>& tiered) {
  for (const TieredSegment& t : tiered) {
    auto it = std::find_if(list->begin(), list->end(),
                           [&](const SegmentRecord& r) { return r.id == t.id; });
    if (it == list->end()) return false;
  }
  for (const TieredSegment& t : tiered) {
    auto it = std::find_if(list->begin(), list->end(),
                           [&](const SegmentRecord& r) { return r.id == t.id; });
    it->target = t.target;
    it->key = t.key;
  }
  return true;
}

std::string DatasetIdString(uint64_t id) { return absl::StrFormat("%016x", id); }

std::string EncodeManifestEdit(const ManifestEdit& e) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  switch (e.op) {
    case ManifestEdit::Op::kCreateDataset:
      w.Key("op").String("create_dataset");
      w.Key("id").String(DatasetIdString(e.dataset_id));
      w.Key("slug").String(e.slug);
      w.Key("timeColumn").String(e.time_column);
      w.Key("createdAt").Int(e.created_ns);
      w.Key("partitionInterval").Int(e.partition_interval_ns);
      break;
    case ManifestEdit::Op::kAddSegments:
      w.Key("op").String("add_segments");
      w.Key("id").String(DatasetIdString(e.dataset_id));
      w.Key("sealedThroughSeq").Uint(e.sealed_through_seq);
      w.Key("segments");
      WriteSegments(w, e.segments);
      w.Key("idempotency").BeginArray();
      for (const IdempotencyInfo& k : e.keys) {
        w.BeginObject();
        w.Key("key").String(k.key);
        w.Key("hash").String(DatasetIdString(k.request_hash));
        w.Key("createdAt").Int(k.created_ns);
        w.Key("rows").Uint(k.answer.rows);
        w.Key("schemaVersion").Uint(k.answer.schema_version);
        w.Key("watermark");
        if (k.answer.watermark) {
          w.Int(*k.answer.watermark);
        } else {
          w.Null();
        }
        w.EndObject();
      }
      w.EndArray();
      break;
    case ManifestEdit::Op::kSetSettings:
      w.Key("op").String("set_settings");
      w.Key("id").String(DatasetIdString(e.dataset_id));
      w.Key("partitionInterval").Int(e.partition_interval_ns);
      w.Key("segmentBy").BeginArray();
      for (const auto& c : e.segment_by) w.String(c);
      w.EndArray();
      w.Key("dedup");
      if (e.dedup) {
        w.BeginObject().Key("keys").BeginArray();
        for (const auto& k : e.dedup->keys) w.String(k);
        w.EndArray().Key("keep").String(e.dedup->keep_last ? "last" : "first").EndObject();
      } else {
        w.Null();
      }
      w.Key("segmentBySet").Bool(e.segment_by_set);
      w.Key("inferredSegmentBy").BeginArray();
      for (const auto& c : e.inferred_segment_by) w.String(c);
      w.EndArray();
      // Written only when set: manifests from before they existed read alike.
      if (!e.display_name.empty()) w.Key("displayName").String(e.display_name);
      if (!e.description.empty()) w.Key("description").String(e.description);
      if (!e.iam.empty()) {
        w.Key("iam").BeginObject().Key("readScopes").BeginArray();
        for (const auto& s : e.iam.read_scopes) w.String(s);
        w.EndArray().Key("writeScopes").BeginArray();
        for (const auto& s : e.iam.write_scopes) w.String(s);
        w.EndArray().EndObject();
      }
      break;
    case ManifestEdit::Op::kSetRetention:
      w.Key("op").String("set_retention");
      w.Key("id").String(DatasetIdString(e.dataset_id));
      w.Key("deleteAfter");
      WriteRetentionValue(w, e.retention.delete_after);
      w.Key("coldAfter");
      WriteRetentionValue(w, e.retention.cold_after);
      break;
    case ManifestEdit::Op::kReplaceSegments:
      w.Key("op").String("replace_segments");
      w.Key("id").String(DatasetIdString(e.dataset_id));
      w.Key("remove").BeginArray();
      for (uint64_t id : e.remove) w.String(DatasetIdString(id));
      w.EndArray();
      w.Key("add");
      WriteSegments(w, e.segments);
      break;
    case ManifestEdit::Op::kDropDataset:
      w.Key("op").String("drop_dataset");
      w.Key("id").String(DatasetIdString(e.dataset_id));
      break;
    case ManifestEdit::Op::kTierSegments:
      w.Key("op").String("tier_segments");
      w.Key("id").String(DatasetIdString(e.dataset_id));
      w.Key("segments").BeginArray();
      for (const TieredSegment& t : e.tiered) {
        w.BeginObject();
        w.Key("segment").String(DatasetIdString(t.id));
        w.Key("target").String(t.target);
        w.Key("key").String(t.key);
        w.EndObject();
      }
      w.EndArray();
      break;
    case ManifestEdit::Op::kSetStorageTarget:
      w.Key("op").String("set_storage_target");
      w.Key("id").String(DatasetIdString(e.dataset_id));
      w.Key("target").String(e.storage_target);
      break;
    case ManifestEdit::Op::kMigrateSchema: {
      w.Key("op").String("migrate_schema");
      w.Key("id").String(DatasetIdString(e.dataset_id));
      w.Key("phase").String(e.phase);
      const std::string mid = e.migration != nullptr ? e.migration->id : std::string();
      if (e.phase == "commit") {
        w.Key("migration").String(mid);
        w.Key("committedAt").Int(e.committed_ns);
        break;
      }
      w.Key("version").Uint(e.version);
      w.Key("fields");
      WriteFields(w, e.fields);
      if (e.phase != "begin" || e.migration == nullptr) {
        w.Key("migration").String(mid);
        break;
      }
      const SchemaMigration& m = *e.migration;
      w.Key("migration").BeginObject();
      w.Key("id").String(m.id);
      w.Key("fromVersion").Uint(m.from_version);
      w.Key("toVersion").Uint(m.to_version);
      w.Key("fromFields");
      WriteFields(w, m.from_fields);
      w.Key("sources").BeginArray();
      for (const auto& n : m.sources) w.String(n);
      w.EndArray();
      w.Key("retired").BeginArray();
      for (const auto& n : m.retired) w.String(n);
      w.EndArray();
      w.Key("ticketId").String(m.ticket_id);
      w.Key("approvedBy").String(m.approved_by);
      w.Key("operations").String(m.operations_json);
      w.Key("begunAt").Int(m.begun_ns);
      w.EndObject();
      break;
    }
    case ManifestEdit::Op::kSetSchema:
      w.Key("op").String("set_schema");
      w.Key("id").String(DatasetIdString(e.dataset_id));
      w.Key("version").Uint(e.version);
      w.Key("fields");
      WriteFields(w, e.fields);
      break;
  }
  w.EndObject();
  return out;
}

absl::StatusOr<ManifestEdit> DecodeManifestEdit(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json.data(), json.size()).get(root)) return Corrupt("not JSON");
  std::string_view op, id;
  if (root["op"].get(op) || root["id"].get(id)) return Corrupt("missing op or id");
  ManifestEdit e;
  if (!ParseInt(id, &e.dataset_id, 16)) return Corrupt("bad dataset id");
  if (op == "create_dataset") {
    e.op = ManifestEdit::Op::kCreateDataset;
    std::string_view slug, tc;
    if (root["slug"].get(slug) || root["timeColumn"].get(tc) ||
        root["createdAt"].get(e.created_ns) ||
        root["partitionInterval"].get(e.partition_interval_ns))
      return Corrupt("create_dataset lacks a field");
    e.slug = std::string(slug);
    e.time_column = std::string(tc);
  } else if (op == "set_schema") {
    e.op = ManifestEdit::Op::kSetSchema;
    uint64_t version;
    simdjson::dom::array fields;
    if (root["version"].get(version) || root["fields"].get(fields))
      return Corrupt("set_schema lacks a field");
    e.version = static_cast<uint32_t>(version);
    RETURN_IF_ERROR(ReadFields(fields, &e.fields));
  } else if (op == "set_settings") {
    e.op = ManifestEdit::Op::kSetSettings;
    simdjson::dom::array by;
    if (root["partitionInterval"].get(e.partition_interval_ns) || root["segmentBy"].get(by))
      return Corrupt("set_settings lacks a field");
    for (simdjson::dom::element c : by) {
      std::string_view name;
      if (c.get(name)) return Corrupt("bad segmentBy entry");
      e.segment_by.emplace_back(name);
    }
    bool set = false;
    e.segment_by_set = root["segmentBySet"].get(set) ? !e.segment_by.empty() : set;
    simdjson::dom::array inferred;
    if (!root["inferredSegmentBy"].get(inferred)) {
      for (simdjson::dom::element c : inferred) {
        std::string_view name;
        if (c.get(name)) return Corrupt("bad inferredSegmentBy entry");
        e.inferred_segment_by.emplace_back(name);
      }
    }
    std::string_view text;
    if (!root["displayName"].get(text)) e.display_name = std::string(text);
    if (!root["description"].get(text)) e.description = std::string(text);
    simdjson::dom::object iam;
    if (!root["iam"].get(iam)) {
      for (auto [member, list] :
           {std::pair{"readScopes", &e.iam.read_scopes}, {"writeScopes", &e.iam.write_scopes}}) {
        simdjson::dom::array scopes;
        if (iam[member].get(scopes)) return Corrupt("bad iam");
        for (simdjson::dom::element scope : scopes) {
          std::string_view name;
          if (scope.get(name)) return Corrupt("bad iam scope");
          list->emplace_back(name);
        }
      }
    }
    simdjson::dom::element dedup;
    if (!root["dedup"].get(dedup) && !dedup.is_null()) {
      simdjson::dom::array keys;
      std::string_view keep;
      if (dedup["keys"].get(keys) || dedup["keep"].get(keep)) return Corrupt("bad dedup");
      DedupSettings d;
      for (simdjson::dom::element k : keys) {
        std::string_view name;
        if (k.get(name)) return Corrupt("bad dedup key");
        d.keys.emplace_back(name);
      }
      d.keep_last = keep != "first";
      e.dedup = std::move(d);
    }
  } else if (op == "set_retention") {
    e.op = ManifestEdit::Op::kSetRetention;
    RETURN_IF_ERROR(ReadRetentionValue(root, "deleteAfter", &e.retention.delete_after));
    RETURN_IF_ERROR(ReadRetentionValue(root, "coldAfter", &e.retention.cold_after));
  } else if (op == "replace_segments") {
    e.op = ManifestEdit::Op::kReplaceSegments;
    simdjson::dom::array remove, add;
    if (root["remove"].get(remove) || root["add"].get(add))
      return Corrupt("replace_segments lacks a field");
    for (simdjson::dom::element r : remove) {
      std::string_view sid;
      uint64_t id = 0;
      if (r.get(sid) || !ParseInt(sid, &id, 16)) return Corrupt("bad segment id in remove");
      e.remove.push_back(id);
    }
    RETURN_IF_ERROR(ReadSegments(add, &e.segments));
  } else if (op == "migrate_schema") {
    e.op = ManifestEdit::Op::kMigrateSchema;
    std::string_view phase;
    if (root["phase"].get(phase)) return Corrupt("migrate_schema lacks its phase");
    e.phase = std::string(phase);
    auto m = std::make_shared<SchemaMigration>();
    if (e.phase == "commit") {
      std::string_view mid;
      if (root["migration"].get(mid) || root["committedAt"].get(e.committed_ns))
        return Corrupt("migrate_schema commit lacks a field");
      m->id = std::string(mid);
    } else if (e.phase == "begin" || e.phase == "rollback") {
      uint64_t version;
      simdjson::dom::array fields;
      if (root["version"].get(version) || root["fields"].get(fields))
        return Corrupt("migrate_schema lacks version or fields");
      e.version = static_cast<uint32_t>(version);
      RETURN_IF_ERROR(ReadFields(fields, &e.fields));
      if (e.phase == "rollback") {
        std::string_view mid;
        if (root["migration"].get(mid)) return Corrupt("migrate_schema rollback lacks migration");
        m->id = std::string(mid);
      } else {
        simdjson::dom::object mo;
        std::string_view mid, ticket, approver, ops;
        uint64_t from = 0, to = 0;
        simdjson::dom::array from_fields, sources, retired;
        if (root["migration"].get(mo) || mo["id"].get(mid) || mo["fromVersion"].get(from) ||
            mo["toVersion"].get(to) || mo["fromFields"].get(from_fields) ||
            mo["sources"].get(sources) || mo["retired"].get(retired) ||
            mo["ticketId"].get(ticket) || mo["approvedBy"].get(approver) ||
            mo["operations"].get(ops) || mo["begunAt"].get(m->begun_ns))
          return Corrupt("migrate_schema begin lacks a migration field");
        m->id = std::string(mid);
        m->from_version = static_cast<uint32_t>(from);
        m->to_version = static_cast<uint32_t>(to);
        RETURN_IF_ERROR(ReadFields(from_fields, &m->from_fields));
        for (simdjson::dom::element n : sources) {
          std::string_view v;
          if (n.get(v)) return Corrupt("bad migration source");
          m->sources.emplace_back(v);
        }
        for (simdjson::dom::element n : retired) {
          std::string_view v;
          if (n.get(v)) return Corrupt("bad retired column");
          m->retired.emplace_back(v);
        }
        m->ticket_id = std::string(ticket);
        m->approved_by = std::string(approver);
        m->operations_json = std::string(ops);
      }
    } else {
      return Corrupt(StrCat("unknown migrate_schema phase ", phase));
    }
    e.migration = std::move(m);
  } else if (op == "drop_dataset") {
    e.op = ManifestEdit::Op::kDropDataset;
  } else if (op == "tier_segments") {
    e.op = ManifestEdit::Op::kTierSegments;
    simdjson::dom::array segs;
    if (root["segments"].get(segs)) return Corrupt("tier_segments lacks a field");
    for (simdjson::dom::element t : segs) {
      TieredSegment ts;
      std::string_view sid, target, key;
      if (t["segment"].get(sid) || !ParseInt(sid, &ts.id, 16) || t["target"].get(target) ||
          t["key"].get(key) || target.empty() || key.empty())
        return Corrupt("bad tier_segments entry");
      ts.target = std::string(target);
      ts.key = std::string(key);
      e.tiered.push_back(std::move(ts));
    }
  } else if (op == "set_storage_target") {
    e.op = ManifestEdit::Op::kSetStorageTarget;
    std::string_view target;
    if (root["target"].get(target)) return Corrupt("set_storage_target lacks a field");
    e.storage_target = std::string(target);
  } else if (op == "add_segments") {
    e.op = ManifestEdit::Op::kAddSegments;
    simdjson::dom::array segs, keys;
    if (root["sealedThroughSeq"].get(e.sealed_through_seq) || root["segments"].get(segs) ||
        root["idempotency"].get(keys))
      return Corrupt("add_segments lacks a field");
    RETURN_IF_ERROR(ReadSegments(segs, &e.segments));
    for (simdjson::dom::element k : keys) {
      IdempotencyInfo i;
      std::string_view key, hash;
      uint64_t version = 0;
      if (k["key"].get(key) || k["hash"].get(hash) || !ParseInt(hash, &i.request_hash, 16) ||
          k["createdAt"].get(i.created_ns) || k["rows"].get(i.answer.rows) ||
          k["schemaVersion"].get(version))
        return Corrupt("bad idempotency entry");
      i.key = std::string(key);
      i.answer.schema_version = static_cast<uint32_t>(version);
      int64_t wm;
      if (!k["watermark"].get(wm)) i.answer.watermark = wm;
      e.keys.push_back(std::move(i));
    }
  } else {
    return Corrupt(StrCat("unknown op ", op));
  }
  return e;
}

absl::Status Manifest::Apply(const ManifestEdit& e) {
  switch (e.op) {
    case ManifestEdit::Op::kCreateDataset: {
      DatasetMeta m;
      m.id = e.dataset_id;
      m.slug = e.slug;
      m.created_ns = e.created_ns;
      m.partition_interval_ns = e.partition_interval_ns;
      m.schema.time_column = e.time_column;
      datasets_[e.dataset_id] = std::move(m);
      return absl::OkStatus();
    }
    case ManifestEdit::Op::kSetSchema: {
      auto it = datasets_.find(e.dataset_id);
      if (it == datasets_.end()) return Corrupt("set_schema for an unknown dataset");
      it->second.schema.version = e.version;
      it->second.schema.fields = e.fields;
      return absl::OkStatus();
    }
    case ManifestEdit::Op::kSetSettings: {
      auto it = datasets_.find(e.dataset_id);
      if (it == datasets_.end()) return Corrupt("set_settings for an unknown dataset");
      it->second.partition_interval_ns = e.partition_interval_ns;
      it->second.segment_by = e.segment_by;
      it->second.segment_by_set = e.segment_by_set;
      it->second.inferred_segment_by = e.inferred_segment_by;
      it->second.dedup = e.dedup;
      it->second.display_name = e.display_name;
      it->second.description = e.description;
      it->second.iam = e.iam;
      return absl::OkStatus();
    }
    case ManifestEdit::Op::kSetRetention: {
      auto it = datasets_.find(e.dataset_id);
      if (it == datasets_.end()) return Corrupt("set_retention for an unknown dataset");
      it->second.retention = e.retention;
      return absl::OkStatus();
    }
    case ManifestEdit::Op::kReplaceSegments: {
      auto it = datasets_.find(e.dataset_id);
      if (it == datasets_.end()) return Corrupt("replace_segments for an unknown dataset");
      if (!ReplaceInList(&it->second.segments, e.remove, e.segments))
        return Corrupt("replace_segments removes a segment the dataset does not have");
      return absl::OkStatus();
    }
    case ManifestEdit::Op::kMigrateSchema: {
      auto it = datasets_.find(e.dataset_id);
      if (it == datasets_.end()) return Corrupt("migrate_schema for an unknown dataset");
      Schema& schema = it->second.schema;
      if (e.phase == "begin") {
        schema.version = e.version;
        schema.fields = e.fields;
        schema.migration = e.migration;
      } else if (e.phase == "commit") {
        if (schema.migration == nullptr || schema.migration->id != e.migration->id)
          return Corrupt(StrCat("migrate_schema commit of migration ", e.migration->id,
                                " that did not begin"));
        auto done = std::make_shared<SchemaMigration>(*schema.migration);
        done->committed_ns = e.committed_ns;
        schema.migration = std::move(done);
      } else {
        schema.version = e.version;
        schema.fields = e.fields;
        schema.migration = nullptr;
      }
      return absl::OkStatus();
    }
    case ManifestEdit::Op::kDropDataset:
      if (datasets_.erase(e.dataset_id) == 0) return Corrupt("drop_dataset of an unknown dataset");
      return absl::OkStatus();
    case ManifestEdit::Op::kTierSegments: {
      auto it = datasets_.find(e.dataset_id);
      if (it == datasets_.end()) return Corrupt("tier_segments for an unknown dataset");
      if (!TierInList(&it->second.segments, e.tiered))
        return Corrupt("tier_segments names a segment the dataset does not have");
      return absl::OkStatus();
    }
    case ManifestEdit::Op::kSetStorageTarget: {
      auto it = datasets_.find(e.dataset_id);
      if (it == datasets_.end()) return Corrupt("set_storage_target for an unknown dataset");
      it->second.storage_target = e.storage_target;
      return absl::OkStatus();
    }
    case ManifestEdit::Op::kAddSegments: {
      auto it = datasets_.find(e.dataset_id);
      if (it == datasets_.end()) return Corrupt("add_segments for an unknown dataset");
      DatasetMeta& m = it->second;
      m.segments.insert(m.segments.end(), e.segments.begin(), e.segments.end());
      m.sealed_through_seq = std::max(m.sealed_through_seq, e.sealed_through_seq);
      m.keys.insert(m.keys.end(), e.keys.begin(), e.keys.end());
      return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Manifest>> Manifest::Open(Env* env, const std::string& root,
                                                         int64_t key_ttl_ns) {
  RETURN_IF_ERROR(env->CreateDirs(root));
  std::unique_ptr<Manifest> m(new Manifest(env, root));
  std::string current_path = JoinPath(root, "CURRENT");
  uint64_t number = 0;
  std::string old_file;
  if (env->FileExists(current_path)) {
    ASSIGN_OR_RETURN(std::string current, env->ReadFile(current_path));
    std::string_view name = StripWhitespace(current);
    if (!ConsumePrefix(&name, "MANIFEST-") || !ParseInt(name, &number)) {
      return absl::DataLossError(
          StrCat(current_path, ": does not name a manifest file: \"", current, "\""));
    }
    old_file = JoinPath(root, ManifestFileName(number));
    ASSIGN_OR_RETURN(wal::LogFile log, wal::ReadLog(env, old_file, wal::kManifestMagic,
                                                    wal::TailPolicy::kTornTailOnly));
    for (const wal::LogRecord& r : log.records) {
      if (r.type != wal::RecordType::kManifestEdit) continue;
      auto edit = DecodeManifestEdit(r.payload);
      if (!edit.ok()) {
        return absl::DataLossError(
            StrCat(old_file, " at offset ", r.offset, ": ", edit.status().message()));
      }
      RETURN_IF_ERROR(m->Apply(*edit));
    }
  }
  RETURN_IF_ERROR(m->WriteSnapshot(number + 1, key_ttl_ns));
  // The new snapshot is live: every other manifest file (the one it replaces,
  // or leftovers of a crash between a swap and its cleanup) is garbage.
  const std::string live = ManifestFileName(number + 1);
  ASSIGN_OR_RETURN(std::vector<std::string> names, env->ListDir(root));
  for (const auto& name : names) {
    if (name.rfind("MANIFEST-", 0) == 0 && name != live)
      (void)env->RemoveFile(JoinPath(root, name));
  }
  (void)old_file;
  return m;
}

absl::Status Manifest::WriteSnapshot(uint64_t number, int64_t key_ttl_ns) {
  const int64_t now = NowNanos();
  std::string name = ManifestFileName(number);
  std::string path = JoinPath(root_, name);
  ASSIGN_OR_RETURN(auto log, wal::LogWriter::Create(env_, path, wal::kManifestMagic));
  for (const auto& [id, meta] : datasets_) {
    ManifestEdit create{ManifestEdit::Op::kCreateDataset, id};
    create.slug = meta.slug;
    create.time_column = meta.schema.time_column;
    create.created_ns = meta.created_ns;
    create.partition_interval_ns = meta.partition_interval_ns;
    RETURN_IF_ERROR(
        log->AddRecord(wal::RecordType::kManifestEdit, next_seq_++, EncodeManifestEdit(create)));
    ManifestEdit schema{ManifestEdit::Op::kSetSchema, id};
    schema.version = meta.schema.version;
    schema.fields = meta.schema.fields;
    RETURN_IF_ERROR(
        log->AddRecord(wal::RecordType::kManifestEdit, next_seq_++, EncodeManifestEdit(schema)));
    if (meta.schema.migration != nullptr) {
      ManifestEdit begin{ManifestEdit::Op::kMigrateSchema, id};
      begin.phase = "begin";
      begin.version = meta.schema.version;
      begin.fields = meta.schema.fields;
      begin.migration = meta.schema.migration;
      RETURN_IF_ERROR(
          log->AddRecord(wal::RecordType::kManifestEdit, next_seq_++, EncodeManifestEdit(begin)));
      if (!meta.schema.migration->in_progress()) {
        ManifestEdit commit{ManifestEdit::Op::kMigrateSchema, id};
        commit.phase = "commit";
        commit.migration = meta.schema.migration;
        commit.committed_ns = meta.schema.migration->committed_ns;
        RETURN_IF_ERROR(log->AddRecord(wal::RecordType::kManifestEdit, next_seq_++,
                                       EncodeManifestEdit(commit)));
      }
    }
    ManifestEdit settings{ManifestEdit::Op::kSetSettings, id};
    settings.partition_interval_ns = meta.partition_interval_ns;
    settings.segment_by = meta.segment_by;
    settings.segment_by_set = meta.segment_by_set;
    settings.inferred_segment_by = meta.inferred_segment_by;
    settings.dedup = meta.dedup;
    settings.display_name = meta.display_name;
    settings.description = meta.description;
    settings.iam = meta.iam;
    RETURN_IF_ERROR(
        log->AddRecord(wal::RecordType::kManifestEdit, next_seq_++, EncodeManifestEdit(settings)));
    if (meta.retention.delete_after || meta.retention.cold_after) {
      ManifestEdit retention{ManifestEdit::Op::kSetRetention, id};
      retention.retention = meta.retention;
      RETURN_IF_ERROR(log->AddRecord(wal::RecordType::kManifestEdit, next_seq_++,
                                     EncodeManifestEdit(retention)));
    }
    if (!meta.storage_target.empty()) {
      ManifestEdit target{ManifestEdit::Op::kSetStorageTarget, id};
      target.storage_target = meta.storage_target;
      RETURN_IF_ERROR(
          log->AddRecord(wal::RecordType::kManifestEdit, next_seq_++, EncodeManifestEdit(target)));
    }
    if (meta.segments.empty() && meta.keys.empty() && meta.sealed_through_seq == 0) continue;
    ManifestEdit add{ManifestEdit::Op::kAddSegments, id};
    add.sealed_through_seq = meta.sealed_through_seq;
    add.segments = meta.segments;
    for (const auto& k : meta.keys) {
      if (now - k.created_ns <= key_ttl_ns) add.keys.push_back(k);
    }
    RETURN_IF_ERROR(
        log->AddRecord(wal::RecordType::kManifestEdit, next_seq_++, EncodeManifestEdit(add)));
  }
  RETURN_IF_ERROR(log->Sync());
  RETURN_IF_ERROR(env_->SyncDir(root_));
  RETURN_IF_ERROR(WriteFileAtomically(env_, JoinPath(root_, "CURRENT"), name + "\n"));
  std::lock_guard<std::mutex> l(mu_);
  log_ = std::move(log);
  return absl::OkStatus();
}

absl::Status Manifest::LogEdit(const ManifestEdit& edit) {
  std::lock_guard<std::mutex> l(mu_);
  if (!failed_.ok()) return failed_;
  const uint64_t good_size = log_->size();
  absl::Status st =
      log_->AddRecord(wal::RecordType::kManifestEdit, next_seq_, EncodeManifestEdit(edit));
  if (!st.ok()) {
    // The write may have left part of the record. Cut it off and make the cut
    // durable: the edit was never made, and the next one appends after the
    // last whole record. Only a failed cut leaves the log unusable.
    const std::string path = log_->path();
    (void)log_->Close();
    log_.reset();
    absl::Status cut = env_->TruncateFile(path, good_size);
    absl::StatusOr<std::unique_ptr<wal::LogWriter>> reopened =
        cut.ok() ? wal::LogWriter::OpenForAppend(env_, path) : cut;
    if (reopened.ok()) cut = (*reopened)->Sync();
    if (reopened.ok() && cut.ok()) {
      log_ = *std::move(reopened);
      return st;
    }
    if (cut.ok()) cut = reopened.status();
    failed_ = absl::InternalError(StrCat("the manifest could not be written (", st.message(),
                                         ") nor cut back to its last edit (", cut.message(),
                                         "); no further changes are accepted until a restart"));
    return st;
  }
  ++next_seq_;
  st = log_->Sync();
  if (!st.ok()) {
    // After a failed fsync the kernel may have dropped the pages: whether the
    // edit is durable is unknown until a restart reads the log again.
    failed_ = absl::InternalError(StrCat("the manifest could not be written (", st.message(),
                                         "); no further changes are accepted until a restart"));
    return st;
  }
  // datasets_ stays the state as loaded: the engine holds the live state.
  return absl::OkStatus();
}

bool Manifest::broken() const {
  std::lock_guard<std::mutex> l(mu_);
  return !failed_.ok();
}

}  // namespace timestore
