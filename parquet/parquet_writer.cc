#include "parquet/parquet_writer.h"

#include <snappy.h>
#include <zstd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "parquet/parquet_format.h"
#include "parquet/thrift_compact.h"

#ifndef TIMESTORE_VERSION
#define TIMESTORE_VERSION "0.1.0"
#endif

namespace timestore::parquet {
namespace {

// Rows handed to a column at a time, so a page is cut near page_size.
constexpr size_t kSliceRows = 4096;
// A string longer than this gets no min/max statistics in its chunk (the
// statistics would bloat the footer; truncated bounds need care to stay
// bounds).
constexpr size_t kMaxStatBytes = 4096;

void PutU32(std::string* out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, 4);
}
void PutU64(std::string* out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, 8);
}
std::string Int64Bytes(int64_t v) {
  std::string s;
  PutU64(&s, static_cast<uint64_t>(v));
  return s;
}
std::string DoubleBytes(double v) {
  std::string s;
  PutU64(&s, std::bit_cast<uint64_t>(v));
  return s;
}

int BitWidth(uint32_t max_value) {
  return std::max(1, static_cast<int>(std::bit_width(max_value)));
}

PhysicalType PhysicalOf(ColumnType t) {
  switch (t) {
    case ColumnType::kTimestamp:
    case ColumnType::kInteger:
      return PhysicalType::kInt64;
    case ColumnType::kDouble:
      return PhysicalType::kDouble;
    case ColumnType::kBoolean:
      return PhysicalType::kBoolean;
    case ColumnType::kString:
      return PhysicalType::kByteArray;
  }
  return PhysicalType::kByteArray;
}

CompressionCodec CodecOf(Compression c) {
  switch (c) {
    case Compression::kNone:
      return CompressionCodec::kUncompressed;
    case Compression::kSnappy:
      return CompressionCodec::kSnappy;
    case Compression::kZstd:
      return CompressionCodec::kZstd;
  }
  return CompressionCodec::kUncompressed;
}

}  // namespace

std::optional<Compression> ParseCompression(std::string_view name) {
  if (name == "zstd") return Compression::kZstd;
  if (name == "snappy") return Compression::kSnappy;
  if (name == "none" || name == "uncompressed") return Compression::kNone;
  return std::nullopt;
}

std::string_view CompressionName(Compression c) {
  switch (c) {
    case Compression::kNone:
      return "none";
    case Compression::kSnappy:
      return "snappy";
    case Compression::kZstd:
      return "zstd";
  }
  return "none";
}

void EncodeRleHybrid(std::span<const uint32_t> values, int width, std::string* out) {
  const size_t value_bytes = (width + 7) / 8;
  std::vector<uint32_t> literals;
  // Bit-packed runs of at most 63 groups (a one-byte header), as most
  // writers do; only the last run of all may end in a padded group.
  auto flush_literals = [&] {
    size_t pos = 0;
    while (pos < literals.size()) {
      const size_t take = std::min<size_t>(literals.size() - pos, 63 * 8);
      const size_t groups = (take + 7) / 8;
      CompactWriter::AppendVarint(out, (groups << 1) | 1);
      uint64_t acc = 0;
      int bits = 0;
      for (size_t k = 0; k < groups * 8; ++k) {
        const uint64_t v = k < take ? literals[pos + k] : 0;
        acc |= v << bits;
        bits += width;
        while (bits >= 8) {
          out->push_back(static_cast<char>(acc & 0xff));
          acc >>= 8;
          bits -= 8;
        }
      }
      pos += take;
    }
    literals.clear();
  };
  size_t i = 0;
  while (i < values.size()) {
    size_t j = i + 1;
    while (j < values.size() && values[j] == values[i]) ++j;
    size_t run = j - i;
    if (run >= 8) {
      // Literals go out in whole groups of 8: lend them values of this run.
      const size_t pad = (8 - literals.size() % 8) % 8;
      if (!literals.empty()) {
        literals.insert(literals.end(), pad, values[i]);
        run -= pad;
        flush_literals();
      }
      CompactWriter::AppendVarint(out, static_cast<uint64_t>(run) << 1);
      for (size_t b = 0; b < value_bytes; ++b)
        out->push_back(static_cast<char>(values[i] >> (8 * b)));
    } else {
      literals.insert(literals.end(), values.begin() + i, values.begin() + j);
    }
    i = j;
  }
  flush_literals();
}

