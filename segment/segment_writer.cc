#include "segment/segment_writer.h"

#include <lz4.h>
#include <zstd.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>

#include "common/checksum.h"
#include "common/coding.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "segment/codec/codec.h"
#include "segment/segment_footer_generated.h"
#include "segment/segment_reader.h"

namespace timestore::segment {
namespace {

struct BlockOut {
  std::string bytes;  // on disk
  uint32_t raw_length = 0;
  uint32_t rows = 0;
  CodecId codec = CodecId::kPlain;
  Compression compression = Compression::kNone;
  uint32_t null_count = 0;
  bool has_minmax = false;
  int64_t min_int = 0, max_int = 0;
  double min_double = 0, max_double = 0;
  std::string min_string, max_string;
};

// Encodes rows [begin, end) of `c` into an uncompressed block payload. For
// json, uuid and arrays `*zstd` gets the payload's zstd frame when the codec
// choice measured it (see Compress); else it is left empty.
absl::Status EncodeSlice(const ColumnVector& c, bool is_time, size_t begin, size_t end, BlockOut* b,
                         std::string* payload, std::string* zstd) {
  const size_t n = end - begin;
  b->rows = static_cast<uint32_t>(n);
  payload->clear();
  zstd->clear();
  std::string validity;
  if (c.HasNulls()) {
    std::vector<uint8_t> valid(n);
    for (size_t i = 0; i < n; ++i) {
      valid[i] = c.IsNull(begin + i) ? 0 : 1;
      b->null_count += valid[i] == 0;
    }
    if (b->null_count > 0) RETURN_IF_ERROR(EncodeValidity(valid, &validity));
  }
  PutVarint64(payload, validity.size());
  payload->append(validity);
  const bool all_null = b->null_count == n;
  auto valid_at = [&](size_t i) { return !c.IsNull(begin + i); };
  switch (c.type) {
    case ColumnType::kTimestamp:
    case ColumnType::kInteger: {
      std::vector<int64_t> zeros;
      std::span<const int64_t> values;
      if (c.all_null) {
        zeros.assign(n, 0);
        values = zeros;
      } else {
        values = std::span<const int64_t>(c.ints).subspan(begin, n);
      }
      ASSIGN_OR_RETURN(b->codec, EncodeIntsBest(values, is_time, payload));
      if (!all_null) {
        b->min_int = std::numeric_limits<int64_t>::max();
        b->max_int = std::numeric_limits<int64_t>::min();
        for (size_t i = 0; i < n; ++i) {
          if (!valid_at(i)) continue;
          b->min_int = std::min(b->min_int, values[i]);
          b->max_int = std::max(b->max_int, values[i]);
        }
        b->has_minmax = true;
      }
      break;
    }
    case ColumnType::kDouble: {
      std::vector<double> zeros;
      std::span<const double> values;
      if (c.all_null) {
        zeros.assign(n, 0);
        values = zeros;
      } else {
        values = std::span<const double>(c.doubles).subspan(begin, n);
      }
      ASSIGN_OR_RETURN(b->codec, EncodeDoublesBest(values, payload));
      // NaN never counts as min or max: no comparison with a literal matches it
      // except neq, which never prunes.
      b->min_double = std::numeric_limits<double>::infinity();
      b->max_double = -std::numeric_limits<double>::infinity();
      for (size_t i = 0; i < n; ++i) {
        if (!valid_at(i) || std::isnan(values[i])) continue;
        b->min_double = std::min(b->min_double, values[i]);
        b->max_double = std::max(b->max_double, values[i]);
        b->has_minmax = true;
      }
      break;
    }
    case ColumnType::kBoolean: {
      std::vector<uint8_t> values(n, 0);
      if (!c.all_null) {
        for (size_t i = 0; i < n; ++i) values[i] = c.bools[begin + i];
      }
      ASSIGN_OR_RETURN(b->codec, EncodeBoolsBest(values, payload));
      if (!all_null) {
        b->min_int = 1;
        b->max_int = 0;
        for (size_t i = 0; i < n; ++i) {
          if (!valid_at(i)) continue;
          b->min_int = std::min<int64_t>(b->min_int, values[i]);
          b->max_int = std::max<int64_t>(b->max_int, values[i]);
        }
        b->has_minmax = true;
      }
      break;
    }
    TIMESTORE_STRING_LIKE_CASES : {
      std::vector<std::string_view> values(n);
      if (!c.all_null) {
        for (size_t i = 0; i < n; ++i) {
          if (valid_at(i)) values[i] = c.dict[c.ids[begin + i]];
        }
      }
      if (c.type == ColumnType::kString) {
        ASSIGN_OR_RETURN(b->codec, EncodeStringsBest(values, payload));
      } else {
        ASSIGN_OR_RETURN(b->codec, EncodeTextBest(c.type, values, payload, zstd));
      }
      // Zone maps hold the byte order of the text, which is the value order
      // only for strings and uuids (lowercase hex in byte order). json and
      // arrays have none: their order is not the text's, and a long text
      // would go into the footer twice per block.
      if (!all_null && (c.type == ColumnType::kString || c.type == ColumnType::kUuid)) {
        bool first = true;
        std::string_view lo, hi;
        for (size_t i = 0; i < n; ++i) {
          if (!valid_at(i)) continue;
          if (first || values[i] < lo) lo = values[i];
          if (first || values[i] > hi) hi = values[i];
          first = false;
        }
        b->min_string = std::string(lo);
        b->max_string = std::string(hi);
        b->has_minmax = true;
      }
      break;
    }
  }
  return absl::OkStatus();
}

// EncodeSlice, refused when the payload passes what readers accept.
absl::Status EncodeBlock(const ColumnVector& c, const ColumnSpec& spec, bool is_time, size_t begin,
                         size_t end, BlockOut* b, std::string* payload, std::string* zstd) {
  RETURN_IF_ERROR(EncodeSlice(c, is_time, begin, end, b, payload, zstd));
  if (payload->size() > kMaxBlockRawBytes) {
    return absl::InvalidArgumentError(StrCat("segment: column '", spec.name, "': a block of ",
                                             end - begin, " rows encodes to ", payload->size(),
                                             " bytes, over the ", kMaxBlockRawBytes,
                                             " a block may hold (a value too long to store)"));
  }
  return absl::OkStatus();
}

// Where EncodeSegment's blocks end: every block_rows rows, or sooner once a
// string-like column's rows hold block_text_bytes of text.
std::vector<size_t> BlockEnds(std::span<const ColumnVector* const> columns, size_t rows,
                              const WriteOptions& options) {
  const uint32_t block_rows = std::clamp<uint32_t>(options.block_rows, 1, kMaxBlockRows);
  std::vector<const ColumnVector*> text;
  for (const ColumnVector* c : columns) {
    if (IsStringLike(c->type) && !c->all_null) text.push_back(c);
  }
  std::vector<size_t> ends;
  std::vector<uint64_t> bytes(text.size(), 0);
  size_t begin = 0;
  for (size_t r = 0; r < rows; ++r) {
    bool full = r + 1 - begin >= block_rows;
    for (size_t k = 0; k < text.size(); ++k) {
      bytes[k] += BlockTextWeight(*text[k], r);
      full = full || bytes[k] >= options.block_text_bytes;
    }
    if (full) {
      ends.push_back(r + 1);
      begin = r + 1;
      std::fill(bytes.begin(), bytes.end(), 0);
    }
  }
  if (begin < rows) ends.push_back(rows);
  return ends;
}

// `measured` is the payload's zstd frame at level 3 when the codec choice
// made it already (else empty): used instead of compressing again.
void Compress(const std::string& payload, CompressionPolicy policy, std::string* measured,
              BlockOut* b) {
  b->raw_length = static_cast<uint32_t>(payload.size());
  b->compression = Compression::kNone;
  b->bytes = payload;
  if (policy == CompressionPolicy::kNone || payload.size() < 64) return;
  std::string lz4, zstd;
  if (policy == CompressionPolicy::kLz4 || policy == CompressionPolicy::kAuto) {
    lz4.resize(static_cast<size_t>(LZ4_compressBound(static_cast<int>(payload.size()))));
    int n = LZ4_compress_default(payload.data(), lz4.data(), static_cast<int>(payload.size()),
                                 static_cast<int>(lz4.size()));
    lz4.resize(n > 0 ? static_cast<size_t>(n) : 0);
  }
  if (policy == CompressionPolicy::kZstd || policy == CompressionPolicy::kAuto) {
    if (!measured->empty()) {
      zstd.swap(*measured);
    } else {
      zstd.resize(ZSTD_compressBound(payload.size()));
      size_t n = ZSTD_compress(zstd.data(), zstd.size(), payload.data(), payload.size(), 3);
      zstd.resize(ZSTD_isError(n) ? 0 : n);
    }
  }
  auto take = [&](std::string& s, Compression c) {
    b->bytes = std::move(s);
    b->compression = c;
  };
  const size_t raw = payload.size();
  if (policy == CompressionPolicy::kLz4) {
    if (!lz4.empty() && lz4.size() < raw) take(lz4, Compression::kLz4);
  } else if (policy == CompressionPolicy::kZstd) {
    if (!zstd.empty() && zstd.size() < raw) take(zstd, Compression::kZstd);
  } else {
    // Compression must pay for its decode time: at least 10% smaller than raw.
    size_t best = raw * 9 / 10;
    if (!lz4.empty() && lz4.size() < best) best = lz4.size();
    if (!zstd.empty() && zstd.size() < best && zstd.size() < lz4.size() * 9 / 10) {
      take(zstd, Compression::kZstd);
    } else if (!lz4.empty() && lz4.size() == best) {
      take(lz4, Compression::kLz4);
    }
  }
}

flatbuffers::Offset<fb::BlockMeta> AddBlockMeta(flatbuffers::FlatBufferBuilder& fbb,
                                                const BlockOut& b, uint64_t offset) {
  auto min_s = fbb.CreateString(b.min_string);
  auto max_s = fbb.CreateString(b.max_string);
  fb::BlockMetaBuilder bm(fbb);
  bm.add_offset(offset);
  bm.add_length(static_cast<uint32_t>(b.bytes.size()));
  bm.add_raw_length(b.raw_length);
  bm.add_rows(b.rows);
  bm.add_codec(static_cast<uint8_t>(b.codec));
  bm.add_compression(static_cast<uint8_t>(b.compression));
  bm.add_null_count(b.null_count);
  bm.add_checksum(Checksum64(b.bytes));
  bm.add_has_minmax(b.has_minmax);
  bm.add_min_int(b.min_int);
  bm.add_max_int(b.max_int);
  bm.add_min_double(b.min_double);
  bm.add_max_double(b.max_double);
  bm.add_min_string(min_s);
  bm.add_max_string(max_s);
  return bm.Finish();
}

// Follows rows in sort order and remembers, per series (run of equal values of
// the one string segmentBy column), the newest non-null value of each column.
class SeriesLastTracker {
 public:
  // Active only when the sort key is one string column, then time.
  explicit SeriesLastTracker(const SegmentContents& in) {
    if (in.sort_key.size() != 2) return;
    for (size_t c = 0; c < in.specs.size(); ++c) {
      if (in.specs[c].name == in.sort_key[0] && in.specs[c].type == ColumnType::kString &&
          c != in.time_column) {
        key_col_ = static_cast<int>(c);
      }
    }
    time_col_ = in.time_column;
    ncols_ = in.specs.size();
  }

