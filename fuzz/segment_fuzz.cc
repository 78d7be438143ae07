// Segment files: the reader on arbitrary bytes (trailer, footer, every block of
// every column through Verify and ReadBlocks), then the same bytes once more
// with the checksums out of the way. A fuzzer cannot forge xxh3, so without
// that second pass every mutation would stop at a checksum and the footer
// parser's bounds checks, the decompressors and the codecs would go untested.
// Then the input drives a writer (GeneratedRoundTrip): typed-text columns
// (json, uuid, arrays) and strings of values cut from the input, written and
// read back, which must give the same text.
// Seed: fuzz/corpus/segment/ (small valid segments of every column type,
// typed.tseg for json, uuid and the arrays).
#include <cstdint>
#include <string>
#include <vector>

#include "common/checksum.h"
#include "common/coding.h"
#include "segment/codec/codec.h"
#include "segment/segment_format.h"
#include "segment/segment_inspect.h"
#include "segment/segment_reader.h"
#include "segment/segment_writer.h"
#include "segment/typed_text.h"

namespace {

using namespace timestore;
using namespace timestore::segment;

void ReadEverything(const SegmentReader& r) {
  (void)r.Verify();
  const SegmentMeta& m = r.meta();
  std::vector<int> all(m.columns.size());
  for (size_t c = 0; c < all.size(); ++c) all[c] = static_cast<int>(c);
  for (size_t b = 0; b < m.num_blocks(); ++b) {
    const size_t one[] = {b};
    for (int c : all) {
      const int col[] = {c};
      (void)r.ReadBlocks(one, col);
    }
  }
  (void)InspectSegment(r, InspectFormat::kText);
}

// The footer as the trailer locates it, parsed without its checksum; every
// block decoded with the checksum it actually has.
void DecodeIgnoringChecksums(const std::string& bytes) {
  if (bytes.size() < kHeaderSize + kTrailerSize) return;
  const uint32_t footer_len = DecodeFixed32(bytes.data() + bytes.size() - kTrailerSize);
  if (footer_len > bytes.size() - kTrailerSize - kHeaderSize) return;
  const size_t footer_offset = bytes.size() - kTrailerSize - footer_len;
  auto meta = ParseFooter("fuzz.tseg", std::string_view(bytes).substr(footer_offset, footer_len),
                          bytes.size());
  if (!meta.ok()) return;
  for (const ColumnInfo& col : meta->columns) {
    for (BlockInfo b : col.blocks) {
      std::string_view on_disk = std::string_view(bytes).substr(b.offset, b.length);
      b.checksum = Checksum64(on_disk);
      (void)DecodeBlock("fuzz.tseg", b, col.type, on_disk);
      std::string scratch;
      auto payload = DecompressBlock("fuzz.tseg", b, on_disk, &scratch);
      if (payload.ok()) (void)DescribePayload(static_cast<CodecId>(b.codec), *payload);
    }
  }
}

// Byte 0 picks the type (string or one of the typed-text types) and whether
// text that is not canonical is kept as it is (as a careless writer might
// store it; the typed codecs refuse it and the writer falls back); byte 1 the
// block size; the rest, cut at '\n', are the values ("\x01" alone is null).
void GeneratedRoundTrip(const uint8_t* data, size_t size) {
  if (size < 2) return;
  static constexpr ColumnType kTypes[] = {ColumnType::kString,       ColumnType::kJson,
                                          ColumnType::kUuid,         ColumnType::kDoubleArray,
                                          ColumnType::kIntegerArray, ColumnType::kStringArray,
                                          ColumnType::kBooleanArray};
  const ColumnType type = kTypes[data[0] % 7];
  const bool keep_raw = (data[0] & 0x80) != 0;
  std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
  ColumnBuilder ts(ColumnType::kTimestamp), col(type);
  int64_t t = 0;
  while (!rest.empty() && col.size() < 4096) {
    const size_t nl = rest.find('\n');
    std::string_view v = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    ts.AppendInt(t++);
    if (v == "\x01") {
      col.AppendNull();
    } else if (type == ColumnType::kString) {
      col.AppendString(v);
    } else if (auto c = CanonicalTypedText(type, v); c.ok()) {
      col.AppendString(*c);
    } else if (keep_raw) {
      col.AppendString(v);
    } else {
      col.AppendNull();
    }
  }
  const uint32_t rows = col.size();
  if (rows == 0) return;
  const ColumnVector tsv = ts.Finish(), colv = col.Finish();
  SegmentContents in;
  in.time_column = 0;
  in.sort_key = {"timestamp"};
  in.specs = {{"timestamp", ColumnType::kTimestamp}, {"v", type}};
  in.columns = {&tsv, &colv};
  in.rows = rows;
  WriteOptions options;
  options.block_rows = 1 + data[1] % 64;
  std::string bytes;
  if (!EncodeSegment(in, options, &bytes).ok()) __builtin_trap();
  auto reader = SegmentReader::FromBytes("generated.tseg", std::move(bytes));
  if (!reader.ok()) __builtin_trap();
  const SegmentMeta& m = (*reader)->meta();
  std::vector<size_t> blocks(m.num_blocks());
  for (size_t b = 0; b < blocks.size(); ++b) blocks[b] = b;
  const int cols[] = {1};
  auto got = (*reader)->ReadBlocks(blocks, cols);
  if (!got.ok()) __builtin_trap();
  size_t row = 0;
  for (const auto& block : *got) {
    const ColumnVector& v = block[0];
    for (size_t i = 0; i < v.size(); ++i, ++row) {
      if (v.IsNull(i) != colv.IsNull(row)) __builtin_trap();
      if (!v.IsNull(i) && v.dict[v.ids[i]] != colv.dict[colv.ids[row]]) __builtin_trap();
    }
  }
  if (row != rows) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  auto reader = SegmentReader::FromBytes("fuzz.tseg", bytes);
  if (reader.ok()) ReadEverything(**reader);
  DecodeIgnoringChecksums(bytes);
  GeneratedRoundTrip(data, size);
  return 0;
}