// One column's chunk of the row group being built: finished pages (compressed,
// in memory) and the values of the page being filled.
class ColumnChunkWriter {
 public:
  ColumnChunkWriter(const ParquetColumn& column, const ParquetWriterOptions& options)
      : column_(column), options_(options), physical_(PhysicalOf(column.type)) {
    Reset();
  }

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

  const ParquetColumn& column_;
  const ParquetWriterOptions& options_;
  const PhysicalType physical_;

  // The pending page.
  std::vector<uint32_t> defs_;  // nullable columns: 1 = value, 0 = null
  uint32_t page_values_ = 0;    // rows, nulls included
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
};

void ColumnChunkWriter::Reset() {
  defs_.clear();
  page_values_ = 0;
  plain_.clear();
  bools_.clear();
  ids_.clear();
  pages_.clear();
  uncompressed_total_ = compressed_total_ = 0;
  num_values_ = null_count_ = 0;
  dict_mode_ = column_.type == ColumnType::kString;
  used_dict_ = false;
  dict_.clear();
  dict_index_.clear();
  dict_bytes_ = 0;
  page_counts_.clear();
  has_minmax_ = false;
  has_false_ = has_true_ = false;
  min_s_.clear();
  max_s_.clear();
  string_stats_ok_ = true;
}

size_t ColumnChunkWriter::PendingBytes() const {
  size_t n = plain_.size() + bools_.size() / 8 + defs_.size() / 8;
  if (!ids_.empty()) n += ids_.size() * BitWidth(static_cast<uint32_t>(dict_.size())) / 8;
  return n;
}

void ColumnChunkWriter::AddString(std::string_view s) {
  NoteString(s);
  PutU32(&plain_, static_cast<uint32_t>(s.size()));
  plain_.append(s);
}

void ColumnChunkWriter::NoteString(std::string_view s) {
  if (string_stats_ok_) {
    if (s.size() > kMaxStatBytes) {
      string_stats_ok_ = false;
    } else if (!has_minmax_) {
      min_s_ = max_s_ = std::string(s);
      has_minmax_ = true;
    } else {
      // std::string compares with memcmp: unsigned bytes, as the spec orders UTF-8.
      if (s < std::string_view(min_s_)) min_s_ = std::string(s);
      if (s > std::string_view(max_s_)) max_s_ = std::string(s);
    }
  }
}

absl::Status ColumnChunkWriter::Add(const ColumnVector& v, size_t begin, size_t end) {
  std::vector<int64_t> remap;  // batch dictionary id -> chunk dictionary id + 1 (0: not yet)
  if (column_.type == ColumnType::kString && dict_mode_) remap.assign(v.dict.size(), 0);
  for (size_t slice = begin; slice < end; slice += kSliceRows) {
    const size_t slice_end = std::min(end, slice + kSliceRows);
    for (size_t r = slice; r < slice_end; ++r) {
      ++page_values_;
      ++num_values_;
      if (v.IsNull(r)) {
        defs_.push_back(0);
        ++null_count_;
        continue;
      }
      if (column_.nullable) defs_.push_back(1);
      switch (column_.type) {
        case ColumnType::kTimestamp:
        case ColumnType::kInteger: {
          const int64_t x = v.ints[r];
          if (!has_minmax_) {
            min_i_ = max_i_ = x;
            has_minmax_ = true;
          } else {
            min_i_ = std::min(min_i_, x);
            max_i_ = std::max(max_i_, x);
          }
          PutU64(&plain_, static_cast<uint64_t>(x));
          break;
        }
        case ColumnType::kDouble: {
          const double x = v.doubles[r];
          if (!std::isnan(x)) {  // NaN never goes into min/max (parquet.thrift)
            if (!has_minmax_) {
              min_d_ = max_d_ = x;
              has_minmax_ = true;
            } else {
              min_d_ = std::min(min_d_, x);
              max_d_ = std::max(max_d_, x);
            }
          }
          PutU64(&plain_, std::bit_cast<uint64_t>(x));
          break;
        }
        case ColumnType::kBoolean: {
          const bool x = v.bools[r] != 0;
          (x ? has_true_ : has_false_) = true;
          bools_.push_back(x ? 1 : 0);
          break;
        }
        case ColumnType::kString: {
          const uint32_t batch_id = v.ids[r];
          if (batch_id >= v.dict.size()) {
            return absl::InvalidArgumentError(StrCat("parquet: column '", column_.name, "' row ", r,
                                                     ": dictionary id ", batch_id, " of ",
                                                     v.dict.size()));
          }
          const std::string& s = v.dict[batch_id];
          if (dict_mode_) {
            int64_t& id = remap[batch_id];
            if (id == 0) {
              auto it = dict_index_.find(s);
              if (it != dict_index_.end()) {
                id = it->second + 1;
              } else if (dict_bytes_ + s.size() + 4 > options_.dictionary_page_limit &&
                         !dict_.empty()) {
                // The dictionary is full: the pages so far keep it, the
                // rest of the chunk is PLAIN. This row starts the next page.
                --page_values_;
                if (column_.nullable) defs_.pop_back();
                RETURN_IF_ERROR(FlushPage());
                dict_mode_ = false;
                ++page_values_;
                if (column_.nullable) defs_.push_back(1);
              } else {
                const uint32_t nid = static_cast<uint32_t>(dict_.size());
                dict_.push_back(s);
                dict_index_.emplace(s, nid);
                dict_bytes_ += s.size() + 4;
                id = nid + 1;
                // Statistics of a dictionary column: each distinct value once.
                NoteString(s);
              }
            }
            if (dict_mode_) {
              ids_.push_back(static_cast<uint32_t>(id - 1));
              used_dict_ = true;
              break;
            }
          }
          AddString(s);
          break;
        }
      }
    }
    if (PendingBytes() >= options_.page_size) RETURN_IF_ERROR(FlushPage());
  }
  return absl::OkStatus();
}

