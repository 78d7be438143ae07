// Bit-level input shared by every codec: the reading side of bit_writer.h (same bit
// order). Everything here is bounds-checked: reading past the end of the input fails
// instead of touching memory outside it, so decoders can run on hostile bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace timestore::codec {

// Reads bits from a byte range. Not thread-safe. The bytes must outlive the reader.
class BitReader {
 public:
  explicit BitReader(std::string_view in)
      : p_(reinterpret_cast<const uint8_t*>(in.data())), end_(p_ + in.size()) {}

  // Reads `nbits` (0..64) bits into `*v`. Returns false, leaving the reader unusable,
  // when fewer bits remain.
  bool Read(int nbits, uint64_t* v) {
    if (nbits > 56) {
      uint64_t lo, hi;
      if (!Read(32, &lo) || !Read(nbits - 32, &hi)) return false;
      *v = lo | (hi << 32);
      return true;
    }
    if (avail_ < nbits) {
      Refill();
      if (avail_ < nbits) return false;
    }
    *v = buf_ & Mask(nbits);
    buf_ = nbits == 64 ? 0 : buf_ >> nbits;
    avail_ -= nbits;
    return true;
  }
  bool ReadBit(bool* b) {
    uint64_t v;
    if (!Read(1, &v)) return false;
    *b = v != 0;
    return true;
  }
  // Up to 56 bits without consuming them; missing bits past the end read as zero.
  // Returns how many of them are real (may be fewer than `nbits`).
  int Peek(int nbits, uint64_t* v) {
    if (avail_ < nbits) Refill();
    *v = buf_ & Mask(nbits);
    return avail_ < nbits ? avail_ : nbits;
  }
  // Drops `nbits` already seen through Peek(). REQUIRES: nbits <= the Peek() result.
  void Skip(int nbits) {
    buf_ = nbits == 64 ? 0 : buf_ >> nbits;
    avail_ -= nbits;
  }

  // True when the stream was consumed up to its final byte and the padding bits of that
  // byte are zero, as BitWriter::Finish() leaves them.
  bool AtCleanEnd() const { return p_ == end_ && avail_ < 8 && buf_ == 0; }

 private:
  static uint64_t Mask(int nbits) {
    return nbits >= 64 ? ~uint64_t{0} : (uint64_t{1} << nbits) - 1;
  }

  // Tops up buf_ to at least 57 bits, or to whatever the input has left.
  void Refill() {
    if (end_ - p_ >= 8) {
      uint64_t w;
      std::memcpy(&w, p_, 8);
      buf_ |= w << avail_;  // avail_ <= 56 here
      p_ += (63 - avail_) >> 3;
      avail_ |= 56;
      return;
    }
    while (avail_ <= 56 && p_ < end_) {
      buf_ |= static_cast<uint64_t>(*p_++) << avail_;
      avail_ += 8;
    }
  }

  const uint8_t* p_;
  const uint8_t* end_;
  // The next avail_ bits, LSB first. Above them may sit a copy of part of the byte at
  // p_ (the fast refill loads 8 bytes but consumes fewer); the next refill ORs the same
  // bits into the same place, and once p_ == end_ nothing sits above avail_.
  uint64_t buf_ = 0;
  int avail_ = 0;
};

// Reads the `width`-bit value at bit offset `bitpos` of `base[0, size)`, reading no byte
// at or past `size`. REQUIRES: bitpos + width <= 8 * size, width <= 64.
inline uint64_t ReadBitsAtSafe(const uint8_t* base, size_t size, uint64_t bitpos, int width) {
  if (width == 0) return 0;
  size_t byte = bitpos >> 3;
  int shift = static_cast<int>(bitpos & 7);
  int need = (shift + width + 7) >> 3;  // bytes touched, 1..9
  unsigned __int128 acc = 0;
  for (int i = 0; i < need && byte + i < size; ++i) {
    acc |= static_cast<unsigned __int128>(base[byte + i]) << (8 * i);
  }
  acc >>= shift;
  uint64_t v = static_cast<uint64_t>(acc);
  return width == 64 ? v : v & ((uint64_t{1} << width) - 1);
}

// Unpacks `n` values of `width` bits laid out by PackBits() from `in` into out[0, n).
// REQUIRES: `in` holds at least PackedBytes(n, width) bytes (the caller checks); no
// byte past those is read.
inline void UnpackBits(const char* in, size_t n, int width, uint64_t* out) {
  if (width == 0) {
    std::memset(out, 0, n * sizeof(uint64_t));
    return;
  }
  const uint8_t* base = reinterpret_cast<const uint8_t*>(in);
  const size_t size = static_cast<size_t>((static_cast<uint64_t>(n) * width + 7) / 8);
  size_t i = 0;
  uint64_t bitpos = 0;
  if (width <= 56) {
    const uint64_t mask = (uint64_t{1} << width) - 1;
    // Fast path: an unaligned 8-byte load holds the whole value while 8 bytes remain.
    if (size >= 8) {
      const uint64_t last_fast = (static_cast<uint64_t>(size) - 8) * 8;  // max bitpos
      for (; i < n && bitpos <= last_fast; ++i, bitpos += width) {
        uint64_t w;
        std::memcpy(&w, base + (bitpos >> 3), 8);
        out[i] = (w >> (bitpos & 7)) & mask;
      }
    }
  } else if (size >= 9) {
    const uint64_t mask = width == 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1;
    const uint64_t last_fast = (static_cast<uint64_t>(size) - 9) * 8;
    for (; i < n && bitpos <= last_fast; ++i, bitpos += width) {
      const uint8_t* p = base + (bitpos >> 3);
      int shift = static_cast<int>(bitpos & 7);
      uint64_t w;
      std::memcpy(&w, p, 8);
      w >>= shift;
      if (shift != 0) w |= static_cast<uint64_t>(p[8]) << (64 - shift);
      out[i] = w & mask;
    }
  }
  for (; i < n; ++i, bitpos += width) out[i] = ReadBitsAtSafe(base, size, bitpos, width);
}

}  // namespace timestore::codec
