#include "segment/codec/int_delta_bitpack.h"

#include <algorithm>
#include <numeric>
#include <vector>

#include "common/status_macros.h"
#include "segment/codec/bit_reader.h"
#include "segment/codec/bit_writer.h"
#include "segment/codec/codec_internal.h"
#include "segment/codec/residuals.h"

namespace timestore::codec::int_delta_bitpack {
namespace {

struct Chunk {
  uint32_t begin;
  uint32_t count;
  uint8_t tag;  // width (| kShortFlag), or kRunTag
  int64_t base;
};

// Residual runs at least this long become run chunks; a plan is made for each and the
// smallest kept (long runs pay for a chunk header; short ones only where widths are big).
constexpr size_t kRunThresholds[] = {8, 32, kMiniblockValues};

struct Plan {
  int order = 0;
  uint64_t step = 1;
  std::vector<int64_t> residuals;
  std::vector<Chunk> chunks;
  size_t bytes = 0;
};

// Splits residuals into chunks; returns the bytes they take.
size_t PlanChunks(const std::vector<int64_t>& r, uint64_t step, size_t run_threshold,
                  std::vector<Chunk>* chunks) {
  chunks->clear();
  const size_t m = r.size();
  size_t bytes = 0;
  int64_t prev_base = 0;
  size_t i = 0;
  while (i < m) {
    size_t run = 1;
    while (i + run < m && r[i + run] == r[i]) ++run;
    if (run >= run_threshold) {
      chunks->push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(run), kRunTag, r[i]});
      bytes += 1 + VarintLength(run) + VarintLength(ZigZagEncode(WrapSub(r[i], prev_base)));
      prev_base = r[i];
      i += run;
      continue;
    }
    const size_t end = std::min(i + kMiniblockValues, m);
    // Stop before a run that will get its own chunk.
    size_t stop = end;
    size_t run_start = i;
    for (size_t k = i + 1; k < end; ++k) {
      if (r[k] != r[k - 1]) {
        run_start = k;
      } else if (k - run_start + 1 >= run_threshold) {
        stop = run_start;
        break;
      }
    }
    int64_t mn = r[i], mx = r[i];
    for (size_t k = i + 1; k < stop; ++k) {
      mn = std::min(mn, r[k]);
      mx = std::max(mx, r[k]);
    }
    const size_t count = stop - i;
    const int width = BitWidth((static_cast<uint64_t>(mx) - static_cast<uint64_t>(mn)) / step);
    const bool is_short = count != std::min(kMiniblockValues, m - i);
    uint8_t tag = static_cast<uint8_t>(width) | (is_short ? kShortFlag : 0);
    chunks->push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(count), tag, mn});
    bytes += 1 + (is_short ? VarintLength(count) : 0) +
             VarintLength(ZigZagEncode(WrapSub(mn, prev_base))) + PackedBytes(count, width);
    prev_base = mn;
    i = stop;
  }
  return bytes;
}

// Longest stretch of equal residuals.
size_t LongestRun(const std::vector<int64_t>& r) {
  size_t longest = r.empty() ? 0 : 1, run = 1;
  for (size_t i = 1; i < r.size(); ++i) {
    run = r[i] == r[i - 1] ? run + 1 : 1;
    longest = std::max(longest, run);
  }
  return longest;
}

// Finds the smallest plan: each order is planned with the middle run threshold, then the
// other thresholds are tried on the best order only (the order matters far more), and
// only where runs that long exist (otherwise the plan would not change).
void BestPlan(std::span<const int64_t> values, int min_order, int max_order, Plan* best) {
  constexpr size_t kFirstThreshold = kRunThresholds[1];
  Plan cand;
  best->bytes = SIZE_MAX;
  for (int order = min_order; order <= max_order; ++order) {
    cand.order = order;
    residuals::Compute(values, order, &cand.residuals);
    cand.step = residuals::CommonStep(cand.residuals);
    cand.bytes = residuals::PrefixBytes(values, order, cand.step) +
                 PlanChunks(cand.residuals, cand.step, kFirstThreshold, &cand.chunks);
    if (cand.bytes < best->bytes) std::swap(*best, cand);
  }
  const size_t longest = LongestRun(best->residuals);
  const size_t prefix = residuals::PrefixBytes(values, best->order, best->step);
  for (size_t threshold : kRunThresholds) {
    if (threshold == kFirstThreshold || longest < std::min(threshold, kFirstThreshold)) continue;
    size_t bytes = prefix + PlanChunks(best->residuals, best->step, threshold, &cand.chunks);
    if (bytes < best->bytes) {
      best->bytes = bytes;
      best->chunks.swap(cand.chunks);
    }
  }
}

