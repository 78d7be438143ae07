// Codec `uuid` (CodecId::kUuid = 10): uuid columns as a dictionary of 16-byte
// values plus one id per row. The canonical text ("8-4-4-4-12", lowercase hex;
// segment/typed_text.h) is rebuilt from the bytes when decoding. Entries are
// in order of first appearance, so a block of distinct ids (trace and span
// ids) has ids 0, 1, 2, ... which the ids codec stores in a few bytes: about
// 16 bytes per value.
//
//   text := d varint (number of entries; ≤ n, 0 only when n = 0)
//           e varint (0: no entry is empty; k + 1: entry k is the empty string
//                     of null rows, which has no bytes below)
//           (d, less the empty entry) × 16 bytes    distinct uuids
//           ids codec id u8 (an ints codec) | ids payload (n ids, each < d)
//
// Only for uuid columns; values that are not canonical uuid text (nor empty)
// are InvalidArgument, so the writer falls back to `dictionary`.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "segment/column.h"

namespace timestore::codec::uuid {

inline constexpr std::string_view kName = "uuid";

absl::Status EncodeText(ColumnType type, std::span<const std::string_view> values,
                        std::string* out);
absl::Status DecodeText(ColumnType type, std::string_view in, size_t n,
                        std::vector<std::string>* dict, std::vector<uint32_t>* ids);

}  // namespace timestore::codec::uuid