absl::Status ColumnChunkWriter::Compress(std::string_view in, std::string* out) const {
  switch (options_.compression) {
    case Compression::kNone:
      out->assign(in);
      return absl::OkStatus();
    case Compression::kSnappy:
      snappy::Compress(in.data(), in.size(), out);
      return absl::OkStatus();
    case Compression::kZstd: {
      out->resize(ZSTD_compressBound(in.size()));
      const size_t n =
          ZSTD_compress(out->data(), out->size(), in.data(), in.size(), options_.zstd_level);
      if (ZSTD_isError(n)) {
        return absl::InternalError(
            StrCat("parquet: zstd of column '", column_.name, "': ", ZSTD_getErrorName(n)));
      }
      out->resize(n);
      return absl::OkStatus();
    }
  }
  return absl::InternalError("parquet: unknown compression");
}

std::string ColumnChunkWriter::PageHeader(PageType type, size_t uncompressed, size_t compressed,
                                          uint32_t values, Encoding encoding) const {
  std::string h;
  CompactWriter w(&h);
  w.StructBegin();
  w.FieldI32(field::kPageType, static_cast<int32_t>(type));
  w.FieldI32(field::kPageUncompressedSize, static_cast<int32_t>(uncompressed));
  w.FieldI32(field::kPageCompressedSize, static_cast<int32_t>(compressed));
  if (type == PageType::kDictionaryPage) {
    w.FieldStructBegin(field::kPageDictionaryHeader);
    w.FieldI32(field::kDictNumValues, static_cast<int32_t>(values));
    w.FieldI32(field::kDictEncoding, static_cast<int32_t>(encoding));
    w.StructEnd();
  } else {
    w.FieldStructBegin(field::kPageDataHeader);
    w.FieldI32(field::kDataNumValues, static_cast<int32_t>(values));
    w.FieldI32(field::kDataEncoding, static_cast<int32_t>(encoding));
    w.FieldI32(field::kDataDefinitionEncoding, static_cast<int32_t>(Encoding::kRle));
    w.FieldI32(field::kDataRepetitionEncoding, static_cast<int32_t>(Encoding::kRle));
    w.StructEnd();
  }
  w.StructEnd();
  return h;
}