void Emit(std::span<const int64_t> values, const Plan& plan, std::string* out) {
  const size_t start = out->size();
  out->reserve(start + plan.bytes);
  residuals::PutPrefix(values, plan.order, plan.step, out);
  uint64_t tmp[kMiniblockValues];
  int64_t prev_base = 0;
  const int64_t* r = plan.residuals.data();
  for (const Chunk& c : plan.chunks) {
    PutFixed8(out, c.tag);
    if (c.tag == kRunTag) {
      PutVarint64(out, c.count);
      PutZigZag(out, WrapSub(c.base, prev_base));
    } else {
      if (c.tag & kShortFlag) PutVarint64(out, c.count);
      PutZigZag(out, WrapSub(c.base, prev_base));
      const int width = c.tag & ~kShortFlag;
      const uint64_t base = static_cast<uint64_t>(c.base);
      if (plan.step == 1) {
        for (uint32_t k = 0; k < c.count; ++k)
          tmp[k] = static_cast<uint64_t>(r[c.begin + k]) - base;
      } else {
        for (uint32_t k = 0; k < c.count; ++k) {
          tmp[k] = (static_cast<uint64_t>(r[c.begin + k]) - base) / plan.step;
        }
      }
      PackBits(tmp, c.count, width, out);
    }
    prev_base = c.base;
  }
}

}  // namespace

size_t EncodedSize(std::span<const int64_t> values) {
  Plan plan;
  BestPlan(values, 0, residuals::kMaxOrder, &plan);
  return plan.bytes;
}

absl::Status EncodeInts(std::span<const int64_t> values, std::string* out) {
  Plan plan;
  BestPlan(values, 0, residuals::kMaxOrder, &plan);
  Emit(values, plan, out);
  return absl::OkStatus();
}

absl::Status EncodeIntsWithOrder(std::span<const int64_t> values, int order, std::string* out) {
  if (order < 0 || order > residuals::kMaxOrder)
    return CannotEncode(kName, "order ", order, " not 0..2");
  Plan plan;
  BestPlan(values, order, order, &plan);
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
  int64_t* res = out + h;
  // Unsigned view of the output for unpacking (same object representation).
  uint64_t* ures = reinterpret_cast<uint64_t*>(res);
  int64_t prev_base = 0;
  size_t pos = 0;
  while (pos < m) {
    uint8_t tag;
    if (!d.GetFixed8(&tag)) return Corrupt(kName, "chunk header missing at residual ", pos);
    if (tag == kRunTag) {
      uint64_t count;
      int64_t delta;
      if (!d.GetVarint64(&count) || !GetZigZag(&d, &delta)) {
        return Corrupt(kName, "truncated run at residual ", pos);
      }
      if (count == 0 || count > m - pos) {
        return Corrupt(kName, "run of ", count, " at residual ", pos, " exceeds ", m);
      }
      prev_base = WrapAdd(prev_base, delta);
      std::fill_n(res + pos, count, prev_base);
      pos += count;
      continue;
    }
    const int width = tag & ~kShortFlag;
    if (width > 64) return Corrupt(kName, "bit width ", width, " at residual ", pos);
    size_t count = std::min(kMiniblockValues, m - pos);
    if (tag & kShortFlag) {
      uint64_t c;
      if (!d.GetVarint64(&c)) return Corrupt(kName, "truncated count at residual ", pos);
      if (c == 0 || c > count) {
        return Corrupt(kName, "miniblock of ", c, " at residual ", pos, " of ", m);
      }
      count = c;
    }
    int64_t delta;
    if (!GetZigZag(&d, &delta)) return Corrupt(kName, "truncated base at residual ", pos);
    const uint64_t base = static_cast<uint64_t>(WrapAdd(prev_base, delta));
    prev_base = static_cast<int64_t>(base);
    std::string_view packed;
    if (!d.GetBytes(PackedBytes(count, width), &packed)) {
      return Corrupt(kName, "miniblock at residual ", pos, " needs ", PackedBytes(count, width),
                     " bytes, ", d.remaining(), " left");
    }
    uint64_t* dst = ures + pos;
    UnpackBits(packed.data(), count, width, dst);
    if (step == 1) {
      for (size_t k = 0; k < count; ++k) dst[k] += base;
    } else {
      for (size_t k = 0; k < count; ++k) dst[k] = base + step * dst[k];
    }
    pos += count;
  }
  if (!d.empty()) return Corrupt(kName, d.remaining(), " trailing bytes");

  residuals::Integrate(order, n, out);
  return absl::OkStatus();
}

}  // namespace timestore::codec::int_delta_bitpack
