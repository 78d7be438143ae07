// Starts and stops the file connectors inside the server, and reports them
// for /status ("connectors") and /metrics (timestore_connector_*).
//
//   auto manager = connectors::ConnectorManager::FromEnvironment();  // at start-up
//   manager->InstallHooks(&service_options);                         // before the Service
//   manager->Start(engine);                                          // once recovered
//   manager->Stop();                                                 // before engine->Close()
//
// Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "api/service.h"
#include "connectors/config.h"
#include "connectors/connector.h"

namespace timestore::connectors {

class ConnectorManager {
 public:
  explicit ConnectorManager(ConnectorsConfig config) : config_(std::move(config)) {}
  ~ConnectorManager() { Stop(); }

  // The environment's configuration (config.h); an error names the variable
  // or file, the connector and the member.
  static absl::StatusOr<std::unique_ptr<ConnectorManager>> FromEnvironment();

  // Adds "connectors" to /status and the timestore_connector_* metrics.
  // `this` must outlive the Service.
  void InstallHooks(api::ServiceOptions* options);
  // Starts every connector on `engine` (which must outlive Stop()).
  void Start(Engine* engine);
  // Stops every connector: each finishes the batch in hand (its rows durable
  // and checkpointed). Idempotent.
  void Stop();

  std::vector<ConnectorStatus> Statuses() const;
  // The /status member's value: an array of connector objects.
  std::string StatusJson() const;
  // Prometheus text of the timestore_connector_* metrics.
  std::string MetricsText() const;
  const ConnectorsConfig& config() const { return config_; }

 private:
  const ConnectorsConfig config_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Connector>> connectors_;  // guarded by mu_
};

}  // namespace timestore::connectors