  // Rows [0, rows) of `columns`, which continue the previous call's rows.
  void Add(std::span<const ColumnVector* const> columns, size_t rows) {
    if (key_col_ < 0 || dropped_) return;
    const ColumnVector& key = *columns[key_col_];
    const int64_t* ts = columns[time_col_]->ints.data();
    for (size_t r = 0; r < rows; ++r) {
      const bool null = key.IsNull(r);
      const std::string_view k = null ? std::string_view() : std::string_view(key.dict[key.ids[r]]);
      if (series_.empty() || series_.back().key_null != null || series_.back().key != k) {
        if (series_.size() == kMaxSeriesLast) {
          dropped_ = true;
          series_.clear();
          return;
        }
        SeriesLast s;
        s.key = std::string(k);
        s.key_null = null;
        s.values.resize(ncols_);
        series_.push_back(std::move(s));
      }
      SeriesLast& s = series_.back();
      // Rows of a series are in time order, ties in write order: the later wins.
      s.last_ts = ts[r];
      for (size_t c = 0; c < ncols_; ++c) {
        const ColumnVector& col = *columns[c];
        if (col.IsNull(r)) continue;
        SeriesLast::Value& v = s.values[c];
        v.has = true;
        v.ts = ts[r];
        switch (col.type) {
          case ColumnType::kDouble:
            v.double_value = col.doubles[r];
            break;
          TIMESTORE_STRING_LIKE_CASES:
            v.string_value = col.dict[col.ids[r]];
            break;
          case ColumnType::kBoolean:
            v.int_value = col.bools[r];
            break;
          default:
            v.int_value = col.ints[r];
        }
      }
    }
  }

