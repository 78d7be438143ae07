// ParquetWriter: Timestore columns into an Apache Parquet file any engine
// reads (DuckDB, Spark, Arrow, pandas, ClickHouse). Written by hand against
// the specification (parquet/parquet_format.h): Debian ships no Arrow/Parquet
// C++ library.
//
// Type mapping (docs/export.md):
//   timestamp -> INT64, LogicalType TIMESTAMP(isAdjustedToUTC=true, NANOS)
//                (no converted_type: none exists for nanoseconds)
//   integer   -> INT64, LogicalType INTEGER(64, signed), converted_type INT_64
//   double    -> DOUBLE
//   boolean   -> BOOLEAN
//   string    -> BYTE_ARRAY, LogicalType STRING, converted_type UTF8;
//                dictionary-encoded (a PLAIN dictionary page, RLE_DICTIONARY
//                data pages), falling back to PLAIN pages once a chunk's
//                dictionary passes `dictionary_page_limit` bytes
//   json      -> BYTE_ARRAY, LogicalType JSON, converted_type JSON (the
//                canonical text, dictionary-encoded like strings)
//   uuid      -> FIXED_LEN_BYTE_ARRAY(16), LogicalType UUID
//   double[], integer[], string[], boolean[]
//             -> a 3-level LIST (optional group (LIST) / repeated group list /
//                required element of the element's type as above), with
//                repetition levels; the chunk's path is name.list.element and
//                it carries no Statistics
// Columns are OPTIONAL (definition levels) unless declared not nullable.
// Data pages are version 1 (the widest reader support). Each column chunk
// carries Statistics (min_value/max_value by the type's order: signed for
// INT64, false < true for BOOLEAN, unsigned bytes for strings, doubles
// without NaN and with -0.0 as a zero minimum and +0.0 as a zero maximum;
// null_count); FileMetaData.column_orders says TypeDefinedOrder for each.
//
// Memory: the compressed pages of the row group being built plus one page
// of values per column; a row group is written out when it reaches
// `row_group_rows` rows or `row_group_bytes` bytes of uncompressed pages.
//
// Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/env.h"
#include "segment/column.h"

namespace timestore::parquet {

enum class Compression { kNone, kSnappy, kZstd };
// "none" (or "uncompressed"), "snappy", "zstd"; nullopt otherwise.
std::optional<Compression> ParseCompression(std::string_view name);
std::string_view CompressionName(Compression c);

struct ParquetColumn {
  std::string name;
  ColumnType type = ColumnType::kDouble;
  bool nullable = true;
};

struct ParquetWriterOptions {
  Compression compression = Compression::kZstd;
  int zstd_level = 3;
  size_t page_size = 1 << 20;              // uncompressed bytes of one data page
  size_t dictionary_page_limit = 1 << 20;  // a string chunk's dictionary bytes
  uint64_t row_group_rows = 1'000'000;
  uint64_t row_group_bytes = 128ull << 20;  // uncompressed page bytes
  // FileMetaData.key_value_metadata, in this order.
  std::vector<std::pair<std::string, std::string>> key_value_metadata;
  std::string created_by;  // empty: "timestore version <version>"
};

// Where the bytes go.
class ParquetSink {
 public:
  virtual ~ParquetSink() = default;
  virtual absl::Status Append(std::string_view data) = 0;
};

class StringSink : public ParquetSink {
 public:
  absl::Status Append(std::string_view data) override {
    data_.append(data);
    return absl::OkStatus();
  }
  const std::string& data() const { return data_; }

 private:
  std::string data_;
};

// Appends to `file` (not owned; it must outlive the sink). The caller syncs
// and closes it after Finish().
class FileSink : public ParquetSink {
 public:
  explicit FileSink(WritableFile* file) : file_(file) {}
  absl::Status Append(std::string_view data) override { return file_->Append(data); }

 private:
  WritableFile* file_;
};

class ColumnChunkWriter;  // parquet_writer.cc

class ParquetWriter {
 public:
  // Writes the leading magic. InvalidArgument for an empty schema, a
  // duplicate or empty column name, or bad options.
  static absl::StatusOr<std::unique_ptr<ParquetWriter>> Create(ParquetSink* sink,
                                                               std::vector<ParquetColumn> schema,
                                                               ParquetWriterOptions options = {});
  ~ParquetWriter();

  // Adds rows: one ColumnVector per schema column, in schema order, of one
  // length and of the column's type. Row groups are cut at the configured
  // bounds. InvalidArgument naming the column (and the row for a null in a
  // column that is not nullable); nothing of a refused batch is added.
  absl::Status Append(std::span<const ColumnVector> columns);
  // Append, then ends the row group (these rows and any appended before).
  absl::Status WriteRowGroup(std::span<const ColumnVector> columns);
  // Ends the current row group (nothing when it has no rows).
  absl::Status FlushRowGroup();
  // Ends the row group and writes FileMetaData, its length and "PAR1". A
  // file with no rows has no row groups (readers accept it). No call may
  // follow.
  absl::Status Finish();

  uint64_t rows() const { return rows_; }
  uint64_t row_groups() const { return row_group_meta_.size(); }
  uint64_t bytes_written() const { return offset_; }
  const std::vector<ParquetColumn>& schema() const { return schema_; }

 private:
  ParquetWriter(ParquetSink* sink, std::vector<ParquetColumn> schema, ParquetWriterOptions options);
  absl::Status Check(std::span<const ColumnVector> columns) const;
  absl::Status Write(std::string_view data);

  ParquetSink* sink_;
  std::vector<ParquetColumn> schema_;
  ParquetWriterOptions options_;
  std::vector<std::unique_ptr<ColumnChunkWriter>> columns_;
  uint64_t offset_ = 0;
  uint64_t rows_ = 0;
  uint64_t group_rows_ = 0;
  std::vector<std::string> row_group_meta_;  // serialized RowGroup structs
  bool finished_ = false;
  absl::Status broken_;  // a failed write: every later call fails with it
};

// Encodes `values` (each < 2^width) as an RLE/bit-packed hybrid, appending
// to `*out` (no length prefix). Exposed for tests.
void EncodeRleHybrid(std::span<const uint32_t> values, int width, std::string* out);

}  // namespace timestore::parquet
