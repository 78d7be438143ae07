#include "segment/codec/int_delta_huffman.h"

#include <algorithm>
#include <array>
#include <vector>

#include "common/status_macros.h"
#include "segment/codec/bit_reader.h"
#include "segment/codec/bit_writer.h"
#include "segment/codec/codec_internal.h"
#include "segment/codec/residuals.h"

namespace timestore::codec::int_delta_huffman {
namespace {

constexpr int kMaxSymbols = kMaxValueSymbols + 1;  // + escape

// Code lengths (≤ max_len) of a Huffman code for `freq` (0 = symbol unused). A single
// used symbol gets length 1. Over-long codes are fixed by flattening the frequencies
// (halving, keeping every used symbol ≥ 1) and rebuilding: with at most 256 symbols and
// max_len 11 this converges in a few rounds.
void HuffmanLengths(const uint64_t* freq, int nsym, int max_len, uint8_t* len) {
  std::vector<uint64_t> f(freq, freq + nsym);
  std::vector<int> syms;
  for (int s = 0; s < nsym; ++s) {
    len[s] = 0;
    if (f[s] > 0) syms.push_back(s);
  }
  const int c = static_cast<int>(syms.size());
  if (c == 0) return;
  if (c == 1) {
    len[syms[0]] = 1;
    return;
  }
  std::vector<uint64_t> w(2 * c - 1);
  std::vector<int> parent(2 * c - 1), depth(2 * c - 1);
  for (;;) {
    std::sort(syms.begin(), syms.end(), [&](int a, int b) { return f[a] < f[b]; });
    for (int i = 0; i < c; ++i) w[i] = f[syms[i]];
    // Two-queue construction: leaves in ascending order, internal nodes created in
    // ascending order too.
    int leaf = 0, inner = c;
    auto take = [&](int next) {
      if (leaf < c && (inner >= next || w[leaf] <= w[inner])) return leaf++;
      return inner++;
    };
    for (int next = c; next < 2 * c - 1; ++next) {
      int a = take(next), b = take(next);
      w[next] = w[a] + w[b];
      parent[a] = parent[b] = next;
    }
    depth[2 * c - 2] = 0;
    int max_depth = 0;
    for (int node = 2 * c - 3; node >= 0; --node) {
      depth[node] = depth[parent[node]] + 1;
      if (node < c) max_depth = std::max(max_depth, depth[node]);
    }
    if (max_depth <= max_len) {
      for (int i = 0; i < c; ++i) len[syms[i]] = static_cast<uint8_t>(depth[i]);
      return;
    }
    for (int s : syms) f[s] = (f[s] + 1) / 2;
  }
}

// Canonical codes (RFC 1951 §3.2.2), bit-reversed so the first code bit is the LSB.
// REQUIRES: lengths satisfy Kraft's inequality.
void CanonicalCodes(const uint8_t* len, int nsym, uint32_t* codes) {
  int bl_count[kMaxCodeLength + 1] = {};
  for (int s = 0; s < nsym; ++s) bl_count[len[s]]++;
  bl_count[0] = 0;
  uint32_t next[kMaxCodeLength + 2] = {};
  uint32_t code = 0;
  for (int bits = 1; bits <= kMaxCodeLength; ++bits) {
    code = (code + bl_count[bits - 1]) << 1;
    next[bits] = code;
  }
  for (int s = 0; s < nsym; ++s) {
    const int l = len[s];
    if (l == 0) {
      codes[s] = 0;
      continue;
    }
    uint32_t c = next[l]++, rev = 0;
    for (int i = 0; i < l; ++i) rev |= ((c >> i) & 1) << (l - 1 - i);
    codes[s] = rev;
  }
}

struct Plan {
  int order = 0;
  uint64_t step = 1;
  int64_t base = 0;
  uint64_t lo = 0;
  int k = 1;
  int ew = 0;
  std::vector<int64_t> residuals;
  std::vector<uint64_t> u;
  std::array<uint8_t, kMaxSymbols> len{};
  size_t bytes = 0;
};

// Fills everything but the residuals' source for one order; returns the payload bytes.
size_t PlanOrder(std::span<const int64_t> values, int order, Plan* p) {
  p->order = order;
  residuals::Compute(values, order, &p->residuals);
  const size_t m = p->residuals.size();
  if (m == 0) {
    p->step = 1;
    return p->bytes = residuals::PrefixBytes(values, order, p->step);
  }
  p->base = *std::min_element(p->residuals.begin(), p->residuals.end());
  p->step = residuals::CommonStep(p->residuals, p->base);
  size_t bytes = residuals::PrefixBytes(values, order, p->step);
  p->u.resize(m);
  uint64_t max_u = 0;
  const uint64_t base = static_cast<uint64_t>(p->base);
  if (p->step == 1) {  // no 64-bit division in the common case
    for (size_t i = 0; i < m; ++i) {
      p->u[i] = static_cast<uint64_t>(p->residuals[i]) - base;
      max_u = std::max(max_u, p->u[i]);
    }
  } else {
    for (size_t i = 0; i < m; ++i) {
      p->u[i] = (static_cast<uint64_t>(p->residuals[i]) - base) / p->step;
      max_u = std::max(max_u, p->u[i]);
    }
  }
  if (max_u < kMaxValueSymbols) {
    p->lo = 0;
    p->k = static_cast<int>(max_u) + 1;
  } else {
    // Centre the window on the median; the rest is escaped.
    std::vector<uint64_t> tmp(p->u);
    std::nth_element(tmp.begin(), tmp.begin() + m / 2, tmp.end());
    const uint64_t med = tmp[m / 2];
    p->lo = med >= kMaxValueSymbols / 2 ? med - kMaxValueSymbols / 2 : 0;
    p->k = kMaxValueSymbols;
  }
  // Four histograms, summed after: repeated symbols would otherwise serialise on one
  // counter's store-to-load latency.
  uint64_t hist[4][kMaxSymbols] = {};
  uint64_t max_escaped = 0;
  const uint64_t lo = p->lo, k = static_cast<uint64_t>(p->k);
  for (size_t i = 0; i < m; ++i) {
    const uint64_t u = p->u[i];
    const uint64_t s = u - lo;
    if (u >= lo && s < k) {
      hist[i & 3][s]++;
    } else {
      hist[i & 3][k]++;
      max_escaped = std::max(max_escaped, u);
    }
  }
  uint64_t freq[kMaxSymbols];
  for (int s = 0; s <= p->k; ++s) freq[s] = hist[0][s] + hist[1][s] + hist[2][s] + hist[3][s];
  p->ew = freq[p->k] ? BitWidth(max_escaped) : 0;
  HuffmanLengths(freq, p->k + 1, kMaxCodeLength, p->len.data());
  uint64_t bits = freq[p->k] * p->ew;
  for (int s = 0; s <= p->k; ++s) bits += freq[s] * p->len[s];
  bytes += VarintLength(ZigZagEncode(p->base)) + VarintLength(p->lo) + VarintLength(p->k) + 1 +
           (p->k + 2) / 2 + (bits + 7) / 8;
  return p->bytes = bytes;
}

void BestPlan(std::span<const int64_t> values, Plan* best) {
  Plan cand;
  best->bytes = SIZE_MAX;
  for (int order = 0; order <= residuals::kMaxOrder; ++order) {
    if (PlanOrder(values, order, &cand) < best->bytes) std::swap(*best, cand);
  }
}

void Emit(std::span<const int64_t> values, const Plan& p, std::string* out) {
  out->reserve(out->size() + p.bytes);
  residuals::PutPrefix(values, p.order, p.step, out);
  if (p.residuals.empty()) return;
  PutZigZag(out, p.base);
  PutVarint64(out, p.lo);
  PutVarint64(out, p.k);
  PutFixed8(out, static_cast<uint8_t>(p.ew));
  const int nsym = p.k + 1;
  for (int s = 0; s < nsym; s += 2) {
    uint8_t hi = s + 1 < nsym ? p.len[s + 1] : 0;
    PutFixed8(out, static_cast<uint8_t>(p.len[s] | (hi << 4)));
  }
  uint32_t codes[kMaxSymbols];
  CanonicalCodes(p.len.data(), nsym, codes);
  BitWriter w(out);
  for (uint64_t u : p.u) {
    uint64_t s = u - p.lo;
    if (u >= p.lo && s < static_cast<uint64_t>(p.k)) {
      w.Write(codes[s], p.len[s]);
    } else {
      w.Write(codes[p.k], p.len[p.k]);
      w.Write(u, p.ew);
    }
  }
  w.Finish();
}

}  // namespace

size_t EncodedSize(std::span<const int64_t> values) {
  Plan plan;
  BestPlan(values, &plan);
  return plan.bytes;
}

absl::Status EncodeInts(std::span<const int64_t> values, std::string* out) {
  Plan plan;
  BestPlan(values, &plan);
  // BestPlan keeps the winning order's residuals and symbols.
  Emit(values, plan, out);
  return absl::OkStatus();
}

absl::Status DecodeInts(std::string_view in, size_t n, int64_t* out) {
  Decoder d(in);
  int order = 0;
  uint64_t step = 1;
  RETURN_IF_ERROR(residuals::GetPrefix(kName, &d, n, out, &order, &step));
  const size_t h = std::min<size_t>(n, order);
  const size_t m = n - h;
  if (m == 0) {
    if (!d.empty()) return Corrupt(kName, d.remaining(), " trailing bytes");
    residuals::Integrate(order, n, out);
    return absl::OkStatus();
  }
  int64_t base_signed;
  uint64_t lo, k;
  uint8_t ew;
  if (!GetZigZag(&d, &base_signed) || !d.GetVarint64(&lo) || !d.GetVarint64(&k) ||
      !d.GetFixed8(&ew)) {
    return Corrupt(kName, "truncated code header");
  }
  if (k < 1 || k > kMaxValueSymbols) return Corrupt(kName, k, " value symbols");
  if (ew > 64) return Corrupt(kName, "escape width ", static_cast<int>(ew));
  const int nsym = static_cast<int>(k) + 1;
  std::string_view packed;
  if (!d.GetBytes((nsym + 1) / 2, &packed)) return Corrupt(kName, "truncated code lengths");
  uint8_t len[kMaxSymbols];
  int max_len = 0;
  uint64_t kraft = 0;  // in units of 2^-kMaxCodeLength
  for (int s = 0; s < nsym; ++s) {
    uint8_t byte = static_cast<uint8_t>(packed[s / 2]);
    len[s] = s % 2 ? byte >> 4 : byte & 15;
    if (len[s] > kMaxCodeLength) {
      return Corrupt(kName, "code length ", static_cast<int>(len[s]), " for symbol ", s);
    }
    if (len[s] > 0) kraft += uint64_t{1} << (kMaxCodeLength - len[s]);
    max_len = std::max<int>(max_len, len[s]);
  }
  if (nsym % 2 && (static_cast<uint8_t>(packed.back()) >> 4) != 0) {
    return Corrupt(kName, "nonzero padding nibble");
  }
  if (max_len == 0) return Corrupt(kName, "no symbol has a code");
  if (kraft > (uint64_t{1} << kMaxCodeLength)) return Corrupt(kName, "code lengths oversubscribed");

  uint32_t codes[kMaxSymbols];
  CanonicalCodes(len, nsym, codes);
  // table[next max_len bits] = symbol << 4 | length; length 0 marks an unassigned code.
  uint16_t table[1 << kMaxCodeLength];
  const size_t table_size = size_t{1} << max_len;
  std::fill_n(table, table_size, 0);
  for (int s = 0; s < nsym; ++s) {
    if (len[s] == 0) continue;
    for (size_t j = codes[s]; j < table_size; j += size_t{1} << len[s]) {
      table[j] = static_cast<uint16_t>(s << 4 | len[s]);
    }
  }

  std::string_view stream;
  d.GetBytes(d.remaining(), &stream);
  BitReader r(stream);
  const uint64_t base = static_cast<uint64_t>(base_signed);
  const uint64_t escape = k;
  uint64_t* res = reinterpret_cast<uint64_t*>(out + h);
  // Two symbols per lookup where the next max_len bits hold two whole codes
  // (short codes are the common case: small residuals). pair[j] = first
  // symbol, second symbol, both lengths; the second is used only when its
  // code lies wholly inside the known bits and neither is the escape. A code
  // read at index j >> l1 is whole when its length is at most max_len - l1,
  // since the single table repeats each code over every value of the bits
  // above it.
  struct Pair {
    uint8_t s1, s2, l1, l12;  // l12: bits of both, 0 when there is no second symbol
  };
  Pair pair[1 << kMaxCodeLength];
  const bool pairs = m >= 64 && escape <= 255;
  if (pairs) {
    for (size_t j = 0; j < table_size; ++j) {
      const uint16_t e1 = table[j];
      Pair p{static_cast<uint8_t>(e1 >> 4), 0, static_cast<uint8_t>(e1 & 15), 0};
      const int l1 = e1 & 15;
      if (l1 != 0 && (e1 >> 4) != escape && l1 < max_len) {
        const uint16_t e2 = table[j >> l1];
        const int l2 = e2 & 15;
        if (l2 != 0 && l2 <= max_len - l1 && (e2 >> 4) != escape) {
          p.s2 = static_cast<uint8_t>(e2 >> 4);
          p.l12 = static_cast<uint8_t>(l1 + l2);
        }
      }
      pair[j] = p;
    }
  }
  size_t i = 0;
  while (i < m) {
    uint64_t bits;
    const int got = r.Peek(max_len, &bits);
    if (pairs && i + 1 < m) {
      const Pair p = pair[bits];
      if (p.l12 != 0 && p.l12 <= got) {
        r.Skip(p.l12);
        res[i] = base + step * (p.s1 + lo);
        res[i + 1] = base + step * (p.s2 + lo);
        i += 2;
        continue;
      }
    }
    const uint16_t e = table[bits];
    const int l = e & 15;
    if (l == 0 || l > got) return Corrupt(kName, "bad or truncated code at residual ", i);
    r.Skip(l);
    uint64_t u = e >> 4;
    if (u == escape) {
      if (!r.Read(ew, &u)) return Corrupt(kName, "truncated escape at residual ", i);
    } else {
      u += lo;
    }
    res[i++] = base + step * u;
  }
  if (!r.AtCleanEnd()) return Corrupt(kName, "trailing bits after ", m, " residuals");
  residuals::Integrate(order, n, out);
  return absl::OkStatus();
}

}  // namespace timestore::codec::int_delta_huffman
