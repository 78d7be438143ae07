// Codec `constant` (CodecId::kConstant = 8): a block whose values are all equal (for
// doubles: bit-for-bit equal) stores the value once. Empty blocks have an empty payload.
//
//   ints    := [n ≥ 1] zigzag varint
//   doubles := [n ≥ 1] IEEE-754 bit pattern, fixed64
//   bools   := [n ≥ 1] u8 0 or 1
//
// Nothing may follow the value.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace timestore::codec::constant {

inline constexpr std::string_view kName = "constant";

// Analysis: whether the values are all equal (the encoders fail otherwise).
bool AllEqual(std::span<const int64_t> values);
bool AllEqual(std::span<const double> values);  // bitwise
bool AllEqual(std::span<const uint8_t> values);

absl::Status EncodeInts(std::span<const int64_t> values, std::string* out);
absl::Status DecodeInts(std::string_view in, size_t n, int64_t* out);
absl::Status EncodeDoubles(std::span<const double> values, std::string* out);
absl::Status DecodeDoubles(std::string_view in, size_t n, double* out);
absl::Status EncodeBools(std::span<const uint8_t> values, std::string* out);
absl::Status DecodeBools(std::string_view in, size_t n, uint8_t* out);

}  // namespace timestore::codec::constant
