#include "segment/segment_reader.h"

#include <lz4.h>
#include <zstd.h>

#include "common/checksum.h"
#include "common/coding.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "segment/codec/codec.h"
#include "segment/segment_footer_generated.h"

namespace timestore::segment {
namespace {

absl::Status Corrupt(std::string_view path, uint64_t offset, std::string_view what) {
  return absl::DataLossError(StrCat(path, ": corrupt segment at offset ", offset, ": ", what));
}

}  // namespace

int SegmentMeta::ColumnIndex(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i)
    if (columns[i].name == name) return static_cast<int>(i);
  return -1;
}

absl::StatusOr<SegmentMeta> ParseFooter(std::string_view path, std::string_view footer,
                                        uint64_t file_size) {
  const uint64_t footer_offset = file_size - kTrailerSize - footer.size();
  // FlatBuffers reads scalars in place, so the buffer must be 8-byte aligned;
  // a view into a whole file (a fuzzer's input, a mapped file) need not be.
  std::string aligned;
  if (reinterpret_cast<uintptr_t>(footer.data()) % 8 != 0) {
    aligned.assign(footer);
    footer = aligned;
  }
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(footer.data()), footer.size());
  if (!fb::VerifyFooterBuffer(verifier)) {
    return Corrupt(path, footer_offset, "footer does not verify as a FlatBuffers Footer");
  }
  const fb::Footer* f = fb::GetFooter(footer.data());
  SegmentMeta m;
  m.dataset_id = f->dataset_id();
  m.segment_id = f->segment_id();
  m.schema_version = f->schema_version();
  m.partition_start = f->partition_start();
  m.partition_interval = f->partition_interval();
  m.rows = f->rows();
  m.min_ts = f->min_ts();
  m.max_ts = f->max_ts();
  m.time_column = f->time_column();
  m.created_ns = f->created_ns();
  m.level = f->level();
  m.file_bytes = file_size;
  m.footer_bytes = footer.size();
  if (f->format_version() != kSegmentFormatVersion) {
    return absl::FailedPreconditionError(
        StrCat(path, ": segment format version ", f->format_version(), " is not supported"));
  }
  if (f->sort_key()) {
    for (const auto* k : *f->sort_key()) m.sort_key.push_back(k ? k->str() : "");
  }
  if (f->columns() == nullptr || f->columns()->size() == 0) {
    return Corrupt(path, footer_offset, "footer lists no columns");
  }
  size_t nblocks = 0;
  for (size_t ci = 0; ci < f->columns()->size(); ++ci) {
    const fb::ColumnMeta* cm = f->columns()->Get(static_cast<flatbuffers::uoffset_t>(ci));
    ColumnInfo col;
    col.name = cm->name() ? cm->name()->str() : "";
    if (!IsValidColumnType(cm->type())) {
      return Corrupt(path, footer_offset, StrCat("column ", col.name, " has type ", cm->type()));
    }
    col.type = static_cast<ColumnType>(cm->type());
    size_t n = cm->blocks() ? cm->blocks()->size() : 0;
    if (ci == 0) nblocks = n;
    if (n != nblocks) return Corrupt(path, footer_offset, "columns have different block counts");
    uint64_t rows = 0;
    for (size_t bi = 0; bi < n; ++bi) {
      const fb::BlockMeta* bm = cm->blocks()->Get(static_cast<flatbuffers::uoffset_t>(bi));
      BlockInfo b;
      b.offset = bm->offset();
      b.length = bm->length();
      b.raw_length = bm->raw_length();
      b.rows = bm->rows();
      b.codec = bm->codec();
      b.compression = static_cast<Compression>(bm->compression());
      b.null_count = bm->null_count();
      b.checksum = bm->checksum();
      b.has_minmax = bm->has_minmax();
      b.min_int = bm->min_int();
      b.max_int = bm->max_int();
      b.min_double = bm->min_double();
      b.max_double = bm->max_double();
      if (bm->min_string()) b.min_string = bm->min_string()->str();
      if (bm->max_string()) b.max_string = bm->max_string()->str();
      if (b.offset < kHeaderSize || b.offset > footer_offset ||
          b.length > footer_offset - b.offset) {
        return Corrupt(path, footer_offset,
                       StrCat("block ", bi, " of column ", col.name, " lies outside the data"));
      }
      if (FindCodec(b.codec) == nullptr || bm->compression() > 2 ||
          b.raw_length > kMaxBlockRawBytes || b.rows > kMaxBlockRows || b.null_count > b.rows) {
        return Corrupt(path, footer_offset,
                       StrCat("block ", bi, " of column ", col.name, " has a bad header"));
      }
      if (ci > 0 && b.rows != m.columns[0].blocks[bi].rows) {
        return Corrupt(path, footer_offset, "columns have different block boundaries");
      }
      rows += b.rows;
      col.blocks.push_back(std::move(b));
    }
    if (rows != m.rows) {
      return Corrupt(path, footer_offset,
                     StrCat("column ", col.name, " has ", rows, " rows, the segment ", m.rows));
    }
    m.columns.push_back(std::move(col));
  }
  if (m.time_column >= m.columns.size() ||
      m.columns[m.time_column].type != ColumnType::kTimestamp) {
    return Corrupt(path, footer_offset, "the time column is missing or not a timestamp");
  }
  if (f->series_last() != nullptr) {
    // Bounded like the writer (kMaxSeriesLast series), and the strings copied
    // out may not add up to more than the footer holds: FlatBuffers lets many
    // entries share one string, which would otherwise multiply memory.
    if (f->series_last()->size() > m.rows || f->series_last()->size() > kMaxSeriesLast) {
      return Corrupt(path, footer_offset, "too many series");
    }
    uint64_t copied = 0;
    auto copy = [&](const flatbuffers::String* str, std::string* out) {
      if (str == nullptr) return true;
      copied += str->size();
      if (copied > footer.size()) return false;
      *out = str->str();
      return true;
    };
    for (const fb::SeriesLast* sl : *f->series_last()) {
      if (sl == nullptr || sl->values() == nullptr || sl->values()->size() != m.columns.size()) {
        return Corrupt(path, footer_offset, "a series_last entry does not match the columns");
      }
      SeriesLast out;
      if (!copy(sl->key(), &out.key)) return Corrupt(path, footer_offset, "series strings overlap");
      out.key_null = sl->key_null();
      out.last_ts = sl->last_ts();
      for (const fb::LastValue* v : *sl->values()) {
        SeriesLast::Value lv;
        if (v != nullptr) {
          lv.has = v->has();
          lv.ts = v->ts();
          lv.int_value = v->int_value();
          lv.double_value = v->double_value();
          if (!copy(v->string_value(), &lv.string_value)) {
            return Corrupt(path, footer_offset, "series strings overlap");
          }
        }
        out.values.push_back(std::move(lv));
      }
      m.series_last.push_back(std::move(out));
    }
  }
  return m;
}

