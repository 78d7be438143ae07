// Writes one segment file from sorted columns. Not thread-safe; one writer per file.
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

enum class CompressionPolicy { kNone, kLz4, kZstd, kAuto };

struct WriteOptions {
  uint32_t block_rows = kDefaultBlockRows;  // at most kMaxBlockRows
  // A block ends early once a string-like column holds this much text in it
  // (BlockTextWeight summed over its rows); blocks may so differ in rows.
  uint64_t block_text_bytes = kDefaultBlockTextBytes;
  // kAuto keeps whichever of none / LZ4 / ZSTD is smallest per block, LZ4
  // preferred unless ZSTD saves another 10%.
  CompressionPolicy compression = CompressionPolicy::kAuto;
};

struct ColumnSpec {
  std::string name;
  ColumnType type;
};

// REQUIRES: every column has `rows` values; rows sorted by sort_key.
struct SegmentContents {
  uint64_t dataset_id = 0;
  uint64_t segment_id = 0;
  uint32_t schema_version = 0;
  int64_t partition_start = 0;
  int64_t partition_interval = 0;
  uint32_t level = 0;
  int64_t created_ns = 0;
  uint32_t time_column = 0;
  std::vector<std::string> sort_key;
  std::vector<ColumnSpec> specs;
  std::vector<const ColumnVector*> columns;  // parallel to specs
  uint32_t rows = 0;
};

struct WrittenSegment {
  uint64_t bytes = 0;
  uint32_t rows = 0;
  int64_t min_ts = 0;
  int64_t max_ts = 0;
};

// What row `row` of `c` counts toward WriteOptions::block_text_bytes: for a
// string-like column its text's length plus 16, else 0.
inline uint64_t BlockTextWeight(const ColumnVector& c, size_t row) {
  if (!IsStringLike(c.type) || c.IsNull(row)) return 0;
  return c.dict[c.ids[row]].size() + 16;
}

// Encodes the whole file into `out`. A block whose payload would pass
// kMaxBlockRawBytes (a value too long for any block) is an error: no file is
// made that readers would refuse.
absl::StatusOr<WrittenSegment> EncodeSegment(const SegmentContents& contents,
                                             const WriteOptions& options, std::string* out);

// Encodes and writes `path`, then fsyncs the file and its directory: when this
// returns OK the file is durable (the caller then logs the manifest edit).
absl::StatusOr<WrittenSegment> WriteSegmentFile(Env* env, const std::string& path,
                                                const SegmentContents& contents,
                                                const WriteOptions& options);

// Writes a segment file block by block, holding one block in memory whatever
// the segment's size (compaction's output). Blocks go to the file in the order
// added, all columns of one block together; the footer indexes them, so readers
// see the same format as EncodeSegment's. Rows must be added in sort-key order.
class SegmentFileBuilder {
 public:
  // `header` gives everything but columns and rows.
  static absl::StatusOr<std::unique_ptr<SegmentFileBuilder>> Create(Env* env,
                                                                    const std::string& path,
                                                                    SegmentContents header,
                                                                    const WriteOptions& options);
  ~SegmentFileBuilder();  // removes the file unless Finish() succeeded

  // One block: columns parallel to the header's specs, all of one length
  // (at most kMaxBlockRows). Written as several when it passes block_rows or
  // block_text_bytes, as EncodeSegment cuts blocks.
  absl::Status AddBlock(std::span<const ColumnVector* const> columns);
  uint32_t rows() const { return written_.rows; }
  uint64_t bytes() const;  // written so far
  // Footer and trailer, then fsync of the file and its directory: when this
  // returns OK the file is durable.
  absl::StatusOr<WrittenSegment> Finish();
  // Stops and removes the partial file.
  void Abandon();

 private:
  SegmentFileBuilder(Env* env, std::string path, SegmentContents header,
                     const WriteOptions& options);

  Env* const env_;
  const std::string path_;
  const SegmentContents header_;
  const WriteOptions options_;
  std::unique_ptr<WritableFile> file_;
  std::string buf_;
  struct Footer;  // FlatBuffers state, kept out of this header
  std::unique_ptr<Footer> footer_;
  WrittenSegment written_;
  bool finished_ = false;
};

}  // namespace timestore::segment