absl::Status ColumnChunkWriter::FlushPage() {
  if (page_values_ == 0) return absl::OkStatus();
  std::string body;
  if (column_.nullable) {
    std::string levels;
    EncodeRleHybrid(defs_, 1, &levels);
    PutU32(&body, static_cast<uint32_t>(levels.size()));
    body.append(levels);
  }
  Encoding encoding = Encoding::kPlain;
  if (!ids_.empty()) {
    // Every value of this page is in the dictionary (a page of nulls alone is PLAIN).
    encoding = Encoding::kRleDictionary;
    uint32_t max_id = 0;
    for (uint32_t id : ids_) max_id = std::max(max_id, id);
    const int width = BitWidth(max_id);
    body.push_back(static_cast<char>(width));
    EncodeRleHybrid(ids_, width, &body);
  } else if (column_.type == ColumnType::kBoolean) {
    const size_t start = body.size();
    body.resize(start + (bools_.size() + 7) / 8, '\0');
    for (size_t i = 0; i < bools_.size(); ++i) {
      if (bools_[i]) body[start + i / 8] = static_cast<char>(body[start + i / 8] | (1 << (i % 8)));
    }
  } else {
    body.append(plain_);
  }
  if (body.size() > static_cast<size_t>(INT32_MAX)) {
    return absl::InvalidArgumentError(
        StrCat("parquet: column '", column_.name, "': a page of ", body.size(), " bytes"));
  }
  std::string compressed;
  RETURN_IF_ERROR(Compress(body, &compressed));
  const std::string header =
      PageHeader(PageType::kDataPage, body.size(), compressed.size(), page_values_, encoding);
  pages_.append(header);
  pages_.append(compressed);
  uncompressed_total_ += header.size() + body.size();
  compressed_total_ += header.size() + compressed.size();
  NoteEncoding(PageType::kDataPage, encoding);
  defs_.clear();
  page_values_ = 0;
  plain_.clear();
  bools_.clear();
  ids_.clear();
  return absl::OkStatus();
}

absl::Status ColumnChunkWriter::Finish(uint64_t offset, std::string* bytes, std::string* meta,
                                       int64_t* uncompressed, int64_t* compressed) {
  RETURN_IF_ERROR(FlushPage());
  uint64_t unc = uncompressed_total_, comp = compressed_total_;
  std::optional<uint64_t> dict_offset;
  const size_t bytes_start = bytes->size();
  if (used_dict_) {
    std::string body;
    for (const std::string& s : dict_) {
      PutU32(&body, static_cast<uint32_t>(s.size()));
      body.append(s);
    }
    std::string z;
    RETURN_IF_ERROR(Compress(body, &z));
    const std::string header = PageHeader(PageType::kDictionaryPage, body.size(), z.size(),
                                          static_cast<uint32_t>(dict_.size()), Encoding::kPlain);
    dict_offset = offset;
    bytes->append(header);
    bytes->append(z);
    unc += header.size() + body.size();
    comp += header.size() + z.size();
    NoteEncoding(PageType::kDictionaryPage, Encoding::kPlain);
  }
  const uint64_t data_offset = offset + (bytes->size() - bytes_start);
  bytes->append(pages_);

  absl::flat_hash_set<int32_t> seen;
  std::vector<int32_t> encodings;
  auto note = [&](Encoding e) {
    if (seen.insert(static_cast<int32_t>(e)).second) encodings.push_back(static_cast<int32_t>(e));
  };
  note(Encoding::kPlain);  // the dictionary page's or the data pages'
  if (column_.nullable) note(Encoding::kRle);
  for (const auto& [key, count] : page_counts_) note(key.second);

  CompactWriter w(meta);
  w.StructBegin();  // ColumnChunk
  w.FieldI64(field::kChunkFileOffset, static_cast<int64_t>(offset));
  w.FieldStructBegin(field::kChunkMetaData);
  w.FieldI32(field::kMetaType, static_cast<int32_t>(physical_));
  w.FieldListBegin(field::kMetaEncodings, CompactType::kI32, encodings.size());
  for (int32_t e : encodings) w.I32(e);
  w.FieldListBegin(field::kMetaPath, CompactType::kBinary, 1);
  w.Binary(column_.name);
  w.FieldI32(field::kMetaCodec, static_cast<int32_t>(CodecOf(options_.compression)));
  w.FieldI64(field::kMetaNumValues, num_values_);
  w.FieldI64(field::kMetaTotalUncompressed, static_cast<int64_t>(unc));
  w.FieldI64(field::kMetaTotalCompressed, static_cast<int64_t>(comp));
  w.FieldI64(field::kMetaDataPageOffset, static_cast<int64_t>(data_offset));
  if (dict_offset) w.FieldI64(field::kMetaDictionaryPageOffset, static_cast<int64_t>(*dict_offset));
  w.FieldStructBegin(field::kMetaStatistics);
  w.FieldI64(field::kStatsNullCount, null_count_);
  std::string min, max;
  switch (column_.type) {
    case ColumnType::kTimestamp:
    case ColumnType::kInteger:
      if (has_minmax_) min = Int64Bytes(min_i_), max = Int64Bytes(max_i_);
      break;
    case ColumnType::kDouble:
      if (has_minmax_) {
        // A zero minimum is written -0.0 and a zero maximum +0.0, so readers
        // that compare either zero against the bound stay right.
        min = DoubleBytes(min_d_ == 0 ? -0.0 : min_d_);
        max = DoubleBytes(max_d_ == 0 ? 0.0 : max_d_);
      }
      break;
    case ColumnType::kBoolean:
      if (has_false_ || has_true_) {
        min.assign(1, has_false_ ? '\0' : '\1');
        max.assign(1, has_true_ ? '\1' : '\0');
      }
      break;
    case ColumnType::kString:
      if (has_minmax_ && string_stats_ok_) min = min_s_, max = max_s_;
      break;
  }
  const bool write_minmax =
      !max.empty() || (column_.type == ColumnType::kString && has_minmax_ && string_stats_ok_);
  if (write_minmax) {
    w.FieldBinary(field::kStatsMaxValue, max);
    w.FieldBinary(field::kStatsMinValue, min);
  }
  w.StructEnd();  // Statistics
  w.FieldListBegin(field::kMetaEncodingStats, CompactType::kStruct, page_counts_.size());
  // Dictionary pages first, as they come first in the chunk.
  std::vector<std::pair<std::pair<PageType, Encoding>, int32_t>> counts(page_counts_.begin(),
                                                                        page_counts_.end());
  std::stable_sort(counts.begin(), counts.end(), [](const auto& a, const auto& b) {
    return (a.first.first == PageType::kDictionaryPage) >
           (b.first.first == PageType::kDictionaryPage);
  });
  for (const auto& [key, count] : counts) {
    w.StructBegin();
    w.FieldI32(field::kPesPageType, static_cast<int32_t>(key.first));
    w.FieldI32(field::kPesEncoding, static_cast<int32_t>(key.second));
    w.FieldI32(field::kPesCount, count);
    w.StructEnd();
  }
  w.StructEnd();  // ColumnMetaData
  w.StructEnd();  // ColumnChunk
  *uncompressed += static_cast<int64_t>(unc);
  *compressed += static_cast<int64_t>(comp);
  Reset();
  return absl::OkStatus();
}

