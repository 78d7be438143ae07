// Byte helpers, compression names and the RLE/bit-packed hybrid encoding of
// the Parquet writer.
#include <algorithm>
#include <bit>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "parquet/parquet_internal.h"

namespace timestore::parquet {
namespace internal {

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

}  // namespace internal

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

}  // namespace timestore::parquet
