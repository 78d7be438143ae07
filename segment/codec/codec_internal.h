// Helpers shared by the codec implementations (not part of the codec API).
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "common/coding.h"
#include "common/strings.h"
#include "segment/codec/zigzag.h"

namespace timestore::codec {

// Malformed payload: DataLossError("<codec>: <what>").
template <typename... Args>
absl::Status Corrupt(std::string_view codec, const Args&... what) {
  return absl::DataLossError(ToAbsl(StrCat(codec, ": ", what...)));
}
// Values the codec cannot represent: InvalidArgumentError("<codec>: <what>").
template <typename... Args>
absl::Status CannotEncode(std::string_view codec, const Args&... what) {
  return absl::InvalidArgumentError(ToAbsl(StrCat(codec, ": ", what...)));
}

inline void PutZigZag(std::string* out, int64_t v) { PutVarint64(out, ZigZagEncode(v)); }
inline bool GetZigZag(Decoder* in, int64_t* v) {
  uint64_t u;
  if (!in->GetVarint64(&u)) return false;
  *v = ZigZagDecode(u);
  return true;
}
// Bytes PutVarint64(v) writes.
inline size_t VarintLength(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// 0/1 check for bool and validity inputs.
inline bool AllZeroOrOne(const uint8_t* v, size_t n) {
  uint8_t acc = 0;
  for (size_t i = 0; i < n; ++i) acc |= v[i];
  return acc <= 1;
}

}  // namespace timestore::codec
