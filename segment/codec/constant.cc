#include "segment/codec/constant.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "segment/codec/codec_internal.h"

namespace timestore::codec::constant {
namespace {

template <typename T>
bool AllSame(std::span<const T> v) {
  for (size_t i = 1; i < v.size(); ++i) {
    if (v[i] != v[0]) return false;
  }
  return true;
}

absl::Status CheckEmpty(std::string_view in) {
  if (!in.empty()) return Corrupt(kName, in.size(), " bytes for an empty block");
  return absl::OkStatus();
}

}  // namespace

bool AllEqual(std::span<const int64_t> values) { return AllSame(values); }
bool AllEqual(std::span<const uint8_t> values) { return AllSame(values); }
bool AllEqual(std::span<const double> values) {
  for (size_t i = 1; i < values.size(); ++i) {
    if (std::bit_cast<uint64_t>(values[i]) != std::bit_cast<uint64_t>(values[0])) return false;
  }
  return true;
}

absl::Status EncodeInts(std::span<const int64_t> values, std::string* out) {
  if (!AllEqual(values)) return CannotEncode(kName, "values differ");
  if (!values.empty()) PutZigZag(out, values[0]);
  return absl::OkStatus();
}

absl::Status DecodeInts(std::string_view in, size_t n, int64_t* out) {
  if (n == 0) return CheckEmpty(in);
  Decoder d(in);
  int64_t v;
  if (!GetZigZag(&d, &v)) return Corrupt(kName, "truncated value");
  if (!d.empty()) return Corrupt(kName, d.remaining(), " trailing bytes");
  std::fill_n(out, n, v);
  return absl::OkStatus();
}

absl::Status EncodeDoubles(std::span<const double> values, std::string* out) {
  if (!AllEqual(values)) return CannotEncode(kName, "values differ");
  if (!values.empty()) PutFixed64(out, std::bit_cast<uint64_t>(values[0]));
  return absl::OkStatus();
}

absl::Status DecodeDoubles(std::string_view in, size_t n, double* out) {
  if (n == 0) return CheckEmpty(in);
  if (in.size() != 8) return Corrupt(kName, "expected 8 bytes, got ", in.size());
  std::fill_n(out, n, std::bit_cast<double>(DecodeFixed64(in.data())));
  return absl::OkStatus();
}

absl::Status EncodeBools(std::span<const uint8_t> values, std::string* out) {
  if (!AllZeroOrOne(values.data(), values.size())) return CannotEncode(kName, "bool not 0/1");
  if (!AllEqual(values)) return CannotEncode(kName, "values differ");
  if (!values.empty()) PutFixed8(out, values[0]);
  return absl::OkStatus();
}

absl::Status DecodeBools(std::string_view in, size_t n, uint8_t* out) {
  if (n == 0) return CheckEmpty(in);
  if (in.size() != 1) return Corrupt(kName, "expected 1 byte, got ", in.size());
  uint8_t v = static_cast<uint8_t>(in[0]);
  if (v > 1) return Corrupt(kName, "bool byte ", static_cast<int>(v), " not 0 or 1");
  std::memset(out, v, n);
  return absl::OkStatus();
}

}  // namespace timestore::codec::constant