absl::StatusOr<std::string_view> DecompressBlock(std::string_view path, const BlockInfo& b,
                                                 std::string_view on_disk, std::string* scratch) {
  if (on_disk.size() != b.length) return Corrupt(path, b.offset, "short block");
  if (Checksum64(on_disk) != b.checksum) return Corrupt(path, b.offset, "block checksum mismatch");
  if (b.compression == Compression::kLz4) {
    scratch->resize(b.raw_length);
    int n = LZ4_decompress_safe(on_disk.data(), scratch->data(), static_cast<int>(b.length),
                                static_cast<int>(b.raw_length));
    if (n < 0 || static_cast<uint32_t>(n) != b.raw_length)
      return Corrupt(path, b.offset, "LZ4 data does not decompress to its recorded size");
    return std::string_view(*scratch);
  }
  if (b.compression == Compression::kZstd) {
    scratch->resize(b.raw_length);
    size_t n = ZSTD_decompress(scratch->data(), b.raw_length, on_disk.data(), b.length);
    if (ZSTD_isError(n) || n != b.raw_length)
      return Corrupt(path, b.offset, "ZSTD data does not decompress to its recorded size");
    return std::string_view(*scratch);
  }
  return on_disk;
}

absl::StatusOr<ColumnVector> DecodeBlock(std::string_view path, const BlockInfo& b, ColumnType type,
                                         std::string_view on_disk) {
  std::string decompressed;
  ASSIGN_OR_RETURN(std::string_view payload, DecompressBlock(path, b, on_disk, &decompressed));
  Decoder d(payload);
  uint64_t validity_len;
  std::string_view validity;
  if (!d.GetVarint64(&validity_len) || !d.GetBytes(validity_len, &validity))
    return Corrupt(path, b.offset, "truncated validity");
  std::string_view values;
  d.GetBytes(d.remaining(), &values);
  ColumnVector c;
  c.type = type;
  c.length = b.rows;
  if (!validity.empty()) {
    c.valid.resize(b.rows);
    if (auto s = DecodeValidity(validity, b.rows, c.valid.data()); !s.ok())
      return Corrupt(path, b.offset, ToStd(s.message()));
  }
  auto codec = static_cast<CodecId>(b.codec);
  absl::Status s;
  switch (type) {
    case ColumnType::kTimestamp:
    case ColumnType::kInteger:
      c.ints.resize(b.rows);
      s = DecodeInts(codec, values, b.rows, c.ints.data());
      break;
    case ColumnType::kDouble:
      c.doubles.resize(b.rows);
      s = DecodeDoubles(codec, values, b.rows, c.doubles.data());
      break;
    case ColumnType::kBoolean:
      c.bools.resize(b.rows);
      s = DecodeBools(codec, values, b.rows, c.bools.data());
      break;
    case ColumnType::kString:
      s = DecodeStrings(codec, values, b.rows, &c.dict, &c.ids);
      if (s.ok() && c.ids.size() != b.rows) s = absl::DataLossError("wrong id count");
      break;
    case ColumnType::kJson:
    case ColumnType::kUuid:
    case ColumnType::kDoubleArray:
    case ColumnType::kIntegerArray:
    case ColumnType::kStringArray:
    case ColumnType::kBooleanArray:
      s = DecodeText(codec, type, values, b.rows, &c.dict, &c.ids);
      if (s.ok() && c.ids.size() != b.rows) s = absl::DataLossError("wrong id count");
      break;
  }
  if (!s.ok()) return Corrupt(path, b.offset, ToStd(s.message()));
  if (b.null_count == b.rows && b.rows > 0) return ColumnVector::AllNull(type, b.rows);
  return c;
}

