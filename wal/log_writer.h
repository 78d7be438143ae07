// Frames records (wal_format.h) into one log file. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/env.h"
#include "wal/wal_format.h"

namespace timestore::wal {

// Appends the framed record to `dst` (for batching several records into one write).
void AppendFramedRecord(std::string* dst, RecordType type, uint64_t seq, std::string_view payload);
std::string EncodeFileHeader(uint32_t magic);

class LogWriter {
 public:
  // Creates `path` (truncating) and writes the file header (not yet synced).
  static absl::StatusOr<std::unique_ptr<LogWriter>> Create(Env* env, const std::string& path,
                                                           uint32_t magic);

  // Opens the existing log `path` (its header written) to append after its end.
  static absl::StatusOr<std::unique_ptr<LogWriter>> OpenForAppend(Env* env,
                                                                  const std::string& path);

  absl::Status AddRecord(RecordType type, uint64_t seq, std::string_view payload);
  // Appends bytes already framed with AppendFramedRecord. Like AddRecord, it
  // writes them out (WritableFile::Flush): a failed write shows here, and
  // Sync fails only when the fsync does.
  absl::Status AppendFramed(std::string_view framed) {
    absl::Status s = file_->Append(framed);
    return s.ok() ? file_->Flush() : s;
  }
  absl::Status Sync() { return file_->Sync(); }
  absl::Status Close() { return file_->Close(); }
  uint64_t size() const { return file_->Size(); }
  const std::string& path() const { return file_->path(); }

 private:
  explicit LogWriter(std::unique_ptr<WritableFile> file) : file_(std::move(file)) {}
  std::unique_ptr<WritableFile> file_;
  std::string scratch_;
};

}  // namespace timestore::wal
