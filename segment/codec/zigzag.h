// ZigZag mapping of signed to unsigned integers (0, -1, 1, -2, … → 0, 1, 2, 3, …), so
// that small magnitudes of either sign become small unsigned numbers for varints and
// bit-packing. Shared by every integer codec; both directions are total (no overflow).
#pragma once

#include <cstdint>

namespace timestore::codec {

inline uint64_t ZigZagEncode(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t ZigZagDecode(uint64_t u) { return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1)); }

// Wrapping (mod 2^64) arithmetic on int64 values: deltas of arbitrary int64 series
// overflow, and the codecs rely on the wrap being undone exactly on decode.
inline int64_t WrapSub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}
inline int64_t WrapAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

// Number of bits needed to hold `v` (0 for 0, 64 for values with the top bit set).
inline int BitWidth(uint64_t v) { return v == 0 ? 0 : 64 - __builtin_clzll(v); }

}  // namespace timestore::codec
