// Shared by the Parquet writer's files (not part of its API): byte helpers,
// the type mapping, the schema elements and the column chunk writer.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "common/strings.h"
#include "parquet/parquet_format.h"
#include "parquet/parquet_writer.h"
#include "parquet/thrift_compact.h"
#include "segment/array_text.h"

namespace timestore::parquet {
namespace internal {

// Rows handed to a column at a time, so a page is cut near page_size.
inline constexpr size_t kSliceRows = 4096;
// A string longer than this gets no min/max statistics in its chunk (the
// statistics would bloat the footer; truncated bounds need care to stay
// bounds).
inline constexpr size_t kMaxStatBytes = 4096;

void PutU32(std::string* out, uint32_t v);
void PutU64(std::string* out, uint64_t v);
std::string Int64Bytes(int64_t v);
std::string DoubleBytes(double v);
int BitWidth(uint32_t max_value);
CompressionCodec CodecOf(Compression c);

// The physical type of a column's leaf values (of the elements for arrays).
PhysicalType PhysicalOf(ColumnType t);
// The leaf's path in the schema: {name}, or {name, "list", "element"} for arrays.
std::vector<std::string> LeafPath(const ParquetColumn& c);
// The SchemaElements of one column (three for an array's LIST).
void WriteSchemaElements(CompactWriter& w, const ParquetColumn& c);

}  // namespace internal

// One column's chunk of the row group being built: finished pages (compressed,
// in memory) and the values of the page being filled.
class ColumnChunkWriter {
 public:
  ColumnChunkWriter(const ParquetColumn& column, const ParquetWriterOptions& options);

  // Adds rows [begin, end) of `v` (checked by ParquetWriter::Check).
  absl::Status Add(const ColumnVector& v, size_t begin, size_t end);
  // Uncompressed bytes of the chunk so far (finished pages and the pending one).
  uint64_t BufferedBytes() const { return uncompressed_total_ + PendingBytes(); }
  // Closes the chunk, whose first byte will be at file offset `offset`:
  // appends its pages to `*bytes`, its ColumnChunk struct to `*meta`, and
  // adds its sizes (page headers included) to the totals. Resets the writer.
  absl::Status Finish(uint64_t offset, std::string* bytes, std::string* meta, int64_t* uncompressed,
                      int64_t* compressed);

 private:
  void Reset();
  size_t PendingBytes() const;
  absl::Status FlushPage();
  absl::Status Compress(std::string_view in, std::string* out) const;
  std::string PageHeader(PageType type, size_t uncompressed, size_t compressed, uint32_t values,
                         Encoding encoding) const;
  void AddString(std::string_view s);   // a PLAIN value
  void NoteString(std::string_view s);  // into the statistics
  void NoteEncoding(PageType type, Encoding e) { ++page_counts_[{type, e}]; }
  // What Add converted of one batch's dictionary entries, by batch id: the
  // start + 1 of the entry's uuid bytes in uuid_bytes_ or of its elements in
  // elements_ (0: not converted yet), and the number of elements.
  struct BatchValues {
    std::vector<size_t> start;
    std::vector<size_t> count;
  };
  // Puts the bytes of uuid `text` in uuid_bytes_ unless *start says they are
  // there, and sets *start; false when `text` is not a uuid.
  bool ConvertUuid(std::string_view text, size_t* start);
  // One row of a LIST column: its levels and elements (each distinct value
  // of the batch parsed once).
  absl::Status AddListRow(const ColumnVector& v, size_t r, BatchValues* batch);
  // One value of the column's leaf type (the element type for LIST columns).
  void AddInt(int64_t x);
  void AddDouble(double x);
  void AddBool(bool x);
  void WriteStatistics(CompactWriter& w);

  const ParquetColumn& column_;
  const ParquetWriterOptions& options_;
  const PhysicalType physical_;
  // What the leaf values are: the element type of an array column, kString
  // for json (stored like strings), the column's type otherwise.
  const ColumnType leaf_;
  const bool list_;         // an array column: a 3-level LIST
  const uint32_t max_def_;  // 1 nullable, 0 required; LIST: one more

  // The pending page.
  std::vector<uint32_t> defs_;  // nullable columns: 1 = value, 0 = null (LIST: see format)
  std::vector<uint32_t> reps_;  // LIST columns: 0 starts a row, 1 continues it
  uint32_t page_values_ = 0;    // level entries: rows, nulls included (LIST: elements)
  std::string plain_;           // PLAIN values (INT64, DOUBLE, BYTE_ARRAY)
  std::vector<uint8_t> bools_;
  std::vector<uint32_t> ids_;  // RLE_DICTIONARY indices

  // The chunk.
  std::string pages_;  // data pages, each header + body
  uint64_t uncompressed_total_ = 0, compressed_total_ = 0;
  int64_t num_values_ = 0, null_count_ = 0;
  bool dict_mode_ = false;  // strings go to the dictionary (else PLAIN)
  bool used_dict_ = false;
  std::vector<std::string> dict_;
  StringMap<uint32_t> dict_index_;
  size_t dict_bytes_ = 0;
  std::map<std::pair<PageType, Encoding>, int32_t> page_counts_;

  // Statistics of the chunk's values.
  bool has_minmax_ = false;
  int64_t min_i_ = 0, max_i_ = 0;
  double min_d_ = 0, max_d_ = 0;
  bool has_false_ = false, has_true_ = false;
  std::string min_s_, max_s_;
  bool string_stats_ok_ = true;
  // Scratch of Add, reused from batch to batch: the converted values of the
  // batch's dictionary entries (BatchValues).
  std::string uuid_bytes_;
  ArrayElements elements_;
};

}  // namespace timestore::parquet