  // The footer vector, or 0 when there is none.
  flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::SeriesLast>>> Build(
      flatbuffers::FlatBufferBuilder& fbb) const {
    if (key_col_ < 0 || dropped_ || series_.empty()) return 0;
    // Long json or array values in many series would make every open of the
    // file read a large footer: past the bound, none (readers read blocks).
    size_t bytes = 0;
    for (const SeriesLast& s : series_) {
      bytes += s.key.size();
      for (const SeriesLast::Value& v : s.values) bytes += v.string_value.size();
    }
    if (bytes > kMaxSeriesLastBytes) return 0;
    std::vector<flatbuffers::Offset<fb::SeriesLast>> out;
    for (const SeriesLast& s : series_) {
      std::vector<flatbuffers::Offset<fb::LastValue>> values;
      for (const SeriesLast::Value& v : s.values) {
        flatbuffers::Offset<flatbuffers::String> str;
        if (!v.string_value.empty()) str = fbb.CreateString(v.string_value);
        values.push_back(fb::CreateLastValue(fbb, v.has, v.ts, v.int_value, v.double_value, str));
      }
      auto key = fbb.CreateString(s.key);
      auto vec = fbb.CreateVector(values);
      out.push_back(fb::CreateSeriesLast(fbb, key, s.key_null, s.last_ts, vec));
    }
    return fbb.CreateVector(out);
  }

