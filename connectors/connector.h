// What the streaming connector and the bulk loader share: their status for
// /status and /metrics, the dead-letter file, and ingest into the engine with
// the retry rules of docs/connectors.md ("Errors").
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "common/env.h"
#include "connectors/backpressure.h"
#include "engine/engine.h"

namespace timestore::connectors {

struct ConnectorStatus {
  std::string id;
  std::string kind;        // "streaming" | "bulk"
  std::string state;       // "running" | "paused" | "failed" | "stopped"
  std::string file;        // the file being read (streaming) or loaded (bulk); "" when idle
  uint64_t offset = 0;     // streaming: checkpointed byte offset in `file`
  uint64_t lag_bytes = 0;  // bytes not yet durable: after the checkpoint / of staged files
  uint64_t rows = 0;       // rows stored since start (replays not counted)
  uint64_t dead_letters = 0;
  uint64_t files_loaded = 0, files_failed = 0;  // bulk
  uint64_t pauses = 0;                          // back-pressure pauses
  uint64_t batches = 0;  // streaming: batches stored since start (not in /status)
  std::string last_error;
};

// How an ingest error is handled.
enum class ErrorKind {
  kRecord,     // the record's fault (bad value, schema conflict): dead letter, go on
  kPressure,   // back-pressure or a key still in flight: pause, retry the same rows
  kConnector,  // the server's (disk full, I/O error): stop here, retry later
};
ErrorKind Classify(const absl::Status& s);

// An append-only NDJSON file of rejected records; each Append is fsynced
// before it returns, so a checkpoint written after it never passes a bad
// record that is not on disk. Its directory is fsynced after the file is
// opened (created), so a power loss cannot take the file's name away with
// the records in it. Thread-compatible.
class DeadLetterFile {
 public:
  explicit DeadLetterFile(std::string path, Env* env = Env::Default())
      : path_(std::move(path)), env_(env) {}
  // One line: {"at","connector","source","offset","reason","line"}; `offset`
  // < 0 is left out; `line` is the raw record (or "" to leave it out).
  absl::Status Append(std::string_view connector, std::string_view source, int64_t offset,
                      std::string_view reason, std::string_view line);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  Env* env_;
  std::unique_ptr<WritableFile> file_;
};

// Runs `Engine::Ingest` and waits for its answer.
absl::StatusOr<IngestResult> IngestAndWait(Engine* engine, IngestRequest request);
absl::StatusOr<std::vector<IngestResult>> IngestManyAndWait(Engine* engine,
                                                            std::vector<IngestRequest> requests);

// In-memory bytes of the engine, as its back-pressure check counts them
// (without batches in flight).
uint64_t EngineMemoryBytes(Engine* engine);
// Seals the dataset holding the most in-memory bytes (Engine::Flush), to make
// room for a paused connector.
void RelieveMemory(Engine* engine);

// A connector: one thread, started and stopped by the ConnectorManager.
class Connector {
 public:
  virtual ~Connector();
  void Start();
  // Asks the thread to stop after the batch in hand (its rows durable and
  // checkpointed) and joins it. Idempotent.
  void Stop();
  virtual ConnectorStatus status() const = 0;

 protected:
  virtual void Run() = 0;
  bool stopping() const { return stop_.load(std::memory_order_acquire); }
  // Sleeps up to `ms`, waking early on Stop().
  void SleepMs(int ms);

 private:
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex sleep_mu_;
  std::condition_variable sleep_cv_;
};

}  // namespace timestore::connectors
