// Configuration of the file connectors (docs/connectors.md): the streaming
// connectors that tail NDJSON envelope files, the bulk loaders that watch a
// staging directory, and the back-pressure thresholds they share. Read from
// TIMESTORE_STREAMING_CONNECTORS and TIMESTORE_BULK_CONNECTORS (JSON arrays),
// TIMESTORE_CONNECTOR_BACKPRESSURE (a JSON object) and
// TIMESTORE_CONNECTORS_CONFIG (a file holding {"streaming":[...],"bulk":[...],
// "backpressure":{...}}), with the member names of the original service.
//
// Every error names the source (variable or file), the connector (its id, or
// its index when it has none) and the member, and says what was expected.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace timestore::connectors {

struct StreamingConfig {
  std::string id;    // [A-Za-z0-9_.-]{1,64}: names the checkpoint, DLQ and metrics
  std::string path;  // the NDJSON envelope file to tail
  // Dataset of envelopes whose `ingestion` names none (datasetSlug); "" = required there.
  std::string dataset;
  int poll_interval_ms = 200;
  int batch_size = 500;  // envelopes per checkpoint
  // Where the checkpoint (inode + byte offset) and the dead letters go; empty:
  // <storage root>/connectors/<id>.checkpoint.json and .../<id>.dlq.ndjson.
  std::string checkpoint_path;
  std::string dead_letter_path;
  bool start_at_oldest = true;   // without a checkpoint: from byte 0, else from the end
  std::string precision = "ms";  // of integer timestamps in the records
  // Not configurable (tests lower it): line bytes read into one batch, at
  // least one line. Bounds the memory a batch holds (about four copies of
  // its lines) whatever batch_size is.
  uint64_t max_batch_bytes = 32ull << 20;
  // Not configurable (tests lower it): a longer line is dead-lettered with
  // its first KiB. It could never be a request the server takes
  // (TIMESTORE_MAX_BODY_BYTES' default).
  uint64_t max_line_bytes = 64ull << 20;
};

enum class BulkFormat { kAuto, kJson, kNdjson, kCsv, kLineProtocol };
std::string_view BulkFormatName(BulkFormat f);

struct BulkConfig {
  std::string id;
  std::string directory;
  std::string file_pattern = "*";  // fnmatch(3) on the file name
  BulkFormat format = BulkFormat::kAuto;
  // The dataset of JSON, NDJSON and CSV files (required for them unless a JSON
  // file names its own); for line protocol, the prefix of each measurement's slug.
  std::string dataset;
  int poll_interval_ms = 1000;
  uint32_t chunk_size = 10'000;    // rows (lines of line protocol) per ingest
  bool delete_after_load = false;  // else renamed <name>.processed
  std::string precision;           // default "ms" (JSON, NDJSON, CSV) or "ns" (line protocol)
  std::string dead_letter_path;    // empty: <storage root>/connectors/<id>.dlq.ndjson
  // A file is held in memory about three times while it loads: larger files
  // are set aside (.failed, naming size and limit).
  uint64_t max_file_bytes = 256ull << 20;
};

struct BackpressureConfig {
  // In-memory bytes (the engine's in-memory segments, all datasets): above
  // `high_watermark` connectors pause until below `low_watermark`. 0: derived
  // from the engine's budget (3/4 and 1/2 of TIMESTORE_MEMTABLE_MAX_BYTES).
  uint64_t high_watermark = 0;
  uint64_t low_watermark = 0;
  int min_pause_ms = 25;
  int max_pause_ms = 200;
};

struct ConnectorsConfig {
  std::vector<StreamingConfig> streaming;
  std::vector<BulkConfig> bulk;
  BackpressureConfig backpressure;
  bool empty() const { return streaming.empty() && bulk.empty(); }
};

// `source` names where the JSON came from in errors ("TIMESTORE_STREAMING_CONNECTORS").
absl::StatusOr<std::vector<StreamingConfig>> ParseStreamingConnectors(std::string_view json,
                                                                      std::string_view source);
absl::StatusOr<std::vector<BulkConfig>> ParseBulkConnectors(std::string_view json,
                                                            std::string_view source);
absl::StatusOr<BackpressureConfig> ParseBackpressure(std::string_view json,
                                                     std::string_view source);
// A config file's whole text: {"streaming":[...],"bulk":[...],"backpressure":{...}}.
absl::StatusOr<ConnectorsConfig> ParseConnectorsFile(std::string_view json,
                                                     std::string_view source);

// Reads the environment (TIMESTORE_CONNECTORS_ENABLED and the four above).
// Returns an empty config when connectors are not enabled. Ids must be unique
// across both kinds.
absl::StatusOr<ConnectorsConfig> ConnectorsConfigFromEnvironment();

}  // namespace timestore::connectors