ParquetWriter::ParquetWriter(ParquetSink* sink, std::vector<ParquetColumn> schema,
                             ParquetWriterOptions options)
    : sink_(sink), schema_(std::move(schema)), options_(std::move(options)) {
  for (const ParquetColumn& c : schema_) {
    columns_.push_back(std::make_unique<ColumnChunkWriter>(c, options_));
  }
}

ParquetWriter::~ParquetWriter() = default;

absl::StatusOr<std::unique_ptr<ParquetWriter>> ParquetWriter::Create(
    ParquetSink* sink, std::vector<ParquetColumn> schema, ParquetWriterOptions options) {
  if (schema.empty()) return absl::InvalidArgumentError("parquet: a schema needs a column");
  absl::flat_hash_set<std::string> names;
  for (const ParquetColumn& c : schema) {
    if (c.name.empty()) return absl::InvalidArgumentError("parquet: a column has an empty name");
    if (!names.insert(c.name).second) {
      return absl::InvalidArgumentError(StrCat("parquet: column '", c.name, "' appears twice"));
    }
  }
  if (options.page_size == 0 || options.row_group_rows == 0 || options.row_group_bytes == 0) {
    return absl::InvalidArgumentError("parquet: page and row group bounds must be positive");
  }
  if (options.created_by.empty()) options.created_by = "timestore version " TIMESTORE_VERSION;
  std::unique_ptr<ParquetWriter> w(new ParquetWriter(sink, std::move(schema), std::move(options)));
  RETURN_IF_ERROR(w->Write(std::string_view(kMagic, 4)));
  return w;
}

absl::Status ParquetWriter::Write(std::string_view data) {
  absl::Status s = sink_->Append(data);
  if (!s.ok()) {
    broken_ = s;
    return s;
  }
  offset_ += data.size();
  return absl::OkStatus();
}

