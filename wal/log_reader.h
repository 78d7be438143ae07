// Reads a whole log file (wal_format.h) and splits it into records, telling a
// torn tail (a crash during the last write: dropped and reported) from
// corruption (DataLoss naming file and offset). Thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/env.h"
#include "wal/wal_format.h"

namespace timestore::wal {

struct LogRecord {
  RecordType type;
  uint64_t seq;
  uint64_t offset;           // of the record header in the file
  std::string_view payload;  // points into LogFile::contents
};

struct LogFile {
  std::string path;
  std::string contents;
  std::vector<LogRecord> records;
  // Bytes of valid records (file header included); everything after it was dropped.
  uint64_t valid_bytes = 0;
  uint64_t dropped_bytes = 0;
  std::string drop_reason;  // empty when nothing was dropped
};

enum class TailPolicy {
  // Only a torn tail may be dropped (newest file); any other damage is DataLoss.
  kTornTailOnly,
  // Everything from the first bad record on is dropped and reported (operator
  // override after corruption, `--wal-recovery=truncate`).
  kTruncate,
  // No damage tolerated at all (older files, which were complete when rotated).
  kStrict,
};

// Parses `contents` as a log with `magic`. `path` is used in messages only.
absl::StatusOr<LogFile> ParseLog(std::string path, std::string contents, uint32_t magic,
                                 TailPolicy policy);
absl::StatusOr<LogFile> ReadLog(Env* env, const std::string& path, uint32_t magic,
                                TailPolicy policy);

}  // namespace timestore::wal
