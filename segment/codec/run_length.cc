#include "segment/codec/run_length.h"

#include <algorithm>
#include <cstring>

#include "segment/codec/codec_internal.h"

namespace timestore::codec::run_length {

size_t CountRuns(std::span<const int64_t> values) {
  if (values.empty()) return 0;
  size_t runs = 1;
  for (size_t i = 1; i < values.size(); ++i) runs += values[i] != values[i - 1];
  return runs;
}

absl::Status EncodeInts(std::span<const int64_t> values, std::string* out) {
  const size_t n = values.size();
  int64_t prev = 0;
  size_t i = 0;
  while (i < n) {
    size_t j = i + 1;
    while (j < n && values[j] == values[i]) ++j;
    PutZigZag(out, WrapSub(values[i], prev));
    PutVarint64(out, j - i);
    prev = values[i];
    i = j;
  }
  return absl::OkStatus();
}

absl::Status DecodeInts(std::string_view in, size_t n, int64_t* out) {
  Decoder d(in);
  int64_t value = 0;
  size_t i = 0;
  while (i < n) {
    int64_t delta;
    uint64_t count;
    if (!GetZigZag(&d, &delta) || !d.GetVarint64(&count)) {
      return Corrupt(kName, "truncated run at row ", i, " of ", n);
    }
    if (count == 0 || count > n - i) {
      return Corrupt(kName, "run of ", count, " at row ", i, " does not fit ", n, " rows");
    }
    value = WrapAdd(value, delta);
    std::fill_n(out + i, count, value);
    i += count;
  }
  if (!d.empty()) return Corrupt(kName, d.remaining(), " trailing bytes");
  return absl::OkStatus();
}

absl::Status EncodeBools(std::span<const uint8_t> values, std::string* out) {
  const size_t n = values.size();
  if (!AllZeroOrOne(values.data(), n)) return CannotEncode(kName, "bool not 0/1");
  if (n == 0) return absl::OkStatus();
  PutFixed8(out, values[0]);
  size_t i = 0;
  while (i < n) {
    size_t j = i + 1;
    while (j < n && values[j] == values[i]) ++j;
    PutVarint64(out, j - i);
    i = j;
  }
  return absl::OkStatus();
}

absl::Status DecodeBools(std::string_view in, size_t n, uint8_t* out) {
  Decoder d(in);
  if (n == 0) {
    if (!d.empty()) return Corrupt(kName, d.remaining(), " bytes for an empty block");
    return absl::OkStatus();
  }
  uint8_t value;
  if (!d.GetFixed8(&value)) return Corrupt(kName, "missing first value");
  if (value > 1) return Corrupt(kName, "bool byte ", static_cast<int>(value), " not 0 or 1");
  size_t i = 0;
  while (i < n) {
    uint64_t count;
    if (!d.GetVarint64(&count)) return Corrupt(kName, "truncated run at row ", i, " of ", n);
    if (count == 0 || count > n - i) {
      return Corrupt(kName, "run of ", count, " at row ", i, " does not fit ", n, " rows");
    }
    std::memset(out + i, value, count);
    i += count;
    value ^= 1;
  }
  if (!d.empty()) return Corrupt(kName, d.remaining(), " trailing bytes");
  return absl::OkStatus();
}

}  // namespace timestore::codec::run_length
