// Codec `bitmap` (CodecId::kBitmap = 7): one bit per value, for booleans and for
// validity (1 = value present).
//
//   bools := ceil(n / 8) bytes; value i is bit (i % 8) of byte i / 8 (LSB first);
//            the padding bits of the last byte are zero.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace timestore::codec::bitmap {

inline constexpr std::string_view kName = "bitmap";

// REQUIRES for encoding: every value is 0 or 1 (InvalidArgument otherwise).
absl::Status EncodeBools(std::span<const uint8_t> values, std::string* out);
absl::Status DecodeBools(std::string_view in, size_t n, uint8_t* out);

}  // namespace timestore::codec::bitmap
