#include "segment/codec/delta_of_delta.h"

#include "segment/codec/bit_reader.h"
#include "segment/codec/bit_writer.h"
#include "segment/codec/codec_internal.h"

namespace timestore::codec::delta_of_delta {
namespace {

// Bucket k (k = number of leading 1 bits of the prefix, 1..5): payload width.
constexpr int kPayloadBits[6] = {0, 7, 9, 12, 32, 64};

}  // namespace

absl::Status EncodeInts(std::span<const int64_t> values, std::string* out) {
  const size_t n = values.size();
  if (n == 0) return absl::OkStatus();
  PutZigZag(out, values[0]);
  if (n == 1) return absl::OkStatus();
  int64_t delta = WrapSub(values[1], values[0]);
  PutZigZag(out, delta);
  if (n == 2) return absl::OkStatus();
  BitWriter w(out);
  for (size_t i = 2; i < n; ++i) {
    int64_t d = WrapSub(values[i], values[i - 1]);
    uint64_t z = ZigZagEncode(WrapSub(d, delta));
    delta = d;
    if (z == 0) {
      w.Write(0, 1);  // '0'
    } else if (z < (1u << 7)) {
      w.Write(0b01 | (z << 2), 2 + 7);  // '10', LSB first
    } else if (z < (1u << 9)) {
      w.Write(0b011 | (z << 3), 3 + 9);
    } else if (z < (1u << 12)) {
      w.Write(0b0111 | (z << 4), 4 + 12);
    } else if (z < (uint64_t{1} << 32)) {
      w.Write(0b01111 | (z << 5), 5 + 32);
    } else {
      w.Write(0b11111, 5);
      w.Write(z, 64);
    }
  }
  w.Finish();
  return absl::OkStatus();
}

absl::Status DecodeInts(std::string_view in, size_t n, int64_t* out) {
  Decoder d(in);
  if (n == 0) {
    if (!d.empty()) return Corrupt(kName, d.remaining(), " bytes for an empty block");
    return absl::OkStatus();
  }
  int64_t value, delta = 0;
  if (!GetZigZag(&d, &value)) return Corrupt(kName, "truncated first value");
  out[0] = value;
  if (n >= 2) {
    if (!GetZigZag(&d, &delta)) return Corrupt(kName, "truncated first delta");
    value = WrapAdd(value, delta);
    out[1] = value;
  }
  std::string_view stream;
  d.GetBytes(d.remaining(), &stream);
  BitReader r(stream);
  for (size_t i = 2; i < n; ++i) {
    uint64_t peek;
    int got = r.Peek(5, &peek);
    int ones = __builtin_ctzll(~peek);  // leading 1 bits of the prefix, 0..5
    if (ones > 5) ones = 5;
    int prefix = ones == 5 ? 5 : ones + 1;
    if (got < prefix) return Corrupt(kName, "bit stream ends at row ", i, " of ", n);
    r.Skip(prefix);
    uint64_t z = 0;
    if (ones != 0 && !r.Read(kPayloadBits[ones], &z)) {
      return Corrupt(kName, "bit stream ends at row ", i, " of ", n);
    }
    delta = WrapAdd(delta, ZigZagDecode(z));
    value = WrapAdd(value, delta);
    out[i] = value;
  }
  if (!r.AtCleanEnd()) return Corrupt(kName, "trailing bits after ", n, " values");
  return absl::OkStatus();
}

}  // namespace timestore::codec::delta_of_delta
