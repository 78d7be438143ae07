// The bulk loader (docs/connectors.md "Bulk"): watches a staging directory
// for files (JSON, NDJSON, CSV, line protocol), checks a whole file before
// storing any of it, then stores it in chunks of `chunkSize` rows, each with
// the idempotency key bulk:<id>:<name>:<inode>:<mtime>:<chunk>, and once every
// chunk is durable deletes the file or renames it <name>.processed. A crash
// mid-file loads it again from the first chunk; the chunks stored before the
// crash are answered as duplicates, so nothing is stored twice. A file that
// cannot be loaded is renamed <name>.failed beside a <name>.error note.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "connectors/config.h"
#include "connectors/connector.h"

namespace timestore::connectors {

// One ingest of a file: a JSON ingest body (JSON, NDJSON and CSV files) or
// line-protocol text.
struct BulkChunk {
  std::string body;
  uint64_t first_row = 0;  // 1-based, in the file (records, or lines of line protocol)
  uint64_t last_row = 0;
  // NDJSON and line protocol: where the body's lines are in the file, as
  // (index of a body line from 0, its line in the file from 1) at the chunk's
  // first line and after each gap (blank lines and comments are left out of
  // the body). See FileLineOf.
  std::vector<std::pair<uint32_t, uint64_t>> line_map;
};

// The file's line (from 1) of the chunk body's line `body_line` (from 1, as
// the NDJSON and line-protocol parsers count them); 0 when unknown.
uint64_t FileLineOf(const BulkChunk& chunk, uint64_t body_line);
// A parser's error about a chunk of an NDJSON or line-protocol file
// ("line 3, ...": the chunk body's third line) with the line counted in the
// file instead ("line 57, ..."); other messages are returned unchanged.
std::string LocateInFile(const BulkChunk& chunk, std::string_view message);

// Splits a file into chunks of `chunk_size` rows. `dataset` is in/out: the
// connector's dataset, replaced by one a JSON file names (ingestion.datasetSlug).
// `current` (may be null) is the dataset's schema, for CSV values.
absl::StatusOr<std::vector<BulkChunk>> SplitBulkFile(std::string_view text, BulkFormat format,
                                                     uint32_t chunk_size, std::string* dataset,
                                                     const Schema* current);
// The format a file's name says (.json .ndjson .jsonl .csv .lp .line .influx),
// or kAuto when it says none.
BulkFormat FormatOfName(std::string_view name);

class BulkConnector : public Connector {
 public:
  BulkConnector(BulkConfig config, Engine* engine, const std::string& storage_root,
                BackpressureConfig backpressure);
  ~BulkConnector() override;
  ConnectorStatus status() const override;

 private:
  void Run() override;
  // Staged files and their sizes, sorted by name; sets the lag.
  std::vector<std::pair<std::string, uint64_t>> Candidates();
  // Loads one file. False when it must be tried again (stopped, or a server
  // error); true when it is done with (loaded, or set aside as failed).
  bool LoadFile(const std::string& name);
  // Renames the file <name>.failed and writes <name>.error.
  void SetAside(const std::string& name, const std::string& reason);
  void Fail(std::string error);

  const BulkConfig config_;
  Engine* const engine_;
  Backpressure backpressure_;
  DeadLetterFile dlq_;

  mutable std::mutex mu_;
  ConnectorStatus status_;  // guarded by mu_
};

}  // namespace timestore::connectors
