// Codec `run_length` (CodecId::kRunLength = 5): runs of equal values, for blocks with
// few distinct runs (status codes, clamped gauges, sorted tags' ids, flags).
//
//   ints  := run*        run := value zigzag varint (difference from the previous run's
//                                value, the first from 0; mod 2^64) | count varint (≥ 1)
//   bools := [n ≥ 1] first value u8 (0 or 1) | count varint (≥ 1)*
//            (runs alternate values, starting with the first)
//
// The counts sum to exactly n; nothing follows the last run.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace timestore::codec::run_length {

inline constexpr std::string_view kName = "run_length";

// Analysis: number of runs (maximal stretches of equal values).
size_t CountRuns(std::span<const int64_t> values);

absl::Status EncodeInts(std::span<const int64_t> values, std::string* out);
absl::Status DecodeInts(std::string_view in, size_t n, int64_t* out);
absl::Status EncodeBools(std::span<const uint8_t> values, std::string* out);
absl::Status DecodeBools(std::string_view in, size_t n, uint8_t* out);

}  // namespace timestore::codec::run_length
