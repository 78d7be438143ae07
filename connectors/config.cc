#include "connectors/config.h"

#include <cstdlib>
#include <set>

#include "common/env.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "simdjson.h"

namespace timestore::connectors {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// Names one connector in errors: its id once known, else its index.
struct Where {
  std::string_view source;
  std::string_view kind;  // "streaming connector", "bulk connector", "backpressure"
  size_t index = 0;
  std::string id;
  std::string Name() const {
    if (kind == "backpressure") return StrCat(source, ": backpressure");
    if (id.empty()) return StrCat(source, ": ", kind, " at index ", index);
    return StrCat(source, ": ", kind, " \"", id, "\"");
  }
};

absl::Status Bad(const Where& w, std::string_view member, std::string_view what) {
  return absl::InvalidArgumentError(StrCat(w.Name(), ": member \"", member, "\": ", what));
}

std::string Shown(element e) {
  std::string s = simdjson::minify(e);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

absl::StatusOr<std::string> GetString(const Where& w, std::string_view member, element e,
                                      bool allow_empty = false) {
  std::string_view s;
  if (e.get(s) != simdjson::SUCCESS) {
    return Bad(w, member, StrCat("expected a string, got ", Shown(e)));
  }
  if (s.empty() && !allow_empty) return Bad(w, member, "expected a non-empty string");
  return std::string(s);
}

absl::StatusOr<int64_t> GetInt(const Where& w, std::string_view member, element e, int64_t min,
                               int64_t max) {
  int64_t v = 0;
  if (e.type() == element_type::UINT64 || e.get(v) != simdjson::SUCCESS) {
    return Bad(w, member, StrCat("expected a whole number, got ", Shown(e)));
  }
  if (v < min || v > max) {
    return Bad(w, member, StrCat("expected a whole number from ", min, " to ", max, ", got ", v));
  }
  return v;
}

absl::StatusOr<bool> GetBool(const Where& w, std::string_view member, element e) {
  bool b = false;
  if (e.get(b) != simdjson::SUCCESS) {
    return Bad(w, member, StrCat("expected true or false, got ", Shown(e)));
  }
  return b;
}

bool ValidId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
  }
  return true;
}

bool ValidPrecision(std::string_view p) { return p == "ns" || p == "us" || p == "ms" || p == "s"; }

// The id first, so that every later error names the connector by it.
absl::Status ReadId(Where* w, simdjson::dom::object obj) {
  element id;
  if (obj["id"].get(id) != simdjson::SUCCESS) return Bad(*w, "id", "is required");
  ASSIGN_OR_RETURN(std::string s, GetString(*w, "id", id));
  if (!ValidId(s)) {
    return Bad(*w, "id", StrCat("\"", s.substr(0, 80), "\" must be 1-64 of A-Z a-z 0-9 _ - ."));
  }
  w->id = s;
  return absl::OkStatus();
}

absl::Status CheckDriver(const Where& w, element e) {
  ASSIGN_OR_RETURN(std::string d, GetString(w, "driver", e));
  if (d != "file")
    return Bad(w, "driver", StrCat("\"", d, "\" is not supported; only \"file\" is"));
  return absl::OkStatus();
}

