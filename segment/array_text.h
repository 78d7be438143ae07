// The canonical text of an array value (segment/typed_text.h: a compact JSON
// array of non-null elements of the element type, as AppendCanonicalArray
// writes it) split into its elements, and the elements back into that text.
// The segment's `array` codec and the Parquet export's LIST columns use it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "segment/column.h"

namespace timestore {

// Elements of one element type, appended value after value: exactly one
// vector is used, by `element` (kDouble, kInteger, kString, kBoolean).
struct ArrayElements {
  ColumnType element = ColumnType::kInteger;
  std::vector<int64_t> ints;
  std::vector<double> doubles;
  std::vector<uint8_t> bools;        // 0/1
  std::vector<std::string> strings;  // unescaped content

  size_t size() const;
  void clear();
};

// Appends the elements of `text` to `out` and returns how many; nullopt when
// `text` is not the canonical text of an array of `out->element` values (the
// elements parsed are then removed again). Canonical means byte for byte what
// AppendArrayText would write for them, so the pair round-trips exactly.
std::optional<size_t> ParseArrayText(std::string_view text, ArrayElements* out);

// Appends the canonical text of elements [begin, begin + count) of `in`.
void AppendArrayText(const ArrayElements& in, size_t begin, size_t count, std::string* out);

}  // namespace timestore
