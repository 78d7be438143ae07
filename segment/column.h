// Column types and the in-memory column representation shared by ingest
// batches, in-memory segments, decoded segment blocks and query results.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common/strings.h"

namespace timestore {

// on disk (WAL, manifest, segment files): never renumber
enum class ColumnType : uint8_t {
  kTimestamp = 1,  // int64 nanoseconds since the epoch
  kDouble = 2,
  kInteger = 3,  // int64
  kString = 4,   // UTF-8, dictionary-encoded in memory
  kBoolean = 5,
  // Types stored like strings (dictionary ids into canonical text), each with
  // its own segment codec (segment/codec/). The text is canonical, so equal
  // values have equal text (segment/typed_text.h): json is compact JSON with
  // sorted keys; uuid is 36 lowercase hex digits and hyphens (16 bytes on
  // disk); arrays are compact JSON arrays of non-null elements of the element
  // type.
  kJson = 6,
  kUuid = 7,
  kDoubleArray = 8,
  kIntegerArray = 9,
  kStringArray = 10,
  kBooleanArray = 11,
};

// Names: "timestamp", "double", "integer", "string", "boolean", "json",
// "uuid", and "double[]", "integer[]", "string[]", "boolean[]".
std::string_view ColumnTypeName(ColumnType t);
std::optional<ColumnType> ParseColumnType(std::string_view name);
bool IsValidColumnType(uint8_t raw);

// Held as dictionary ids into `dict` (ColumnVector): string, json, uuid and
// the array types.
constexpr bool IsStringLike(ColumnType t) {
  return t == ColumnType::kString || static_cast<uint8_t>(t) >= 6;
}
constexpr bool IsArrayType(ColumnType t) {
  return t >= ColumnType::kDoubleArray && t <= ColumnType::kBooleanArray;
}
// The element type of an array type; `t` itself otherwise.
constexpr ColumnType ArrayElementType(ColumnType t) {
  switch (t) {
    case ColumnType::kDoubleArray:
      return ColumnType::kDouble;
    case ColumnType::kIntegerArray:
      return ColumnType::kInteger;
    case ColumnType::kStringArray:
      return ColumnType::kString;
    case ColumnType::kBooleanArray:
      return ColumnType::kBoolean;
    default:
      return t;
  }
}
// The case labels of every string-like type, for switches over ColumnType:
//   TIMESTORE_STRING_LIKE_CASES: return ids...;
#define TIMESTORE_STRING_LIKE_CASES \
  case ColumnType::kString:         \
  case ColumnType::kJson:           \
  case ColumnType::kUuid:           \
  case ColumnType::kDoubleArray:    \
  case ColumnType::kIntegerArray:   \
  case ColumnType::kStringArray:    \
  case ColumnType::kBooleanArray

// The array type of `element`; nullopt for element types with none.
std::optional<ColumnType> ArrayTypeOf(ColumnType element);

// One column of `size()` values. Exactly one value array is used, by type:
//   kTimestamp, kInteger -> ints;  kDouble -> doubles;  kBoolean -> bools (0/1);
//   string-like (IsStringLike) -> ids into dict (dictionary encoding; dict
//   entries are distinct).
// Validity: `valid` empty means no nulls; otherwise one byte per row, 1 = value.
// An all-null column may have empty value arrays (`all_null`).
// Null slots hold 0 / id 0 in the value arrays when those are present.
struct ColumnVector {
  ColumnType type = ColumnType::kDouble;
  uint32_t length = 0;
  bool all_null = false;
  std::vector<uint8_t> valid;
  std::vector<int64_t> ints;
  std::vector<double> doubles;
  std::vector<uint8_t> bools;
  std::vector<uint32_t> ids;
  std::vector<std::string> dict;

  size_t size() const { return length; }
  bool IsNull(size_t i) const { return all_null || (!valid.empty() && valid[i] == 0); }
  bool HasNulls() const { return all_null || !valid.empty(); }
  size_t NullCount() const;
  // Approximate heap bytes held.
  size_t MemoryBytes() const;

  static ColumnVector AllNull(ColumnType type, uint32_t length);
};

// Appends values one row at a time, building the dictionary for strings.
// Not thread-safe.
class ColumnBuilder {
 public:
  explicit ColumnBuilder(ColumnType type) { col_.type = type; }

  ColumnType type() const { return col_.type; }
  uint32_t size() const { return col_.length; }

  void AppendNull();
  void AppendInt(int64_t v);
  void AppendDouble(double v);
  void AppendBool(bool v);
  void AppendString(std::string_view v);
  // The dictionary id of `v` in this string column, added when new. With
  // AppendStringId it lets a caller that caches ids (the line protocol's
  // series cache) append without hashing the value again.
  uint32_t InternString(std::string_view v);
  void AppendStringId(uint32_t id) {
    MarkValid();
    col_.ids.push_back(id);
    ++col_.length;
  }
  // Appends nulls until size() == n.
  void PadNullsTo(uint32_t n) {
    while (col_.length < n) AppendNull();
  }
  // Room for `n` values in all, so appends do not reallocate.
  void Reserve(size_t n);
  // Appends row `i` of `src` (same type).
  void AppendFrom(const ColumnVector& src, size_t i);

  ColumnVector Finish();

 private:
  void MarkValid();
  ColumnVector col_;
  StringMap<uint32_t> dict_index_;
  uint32_t last_id_ = 0;  // id of the previous value: runs of one value skip the hash
  bool has_last_ = false;
};

}  // namespace timestore
