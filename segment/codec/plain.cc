#include "segment/codec/plain.h"

#include <cstring>

#include "segment/codec/codec_internal.h"

namespace timestore::codec::plain {
namespace {

template <typename T>
void AppendRaw(std::span<const T> values, std::string* out) {
  static_assert(sizeof(T) == 8);
  out->append(reinterpret_cast<const char*>(values.data()), values.size() * 8);
}

template <typename T>
absl::Status DecodeRaw(std::string_view in, size_t n, T* out) {
  // n * 8 cannot overflow for any n the caller could have allocated `out` for.
  if (in.size() != n * 8) {
    return Corrupt(kName, "expected ", n * 8, " bytes for ", n, " values, got ", in.size());
  }
  if (n > 0) std::memcpy(out, in.data(), n * 8);
  return absl::OkStatus();
}

}  // namespace

absl::Status EncodeInts(std::span<const int64_t> values, std::string* out) {
  AppendRaw(values, out);
  return absl::OkStatus();
}
absl::Status DecodeInts(std::string_view in, size_t n, int64_t* out) {
  return DecodeRaw(in, n, out);
}
absl::Status EncodeDoubles(std::span<const double> values, std::string* out) {
  AppendRaw(values, out);
  return absl::OkStatus();
}
absl::Status DecodeDoubles(std::string_view in, size_t n, double* out) {
  return DecodeRaw(in, n, out);
}

absl::Status EncodeBools(std::span<const uint8_t> values, std::string* out) {
  if (!AllZeroOrOne(values.data(), values.size())) return CannotEncode(kName, "bool not 0/1");
  out->append(reinterpret_cast<const char*>(values.data()), values.size());
  return absl::OkStatus();
}
absl::Status DecodeBools(std::string_view in, size_t n, uint8_t* out) {
  if (in.size() != n) {
    return Corrupt(kName, "expected ", n, " bytes for ", n, " bools, got ", in.size());
  }
  const uint8_t* p = reinterpret_cast<const uint8_t*>(in.data());
  if (!AllZeroOrOne(p, n)) return Corrupt(kName, "bool byte not 0 or 1");
  if (n > 0) std::memcpy(out, p, n);
  return absl::OkStatus();
}

absl::Status EncodeStrings(std::span<const std::string_view> values, std::string* out) {
  for (std::string_view s : values) PutLengthPrefixed(out, s);
  return absl::OkStatus();
}

absl::Status DecodeStrings(std::string_view in, size_t n, std::vector<std::string>* dict,
                           std::vector<uint32_t>* ids) {
  dict->clear();
  ids->assign(n, 0);
  StringMap<uint32_t> index;
  Decoder d(in);
  for (size_t i = 0; i < n; ++i) {
    std::string_view s;
    if (!d.GetLengthPrefixed(&s)) return Corrupt(kName, "string ", i, " of ", n, " truncated");
    auto [it, inserted] = index.try_emplace(s, static_cast<uint32_t>(dict->size()));
    if (inserted) dict->emplace_back(s);
    (*ids)[i] = it->second;
  }
  if (!d.empty()) return Corrupt(kName, d.remaining(), " trailing bytes after ", n, " strings");
  return absl::OkStatus();
}

}  // namespace timestore::codec::plain
