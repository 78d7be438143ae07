// Codec `array` (CodecId::kArray = 12): array columns (double[], integer[],
// string[], boolean[]) as an element count per row plus the elements of all
// rows, flattened, each part through the best codec of its domain: counts and
// integers as ints (delta, bit-packing, run lengths), doubles through
// gorilla_xor/decimal, strings through dictionary, booleans as a bitmap. The
// canonical array text (segment/array_text.h) is rebuilt when decoding.
//
//   text := element type u8 (ColumnType: 1 double, 3 integer, 4 string, 5 boolean)
//           counts codec u8 (an ints codec) | counts length varint | counts payload
//                 (n counts: elements of the row; -1 for the empty text of a null row)
//           elements codec u8 (a codec of the element's domain) | elements payload
//                 (m = sum of the counts elements; strings unescaped)
//
// Only for array columns whose element type is the payload's. Values that are
// not canonical array text of that element type are InvalidArgument, so the
// writer falls back to `dictionary`; so are blocks of more than
// kMaxElements elements or whose values' text adds up to more than
// kMaxTextBytes. A decoder refuses such blocks as corrupt before allocating
// them: a string array's elements are a dictionary and ids, so without the
// bound a few bytes of payload (one long entry, millions of ids) could ask
// for terabytes of element copies and row text.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "segment/column.h"
#include "segment/segment_format.h"

namespace timestore::codec::array {

inline constexpr std::string_view kName = "array";
inline constexpr uint64_t kMaxElements = 1u << 22;
// The text of all rows of a block, repeats included: the largest block
// payload a segment reader accepts (256 MiB), so a block of arrays never
// decodes to more than a `dictionary` block of them could hold. Blocks over it
// are written with `dictionary` instead.
inline constexpr uint64_t kMaxTextBytes = segment::kMaxBlockRawBytes;

absl::Status EncodeText(ColumnType type, std::span<const std::string_view> values,
                        std::string* out);
absl::Status DecodeText(ColumnType type, std::string_view in, size_t n,
                        std::vector<std::string>* dict, std::vector<uint32_t>* ids);

}  // namespace timestore::codec::array
