// Codec `plain` (CodecId::kPlain = 0): values stored as they are. The fallback every
// domain has; it wins for incompressible doubles and 64-bit random integers.
//
//   ints    := n × int64 fixed64 (little-endian two's complement)      — exactly 8n bytes
//   doubles := n × IEEE-754 binary64 bit pattern, fixed64              — exactly 8n bytes
//   bools   := n × u8, each 0 or 1                                     — exactly n bytes
//   strings := n × (length varint | bytes)
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace timestore::codec::plain {

inline constexpr std::string_view kName = "plain";

absl::Status EncodeInts(std::span<const int64_t> values, std::string* out);
absl::Status DecodeInts(std::string_view in, size_t n, int64_t* out);
absl::Status EncodeDoubles(std::span<const double> values, std::string* out);
absl::Status DecodeDoubles(std::string_view in, size_t n, double* out);
absl::Status EncodeBools(std::span<const uint8_t> values, std::string* out);
absl::Status DecodeBools(std::string_view in, size_t n, uint8_t* out);
absl::Status EncodeStrings(std::span<const std::string_view> values, std::string* out);
// Repeated strings are folded into one dictionary entry (dictionary entries are distinct).
absl::Status DecodeStrings(std::string_view in, size_t n, std::vector<std::string>* dict,
                           std::vector<uint32_t>* ids);

}  // namespace timestore::codec::plain
