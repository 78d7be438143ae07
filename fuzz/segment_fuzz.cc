// Segment files: the reader on arbitrary bytes (trailer, footer, every block of
// every column through Verify and ReadBlocks), then the same bytes once more
// with the checksums out of the way. A fuzzer cannot forge xxh3, so without
// that second pass every mutation would stop at a checksum and the footer
// parser's bounds checks, the decompressors and the codecs would go untested.
// Seed: fuzz/corpus/segment/ (a small valid segment of every column type).
#include <cstdint>
#include <string>
#include <vector>

#include "common/checksum.h"
#include "common/coding.h"
#include "segment/codec/codec.h"
#include "segment/segment_format.h"
#include "segment/segment_inspect.h"
#include "segment/segment_reader.h"

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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  auto reader = SegmentReader::FromBytes("fuzz.tseg", bytes);
  if (reader.ok()) ReadEverything(**reader);
  DecodeIgnoringChecksums(bytes);
  return 0;
}
