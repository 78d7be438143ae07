// Reads a segment file: the footer once at open, then only the blocks asked
// for, batched into one ReadMany (io_uring when the Env has it). Thread-safe:
// the reader is immutable after Open and shared by concurrent queries.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/env.h"
#include "segment/column.h"
#include "segment/segment_format.h"

namespace timestore::segment {

struct BlockInfo {
  uint64_t offset = 0;
  uint32_t length = 0;
  uint32_t raw_length = 0;
  uint32_t rows = 0;
  uint8_t codec = 0;
  Compression compression = Compression::kNone;
  uint32_t null_count = 0;
  uint64_t checksum = 0;
  bool has_minmax = false;
  int64_t min_int = 0, max_int = 0;
  double min_double = 0, max_double = 0;
  std::string min_string, max_string;
};

struct ColumnInfo {
  std::string name;
  ColumnType type;
  std::vector<BlockInfo> blocks;
};

// The newest value of each column in one series (footer `series_last`).
struct SeriesLast {
  struct Value {
    bool has = false;  // some row of the series has the column non-null
    int64_t ts = 0;    // time of the newest such row
    int64_t int_value = 0;
    double double_value = 0;
    std::string string_value;
  };
  std::string key;
  bool key_null = false;
  int64_t last_ts = 0;
  std::vector<Value> values;  // one per column
};

struct SegmentMeta {
  uint64_t dataset_id = 0;
  uint64_t segment_id = 0;
  uint32_t schema_version = 0;
  int64_t partition_start = 0;
  int64_t partition_interval = 0;
  uint64_t rows = 0;
  int64_t min_ts = 0;
  int64_t max_ts = 0;
  uint32_t time_column = 0;
  std::vector<std::string> sort_key;
  int64_t created_ns = 0;
  uint32_t level = 0;
  std::vector<ColumnInfo> columns;
  uint64_t file_bytes = 0;
  uint64_t footer_bytes = 0;
  // Per series of the one string segmentBy column, in sort order; empty when
  // the file has none.
  std::vector<SeriesLast> series_last;

  int ColumnIndex(std::string_view name) const;
  size_t num_blocks() const { return columns.empty() ? 0 : columns[0].blocks.size(); }
};

// Parses and checks the footer bytes (used by Open and by tests/fuzzers); any
// alignment of `footer` is fine.
absl::StatusOr<SegmentMeta> ParseFooter(std::string_view path, std::string_view footer,
                                        uint64_t file_size);

class SegmentReader {
 public:
  static absl::StatusOr<std::shared_ptr<const SegmentReader>> Open(Env* env,
                                                                   const std::string& path);
  // Over an open file (a remote segment's RemoteFile); messages name file->path().
  static absl::StatusOr<std::shared_ptr<const SegmentReader>> Open(
      std::unique_ptr<RandomAccessFile> file);
  // For tests and fuzzers: a reader over bytes in memory.
  static absl::StatusOr<std::shared_ptr<const SegmentReader>> FromBytes(std::string path,
                                                                        std::string bytes);

  const SegmentMeta& meta() const { return meta_; }
  const std::string& path() const { return path_; }

  // Decodes `columns` (indices into meta().columns) of `blocks`; result[b][c].
  // `bytes_read` (optional) adds the bytes of the blocks; `io` (optional)
  // what reading them cost (local bytes, remote requests, cache hits). A block
  // that fails its checksum is DataLoss naming the file, column, block and
  // offset, and a cached copy of it is dropped.
  absl::StatusOr<std::vector<std::vector<ColumnVector>>> ReadBlocks(
      std::span<const size_t> blocks, std::span<const int> columns,
      uint64_t* bytes_read = nullptr, IoStats* io = nullptr) const;
  // True when the segment's blocks live in object storage.
  bool remote() const { return file_ != nullptr && file_->IsRemote(); }

  // Reads and decodes every block of every column; the first damage found.
  absl::Status Verify() const;

  // The on-disk bytes of one block, unchecked (for `timestore inspect`).
  absl::StatusOr<std::string> ReadRawBlock(size_t column, size_t block) const;

 private:
  SegmentReader() = default;
  absl::Status Fetch(std::span<RandomAccessFile::ReadRequest> reqs, IoStats* io = nullptr) const;

  std::string path_;
  SegmentMeta meta_;
  std::unique_ptr<RandomAccessFile> file_;  // null when reading from bytes_
  std::string bytes_;
};

// Checks one block's on-disk bytes against its checksum and decompresses them:
// the block payload (segment_format.h). The result views `on_disk` or `*scratch`.
absl::StatusOr<std::string_view> DecompressBlock(std::string_view path, const BlockInfo& block,
                                                 std::string_view on_disk, std::string* scratch);

// Decodes one block's on-disk bytes (checksum, decompression, validity, values).
absl::StatusOr<ColumnVector> DecodeBlock(std::string_view path, const BlockInfo& block,
                                         ColumnType type, std::string_view on_disk);

}  // namespace timestore::segment
