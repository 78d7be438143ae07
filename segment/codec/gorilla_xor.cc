#include "segment/codec/gorilla_xor.h"

#include <bit>

#include "segment/codec/bit_reader.h"
#include "segment/codec/bit_writer.h"
#include "segment/codec/codec_internal.h"

namespace timestore::codec::gorilla_xor {

absl::Status EncodeDoubles(std::span<const double> values, std::string* out) {
  const size_t n = values.size();
  if (n == 0) return absl::OkStatus();
  BitWriter w(out);
  uint64_t prev = std::bit_cast<uint64_t>(values[0]);
  w.Write(prev, 64);
  int win_lead = 0, win_len = 64;
  for (size_t i = 1; i < n; ++i) {
    uint64_t cur = std::bit_cast<uint64_t>(values[i]);
    uint64_t x = cur ^ prev;
    prev = cur;
    if (x == 0) {
      w.Write(0, 1);
      continue;
    }
    int lead = __builtin_clzll(x);
    int trail = __builtin_ctzll(x);
    int win_trail = 64 - win_lead - win_len;
    int new_lead = lead > 31 ? 31 : lead;
    int len = 64 - new_lead - trail;
    // Reuse the window when the XOR fits in it and a new window would not be smaller.
    if (lead >= win_lead && trail >= win_trail && 2 + win_len <= 13 + len) {
      w.Write(0b01, 2);  // '10'
      w.Write(x >> win_trail, win_len);
      continue;
    }
    lead = new_lead;
    w.Write(0b11 | (static_cast<uint64_t>(lead) << 2) | (static_cast<uint64_t>(len - 1) << 7),
            2 + 5 + 6);
    w.Write(x >> trail, len);
    win_lead = lead;
    win_len = len;
  }
  w.Finish();
  return absl::OkStatus();
}

absl::Status DecodeDoubles(std::string_view in, size_t n, double* out) {
  if (n == 0) {
    if (!in.empty()) return Corrupt(kName, in.size(), " bytes for an empty block");
    return absl::OkStatus();
  }
  BitReader r(in);
  uint64_t prev;
  if (!r.Read(64, &prev)) return Corrupt(kName, "truncated first value");
  out[0] = std::bit_cast<double>(prev);
  int win_lead = 0, win_len = 64;
  for (size_t i = 1; i < n; ++i) {
    uint64_t ctl;
    int got = r.Peek(2, &ctl);
    if (got >= 1 && (ctl & 1) == 0) {
      r.Skip(1);
    } else {
      if (got < 2) return Corrupt(kName, "bit stream ends at row ", i, " of ", n);
      r.Skip(2);
      if (ctl == 0b11) {
        uint64_t hdr;
        if (!r.Read(11, &hdr)) return Corrupt(kName, "bit stream ends at row ", i, " of ", n);
        int lead = static_cast<int>(hdr & 31);
        int len = static_cast<int>(hdr >> 5) + 1;
        if (lead + len > 64) {
          return Corrupt(kName, "window of ", lead, " leading and ", len,
                         " meaningful bits at row ", i);
        }
        win_lead = lead;
        win_len = len;
      }
      uint64_t bits;
      if (!r.Read(win_len, &bits)) return Corrupt(kName, "bit stream ends at row ", i, " of ", n);
      int win_trail = 64 - win_lead - win_len;
      prev ^= bits << win_trail;  // win_trail <= 63
    }
    out[i] = std::bit_cast<double>(prev);
  }
  if (!r.AtCleanEnd()) return Corrupt(kName, "trailing bits after ", n, " values");
  return absl::OkStatus();
}

}  // namespace timestore::codec::gorilla_xor
