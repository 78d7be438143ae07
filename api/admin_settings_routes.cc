// The /admin settings and retention routes of API.md "Administration":
// PUT /admin/datasets/{id}/settings and GET/PUT /admin/datasets/{id}/retention,
// with the JSON forms of both that the dataset detail and the audit log also
// write (declared in api/admin_call.h).
#include <simdjson.h>

#include <algorithm>

#include "api/admin_call.h"
#include "api/route_helpers.h"
#include "api/service.h"
#include "common/json_writer.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "compaction/retention.h"

namespace timestore::api {
namespace {

constexpr size_t kMaxDisplayName = 200;
constexpr size_t kMaxDescription = 4000;

}  // namespace

void WriteSettingsMembers(const Dataset& ds, JsonWriter& w) {
  // Present only when set, so answers (and audit records) of datasets
  // without them read as before.
  const auto [display_name, description] = ds.display_name_and_description();
  if (!display_name.empty()) w.Key("displayName").String(display_name);
  if (!description.empty()) w.Key("description").String(description);
  w.Key("partitionInterval").Int(ds.partition_interval_ns() / 1'000'000'000);
  // segmentBy is what the user chose; seriesKey what seals sort by: the
  // choice, else the key inferred from the data (engine/series_key.h).
  const std::optional<std::vector<std::string>> chosen = ds.chosen_segment_by();
  w.Key("segmentBy").BeginArray();
  if (chosen) {
    for (const auto& c : *chosen) w.String(c);
  }
  w.EndArray();
  const std::vector<std::string> key = chosen ? *chosen : ds.inferred_segment_by();
  w.Key("seriesKey").BeginArray();
  for (const auto& c : key) w.String(c);
  w.EndArray();
  w.Key("seriesKeySource").String(chosen ? "segmentBy" : key.empty() ? "none" : "inferred");
  w.Key("dedup");
  if (auto d = ds.dedup()) {
    w.BeginObject().Key("keys").BeginArray();
    for (const auto& k : d->keys) w.String(k);
    w.EndArray().Key("keep").String(d->keep_last ? "last" : "first").EndObject();
  } else {
    w.Null();
  }
  // Present only when set, as displayName.
  if (const DatasetIam iam = ds.iam(); !iam.empty()) {
    w.Key("iam").BeginObject().Key("readScopes").BeginArray();
    for (const auto& s : iam.read_scopes) w.String(s);
    w.EndArray().Key("writeScopes").BeginArray();
    for (const auto& s : iam.write_scopes) w.String(s);
    w.EndArray().EndObject();
  }
}

std::string SettingsJson(const Dataset& ds) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  WriteSettingsMembers(ds, w);
  w.EndObject();
  return out;
}

static HttpResponse UpdateSettings(Engine* engine, Dataset* ds, const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::object o;
  if (parser.parse(body).get(root) || root.get(o)) {
    return Error(400, "invalid_json", "the settings body must be a JSON object");
  }
  Engine::Settings settings;
  for (auto [key, value] : o) {
    if (key == "partitionInterval") {
      int64_t ns = 0;
      if (value.is_string()) {
        auto d = ParseDurationNanos(std::string_view(value.get_string().value_unsafe()));
        if (!d.ok()) {
          return Error(400, "invalid_settings", StrCat("partitionInterval: ", d.status().message()),
                       "{\"field\":\"partitionInterval\"}");
        }
        ns = *d;
      } else if (int64_t secs; !value.get(secs) && secs > 0 && secs < 9'000'000'000) {
        ns = secs * 1'000'000'000;
      } else {
        return Error(400, "invalid_settings",
                     "partitionInterval must be a duration (\"1d\", \"6h\") or seconds",
                     "{\"field\":\"partitionInterval\"}");
      }
      settings.partition_interval_ns = ns;
    } else if (key == "segmentBy") {
      simdjson::dom::array a;
      if (value.get(a)) {
        return Error(400, "invalid_settings", "segmentBy must be an array of column names",
                     "{\"field\":\"segmentBy\"}");
      }
      std::vector<std::string> cols;
      for (auto c : a) {
        std::string_view name;
        if (c.get(name)) {
          return Error(400, "invalid_settings", "segmentBy must be an array of column names",
                       "{\"field\":\"segmentBy\"}");
        }
        cols.emplace_back(name);
      }
      settings.segment_by = std::move(cols);
    } else if (key == "dedup") {
      auto bad = [](std::string_view why) {
        return Error(400, "invalid_settings", StrCat("dedup: ", why), "{\"field\":\"dedup\"}");
      };
      if (value.is_null()) {
        settings.dedup = std::optional<DedupSettings>();
        continue;
      }
      simdjson::dom::object d;
      if (value.get(d)) {
        return bad("must be an object {\"keys\": [columns], \"keep\": \"last\"|\"first\"} or null");
      }
      DedupSettings dedup;
      bool has_keys = false;
      for (auto [dk, dv] : d) {
        if (dk == "keys") {
          simdjson::dom::array a;
          if (dv.get(a)) return bad("keys must be an array of column names");
          for (auto c : a) {
            std::string_view name;
            if (c.get(name)) return bad("keys must be an array of column names");
            dedup.keys.emplace_back(name);
          }
          has_keys = true;
        } else if (dk == "keep") {
          std::string_view keep;
          if (dv.get(keep) || (keep != "last" && keep != "first")) {
            return bad("keep must be \"last\" or \"first\"");
          }
          dedup.keep_last = keep == "last";
        } else {
          return bad(StrCat("unknown member \"", dk, "\" (known: keys, keep)"));
        }
      }
      if (!has_keys) return bad("keys is required (an empty array dedups by time alone)");
      settings.dedup = std::optional<DedupSettings>(std::move(dedup));
    } else if (key == "displayName" || key == "description") {
      // Free text for people; null or "" clears it.
      const size_t max = key == "displayName" ? kMaxDisplayName : kMaxDescription;
      std::string text;
      if (!value.is_null()) {
        std::string_view v;
        if (value.get(v)) {
          return Error(400, "invalid_settings", StrCat(key, " must be a string or null"),
                       FieldDetails(key));
        }
        if (v.size() > max) {
          return Error(400, "invalid_settings",
                       StrCat(key, " is ", v.size(), " bytes; at most ", max, " are allowed"),
                       FieldDetails(key));
        }
        text = std::string(v);
      }
      (key == "displayName" ? settings.display_name : settings.description) = std::move(text);
    } else if (key == "iam") {
      auto bad = [](std::string_view why) {
        return Error(400, "invalid_settings", StrCat("iam: ", why), "{\"field\":\"iam\"}");
      };
      DatasetIam iam;
      if (!value.is_null()) {
        simdjson::dom::object io;
        if (value.get(io)) {
          return bad("must be {\"readScopes\": [scopes], \"writeScopes\": [scopes]} or null");
        }
        for (auto [ik, iv] : io) {
          std::vector<std::string>* list = ik == "readScopes"    ? &iam.read_scopes
                                           : ik == "writeScopes" ? &iam.write_scopes
                                                                 : nullptr;
          if (list == nullptr) {
            return bad(StrCat("unknown member \"", ik.substr(0, 40),
                              "\" (known: readScopes, writeScopes)"));
          }
          simdjson::dom::array a;
          if (iv.get(a)) return bad(StrCat(ik, " must be an array of scope names"));
          for (auto e : a) {
            std::string_view scope;
            if (e.get(scope) || scope.empty() || scope.size() > 128 ||
                scope.find(',') != std::string_view::npos) {
              return bad(StrCat(ik, " must hold non-empty scope names without commas"));
            }
            list->emplace_back(scope);
          }
        }
      }
      settings.iam = std::move(iam);
    } else {
      return Error(
          400, "invalid_settings",
          StrCat("unknown setting \"", key,
                 "\" (known: partitionInterval, segmentBy, dedup, displayName, description, iam)"),
          FieldDetails(key));
    }
  }
  if (auto s = engine->UpdateSettings(ds, settings); !s.ok()) return StatusToResponse(s);
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("dataset").String(ds->slug());
  WriteSettingsMembers(*ds, w);
  w.EndObject();
  return Json(200, std::move(out));
}

// Seconds, as an integer when whole.
void WriteSeconds(JsonWriter& w, int64_t ns) {
  if (ns % 1'000'000'000 == 0) {
    w.Int(ns / 1'000'000'000);
  } else {
    w.Double(static_cast<double>(ns) / 1e9);
  }
}

// {"stored": {...as PUT...}, "effective": {...in seconds...}} members.
void WriteRetentionMembers(const Engine& engine, const Dataset& ds, JsonWriter& w) {
  const RetentionSettings r = ds.retention();
  w.Key("stored").BeginObject();
  for (auto [name, v] : {std::pair<std::string_view, const std::optional<RetentionValue>*>{
                             "deleteAfter", &r.delete_after},
                         {"coldAfter", &r.cold_after}}) {
    w.Key(name);
    if (*v) {
      w.Raw((*v)->raw);
    } else {
      w.Null();
    }
  }
  w.EndObject();
  w.Key("effective").BeginObject();
  w.Key("deleteAfter");
  if (int64_t d = engine.EffectiveDeleteAfter(ds); d > 0) {
    WriteSeconds(w, d);
  } else {
    w.Null();
  }
  w.Key("deleteAfterSource")
      .String(r.delete_after                              ? "dataset"
              : engine.options().retention_default_ns > 0 ? "default"
                                                          : "none");
  w.Key("coldAfter");
  if (r.cold_after) {
    WriteSeconds(w, r.cold_after->ns);
  } else {
    w.Null();
  }
  w.EndObject();
}

std::string RetentionJson(const Engine& engine, const Dataset& ds) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  WriteRetentionMembers(engine, ds, w);
  w.EndObject();
  return out;
}

// Parses a retention body into a patch: a member left out keeps its value,
// null clears it.
static std::optional<HttpResponse> ParseRetention(const std::string& body,
                                                  Engine::RetentionPatch* out) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::object o;
  if (parser.parse(body).get(root) || root.get(o)) {
    return Error(400, "invalid_json",
                 "the retention body must be a JSON object such as "
                 "{\"deleteAfter\": \"90d\", \"coldAfter\": \"7d\"}");
  }
  for (auto [key, value] : o) {
    std::optional<std::optional<RetentionValue>>* target = key == "deleteAfter" ? &out->delete_after
                                                           : key == "coldAfter" ? &out->cold_after
                                                                                : nullptr;
    if (target == nullptr) {
      return Error(400, "invalid_retention",
                   StrCat("unknown member \"", key, "\" (known: deleteAfter, coldAfter)"),
                   FieldDetails(key));
    }
    if (value.is_null()) {
      *target = std::optional<RetentionValue>();
      continue;
    }
    const std::string_view field = key;
    auto bad = [&](std::string_view got) {
      return Error(
          400, "invalid_retention",
          StrCat(field,
                 " must be a positive duration with a unit s, m, h, d or w (\"90d\"), "
                 "a number of seconds, or null to clear it; got ",
                 got.substr(0, 60)),
          StrCat("{\"field\":\"", field, "\",\"expected\":\"duration such as \\\"30d\\\"\"}"));
    };
    RetentionValue v;
    std::string_view text;
    double secs = 0;
    if (!value.get(text)) {
      auto d = ParseDurationNanos(text);
      if (!d.ok()) return bad(StrCat("\"", text, "\""));
      v.ns = *d;
    } else if (!value.get(secs)) {
      if (!(secs > 0) || secs > 9.2e9) return bad(simdjson::minify(value));
      v.ns = static_cast<int64_t>(secs * 1e9);
      if (v.ns <= 0) return bad(simdjson::minify(value));
    } else {
      return bad(simdjson::minify(value));
    }
    v.raw = simdjson::minify(value);
    *target = std::optional<RetentionValue>(std::move(v));
  }
  return std::nullopt;
}

