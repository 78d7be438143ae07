// The column chunk writer: pages of one column of the row group being built,
// their levels, values, dictionary and statistics, and the chunk's metadata.
#include <snappy.h>
#include <zstd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <optional>

#include "absl/container/flat_hash_set.h"
#include "common/status_macros.h"
#include "parquet/parquet_internal.h"
#include "segment/typed_text.h"

namespace timestore::parquet {

using namespace internal;  // NOLINT: the writer's own helpers

ColumnChunkWriter::ColumnChunkWriter(const ParquetColumn& column,
                                     const ParquetWriterOptions& options)
    : column_(column),
      options_(options),
      physical_(PhysicalOf(column.type)),
      leaf_(column.type == ColumnType::kJson ? ColumnType::kString : ArrayElementType(column.type)),
      list_(IsArrayType(column.type)),
      max_def_((column.nullable ? 1 : 0) + (IsArrayType(column.type) ? 1 : 0)) {
  elements_.element = leaf_;
  Reset();
}

void ColumnChunkWriter::Reset() {
  defs_.clear();
  reps_.clear();
  page_values_ = 0;
  plain_.clear();
  bools_.clear();
  ids_.clear();
  pages_.clear();
  uncompressed_total_ = compressed_total_ = 0;
  num_values_ = null_count_ = 0;
  dict_mode_ = leaf_ == ColumnType::kString && !list_;
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
  size_t n = plain_.size() + bools_.size() / 8 + defs_.size() / 8 + reps_.size() / 8;
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
  if (dict_mode_) remap.assign(v.dict.size(), 0);
  // uuid and LIST columns convert each batch dictionary id once, not per row:
  // its start + 1 in uuid_bytes_ (16 bytes) or elements_ (0: not yet).
  BatchValues batch;
  if (column_.type == ColumnType::kUuid || list_) batch.start.assign(v.dict.size(), 0);
  if (list_) batch.count.assign(v.dict.size(), 0);
  uuid_bytes_.clear();
  elements_.clear();
  for (size_t slice = begin; slice < end; slice += kSliceRows) {
    const size_t slice_end = std::min(end, slice + kSliceRows);
    for (size_t r = slice; r < slice_end; ++r) {
      if (list_) {
        RETURN_IF_ERROR(AddListRow(v, r, &batch));
        continue;
      }
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
        case ColumnType::kInteger:
          AddInt(v.ints[r]);
          break;
        case ColumnType::kDouble:
          AddDouble(v.doubles[r]);
          break;
        case ColumnType::kBoolean:
          AddBool(v.bools[r] != 0);
          break;
        case ColumnType::kUuid: {
          const uint32_t id = v.ids[r];
          if (id >= v.dict.size() || !ConvertUuid(v.dict[id], &batch.start[id])) {
            return absl::InvalidArgumentError(
                StrCat("parquet: column '", column_.name, "' row ", r, ": not a uuid"));
          }
          const std::string_view b(uuid_bytes_.data() + batch.start[id] - 1, 16);
          NoteString(b);  // unsigned bytes: the UUID order
          plain_.append(b);
          break;
        }
        default: {  // string, json (arrays go to AddListRow)
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

void ColumnChunkWriter::AddInt(int64_t x) {
  if (!has_minmax_) {
    min_i_ = max_i_ = x;
    has_minmax_ = true;
  } else {
    min_i_ = std::min(min_i_, x);
    max_i_ = std::max(max_i_, x);
  }
  PutU64(&plain_, static_cast<uint64_t>(x));
}

void ColumnChunkWriter::AddDouble(double x) {
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
}

void ColumnChunkWriter::AddBool(bool x) {
  (x ? has_true_ : has_false_) = true;
  bools_.push_back(x ? 1 : 0);
}

// A null row is one entry of level 0; an empty array one entry one level
// below an element's; each element an entry of the highest level, the first
// with repetition 0 (a new row), the others 1.
bool ColumnChunkWriter::ConvertUuid(std::string_view text, size_t* start) {
  if (*start != 0) return true;
  const size_t at = uuid_bytes_.size();
  uuid_bytes_.resize(at + 16);
  uint8_t* bytes = reinterpret_cast<uint8_t*>(uuid_bytes_.data() + at);
  if (IsCanonicalUuid(text)) {  // as stored: no copy
    UuidToBytes(text, bytes);
  } else {
    const std::optional<std::string> canonical = CanonicalUuid(text);
    if (!canonical) {
      uuid_bytes_.resize(at);
      return false;
    }
    UuidToBytes(*canonical, bytes);
  }
  *start = at + 1;
  return true;
}

absl::Status ColumnChunkWriter::AddListRow(const ColumnVector& v, size_t r, BatchValues* batch) {
  ++num_values_;
  if (v.IsNull(r)) {
    ++page_values_;
    ++null_count_;
    reps_.push_back(0);
    defs_.push_back(0);
    return absl::OkStatus();
  }
  const uint32_t id = v.ids[r];
  if (id < v.dict.size() && batch->start[id] == 0) {
    const size_t at = elements_.size();
    const std::optional<size_t> parsed = ParseArrayText(v.dict[id], &elements_);
    if (parsed) {
      batch->start[id] = at + 1;
      batch->count[id] = *parsed;
    }
  }
  if (id >= v.dict.size() || batch->start[id] == 0) {
    return absl::InvalidArgumentError(StrCat("parquet: column '", column_.name, "' row ", r,
                                             ": not a ", ColumnTypeName(column_.type), " value"));
  }
  const size_t first = batch->start[id] - 1;
  const size_t n = batch->count[id];
  if (n == 0) {
    ++page_values_;
    reps_.push_back(0);
    defs_.push_back(max_def_ - 1);
    return absl::OkStatus();
  }
  num_values_ += static_cast<int64_t>(n) - 1;
  for (size_t k = 0; k < n; ++k) {
    ++page_values_;
    reps_.push_back(k == 0 ? 0 : 1);
    defs_.push_back(max_def_);
    switch (leaf_) {
      case ColumnType::kDouble:
        AddDouble(elements_.doubles[first + k]);
        break;
      case ColumnType::kBoolean:
        AddBool(elements_.bools[first + k] != 0);
        break;
      case ColumnType::kString:
        AddString(elements_.strings[first + k]);
        break;
      default:
        AddInt(elements_.ints[first + k]);
        break;
    }
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
  if (list_) {
    std::string levels;
    EncodeRleHybrid(reps_, 1, &levels);
    PutU32(&body, static_cast<uint32_t>(levels.size()));
    body.append(levels);
  }
  if (max_def_ > 0) {
    std::string levels;
    EncodeRleHybrid(defs_, BitWidth(max_def_), &levels);
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
  } else if (leaf_ == ColumnType::kBoolean) {
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
  reps_.clear();
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
  note(Encoding::kPlain);                  // the dictionary page's or the data pages'
  if (max_def_ > 0) note(Encoding::kRle);  // the levels
  for (const auto& [key, count] : page_counts_) note(key.second);

  CompactWriter w(meta);
  w.StructBegin();  // ColumnChunk
  w.FieldI64(field::kChunkFileOffset, static_cast<int64_t>(offset));
  w.FieldStructBegin(field::kChunkMetaData);
  w.FieldI32(field::kMetaType, static_cast<int32_t>(physical_));
  w.FieldListBegin(field::kMetaEncodings, CompactType::kI32, encodings.size());
  for (int32_t e : encodings) w.I32(e);
  const std::vector<std::string> path = LeafPath(column_);
  w.FieldListBegin(field::kMetaPath, CompactType::kBinary, path.size());
  for (const std::string& p : path) w.Binary(p);
  w.FieldI32(field::kMetaCodec, static_cast<int32_t>(CodecOf(options_.compression)));
  w.FieldI64(field::kMetaNumValues, num_values_);
  w.FieldI64(field::kMetaTotalUncompressed, static_cast<int64_t>(unc));
  w.FieldI64(field::kMetaTotalCompressed, static_cast<int64_t>(comp));
  w.FieldI64(field::kMetaDataPageOffset, static_cast<int64_t>(data_offset));
  if (dict_offset) w.FieldI64(field::kMetaDictionaryPageOffset, static_cast<int64_t>(*dict_offset));
  // No statistics for a LIST column: its null count would be of level
  // entries and min/max of elements, which readers could take for the rows'.
  if (!list_) WriteStatistics(w);
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
void ColumnChunkWriter::WriteStatistics(CompactWriter& w) {
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
    default:  // string, json, uuid: unsigned bytes
      if (has_minmax_ && string_stats_ok_) min = min_s_, max = max_s_;
      break;
  }
  const bool write_minmax =
      !max.empty() || (IsStringLike(column_.type) && has_minmax_ && string_stats_ok_);
  if (write_minmax) {
    w.FieldBinary(field::kStatsMaxValue, max);
    w.FieldBinary(field::kStatsMinValue, min);
  }
  w.StructEnd();  // Statistics
}

}  // namespace timestore::parquet
