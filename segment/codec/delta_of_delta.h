// Codec `delta_of_delta` (CodecId::kDeltaOfDelta = 1): Gorilla-style timestamps
// (Pelkonen et al., VLDB 2015). Regular series (a fixed interval) cost one bit per value;
// jitter costs a few bits more.
//
//   ints := [n ≥ 1] v[0] zigzag varint
//           [n ≥ 2] v[1] - v[0] zigzag varint
//           bit stream (bit_writer.h order) of n - 2 codes, one per i ≥ 2, for
//           z = zigzag((v[i] - v[i-1]) - (v[i-1] - v[i-2]))  (all arithmetic mod 2^64):
//             '0'                    z = 0
//             '10'    then 7 bits    z < 2^7
//             '110'   then 9 bits    z < 2^9
//             '1110'  then 12 bits   z < 2^12
//             '11110' then 32 bits   z < 2^32
//             '11111' then 64 bits   otherwise
//           (prefix bits in the order listed, the first bit written first), zero-padded to
//           a byte. For n ≤ 2 the bit stream is empty. Nothing follows it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace timestore::codec::delta_of_delta {

inline constexpr std::string_view kName = "delta_of_delta";

absl::Status EncodeInts(std::span<const int64_t> values, std::string* out);
absl::Status DecodeInts(std::string_view in, size_t n, int64_t* out);

}  // namespace timestore::codec::delta_of_delta
