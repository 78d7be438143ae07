// Bit-level output shared by every codec.
//
// Bit order (frozen on disk): a bit stream is a sequence of little-endian 64-bit words
// filled from the least significant bit up. A value of `n` bits written at bit position
// `p` occupies bits p … p+n-1, its least significant bit first. The stream ends at the
// first byte boundary after the last bit; the padding bits are zero (decoders check).
// PackBits() lays fixed-width values out the same way, so value i of width w starts at
// bit i*w.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace timestore::codec {

// Appends bits to a std::string. Not thread-safe. `out` must outlive the writer, and
// nothing else may append to it between construction and Finish().
class BitWriter {
 public:
  explicit BitWriter(std::string* out) : out_(out) {}

  // Writes the low `nbits` bits of `v`. REQUIRES: 0 <= nbits <= 64, v < 2^nbits.
  void Write(uint64_t v, int nbits) {
    if (nbits == 0) return;
    buf_ |= v << used_;  // used_ < 64 always
    if (used_ + nbits < 64) {
      used_ += nbits;
      return;
    }
    Flush64();
    int spill = used_ + nbits - 64;
    buf_ = used_ == 0 ? 0 : v >> (64 - used_);
    used_ = spill;
  }
  // One bit.
  void WriteBit(bool b) { Write(b ? 1 : 0, 1); }

  // Bits written so far.
  uint64_t bit_count() const { return bits_flushed_ + used_; }

  // Appends the pending bits, padded with zeros to a byte boundary. Call once.
  void Finish() {
    int bytes = (used_ + 7) / 8;
    char tmp[8];
    std::memcpy(tmp, &buf_, 8);
    out_->append(tmp, bytes);
    bits_flushed_ += used_;
    buf_ = 0;
    used_ = 0;
  }

 private:
  void Flush64() {
    char tmp[8];
    std::memcpy(tmp, &buf_, 8);
    out_->append(tmp, 8);
    bits_flushed_ += 64;
  }

  std::string* out_;
  uint64_t buf_ = 0;
  int used_ = 0;  // valid low bits of buf_, 0..63
  uint64_t bits_flushed_ = 0;
};

// Bytes occupied by `n` values of `width` bits.
inline size_t PackedBytes(size_t n, int width) {
  return static_cast<size_t>((static_cast<uint64_t>(n) * width + 7) / 8);
}

// Appends `n` values of `width` bits each (LSB-first, see above), PackedBytes(n, width)
// bytes in all. REQUIRES: 0 <= width <= 64 and every v[i] < 2^width.
inline void PackBits(const uint64_t* v, size_t n, int width, std::string* out) {
  if (width == 0 || n == 0) return;
  size_t start = out->size();
  size_t bytes = PackedBytes(n, width);
  // Word-at-a-time into a zeroed buffer with 8 bytes of slack, then trimmed.
  out->resize(start + bytes + 8, '\0');
  char* base = out->data() + start;
  uint64_t bitpos = 0;
  for (size_t i = 0; i < n; ++i, bitpos += width) {
    char* p = base + (bitpos >> 3);
    int shift = static_cast<int>(bitpos & 7);
    uint64_t w;
    std::memcpy(&w, p, 8);
    w |= v[i] << shift;
    std::memcpy(p, &w, 8);
    if (shift + width > 64) p[8] |= static_cast<char>(static_cast<uint8_t>(v[i] >> (64 - shift)));
  }
  out->resize(start + bytes);
}

}  // namespace timestore::codec
