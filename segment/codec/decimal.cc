#include "segment/codec/decimal.h"

#include <bit>
#include <cmath>
#include <memory>
#include <vector>

#include "segment/codec/codec.h"
#include "segment/codec/codec_internal.h"

namespace timestore::codec::decimal {
namespace {

constexpr double kPow10[kMaxDecodeScale + 1] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                                1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                                1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
constexpr double kMaxExact = 9007199254740992.0;  // 2^53

// The integer m with m / 10^e == v bit for bit, if there is one within ±2^53.
bool ScaleExactly(double v, int e, int64_t* m) {
  double x = v * kPow10[e];
  if (!(std::fabs(x) <= kMaxExact)) return false;  // also NaN, ±Inf
  int64_t mi = static_cast<int64_t>(std::nearbyint(x));
  double back = e == 0 ? static_cast<double>(mi) : static_cast<double>(mi) / kPow10[e];
  if (std::bit_cast<uint64_t>(back) != std::bit_cast<uint64_t>(v)) return false;  // e.g. -0.0
  *m = mi;
  return true;
}

}  // namespace

std::optional<int> FindScale(std::span<const double> values) {
  int e = 0;
  int64_t m;
  for (double v : values) {
    while (!ScaleExactly(v, e, &m)) {
      // Past 2^53 (or NaN/Inf/-0.0) no larger scale helps.
      if (!(std::fabs(v * kPow10[e]) <= kMaxExact) || (std::signbit(v) && v == 0)) {
        return std::nullopt;
      }
      if (++e > kMaxEncodeScale) return std::nullopt;
    }
  }
  return e;
}

absl::Status EncodeDoubles(std::span<const double> values, std::string* out) {
  std::optional<int> scale = FindScale(values);
  if (!scale) {
    return CannotEncode(kName, "values are not decimals with at most ", kMaxEncodeScale,
                        " fractional digits (or include NaN, Inf, -0.0)");
  }
  const int e = *scale;
  std::vector<int64_t> ints(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    // FindScale proved every value at some e' <= e; re-check each at e itself.
    if (!ScaleExactly(values[i], e, &ints[i])) {
      return CannotEncode(kName, "value ", i, " does not round-trip at scale ", e);
    }
  }
  PutFixed8(out, static_cast<uint8_t>(e));
  const size_t id_pos = out->size();
  PutFixed8(out, 0);
  absl::StatusOr<CodecId> inner = EncodeIntsBest(ints, /*is_timestamp=*/false, out);
  if (!inner.ok()) return inner.status();
  (*out)[id_pos] = static_cast<char>(*inner);
  return absl::OkStatus();
}

absl::Status DecodeDoubles(std::string_view in, size_t n, double* out) {
  if (in.size() < 2) return Corrupt(kName, "missing header");
  const int e = static_cast<uint8_t>(in[0]);
  const uint8_t inner = static_cast<uint8_t>(in[1]);
  if (e > kMaxDecodeScale) return Corrupt(kName, "scale ", e, " > ", kMaxDecodeScale);
  const CodecInfo* codec = FindCodec(inner);
  if (codec == nullptr || codec->decode_ints == nullptr) {
    return Corrupt(kName, "inner codec ", static_cast<int>(inner), " is not an integer codec");
  }
  std::unique_ptr<int64_t[]> ints(new int64_t[n]);
  absl::Status s = codec->decode_ints(in.substr(2), n, ints.get());
  if (!s.ok()) return Corrupt(kName, "scaled integers: ", ToStd(s.message()));
  if (e == 0) {
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<double>(ints[i]);
  } else {
    const double p = kPow10[e];
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<double>(ints[i]) / p;
  }
  return absl::OkStatus();
}

}  // namespace timestore::codec::decimal
