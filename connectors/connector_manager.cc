#include "connectors/connector_manager.h"

#include "common/json_writer.h"
#include "common/strings.h"
#include "connectors/bulk_connector.h"
#include "connectors/streaming_connector.h"
#include "spdlog/spdlog.h"

namespace timestore::connectors {

absl::StatusOr<std::unique_ptr<ConnectorManager>> ConnectorManager::FromEnvironment() {
  auto config = ConnectorsConfigFromEnvironment();
  if (!config.ok()) return config.status();
  return std::make_unique<ConnectorManager>(std::move(*config));
}

void ConnectorManager::InstallHooks(api::ServiceOptions* options) {
  if (config_.empty()) return;
  options->extra_status = [this](JsonWriter& w) { w.Key("connectors").Raw(StatusJson()); };
  options->extra_metrics = [this](std::string* out) { out->append(MetricsText()); };
}

void ConnectorManager::Start(Engine* engine) {
  if (config_.empty()) return;
  BackpressureConfig bp = config_.backpressure;
  if (bp.high_watermark == 0) {
    bp.high_watermark = engine->options().memtable_max_bytes / 4 * 3;
    if (bp.low_watermark == 0) bp.low_watermark = engine->options().memtable_max_bytes / 2;
  }
  if (bp.low_watermark > bp.high_watermark) bp.low_watermark = bp.high_watermark;
  const std::string& root = engine->options().root;
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& c : config_.streaming) {
    connectors_.push_back(std::make_unique<StreamingConnector>(c, engine, root, bp));
    spdlog::info("connector {}: tailing {}", c.id, c.path);
  }
  for (const auto& c : config_.bulk) {
    connectors_.push_back(std::make_unique<BulkConnector>(c, engine, root, bp));
    spdlog::info("connector {}: loading files of {} matching {}", c.id, c.directory,
                 c.file_pattern);
  }
  for (auto& c : connectors_) c->Start();
}

void ConnectorManager::Stop() {
  std::lock_guard<std::mutex> l(mu_);
  for (auto& c : connectors_) c->Stop();
}

std::vector<ConnectorStatus> ConnectorManager::Statuses() const {
  std::vector<ConnectorStatus> out;
  std::lock_guard<std::mutex> l(mu_);
  if (connectors_.empty()) {
    // Before recovery has finished: configured, not yet running.
    for (const auto& c : config_.streaming) {
      ConnectorStatus s;
      s.id = c.id;
      s.kind = "streaming";
      s.state = "starting";
      s.file = c.path;
      out.push_back(std::move(s));
    }
    for (const auto& c : config_.bulk) {
      ConnectorStatus s;
      s.id = c.id;
      s.kind = "bulk";
      s.state = "starting";
      out.push_back(std::move(s));
    }
    return out;
  }
  for (const auto& c : connectors_) out.push_back(c->status());
  return out;
}

std::string ConnectorManager::StatusJson() const {
  std::string out;
  JsonWriter w(&out);
  w.BeginArray();
  for (const ConnectorStatus& s : Statuses()) {
    w.BeginObject();
    w.Key("id").String(s.id);
    w.Key("kind").String(s.kind);
    w.Key("state").String(s.state);
    w.Key("file").String(s.file);
    w.Key("offset").Uint(s.offset);
    w.Key("lagBytes").Uint(s.lag_bytes);
    w.Key("rows").Uint(s.rows);
    w.Key("deadLetters").Uint(s.dead_letters);
    if (s.kind == "bulk") {
      w.Key("filesLoaded").Uint(s.files_loaded);
      w.Key("filesFailed").Uint(s.files_failed);
    }
    w.Key("pauses").Uint(s.pauses);
    if (s.last_error.empty()) {
      w.Key("lastError").Null();
    } else {
      w.Key("lastError").String(s.last_error);
    }
    w.EndObject();
  }
  w.EndArray();
  return out;
}

std::string ConnectorManager::MetricsText() const {
  std::vector<ConnectorStatus> all = Statuses();
  std::string out;
  auto family = [&](std::string_view name, std::string_view type, std::string_view help,
                    auto value) {
    StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n");
    for (const ConnectorStatus& s : all) {
      StrAppend(&out, name, "{connector=\"", s.id, "\",kind=\"", s.kind, "\"} ", value(s), "\n");
    }
  };
  family("timestore_connector_rows_total", "counter", "Rows the connector stored.",
         [](const ConnectorStatus& s) { return s.rows; });
  family("timestore_connector_lag_bytes", "gauge",
         "Bytes not yet stored: after the checkpoint (streaming), of staged files (bulk).",
         [](const ConnectorStatus& s) { return s.lag_bytes; });
  family("timestore_connector_dead_letters_total", "counter",
         "Records (streaming) or files (bulk) sent to the dead-letter file.",
         [](const ConnectorStatus& s) { return s.dead_letters; });
  family("timestore_connector_paused", "gauge", "1 while paused by back-pressure.",
         [](const ConnectorStatus& s) { return uint64_t{s.state == "paused"}; });
  family("timestore_connector_failed", "gauge",
         "1 while failing (the last error in /status; retried every poll interval).",
         [](const ConnectorStatus& s) { return uint64_t{s.state == "failed"}; });
  family("timestore_connector_pauses_total", "counter", "Back-pressure pauses.",
         [](const ConnectorStatus& s) { return s.pauses; });
  return out;
}

}  // namespace timestore::connectors