namespace {

absl::StatusOr<SegmentMeta> ParseTrailerAndFooter(
    std::string_view path, uint64_t size, std::string_view trailer,
    const std::function<absl::Status(uint64_t, size_t, std::string*)>& read) {
  if (size < kHeaderSize + kTrailerSize) {
    return Corrupt(path, 0, StrCat("file of ", size, " bytes is too short for a segment"));
  }
  const uint64_t trailer_offset = size - kTrailerSize;
  uint32_t footer_len = DecodeFixed32(trailer.data());
  uint64_t footer_sum = DecodeFixed64(trailer.data() + 8);
  uint32_t version = DecodeFixed32(trailer.data() + 16);
  uint64_t magic = DecodeFixed64(trailer.data() + 24);
  if (magic != kSegmentMagic) return Corrupt(path, trailer_offset, "bad trailer magic");
  if (version != kSegmentFormatVersion) {
    return absl::FailedPreconditionError(
        StrCat(path, ": segment format version ", version, " is not supported"));
  }
  if (footer_len > kMaxFooterBytes || footer_len > trailer_offset - kHeaderSize) {
    return Corrupt(path, trailer_offset, StrCat("footer length ", footer_len, " is impossible"));
  }
  std::string footer;
  RETURN_IF_ERROR(read(trailer_offset - footer_len, footer_len, &footer));
  if (Checksum64(footer) != footer_sum) {
    return Corrupt(path, trailer_offset - footer_len, "footer checksum mismatch");
  }
  return ParseFooter(path, footer, size);
}

}  // namespace

absl::StatusOr<std::shared_ptr<const SegmentReader>> SegmentReader::Open(Env* env,
                                                                         const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file, env->NewRandomAccessFile(path));
  return Open(std::move(file));
}

absl::StatusOr<std::shared_ptr<const SegmentReader>> SegmentReader::Open(
    std::unique_ptr<RandomAccessFile> file) {
  std::shared_ptr<SegmentReader> r(new SegmentReader());
  r->path_ = file->path();
  r->file_ = std::move(file);
  const std::string& path = r->path_;
  const uint64_t size = r->file_->Size();
  if (size < kHeaderSize + kTrailerSize) {
    return Corrupt(path, 0, StrCat("file of ", size, " bytes is too short for a segment"));
  }
  std::string trailer;
  RETURN_IF_ERROR(r->file_->ReadAt(size - kTrailerSize, kTrailerSize, &trailer));
  auto read = [&](uint64_t off, size_t len, std::string* out) {
    return r->file_->ReadAt(off, len, out);
  };
  ASSIGN_OR_RETURN(r->meta_, ParseTrailerAndFooter(path, size, trailer, read));
  return std::shared_ptr<const SegmentReader>(std::move(r));
}

