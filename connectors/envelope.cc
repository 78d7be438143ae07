#include "connectors/envelope.h"

#include "common/checksum.h"
#include "common/strings.h"
#include "engine/schema.h"
#include "simdjson.h"

namespace timestore::connectors {
namespace {

using simdjson::dom::element;

absl::Status Bad(std::string_view what) {
  return absl::InvalidArgumentError(StrCat("envelope: ", what));
}

}  // namespace

absl::StatusOr<Envelope> ParseEnvelope(std::string_view line, std::string_view default_dataset) {
  simdjson::dom::parser parser;
  element root;
  if (auto err = parser.parse(line.data(), line.size()).get(root); err) {
    return Bad(StrCat("not valid JSON: ", simdjson::error_message(err)));
  }
  simdjson::dom::object obj;
  if (root.get(obj) != simdjson::SUCCESS) return Bad("expected a JSON object");
  Envelope env;
  element ingestion;
  bool has_ingestion = false;
  for (auto field : obj) {
    std::string_view k = field.key;
    element v = field.value;
    if (k == "offset") {
      std::string_view s;
      if (v.get(s) == simdjson::SUCCESS) {
        env.offset = std::string(s);
      } else if (v.is_int64() || v.is_uint64()) {
        env.offset = simdjson::minify(v);
      } else if (!v.is_null()) {
        return Bad("member \"offset\": expected a string or a whole number");
      }
    } else if (k == "idempotencyKey") {
      std::string_view s;
      if (v.get(s) == simdjson::SUCCESS) {
        env.idempotency_key = std::string(s);
      } else if (!v.is_null()) {
        return Bad("member \"idempotencyKey\": expected a string");
      }
    } else if (k == "ingestion") {
      ingestion = v;
      has_ingestion = true;
    } else {
      return Bad(StrCat("member \"", k.substr(0, 80),
                        "\" is not one of offset, idempotencyKey, ingestion"));
    }
  }
  if (!has_ingestion) return Bad("member \"ingestion\" is required");
  simdjson::dom::object ing;
  if (ingestion.get(ing) != simdjson::SUCCESS) {
    return Bad("member \"ingestion\": expected an object");
  }
  std::string schema, time_column, partition_key, records;
  for (auto field : ing) {
    std::string_view k = field.key;
    element v = field.value;
    auto string_member = [&](std::string* out) -> absl::Status {
      std::string_view s;
      if (v.get(s) != simdjson::SUCCESS) {
        return Bad(StrCat("member \"ingestion.", k, "\": expected a string"));
      }
      *out = std::string(s);
      return absl::OkStatus();
    };
    if (k == "datasetSlug" || k == "dataset") {
      if (auto s = string_member(&env.dataset); !s.ok()) return s;
    } else if (k == "idempotencyKey") {
      if (v.is_null()) continue;
      std::string key;
      if (auto s = string_member(&key); !s.ok()) return s;
      if (env.idempotency_key.empty()) env.idempotency_key = key;
    } else if (k == "schema") {
      schema = simdjson::minify(v);
    } else if (k == "timestampColumn") {
      time_column = simdjson::minify(v);
    } else if (k == "partitionKey") {
      partition_key = simdjson::minify(v);
    } else if (k == "partition") {
      // The original's {key: {...}, attributes, timeRange}: the key becomes
      // partitionKey (string columns); the time range is implied by the rows.
      simdjson::dom::object p;
      if (v.get(p) != simdjson::SUCCESS) {
        return Bad("member \"ingestion.partition\": expected an object");
      }
      element key;
      if (p["key"].get(key) == simdjson::SUCCESS && !key.is_null()) {
        partition_key = simdjson::minify(key);
      }
    } else if (k == "rows" || k == "records") {
      if (!v.is_array()) return Bad(StrCat("member \"ingestion.", k, "\": expected an array"));
      records = simdjson::minify(v);
    } else if (k == "datasetName" || k == "tableName" || k == "storageTargetId" ||
               k == "receivedAt" || k == "actor") {
      // The original's metadata: names for its catalog, its queue time and
      // caller. Timestore has no use for them; accepted so its files load.
    } else {
      return Bad(StrCat("member \"ingestion.", k.substr(0, 80),
                        "\" is not one of datasetSlug, schema, timestampColumn, partition, "
                        "partitionKey, rows (records), idempotencyKey, datasetName, tableName, "
                        "storageTargetId, receivedAt, actor"));
    }
  }
  if (env.dataset.empty()) {
    if (default_dataset.empty()) {
      return Bad("member \"ingestion.datasetSlug\" is required (the connector names no dataset)");
    }
    env.dataset = std::string(default_dataset);
  }
  if (!IsValidSlug(env.dataset)) {
    return Bad(StrCat("dataset slug \"", env.dataset.substr(0, 80),
                      "\" must match [a-z0-9][a-z0-9_-]{0,63}"));
  }
  if (records.empty()) return Bad("member \"ingestion.rows\" is required");
  if (env.idempotency_key.size() > 255) {
    return Bad(StrCat("idempotencyKey is ", env.idempotency_key.size(),
                      " characters; at most 255 are allowed"));
  }
  env.body = "{";
  auto add = [&](std::string_view name, const std::string& raw) {
    if (raw.empty()) return;
    StrAppend(&env.body, env.body.size() > 1 ? "," : "", "\"", name, "\":", raw);
  };
  add("schema", schema);
  add("timestampColumn", time_column);
  add("partitionKey", partition_key);
  add("records", records);
  env.body.push_back('}');
  env.hash = Checksum64(simdjson::minify(ingestion));
  return env;
}

}  // namespace timestore::connectors