absl::Status ParquetWriter::Check(std::span<const ColumnVector> columns) const {
  if (columns.size() != schema_.size()) {
    return absl::InvalidArgumentError(
        StrCat("parquet: ", columns.size(), " columns given for a schema of ", schema_.size()));
  }
  for (size_t c = 0; c < columns.size(); ++c) {
    const ColumnVector& v = columns[c];
    const ParquetColumn& col = schema_[c];
    if (v.type != col.type) {
      return absl::InvalidArgumentError(StrCat("parquet: column '", col.name, "' is ",
                                               ColumnTypeName(col.type), ", given ",
                                               ColumnTypeName(v.type)));
    }
    if (v.length != columns[0].length) {
      return absl::InvalidArgumentError(StrCat("parquet: column '", col.name, "' has ", v.length,
                                               " rows, column '", schema_[0].name, "' ",
                                               columns[0].length));
    }
    if (!v.valid.empty() && v.valid.size() < v.length) {
      return absl::InvalidArgumentError(
          StrCat("parquet: column '", col.name, "': validity shorter than its rows"));
    }
    if (!v.all_null) {
      size_t have = 0;
      switch (v.type) {
        case ColumnType::kTimestamp:
        case ColumnType::kInteger:
          have = v.ints.size();
          break;
        case ColumnType::kDouble:
          have = v.doubles.size();
          break;
        case ColumnType::kBoolean:
          have = v.bools.size();
          break;
        case ColumnType::kString:
          have = v.ids.size();
          break;
      }
      if (have < v.length) {
        return absl::InvalidArgumentError(
            StrCat("parquet: column '", col.name, "': values shorter than its rows"));
      }
    }
    if (!col.nullable && v.HasNulls()) {
      for (size_t r = 0; r < v.length; ++r) {
        if (v.IsNull(r)) {
          return absl::InvalidArgumentError(
              StrCat("parquet: column '", col.name, "' is not nullable but row ", r, " is null"));
        }
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ParquetWriter::Append(std::span<const ColumnVector> columns) {
  if (finished_) return absl::FailedPreconditionError("parquet: the file is finished");
  RETURN_IF_ERROR(broken_);
  RETURN_IF_ERROR(Check(columns));
  const size_t n = columns[0].length;
  size_t pos = 0;
  while (pos < n) {
    // Slices small enough that the byte bound is checked often.
    const size_t take = std::min<uint64_t>(
        {n - pos, options_.row_group_rows - group_rows_, static_cast<uint64_t>(64 * 1024)});
    for (size_t c = 0; c < columns_.size(); ++c) {
      absl::Status s = columns_[c]->Add(columns[c], pos, pos + take);
      if (!s.ok()) {
        broken_ = s;
        return s;
      }
    }
    pos += take;
    group_rows_ += take;
    rows_ += take;
    uint64_t bytes = 0;
    for (const auto& c : columns_) bytes += c->BufferedBytes();
    if (group_rows_ >= options_.row_group_rows || bytes >= options_.row_group_bytes) {
      RETURN_IF_ERROR(FlushRowGroup());
    }
  }
  return absl::OkStatus();
}

absl::Status ParquetWriter::WriteRowGroup(std::span<const ColumnVector> columns) {
  RETURN_IF_ERROR(Append(columns));
  return FlushRowGroup();
}

absl::Status ParquetWriter::FlushRowGroup() {
  if (finished_) return absl::FailedPreconditionError("parquet: the file is finished");
  RETURN_IF_ERROR(broken_);
  if (group_rows_ == 0) return absl::OkStatus();
  const uint64_t group_offset = offset_;
  std::string metas;
  int64_t uncompressed = 0, compressed = 0;
  for (auto& c : columns_) {
    std::string bytes;
    absl::Status s = c->Finish(offset_, &bytes, &metas, &uncompressed, &compressed);
    if (!s.ok()) {
      broken_ = s;
      return s;
    }
    RETURN_IF_ERROR(Write(bytes));
  }
  std::string rg;
  CompactWriter w(&rg);
  w.StructBegin();
  w.FieldListBegin(field::kRowGroupColumns, CompactType::kStruct, columns_.size());
  rg.append(metas);
  w.FieldI64(field::kRowGroupTotalByteSize, uncompressed);
  w.FieldI64(field::kRowGroupNumRows, static_cast<int64_t>(group_rows_));
  w.FieldI64(field::kRowGroupFileOffset, static_cast<int64_t>(group_offset));
  w.FieldI64(field::kRowGroupTotalCompressedSize, compressed);
  w.FieldI16(field::kRowGroupOrdinal, static_cast<int16_t>(row_group_meta_.size()));
  w.StructEnd();
  row_group_meta_.push_back(std::move(rg));
  group_rows_ = 0;
  return absl::OkStatus();
}

namespace {

void WriteSchemaElement(CompactWriter& w, const ParquetColumn& c) {
  w.StructBegin();
  w.FieldI32(field::kSchemaType, static_cast<int32_t>(PhysicalOf(c.type)));
  w.FieldI32(field::kSchemaRepetition,
             static_cast<int32_t>(c.nullable ? Repetition::kOptional : Repetition::kRequired));
  w.FieldBinary(field::kSchemaName, c.name);
  switch (c.type) {
    case ColumnType::kTimestamp:
      w.FieldStructBegin(field::kSchemaLogicalType);
      w.FieldStructBegin(field::kLogicalTimestamp);
      w.FieldBool(field::kTimestampAdjustedToUtc, true);
      w.FieldStructBegin(field::kTimestampUnit);
      w.FieldStructBegin(field::kUnitNanos);
      w.StructEnd();
      w.StructEnd();  // TimeUnit
      w.StructEnd();  // TimestampType
      w.StructEnd();  // LogicalType
      break;
    case ColumnType::kInteger:
      w.FieldI32(field::kSchemaConvertedType, static_cast<int32_t>(ConvertedType::kInt64));
      w.FieldStructBegin(field::kSchemaLogicalType);
      w.FieldStructBegin(field::kLogicalInteger);
      w.FieldI8(field::kIntBitWidth, 64);
      w.FieldBool(field::kIntSigned, true);
      w.StructEnd();
      w.StructEnd();
      break;
    case ColumnType::kString:
      w.FieldI32(field::kSchemaConvertedType, static_cast<int32_t>(ConvertedType::kUtf8));
      w.FieldStructBegin(field::kSchemaLogicalType);
      w.FieldStructBegin(field::kLogicalString);
      w.StructEnd();
      w.StructEnd();
      break;
    case ColumnType::kDouble:
    case ColumnType::kBoolean:
      break;
  }
  w.StructEnd();
}

}  // namespace

absl::Status ParquetWriter::Finish() {
  RETURN_IF_ERROR(FlushRowGroup());
  std::string meta;
  CompactWriter w(&meta);
  w.StructBegin();
  w.FieldI32(field::kFileVersion, 2);
  w.FieldListBegin(field::kFileSchema, CompactType::kStruct, schema_.size() + 1);
  w.StructBegin();  // the root
  w.FieldBinary(field::kSchemaName, "schema");
  w.FieldI32(field::kSchemaNumChildren, static_cast<int32_t>(schema_.size()));
  w.StructEnd();
  for (const ParquetColumn& c : schema_) WriteSchemaElement(w, c);
  w.FieldI64(field::kFileNumRows, static_cast<int64_t>(rows_));
  w.FieldListBegin(field::kFileRowGroups, CompactType::kStruct, row_group_meta_.size());
  for (const std::string& rg : row_group_meta_) meta.append(rg);
  if (!options_.key_value_metadata.empty()) {
    w.FieldListBegin(field::kFileKeyValue, CompactType::kStruct,
                     options_.key_value_metadata.size());
    for (const auto& [k, v] : options_.key_value_metadata) {
      w.StructBegin();
      w.FieldBinary(field::kKey, k);
      w.FieldBinary(field::kValue, v);
      w.StructEnd();
    }
  }
  w.FieldBinary(field::kFileCreatedBy, options_.created_by);
  w.FieldListBegin(field::kFileColumnOrders, CompactType::kStruct, schema_.size());
  for (size_t i = 0; i < schema_.size(); ++i) {
    w.StructBegin();
    w.FieldStructBegin(field::kColumnOrderTypeDefined);
    w.StructEnd();
    w.StructEnd();
  }
  w.StructEnd();
  PutU32(&meta, static_cast<uint32_t>(meta.size()));
  meta.append(kMagic, 4);
  RETURN_IF_ERROR(Write(meta));
  finished_ = true;
  return absl::OkStatus();
}

}  // namespace timestore::parquet
