// Codec `decimal` (CodecId::kDecimal = 3): doubles that are short decimals (58.0, 12.5,
// 0.125, 1999.99) stored as integers m with a shared power-of-ten scale, value = m / 10^e.
// The integers go through the best integer codec, so integer-valued gauges cost what
// the same column typed `integer` would.
//
//   doubles := scale e u8 | inner codec id u8 | inner payload
//     the inner payload encodes the n integers m with the inner (ints) codec, and value i
//     decodes as static_cast<double>(m[i]) / 10^e (IEEE division, correctly rounded).
//     Encoders write e ≤ kMaxEncodeScale; decoders accept e ≤ kMaxDecodeScale (22, the
//     largest power of ten a double holds exactly) so a later encoder may widen.
//
// Exactness: the encoder uses the smallest e for which every value v satisfies
// |v·10^e| ≤ 2^53 and decodes back to v bit for bit, checking every value at the chosen
// e. It refuses (InvalidArgument) blocks with NaN, ±Inf or -0.0 (which has no integer
// form), or values needing a larger scale; the chooser then falls back to gorilla_xor
// or plain.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace timestore::codec::decimal {

inline constexpr std::string_view kName = "decimal";
inline constexpr int kMaxEncodeScale = 9;
inline constexpr int kMaxDecodeScale = 22;

// Analysis: the smallest scale e ≤ kMaxEncodeScale that represents every value exactly,
// or nullopt when there is none.
std::optional<int> FindScale(std::span<const double> values);

absl::Status EncodeDoubles(std::span<const double> values, std::string* out);
absl::Status DecodeDoubles(std::string_view in, size_t n, double* out);

}  // namespace timestore::codec::decimal
