// Every codec decoder on arbitrary bytes: the first byte picks the codec, the
// next two the value count; the typed-text codecs (uuid, array) are run under
// each typed-text column type. Decoders must fail cleanly, never crash, never read
// out of bounds, never allocate beyond what `n` and the input allow.
#include <cstdint>
#include <string>
#include <vector>

#include "segment/codec/codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace timestore;
  if (size < 3) return 0;
  const CodecInfo* codec = FindCodec(data[0]);
  if (codec == nullptr) return 0;
  const size_t n = (static_cast<size_t>(data[1]) << 8 | data[2]) % 20000;
  std::string_view in(reinterpret_cast<const char*>(data + 3), size - 3);
  if (codec->decode_ints) {
    std::vector<int64_t> out(n);
    (void)codec->decode_ints(in, n, out.data());
  }
  if (codec->decode_doubles) {
    std::vector<double> out(n);
    (void)codec->decode_doubles(in, n, out.data());
  }
  if (codec->decode_bools) {
    std::vector<uint8_t> out(n);
    (void)codec->decode_bools(in, n, out.data());
  }
  if (codec->decode_strings) {
    std::vector<std::string> dict;
    std::vector<uint32_t> ids;
    if (codec->decode_strings(in, n, &dict, &ids).ok()) {
      if (ids.size() != n) __builtin_trap();
      for (uint32_t id : ids)
        if (id >= dict.size() && !dict.empty()) __builtin_trap();
    }
  }
  if (codec->decode_text) {  // uuid, array: under every typed-text column type
    for (ColumnType type :
         {ColumnType::kJson, ColumnType::kUuid, ColumnType::kDoubleArray, ColumnType::kIntegerArray,
          ColumnType::kStringArray, ColumnType::kBooleanArray}) {
      std::vector<std::string> dict;
      std::vector<uint32_t> ids;
      if (codec->decode_text(type, in, n, &dict, &ids).ok()) {
        if (ids.size() != n) __builtin_trap();
        for (uint32_t id : ids)
          if (id >= dict.size()) __builtin_trap();
      }
    }
  }
  std::vector<uint8_t> valid(n);
  (void)DecodeValidity(in, n, valid.data());
  return 0;
}