 private:
  int key_col_ = -1;
  uint32_t time_col_ = 0;
  size_t ncols_ = 0;
  bool dropped_ = false;
  std::vector<SeriesLast> series_;
};

// Appends the footer (with the block metadata already in `fbb`) and the trailer.
void AppendFooter(flatbuffers::FlatBufferBuilder& fbb, const SegmentContents& in,
                  const WrittenSegment& written,
                  const std::vector<flatbuffers::Offset<fb::ColumnMeta>>& column_offsets,
                  const SeriesLastTracker& series, std::string* out) {
  auto series_vec = series.Build(fbb);
  std::vector<flatbuffers::Offset<flatbuffers::String>> sort_key;
  for (const auto& k : in.sort_key) sort_key.push_back(fbb.CreateString(k));
  auto sort_vec = fbb.CreateVector(sort_key);
  auto cols_vec = fbb.CreateVector(column_offsets);
  fb::FooterBuilder fbld(fbb);
  fbld.add_format_version(kSegmentFormatVersion);
  fbld.add_dataset_id(in.dataset_id);
  fbld.add_segment_id(in.segment_id);
  fbld.add_schema_version(in.schema_version);
  fbld.add_partition_start(in.partition_start);
  fbld.add_partition_interval(in.partition_interval);
  fbld.add_rows(written.rows);
  fbld.add_min_ts(written.min_ts);
  fbld.add_max_ts(written.max_ts);
  fbld.add_time_column(in.time_column);
  fbld.add_sort_key(sort_vec);
  fbld.add_created_ns(in.created_ns);
  fbld.add_level(in.level);
  fbld.add_columns(cols_vec);
  if (!series_vec.IsNull()) fbld.add_series_last(series_vec);
  fbb.Finish(fbld.Finish());
  std::string_view footer(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
  out->append(footer);
  PutFixed32(out, static_cast<uint32_t>(footer.size()));
  PutFixed32(out, 0);
  PutFixed64(out, Checksum64(footer));
  PutFixed32(out, kSegmentFormatVersion);
  PutFixed32(out, 0);
  PutFixed64(out, kSegmentMagic);
}

}  // namespace

absl::StatusOr<WrittenSegment> EncodeSegment(const SegmentContents& in, const WriteOptions& options,
                                             std::string* out) {
  if (in.specs.size() != in.columns.size() || in.time_column >= in.columns.size()) {
    return absl::InvalidArgumentError("segment contents: columns and specs disagree");
  }
  for (const ColumnVector* c : in.columns) {
    if (c->size() != in.rows) return absl::InvalidArgumentError("segment column length differs");
  }
  out->clear();
  PutFixed64(out, kSegmentMagic);
  PutFixed32(out, kSegmentFormatVersion);
  PutFixed32(out, 0);

  flatbuffers::FlatBufferBuilder fbb(4096);
  std::vector<flatbuffers::Offset<fb::ColumnMeta>> column_offsets;
  std::string payload, zstd;
  WrittenSegment written;
  written.rows = in.rows;
  written.min_ts = std::numeric_limits<int64_t>::max();
  written.max_ts = std::numeric_limits<int64_t>::min();
  const std::vector<size_t> ends = BlockEnds(in.columns, in.rows, options);
  for (size_t ci = 0; ci < in.columns.size(); ++ci) {
    const ColumnVector& c = *in.columns[ci];
    const bool is_time = ci == in.time_column;
    std::vector<flatbuffers::Offset<fb::BlockMeta>> blocks;
    size_t begin = 0;
    for (const size_t end : ends) {
      BlockOut b;
      RETURN_IF_ERROR(EncodeBlock(c, in.specs[ci], is_time, begin, end, &b, &payload, &zstd));
      begin = end;
      Compress(payload, options.compression, &zstd, &b);
      if (is_time && b.has_minmax) {
        written.min_ts = std::min(written.min_ts, b.min_int);
        written.max_ts = std::max(written.max_ts, b.max_int);
      }
      uint64_t offset = out->size();
      out->append(b.bytes);
      blocks.push_back(AddBlockMeta(fbb, b, offset));
    }
    auto name = fbb.CreateString(in.specs[ci].name);
    auto block_vec = fbb.CreateVector(blocks);
    column_offsets.push_back(
        fb::CreateColumnMeta(fbb, name, static_cast<uint8_t>(in.specs[ci].type), block_vec));
  }
  if (in.rows == 0) written.min_ts = written.max_ts = 0;
  SeriesLastTracker series(in);
  series.Add(in.columns, in.rows);
  AppendFooter(fbb, in, written, column_offsets, series, out);
  written.bytes = out->size();
  return written;
}

absl::StatusOr<WrittenSegment> WriteSegmentFile(Env* env, const std::string& path,
                                                const SegmentContents& contents,
                                                const WriteOptions& options) {
  std::string bytes;
  ASSIGN_OR_RETURN(WrittenSegment w, EncodeSegment(contents, options, &bytes));
  ASSIGN_OR_RETURN(auto file, env->NewWritableFile(path));
  absl::Status s = file->Append(bytes);
  if (s.ok()) s = file->Sync();
  if (s.ok()) s = file->Close();
  if (s.ok()) s = env->SyncDir(DirName(path));
  if (!s.ok()) {
    (void)env->RemoveFile(path);
    return s;
  }
  return w;
}

}  // namespace timestore::segment

namespace timestore::segment {

struct SegmentFileBuilder::Footer {
  explicit Footer(const SegmentContents& header) : series(header) {}
  flatbuffers::FlatBufferBuilder fbb{1 << 16};
  std::vector<std::vector<flatbuffers::Offset<fb::BlockMeta>>> blocks;
  SeriesLastTracker series;
};

absl::StatusOr<std::unique_ptr<SegmentFileBuilder>> SegmentFileBuilder::Create(
    Env* env, const std::string& path, SegmentContents header, const WriteOptions& options) {
  if (header.time_column >= header.specs.size()) {
    return absl::InvalidArgumentError("segment builder: the time column is out of range");
  }
  ASSIGN_OR_RETURN(auto file, env->NewWritableFile(path));
  std::unique_ptr<SegmentFileBuilder> b(
      new SegmentFileBuilder(env, path, std::move(header), options));
  b->file_ = std::move(file);
  b->footer_->blocks.resize(b->header_.specs.size());
  PutFixed64(&b->buf_, kSegmentMagic);
  PutFixed32(&b->buf_, kSegmentFormatVersion);
  PutFixed32(&b->buf_, 0);
  b->written_.min_ts = std::numeric_limits<int64_t>::max();
  b->written_.max_ts = std::numeric_limits<int64_t>::min();
  return b;
}

SegmentFileBuilder::SegmentFileBuilder(Env* env, std::string path, SegmentContents header,
                                       const WriteOptions& options)
    : env_(env),
      path_(std::move(path)),
      header_(std::move(header)),
      options_(options),
      footer_(std::make_unique<Footer>(header_)) {}

SegmentFileBuilder::~SegmentFileBuilder() {
  if (!finished_) Abandon();
}

void SegmentFileBuilder::Abandon() {
  if (finished_) return;
  finished_ = true;
  if (file_ != nullptr) (void)file_->Close();
  (void)env_->RemoveFile(path_);
}

absl::Status SegmentFileBuilder::AddBlock(std::span<const ColumnVector* const> columns) {
  if (finished_) return absl::FailedPreconditionError("segment builder already finished");
  if (columns.size() != header_.specs.size()) {
    return absl::InvalidArgumentError("segment builder: block has the wrong number of columns");
  }
  const size_t rows = columns.empty() ? 0 : columns[0]->size();
  if (rows == 0) return absl::OkStatus();
  if (rows > kMaxBlockRows) return absl::InvalidArgumentError("segment builder: block too large");
  for (size_t ci = 0; ci < columns.size(); ++ci) {
    if (columns[ci]->size() != rows || columns[ci]->type != header_.specs[ci].type) {
      return absl::InvalidArgumentError("segment builder: block columns disagree");
    }
  }
  std::string payload, zstd;
  size_t begin = 0;
  for (const size_t end : BlockEnds(columns, rows, options_)) {
    for (size_t ci = 0; ci < columns.size(); ++ci) {
      const bool is_time = ci == header_.time_column;
      BlockOut b;
      RETURN_IF_ERROR(
          EncodeBlock(*columns[ci], header_.specs[ci], is_time, begin, end, &b, &payload, &zstd));
      Compress(payload, options_.compression, &zstd, &b);
      if (is_time && b.has_minmax) {
        written_.min_ts = std::min(written_.min_ts, b.min_int);
        written_.max_ts = std::max(written_.max_ts, b.max_int);
      }
      const uint64_t offset = file_->Size() + buf_.size();
      buf_.append(b.bytes);
      footer_->blocks[ci].push_back(AddBlockMeta(footer_->fbb, b, offset));
    }
    begin = end;
  }
  written_.rows += static_cast<uint32_t>(rows);
  footer_->series.Add(columns, rows);
  if (buf_.size() >= (1u << 20)) {
    RETURN_IF_ERROR(file_->Append(buf_));
    buf_.clear();
  }
  return absl::OkStatus();
}

uint64_t SegmentFileBuilder::bytes() const { return file_->Size() + buf_.size(); }

absl::StatusOr<WrittenSegment> SegmentFileBuilder::Finish() {
  if (finished_) return absl::FailedPreconditionError("segment builder already finished");
  if (written_.rows == 0) written_.min_ts = written_.max_ts = 0;
  std::vector<flatbuffers::Offset<fb::ColumnMeta>> column_offsets;
  for (size_t ci = 0; ci < header_.specs.size(); ++ci) {
    auto name = footer_->fbb.CreateString(header_.specs[ci].name);
    auto block_vec = footer_->fbb.CreateVector(footer_->blocks[ci]);
    column_offsets.push_back(fb::CreateColumnMeta(
        footer_->fbb, name, static_cast<uint8_t>(header_.specs[ci].type), block_vec));
  }
  std::string tail;
  AppendFooter(footer_->fbb, header_, written_, column_offsets, footer_->series, &tail);
  buf_.append(tail);
  absl::Status s = file_->Append(buf_);
  buf_.clear();
  if (s.ok()) s = file_->Sync();
  if (s.ok()) written_.bytes = file_->Size();
  if (s.ok()) s = file_->Close();
  if (s.ok()) s = env_->SyncDir(DirName(path_));
  if (!s.ok()) {
    Abandon();
    return s;
  }
  finished_ = true;
  return written_;
}

}  // namespace timestore::segment
