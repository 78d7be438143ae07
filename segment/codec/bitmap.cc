#include "segment/codec/bitmap.h"

#include <array>
#include <cstring>

#include "segment/codec/codec_internal.h"

namespace timestore::codec::bitmap {
namespace {

// Byte b → eight bytes holding its bits (bit j → byte j), little-endian.
constexpr std::array<uint64_t, 256> MakeExpandTable() {
  std::array<uint64_t, 256> t{};
  for (int b = 0; b < 256; ++b) {
    uint64_t v = 0;
    for (int j = 0; j < 8; ++j) v |= static_cast<uint64_t>((b >> j) & 1) << (8 * j);
    t[b] = v;
  }
  return t;
}
constexpr std::array<uint64_t, 256> kExpand = MakeExpandTable();

}  // namespace

absl::Status EncodeBools(std::span<const uint8_t> values, std::string* out) {
  const size_t n = values.size();
  if (!AllZeroOrOne(values.data(), n)) return CannotEncode(kName, "value not 0/1");
  const size_t start = out->size();
  out->resize(start + (n + 7) / 8);
  uint8_t* dst = reinterpret_cast<uint8_t*>(out->data() + start);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, values.data() + i, 8);
    // Bytes of 0/1: the multiply gathers bit 0 of byte j into bit 56 + j.
    *dst++ = static_cast<uint8_t>((w * 0x0102040810204080ULL) >> 56);
  }
  if (i < n) {
    uint8_t b = 0;
    for (int j = 0; i < n; ++i, ++j) b |= values[i] << j;
    *dst = b;
  }
  return absl::OkStatus();
}

absl::Status DecodeBools(std::string_view in, size_t n, uint8_t* out) {
  const size_t bytes = (n + 7) / 8;
  if (in.size() != bytes) {
    return Corrupt(kName, "expected ", bytes, " bytes for ", n, " values, got ", in.size());
  }
  const uint8_t* src = reinterpret_cast<const uint8_t*>(in.data());
  if (n % 8 != 0 && (src[bytes - 1] >> (n % 8)) != 0) {
    return Corrupt(kName, "nonzero padding bits");
  }
  size_t full = n / 8;
  for (size_t k = 0; k < full; ++k) std::memcpy(out + 8 * k, &kExpand[src[k]], 8);
  for (size_t i = full * 8; i < n; ++i) out[i] = (src[full] >> (i % 8)) & 1;
  return absl::OkStatus();
}

}  // namespace timestore::codec::bitmap
