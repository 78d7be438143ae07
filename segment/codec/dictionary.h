// Codec `dictionary` (CodecId::kDictionary = 6): strings as a dictionary of the block's
// distinct values (in order of first appearance) plus one id per row; the ids go through
// the best integer codec, so a constant tag costs a few bytes per block and a
// low-cardinality one a few bits per row.
//
//   strings := d varint (number of entries; ≤ n, 0 only when n = 0)
//              d × (length varint | bytes)      distinct entries
//              ids codec id u8 (an ints codec) | ids payload (n ids, each < d)
//
// Nothing follows the ids payload (the ids codec checks its own end).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace timestore::codec::dictionary {

inline constexpr std::string_view kName = "dictionary";

absl::Status EncodeStrings(std::span<const std::string_view> values, std::string* out);
absl::Status DecodeStrings(std::string_view in, size_t n, std::vector<std::string>* dict,
                           std::vector<uint32_t>* ids);

}  // namespace timestore::codec::dictionary
