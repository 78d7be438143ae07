// Codec `gorilla_xor` (CodecId::kGorillaXor = 2): Gorilla XOR compression of doubles
// (Pelkonen et al., VLDB 2015): each value is XORed with the previous one and only the
// meaningful (non-zero-bounded) bits of the XOR are stored. Exact for every bit pattern.
//
//   doubles := [n ≥ 1] bit stream (bit_writer.h order), zero-padded to a byte:
//     first value: 64 bits
//     each further value, with x = bits(v[i]) XOR bits(v[i-1]):
//       '0'                                   x = 0
//       '10' then len bits                    x >> trail, reusing the previous window
//       '11' then lead (5 bits, 0..31),
//                 len - 1 (6 bits, len 1..64),
//                 then len bits               x >> trail, opening a new window
//     where a window is (lead, len) and trail = 64 - lead - len (lead + len ≤ 64). The
//     window before the second value is (0, 64). Prefix bits in the order listed.
//   Nothing follows the bit stream.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace timestore::codec::gorilla_xor {

inline constexpr std::string_view kName = "gorilla_xor";

absl::Status EncodeDoubles(std::span<const double> values, std::string* out);
absl::Status DecodeDoubles(std::string_view in, size_t n, double* out);

}  // namespace timestore::codec::gorilla_xor
