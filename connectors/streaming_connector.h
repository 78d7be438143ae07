// The streaming connector (docs/connectors.md "Streaming"): tails an NDJSON
// file of envelopes, follows its rotation (a new inode at the path, or the
// file cut shorter than the offset), stores each envelope's rows with its
// idempotency key, and checkpoints inode + byte offset once every line up to
// the offset is durable: its rows fsynced in the WAL, or the line fsynced in
// the dead-letter file.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "connectors/checkpoint.h"
#include "connectors/config.h"
#include "connectors/connector.h"

namespace timestore::connectors {

class StreamingConnector : public Connector {
 public:
  // `engine` must outlive the connector. Paths in `config` left empty are
  // filled under <storage_root>/connectors/.
  StreamingConnector(StreamingConfig config, Engine* engine, const std::string& storage_root,
                     BackpressureConfig backpressure);
  ~StreamingConnector() override;
  ConnectorStatus status() const override;

 private:
  struct Line {
    uint64_t offset;  // of its first byte in the file
    uint64_t end;     // past its newline
    std::string text;
  };
  void Run() override;
  // Opens the start file from the checkpoint; false when nothing to read yet.
  bool OpenStart();
  bool OpenFile(const std::string& file, uint64_t offset);
  void CloseFile();
  // Up to batch_size whole lines from pos_; `final` takes a last line without
  // its newline (the file was rotated away and will not grow).
  std::vector<Line> ReadLines(bool final);
  // Stores the batch; returns the offset up to which every line is durable.
  uint64_t StoreBatch(const std::vector<Line>& lines);
  // Checks for rotation or truncation once the file has no whole line left.
  void CheckRotation();
  // A file rotated away from the path: its name, inode and mtime (ns).
  struct Sibling {
    std::string path;
    uint64_t inode = 0;
    int64_t mtime_ns = 0;
  };
  // The oldest rotated name of the path written after `finished` (by mtime,
  // then inode), other than the path's file (`path_inode`): a file the path
  // held between the finished one and the current one. Compressed names
  // (.gz .bz2 .xz .zst .zip) are not read: they go to `unreadable`.
  std::optional<Sibling> NextRotatedSibling(const Sibling& finished, uint64_t path_inode,
                                            std::vector<std::string>* unreadable) const;
  bool Checkpoint(uint64_t offset);
  void SetError(std::string error);
  void Fail(std::string error);

  const StreamingConfig config_;
  Engine* const engine_;
  Backpressure backpressure_;
  DeadLetterFile dlq_;
  Precision precision_ = Precision::kMilliseconds;

  // The connector thread's own.
  int fd_ = -1;
  uint64_t inode_ = 0;
  uint64_t device_ = 0;
  // The checkpoint's fingerprint of the open file (docs: checkpoint.h).
  uint64_t fingerprint_ = 0;
  uint64_t fingerprint_bytes_ = 0;
  // Rotation seen: the old file's size and when it was last seen to change.
  uint64_t rotated_size_ = 0;
  int64_t rotation_seen_ms_ = 0;
  uint64_t pos_ = 0;              // durable and checkpointed up to here
  bool skip_to_newline_ = false;  // inside an over-long line already dead-lettered
  uint64_t long_line_end_ = 0;    // where the last dead-lettered head of one ended
  StreamCheckpoint checkpoint_;

  mutable std::mutex mu_;
  ConnectorStatus status_;  // guarded by mu_
};

}  // namespace timestore::connectors
