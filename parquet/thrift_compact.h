// A Thrift compact-protocol encoder: just what writing Parquet metadata needs
// (page headers, FileMetaData). Follows Apache Thrift's
// doc/specs/thrift-compact-protocol.md:
//
//   varint       ULEB128, 7 bits a byte, low groups first
//   i16/i32/i64  zigzag ((n << 1) ^ (n >> 63)), then varint
//   i8           one byte
//   double       8 bytes little-endian IEEE 754
//   binary       varint length, then the bytes
//   field header (delta << 4) | type when 0 < delta <= 15 (delta from the
//                previous field id of the same struct), else type then the
//                field id as a zigzag i16
//   bool field   the value is the type: 1 true, 2 false (no payload)
//   list header  (size << 4) | element type when size < 15, else
//                0xf0 | element type, then size as a varint; bool elements
//                are one byte each, 1 true, 2 false
//   struct       fields, then a stop byte 0
//
// Not thread-safe. The caller keeps begin/end calls balanced.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace timestore::parquet {

// Compact-protocol type ids: fixed by the Thrift specification.
enum class CompactType : uint8_t {
  kStop = 0,
  kBoolTrue = 1,
  kBoolFalse = 2,
  kByte = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};

class CompactWriter {
 public:
  // Appends to `*out`, which must outlive the writer.
  explicit CompactWriter(std::string* out) : out_(out) {}

  // A struct: the top-level one, or an element of a list.
  void StructBegin() { last_field_.push_back(0); }
  void StructEnd();  // writes the stop byte

  void FieldBool(int16_t id, bool v) {
    FieldHeader(id, v ? CompactType::kBoolTrue : CompactType::kBoolFalse);
  }
  void FieldI8(int16_t id, int8_t v) {
    FieldHeader(id, CompactType::kByte);
    out_->push_back(static_cast<char>(v));
  }
  void FieldI16(int16_t id, int16_t v) {
    FieldHeader(id, CompactType::kI16);
    WriteI64(v);
  }
  void FieldI32(int16_t id, int32_t v) {
    FieldHeader(id, CompactType::kI32);
    WriteI64(v);
  }
  void FieldI64(int16_t id, int64_t v) {
    FieldHeader(id, CompactType::kI64);
    WriteI64(v);
  }
  void FieldBinary(int16_t id, std::string_view v) {
    FieldHeader(id, CompactType::kBinary);
    Binary(v);
  }
  // A struct-valued field (also a union member): close it with StructEnd().
  void FieldStructBegin(int16_t id) {
    FieldHeader(id, CompactType::kStruct);
    StructBegin();
  }
  // A list-valued field of `size` elements; the elements follow.
  void FieldListBegin(int16_t id, CompactType element, uint32_t size) {
    FieldHeader(id, CompactType::kList);
    ListHeader(element, size);
  }

  // List elements.
  void I32(int32_t v) { WriteI64(v); }
  void I64(int64_t v) { WriteI64(v); }
  void Binary(std::string_view v);
  void Bool(bool v) { out_->push_back(v ? 1 : 2); }

  // Raw encodings, exposed for tests.
  static void AppendVarint(std::string* out, uint64_t v);
  static uint64_t ZigZag(int64_t v) {
    return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  }

 private:
  void FieldHeader(int16_t id, CompactType type);
  void ListHeader(CompactType element, uint32_t size);
  void WriteI64(int64_t v) { AppendVarint(out_, ZigZag(v)); }

  std::string* out_;
  std::vector<int16_t> last_field_{0};  // previous field id per open struct
};

}  // namespace timestore::parquet
