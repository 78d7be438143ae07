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
#include "common/coding.h"

namespace timestore::codec::dictionary {

inline constexpr std::string_view kName = "dictionary";

absl::Status EncodeStrings(std::span<const std::string_view> values, std::string* out);
absl::Status DecodeStrings(std::string_view in, size_t n, std::vector<std::string>* dict,
                           std::vector<uint32_t>* ids);

// Shared with the codecs that store a dictionary and ids the same way (uuid).
// The distinct values in order of first appearance, and each value's entry;
// `distinct_hint` reserves the index (uuid blocks are mostly distinct).
// REQUIRES: values.size() <= UINT32_MAX.
void BuildDictionary(std::span<const std::string_view> values,
                     std::vector<std::string_view>* entries, std::vector<int64_t>* ids,
                     size_t distinct_hint = 0);
// Appends the ids part: ids codec id u8 | ids payload (the best ints codec).
absl::Status PutDictionaryIds(std::span<const int64_t> ids, std::string* out);
// Reads the ids part, which is the rest of `*d`: n ids, each < count. Errors
// are DataLoss naming `codec`.
absl::Status DecodeDictionaryIds(std::string_view codec, Decoder* d, size_t n, uint64_t count,
                                 std::vector<uint32_t>* ids);

}  // namespace timestore::codec::dictionary
