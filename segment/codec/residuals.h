// The residual transform shared by the integer codecs int_delta_bitpack and
// int_delta_huffman: both payloads start with the same prefix
//
//   prefix   := order u8 (0, 1 or 2) | head{min(n, order)} | step varint (≥ 1)
//   head     := zigzag varint: head 0 is v[0]; head 1 (order 2 only) is v[1] - v[0]
//
// and then code the residuals r[i], i ≥ order (all arithmetic mod 2^64):
//   order 0: v[i];  order 1: v[i] - v[i-1];  order 2: (v[i] - v[i-1]) - (v[i-1] - v[i-2])
// every one of which is (base + step · u) for some base the codec states and u ≥ 0. The
// step is a common divisor of all residual differences (the encoders use their gcd, e.g.
// 10^6 for millisecond times stored in nanoseconds, 5 for halves stored as decimal tenths).
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "segment/codec/codec_internal.h"

namespace timestore::codec::residuals {

inline constexpr int kMaxOrder = 2;

// Residuals of `v` at `order` into `*r` (n - min(n, order) of them).
inline void Compute(std::span<const int64_t> v, int order, std::vector<int64_t>* r) {
  const size_t n = v.size();
  const size_t h = std::min<size_t>(n, order);
  r->resize(n - h);
  int64_t* out = r->data();
  if (order == 0) {
    std::copy(v.begin(), v.end(), out);
  } else if (order == 1) {
    for (size_t i = 1; i < n; ++i) out[i - 1] = WrapSub(v[i], v[i - 1]);
  } else {
    for (size_t i = 2; i < n; ++i) {
      out[i - 2] = WrapSub(WrapSub(v[i], v[i - 1]), WrapSub(v[i - 1], v[i - 2]));
    }
  }
}

// Exact divisibility by a fixed g > 0 without a division: for g = 2^s · o (o odd),
// d is a multiple of g iff its low s bits are zero and (d >> s) · o⁻¹ mod 2^64 ≤ ⌊(2^64-1)/o⌋
// (Granlund & Montgomery 1994; Lemire et al. 2019).
class DivisibilityTest {
 public:
  explicit DivisibilityTest(uint64_t g) : shift_(__builtin_ctzll(g)) {
    const uint64_t odd = g >> shift_;
    uint64_t inv = odd;  // correct to 3 bits; each Newton step doubles that
    for (int i = 0; i < 5; ++i) inv *= 2 - odd * inv;
    inv_ = inv;
    limit_ = ~uint64_t{0} / odd;
    low_mask_ = (uint64_t{1} << shift_) - 1;
  }
  bool Divides(uint64_t d) const { return (d & low_mask_) == 0 && (d >> shift_) * inv_ <= limit_; }

 private:
  int shift_;
  uint64_t inv_ = 0, limit_ = 0, low_mask_ = 0;
};

// The gcd of all residual differences (1 when there is none > 1). Differences are taken
// from the smallest residual, so they are exact in uint64 (no wrap-around), and the step
// divides r - b for any residuals r, b. Costs a multiply per value: the gcd is only
// recomputed when a difference is not already a multiple of it (at most 64 times).
// `mn` is the smallest residual.
inline uint64_t CommonStep(const std::vector<int64_t>& r, int64_t mn) {
  uint64_t g = 0;
  DivisibilityTest test(1);
  for (int64_t x : r) {
    uint64_t d = static_cast<uint64_t>(x) - static_cast<uint64_t>(mn);
    if (d == 0 || (g != 0 && test.Divides(d))) continue;
    g = std::gcd(g, d);
    if (g == 1) return 1;
    test = DivisibilityTest(g);
  }
  return g == 0 ? 1 : g;
}
inline uint64_t CommonStep(const std::vector<int64_t>& r) {
  return r.empty() ? 1 : CommonStep(r, *std::min_element(r.begin(), r.end()));
}

inline size_t PrefixBytes(std::span<const int64_t> v, int order, uint64_t step) {
  size_t bytes = 1 + VarintLength(step);
  if (order >= 1 && !v.empty()) bytes += VarintLength(ZigZagEncode(v[0]));
  if (order >= 2 && v.size() >= 2) bytes += VarintLength(ZigZagEncode(WrapSub(v[1], v[0])));
  return bytes;
}

inline void PutPrefix(std::span<const int64_t> v, int order, uint64_t step, std::string* out) {
  PutFixed8(out, static_cast<uint8_t>(order));
  if (order >= 1 && !v.empty()) PutZigZag(out, v[0]);
  if (order >= 2 && v.size() >= 2) PutZigZag(out, WrapSub(v[1], v[0]));
  PutVarint64(out, step);
}

// Reads the prefix, leaving the heads in out[0, min(n, order)) for Integrate().
inline absl::Status GetPrefix(std::string_view codec, Decoder* d, size_t n, int64_t* out,
                              int* order, uint64_t* step) {
  uint8_t o;
  if (!d->GetFixed8(&o)) return Corrupt(codec, "missing order byte");
  if (o > kMaxOrder) return Corrupt(codec, "order ", static_cast<int>(o), " not 0..2");
  *order = o;
  const size_t h = std::min<size_t>(n, o);
  for (size_t i = 0; i < h; ++i) {
    if (!GetZigZag(d, &out[i])) return Corrupt(codec, "truncated head value ", i);
  }
  if (!d->GetVarint64(step) || *step == 0) return Corrupt(codec, "missing or zero step");
  return absl::OkStatus();
}

// Turns heads + residuals in out[0, n) back into values, in place.
inline void Integrate(int order, size_t n, int64_t* out) {
  uint64_t* u = reinterpret_cast<uint64_t*>(out);  // same representation, wrapping adds
  if (order == 1) {
    for (size_t i = 1; i < n; ++i) u[i] += u[i - 1];
  } else if (order == 2 && n >= 2) {
    uint64_t delta = u[1];
    u[1] = u[0] + delta;
    for (size_t i = 2; i < n; ++i) {
      delta += u[i];
      u[i] = u[i - 1] + delta;
    }
  }
}

}  // namespace timestore::codec::residuals