void Service::AdminGetRetention(AdminCall& call) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("dataset").String(call.dataset->slug());
  WriteRetentionMembers(*call.engine, *call.dataset, w);
  w.EndObject();
  call.respond(Json(200, std::move(out)));
}

void Service::AdminPutRetention(AdminCall& call) {
  Dataset* ds = call.dataset.get();
  Engine::RetentionPatch patch;
  if (auto bad = ParseRetention(call.req.body, &patch)) return call.respond(*bad);
  std::string before = RetentionJson(*call.engine, *ds);
  if (auto s = call.engine->UpdateRetention(ds, patch); !s.ok()) {
    return call.respond(StatusToResponse(s));
  }
  RecordAudit(call.engine,
              DatasetEvent(call.actor, *ds, "retention.update", std::move(before),
                           RetentionJson(*call.engine, *ds)),
              /*sync=*/true);
  AdminGetRetention(call);
}

void Service::AdminPutSettings(AdminCall& call) {
  Dataset* ds = call.dataset.get();
  std::string before = SettingsJson(*ds);
  HttpResponse r = UpdateSettings(call.engine, ds, call.req.body);
  if (r.status == 200) {
    RecordAudit(
        call.engine,
        DatasetEvent(call.actor, *ds, "settings.update", std::move(before), SettingsJson(*ds)),
        /*sync=*/true);
  }
  call.respond(std::move(r));
}

}  // namespace timestore::api
