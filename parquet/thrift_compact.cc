#include "parquet/thrift_compact.h"

namespace timestore::parquet {

void CompactWriter::AppendVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void CompactWriter::StructEnd() {
  out_->push_back(static_cast<char>(CompactType::kStop));
  last_field_.pop_back();
}

void CompactWriter::FieldHeader(int16_t id, CompactType type) {
  int16_t& last = last_field_.back();
  const int delta = id - last;
  if (delta > 0 && delta <= 15) {
    out_->push_back(static_cast<char>((delta << 4) | static_cast<uint8_t>(type)));
  } else {
    out_->push_back(static_cast<char>(type));
    WriteI64(id);
  }
  last = id;
}

void CompactWriter::ListHeader(CompactType element, uint32_t size) {
  const uint8_t t = static_cast<uint8_t>(element);
  if (size < 15) {
    out_->push_back(static_cast<char>((size << 4) | t));
  } else {
    out_->push_back(static_cast<char>(0xf0 | t));
    AppendVarint(out_, size);
  }
}

void CompactWriter::Binary(std::string_view v) {
  AppendVarint(out_, v.size());
  out_->append(v);
}

}  // namespace timestore::parquet
