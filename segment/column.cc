#include "segment/column.h"

namespace timestore {

std::string_view ColumnTypeName(ColumnType t) {
  switch (t) {
    case ColumnType::kTimestamp:
      return "timestamp";
    case ColumnType::kDouble:
      return "double";
    case ColumnType::kInteger:
      return "integer";
    case ColumnType::kString:
      return "string";
    case ColumnType::kBoolean:
      return "boolean";
    case ColumnType::kJson:
      return "json";
    case ColumnType::kUuid:
      return "uuid";
    case ColumnType::kDoubleArray:
      return "double[]";
    case ColumnType::kIntegerArray:
      return "integer[]";
    case ColumnType::kStringArray:
      return "string[]";
    case ColumnType::kBooleanArray:
      return "boolean[]";
  }
  return "unknown";
}

std::optional<ColumnType> ParseColumnType(std::string_view name) {
  if (name == "timestamp") return ColumnType::kTimestamp;
  if (name == "double") return ColumnType::kDouble;
  if (name == "integer") return ColumnType::kInteger;
  if (name == "string") return ColumnType::kString;
  if (name == "boolean") return ColumnType::kBoolean;
  if (name == "json") return ColumnType::kJson;
  if (name == "uuid") return ColumnType::kUuid;
  if (name == "double[]") return ColumnType::kDoubleArray;
  if (name == "integer[]") return ColumnType::kIntegerArray;
  if (name == "string[]") return ColumnType::kStringArray;
  if (name == "boolean[]") return ColumnType::kBooleanArray;
  return std::nullopt;
}

bool IsValidColumnType(uint8_t raw) { return raw >= 1 && raw <= 11; }

std::optional<ColumnType> ArrayTypeOf(ColumnType element) {
  switch (element) {
    case ColumnType::kDouble:
      return ColumnType::kDoubleArray;
    case ColumnType::kInteger:
      return ColumnType::kIntegerArray;
    case ColumnType::kString:
      return ColumnType::kStringArray;
    case ColumnType::kBoolean:
      return ColumnType::kBooleanArray;
    default:
      return std::nullopt;
  }
}

size_t ColumnVector::NullCount() const {
  if (all_null) return length;
  if (valid.empty()) return 0;
  size_t n = 0;
  for (uint8_t v : valid) n += v == 0;
  return n;
}

size_t ColumnVector::MemoryBytes() const {
  size_t b = sizeof(*this) + valid.capacity() + ints.capacity() * 8 + doubles.capacity() * 8 +
             bools.capacity() + ids.capacity() * 4;
  for (const auto& s : dict) b += sizeof(std::string) + (s.size() > 15 ? s.capacity() : 0);
  return b;
}

ColumnVector ColumnVector::AllNull(ColumnType type, uint32_t length) {
  ColumnVector c;
  c.type = type;
  c.length = length;
  c.all_null = length > 0;
  return c;
}

void ColumnBuilder::MarkValid() {
  if (!col_.valid.empty()) col_.valid.push_back(1);
}

void ColumnBuilder::Reserve(size_t n) {
  switch (col_.type) {
    case ColumnType::kTimestamp:
    case ColumnType::kInteger:
      col_.ints.reserve(n);
      break;
    case ColumnType::kDouble:
      col_.doubles.reserve(n);
      break;
    case ColumnType::kBoolean:
      col_.bools.reserve(n);
      break;
    TIMESTORE_STRING_LIKE_CASES:
      col_.ids.reserve(n);
      break;
  }
}

void ColumnBuilder::AppendNull() {
  if (col_.valid.empty()) col_.valid.assign(col_.length, 1);
  col_.valid.push_back(0);
  switch (col_.type) {
    case ColumnType::kTimestamp:
    case ColumnType::kInteger:
      col_.ints.push_back(0);
      break;
    case ColumnType::kDouble:
      col_.doubles.push_back(0);
      break;
    case ColumnType::kBoolean:
      col_.bools.push_back(0);
      break;
    TIMESTORE_STRING_LIKE_CASES:
      col_.ids.push_back(0);
      break;
  }
  ++col_.length;
}

void ColumnBuilder::AppendInt(int64_t v) {
  MarkValid();
  col_.ints.push_back(v);
  ++col_.length;
}

void ColumnBuilder::AppendDouble(double v) {
  MarkValid();
  col_.doubles.push_back(v);
  ++col_.length;
}

void ColumnBuilder::AppendBool(bool v) {
  MarkValid();
  col_.bools.push_back(v ? 1 : 0);
  ++col_.length;
}

uint32_t ColumnBuilder::InternString(std::string_view v) {
  auto it = dict_index_.find(v);
  if (it != dict_index_.end()) return it->second;
  uint32_t id = static_cast<uint32_t>(col_.dict.size());
  col_.dict.emplace_back(v);
  dict_index_.emplace(std::string(v), id);
  return id;
}

void ColumnBuilder::AppendString(std::string_view v) {
  if (!has_last_ || v != col_.dict[last_id_]) {
    last_id_ = InternString(v);
    has_last_ = true;
  }
  AppendStringId(last_id_);
}

void ColumnBuilder::AppendFrom(const ColumnVector& src, size_t i) {
  if (src.IsNull(i)) {
    AppendNull();
    return;
  }
  switch (src.type) {
    case ColumnType::kTimestamp:
    case ColumnType::kInteger:
      AppendInt(src.ints[i]);
      break;
    case ColumnType::kDouble:
      AppendDouble(src.doubles[i]);
      break;
    case ColumnType::kBoolean:
      AppendBool(src.bools[i] != 0);
      break;
    TIMESTORE_STRING_LIKE_CASES:
      AppendString(src.dict[src.ids[i]]);
      break;
  }
}

ColumnVector ColumnBuilder::Finish() {
  ColumnVector out = std::move(col_);
  if (!out.valid.empty()) {
    bool any_valid = false;
    for (uint8_t v : out.valid) any_valid |= v != 0;
    if (!any_valid) out = ColumnVector::AllNull(out.type, out.length);
  }
  col_ = ColumnVector();
  col_.type = out.type;
  dict_index_.clear();
  has_last_ = false;
  return out;
}

}  // namespace timestore