absl::StatusOr<std::shared_ptr<const SegmentReader>> SegmentReader::FromBytes(std::string path,
                                                                              std::string bytes) {
  std::shared_ptr<SegmentReader> r(new SegmentReader());
  r->path_ = std::move(path);
  r->bytes_ = std::move(bytes);
  const uint64_t size = r->bytes_.size();
  if (size < kHeaderSize + kTrailerSize) {
    return Corrupt(r->path_, 0, StrCat("file of ", size, " bytes is too short for a segment"));
  }
  std::string_view trailer(r->bytes_.data() + size - kTrailerSize, kTrailerSize);
  auto read = [&](uint64_t off, size_t len, std::string* out) {
    out->assign(r->bytes_.data() + off, len);
    return absl::OkStatus();
  };
  ASSIGN_OR_RETURN(r->meta_, ParseTrailerAndFooter(r->path_, size, trailer, read));
  return std::shared_ptr<const SegmentReader>(std::move(r));
}

absl::Status SegmentReader::Fetch(std::span<RandomAccessFile::ReadRequest> reqs,
                                  IoStats* io) const {
  if (file_ != nullptr) return file_->ReadManyCounted(reqs, io);
  for (auto& r : reqs) r.out->assign(bytes_.data() + r.offset, r.length);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::vector<ColumnVector>>> SegmentReader::ReadBlocks(
    std::span<const size_t> blocks, std::span<const int> columns, uint64_t* bytes_read,
    IoStats* io) const {
  std::vector<std::string> buffers(blocks.size() * columns.size());
  std::vector<RandomAccessFile::ReadRequest> reqs;
  reqs.reserve(buffers.size());
  for (size_t i = 0; i < blocks.size(); ++i) {
    for (size_t k = 0; k < columns.size(); ++k) {
      const int c = columns[k];
      if (c < 0 || static_cast<size_t>(c) >= meta_.columns.size() ||
          blocks[i] >= meta_.num_blocks()) {
        return absl::InvalidArgumentError("block or column out of range");
      }
      const BlockInfo& b = meta_.columns[c].blocks[blocks[i]];
      reqs.push_back({b.offset, b.length, &buffers[i * columns.size() + k]});
      if (bytes_read != nullptr) *bytes_read += b.length;
    }
  }
  RETURN_IF_ERROR(Fetch(reqs, io));
  std::vector<std::vector<ColumnVector>> out(blocks.size());
  for (size_t i = 0; i < blocks.size(); ++i) {
    for (size_t k = 0; k < columns.size(); ++k) {
      const ColumnInfo& col = meta_.columns[columns[k]];
      const BlockInfo& b = col.blocks[blocks[i]];
      auto v = DecodeBlock(path_, b, col.type, buffers[i * columns.size() + k]);
      if (!v.ok() && file_ != nullptr && file_->IsRemote()) {
        // A damaged copy must not be served again (the block cache keeps
        // remote blocks). The block is fetched once more from the store: a
        // transfer that went wrong heals, a damaged object fails again.
        file_->DropCached(b.offset, b.length);
        std::string again;
        RandomAccessFile::ReadRequest req{b.offset, b.length, &again};
        RETURN_IF_ERROR(Fetch(std::span(&req, 1), io));
        v = DecodeBlock(path_, b, col.type, again);
      }
      if (!v.ok()) {
        if (file_ != nullptr) file_->DropCached(b.offset, b.length);
        return absl::Status(v.status().code(), StrCat(ToStd(v.status().message()), " (column ",
                                                      col.name, ", block ", blocks[i], ")"));
      }
      out[i].push_back(*std::move(v));
    }
  }
  return out;
}

absl::StatusOr<std::string> SegmentReader::ReadRawBlock(size_t column, size_t block) const {
  if (column >= meta_.columns.size() || block >= meta_.num_blocks()) {
    return absl::InvalidArgumentError("block or column out of range");
  }
  const BlockInfo& b = meta_.columns[column].blocks[block];
  std::string out;
  RandomAccessFile::ReadRequest req{b.offset, b.length, &out};
  RETURN_IF_ERROR(Fetch(std::span(&req, 1)));
  return out;
}

absl::Status SegmentReader::Verify() const {
  std::vector<int> cols(meta_.columns.size());
  for (size_t c = 0; c < cols.size(); ++c) cols[c] = static_cast<int>(c);
  for (size_t b = 0; b < meta_.num_blocks(); ++b) {
    size_t one[1] = {b};
    RETURN_IF_ERROR(ReadBlocks(one, cols).status());
  }
  return absl::OkStatus();
}

}  // namespace timestore::segment