// An optional path member: null and absent mean the default.
absl::Status ReadOptionalPath(const Where& w, std::string_view member, element e,
                              std::string* out) {
  if (e.is_null()) {
    out->clear();
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(*out, GetString(w, member, e));
  return absl::OkStatus();
}

absl::StatusOr<StreamingConfig> ParseStreaming(element e, Where w) {
  simdjson::dom::object obj;
  if (e.get(obj) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(StrCat(w.Name(), ": expected an object, got ", Shown(e)));
  }
  RETURN_IF_ERROR(ReadId(&w, obj));
  StreamingConfig c;
  c.id = w.id;
  bool has_path = false;
  for (auto field : obj) {
    std::string_view k = field.key;
    element v = field.value;
    if (k == "id") continue;
    if (k == "driver") {
      RETURN_IF_ERROR(CheckDriver(w, v));
    } else if (k == "path") {
      ASSIGN_OR_RETURN(c.path, GetString(w, k, v));
      has_path = true;
    } else if (k == "dataset" || k == "datasetSlug") {
      ASSIGN_OR_RETURN(c.dataset, GetString(w, k, v));
    } else if (k == "pollIntervalMs") {
      ASSIGN_OR_RETURN(c.poll_interval_ms, GetInt(w, k, v, 1, 3'600'000));
    } else if (k == "batchSize") {
      ASSIGN_OR_RETURN(c.batch_size, GetInt(w, k, v, 1, 1'000'000));
    } else if (k == "dedupeWindowMs") {
      // The original's in-process dedupe; here the engine's idempotency keys
      // (remembered at least 24 h) do that job. Checked, then unused.
      RETURN_IF_ERROR(GetInt(w, k, v, 0, int64_t{1} << 40).status());
    } else if (k == "checkpointPath") {
      RETURN_IF_ERROR(ReadOptionalPath(w, k, v, &c.checkpoint_path));
    } else if (k == "deadLetterPath" || k == "dlqPath") {
      RETURN_IF_ERROR(ReadOptionalPath(w, k, v, &c.dead_letter_path));
    } else if (k == "startAtOldest") {
      ASSIGN_OR_RETURN(c.start_at_oldest, GetBool(w, k, v));
    } else if (k == "precision") {
      ASSIGN_OR_RETURN(c.precision, GetString(w, k, v));
      if (!ValidPrecision(c.precision))
        return Bad(w, k, "expected \"ns\", \"us\", \"ms\" or \"s\"");
    } else {
      return Bad(w, k,
                 "is not a member of a streaming connector (id, driver, path, dataset, "
                 "pollIntervalMs, batchSize, dedupeWindowMs, checkpointPath, "
                 "deadLetterPath, startAtOldest, precision)");
    }
  }
  if (!has_path) return Bad(w, "path", "is required (the NDJSON envelope file to tail)");
  return c;
}

absl::StatusOr<BulkFormat> ParseFormat(const Where& w, element v) {
  ASSIGN_OR_RETURN(std::string f, GetString(w, "format", v));
  if (f == "auto") return BulkFormat::kAuto;
  if (f == "json") return BulkFormat::kJson;
  if (f == "ndjson" || f == "jsonl") return BulkFormat::kNdjson;
  if (f == "csv") return BulkFormat::kCsv;
  if (f == "line" || f == "lineprotocol" || f == "line_protocol" || f == "influx") {
    return BulkFormat::kLineProtocol;
  }
  return Bad(
      w, "format",
      StrCat("\"", f.substr(0, 40),
             "\" is not one of auto, json, ndjson (jsonl), csv, line (lineprotocol, influx)"));
}

absl::StatusOr<BulkConfig> ParseBulk(element e, Where w) {
  simdjson::dom::object obj;
  if (e.get(obj) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(StrCat(w.Name(), ": expected an object, got ", Shown(e)));
  }
  RETURN_IF_ERROR(ReadId(&w, obj));
  BulkConfig c;
  c.id = w.id;
  bool has_dir = false;
  bool rename_on_success = true;
  for (auto field : obj) {
    std::string_view k = field.key;
    element v = field.value;
    if (k == "id") continue;
    if (k == "driver") {
      RETURN_IF_ERROR(CheckDriver(w, v));
    } else if (k == "directory") {
      ASSIGN_OR_RETURN(c.directory, GetString(w, k, v));
      has_dir = true;
    } else if (k == "filePattern" || k == "glob") {
      ASSIGN_OR_RETURN(c.file_pattern, GetString(w, k, v));
      if (c.file_pattern.find('/') != std::string::npos) {
        return Bad(w, k, "matches file names in the directory and cannot hold '/'");
      }
    } else if (k == "format") {
      ASSIGN_OR_RETURN(c.format, ParseFormat(w, v));
    } else if (k == "dataset" || k == "datasetSlug" || k == "datasetPrefix") {
      ASSIGN_OR_RETURN(c.dataset, GetString(w, k, v));
    } else if (k == "pollIntervalMs") {
      ASSIGN_OR_RETURN(c.poll_interval_ms, GetInt(w, k, v, 1, 3'600'000));
    } else if (k == "chunkSize") {
      ASSIGN_OR_RETURN(c.chunk_size, GetInt(w, k, v, 1, 10'000'000));
    } else if (k == "maxFileBytes") {
      ASSIGN_OR_RETURN(c.max_file_bytes, GetInt(w, k, v, 1, int64_t{1} << 40));
    } else if (k == "deleteAfterLoad") {
      ASSIGN_OR_RETURN(c.delete_after_load, GetBool(w, k, v));
    } else if (k == "renameOnSuccess") {
      ASSIGN_OR_RETURN(rename_on_success, GetBool(w, k, v));
    } else if (k == "checkpointPath") {
      // The original kept loaded names there; here idempotency keys per chunk
      // and the rename (or delete) are the checkpoint. Checked, then unused.
      std::string unused;
      RETURN_IF_ERROR(ReadOptionalPath(w, k, v, &unused));
    } else if (k == "deadLetterPath" || k == "dlqPath") {
      RETURN_IF_ERROR(ReadOptionalPath(w, k, v, &c.dead_letter_path));
    } else if (k == "precision") {
      ASSIGN_OR_RETURN(c.precision, GetString(w, k, v));
      if (!ValidPrecision(c.precision))
        return Bad(w, k, "expected \"ns\", \"us\", \"ms\" or \"s\"");
    } else {
      return Bad(w, k,
                 "is not a member of a bulk connector (id, driver, directory, filePattern, "
                 "format, dataset, pollIntervalMs, chunkSize, maxFileBytes, deleteAfterLoad, "
                 "renameOnSuccess, checkpointPath, deadLetterPath, precision)");
    }
  }
  if (!has_dir) return Bad(w, "directory", "is required (the staging directory to watch)");
  if (!rename_on_success && !c.delete_after_load) {
    return Bad(w, "renameOnSuccess",
               "false needs deleteAfterLoad true: a loaded file must leave the directory "
               "(renamed <name>.processed or deleted), or it would be loaded again");
  }
  return c;
}

absl::StatusOr<simdjson::dom::element> ParseJson(simdjson::dom::parser& parser,
                                                 std::string_view json, std::string_view source) {
  element root;
  if (auto err = parser.parse(json.data(), json.size()).get(root); err) {
    return absl::InvalidArgumentError(
        StrCat(source, ": not valid JSON: ", simdjson::error_message(err)));
  }
  return root;
}

absl::StatusOr<std::vector<StreamingConfig>> StreamingFrom(element root, std::string_view source) {
  simdjson::dom::array arr;
  if (root.get(arr) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(
        StrCat(source, ": expected a JSON array of streaming connectors, got ", Shown(root)));
  }
  std::vector<StreamingConfig> out;
  size_t i = 0;
  for (element e : arr) {
    ASSIGN_OR_RETURN(StreamingConfig c,
                     ParseStreaming(e, Where{source, "streaming connector", i, ""}));
    out.push_back(std::move(c));
    ++i;
  }
  return out;
}

absl::StatusOr<std::vector<BulkConfig>> BulkFrom(element root, std::string_view source) {
  simdjson::dom::array arr;
  if (root.get(arr) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(
        StrCat(source, ": expected a JSON array of bulk connectors, got ", Shown(root)));
  }
  std::vector<BulkConfig> out;
  size_t i = 0;
  for (element e : arr) {
    ASSIGN_OR_RETURN(BulkConfig c, ParseBulk(e, Where{source, "bulk connector", i, ""}));
    out.push_back(std::move(c));
    ++i;
  }
  return out;
}

absl::StatusOr<BackpressureConfig> BackpressureFrom(element root, std::string_view source) {
  Where w{source, "backpressure", 0, ""};
  simdjson::dom::object obj;
  if (root.get(obj) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(
        StrCat(w.Name(), ": expected a JSON object, got ", Shown(root)));
  }
  BackpressureConfig c;
  for (auto field : obj) {
    std::string_view k = field.key;
    element v = field.value;
    if (k == "highWatermark") {
      ASSIGN_OR_RETURN(c.high_watermark, GetInt(w, k, v, 0, int64_t{1} << 50));
    } else if (k == "lowWatermark") {
      ASSIGN_OR_RETURN(c.low_watermark, GetInt(w, k, v, 0, int64_t{1} << 50));
    } else if (k == "minPauseMs") {
      ASSIGN_OR_RETURN(c.min_pause_ms, GetInt(w, k, v, 1, 600'000));
    } else if (k == "maxPauseMs") {
      ASSIGN_OR_RETURN(c.max_pause_ms, GetInt(w, k, v, 1, 600'000));
    } else {
      return Bad(w, k,
                 "is not a member of backpressure (highWatermark, lowWatermark, minPauseMs, "
                 "maxPauseMs)");
    }
  }
  if (c.low_watermark > c.high_watermark) {
    return Bad(w, "lowWatermark",
               StrCat(c.low_watermark, " must not exceed highWatermark ", c.high_watermark));
  }
  if (c.min_pause_ms > c.max_pause_ms) {
    return Bad(w, "minPauseMs",
               StrCat(c.min_pause_ms, " must not exceed maxPauseMs ", c.max_pause_ms));
  }
  return c;
}

absl::Status CheckUniqueIds(const ConnectorsConfig& c) {
  std::set<std::string> ids;
  for (const auto& s : c.streaming) {
    if (!ids.insert(s.id).second) {
      return absl::InvalidArgumentError(StrCat("connector id \"", s.id, "\" is used twice"));
    }
  }
  for (const auto& b : c.bulk) {
    if (!ids.insert(b.id).second) {
      return absl::InvalidArgumentError(StrCat("connector id \"", b.id, "\" is used twice"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view BulkFormatName(BulkFormat f) {
  switch (f) {
    case BulkFormat::kAuto:
      return "auto";
    case BulkFormat::kJson:
      return "json";
    case BulkFormat::kNdjson:
      return "ndjson";
    case BulkFormat::kCsv:
      return "csv";
    case BulkFormat::kLineProtocol:
      return "line";
  }
  return "auto";
}

absl::StatusOr<std::vector<StreamingConfig>> ParseStreamingConnectors(std::string_view json,
                                                                      std::string_view source) {
  simdjson::dom::parser parser;
  ASSIGN_OR_RETURN(element root, ParseJson(parser, json, source));
  return StreamingFrom(root, source);
}

absl::StatusOr<std::vector<BulkConfig>> ParseBulkConnectors(std::string_view json,
                                                            std::string_view source) {
  simdjson::dom::parser parser;
  ASSIGN_OR_RETURN(element root, ParseJson(parser, json, source));
  return BulkFrom(root, source);
}

absl::StatusOr<BackpressureConfig> ParseBackpressure(std::string_view json,
                                                     std::string_view source) {
  simdjson::dom::parser parser;
  ASSIGN_OR_RETURN(element root, ParseJson(parser, json, source));
  return BackpressureFrom(root, source);
}

absl::StatusOr<ConnectorsConfig> ParseConnectorsFile(std::string_view json,
                                                     std::string_view source) {
  simdjson::dom::parser parser;
  ASSIGN_OR_RETURN(element root, ParseJson(parser, json, source));
  simdjson::dom::object obj;
  if (root.get(obj) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(
        StrCat(source,
               ": expected an object {\"streaming\":[...],\"bulk\":[...],\"backpressure\":{...}}"));
  }
  ConnectorsConfig c;
  for (auto field : obj) {
    std::string_view k = field.key;
    if (k == "streaming") {
      ASSIGN_OR_RETURN(c.streaming, StreamingFrom(field.value, StrCat(source, " streaming")));
    } else if (k == "bulk") {
      ASSIGN_OR_RETURN(c.bulk, BulkFrom(field.value, StrCat(source, " bulk")));
    } else if (k == "backpressure") {
      ASSIGN_OR_RETURN(c.backpressure, BackpressureFrom(field.value, source));
    } else {
      return absl::InvalidArgumentError(
          StrCat(source, ": member \"", k, "\" is not one of streaming, bulk, backpressure"));
    }
  }
  RETURN_IF_ERROR(CheckUniqueIds(c));
  return c;
}

absl::StatusOr<ConnectorsConfig> ConnectorsConfigFromEnvironment() {
  auto get = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v == nullptr ? "" : std::string(StripWhitespace(v));
  };
  ConnectorsConfig c;
  const std::string enabled = get("TIMESTORE_CONNECTORS_ENABLED");
  if (enabled.empty() || enabled == "false" || enabled == "0") return c;
  if (enabled != "true" && enabled != "1") {
    return absl::InvalidArgumentError(
        StrCat("TIMESTORE_CONNECTORS_ENABLED must be true or false, got \"", enabled, "\""));
  }
  if (std::string file = get("TIMESTORE_CONNECTORS_CONFIG"); !file.empty()) {
    auto text = Env::Default()->ReadFile(file);
    if (!text.ok()) {
      return absl::InvalidArgumentError(StrCat("TIMESTORE_CONNECTORS_CONFIG: cannot read ", file,
                                               ": ", ToStd(text.status().message())));
    }
    ASSIGN_OR_RETURN(c, ParseConnectorsFile(*text, file));
  }
  if (std::string s = get("TIMESTORE_STREAMING_CONNECTORS"); !s.empty()) {
    ASSIGN_OR_RETURN(auto more, ParseStreamingConnectors(s, "TIMESTORE_STREAMING_CONNECTORS"));
    for (auto& m : more) c.streaming.push_back(std::move(m));
  }
  if (std::string s = get("TIMESTORE_BULK_CONNECTORS"); !s.empty()) {
    ASSIGN_OR_RETURN(auto more, ParseBulkConnectors(s, "TIMESTORE_BULK_CONNECTORS"));
    for (auto& m : more) c.bulk.push_back(std::move(m));
  }
  if (std::string s = get("TIMESTORE_CONNECTOR_BACKPRESSURE"); !s.empty()) {
    ASSIGN_OR_RETURN(c.backpressure, ParseBackpressure(s, "TIMESTORE_CONNECTOR_BACKPRESSURE"));
  }
  RETURN_IF_ERROR(CheckUniqueIds(c));
  return c;
}

}  // namespace timestore::connectors
