// Codec `int_delta_bitpack` (CodecId::kIntDeltaBitpack = 4): integers as residuals of
// order 0 (the values), 1 (deltas) or 2 (deltas of deltas), in chunks that are either
// frame-of-reference bit-packed miniblocks or runs of one residual. The workhorse for
// integers, timestamps, the scaled integers of `decimal` and dictionary ids; decoding
// is a bit-unpack plus a prefix sum, with no per-value branches.
//
//   ints     := prefix | chunk*
//   prefix, residuals r[i] and step: see residuals.h
//   chunk    := miniblock | short | run, covering the n - min(n, order) residuals in order
//   miniblock:= w u8 (0..64) | base | PackedBytes(c, w) bytes     c = min(128, residuals left)
//   short    := 0x80 + w u8 | c varint (1..127, ≤ residuals left) | base | PackedBytes(c, w)
//   run      := 0xFF u8 | c varint (1.., ≤ residuals left) | base        c residuals = base
//   base     := zigzag varint of (base - previous chunk's base), the first from 0
//   packed   := c values p of w bits each, PackBits() layout (bit_writer.h), with
//               r = base + step · p (mod 2^64)
//
// A miniblock of all-equal residuals has w = 0 and no packed bytes. Nothing follows the
// last chunk. The encoder picks the order and where runs go by computing the exact size
// of each plan (cheap: no bytes are written until the plan is chosen).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace timestore::codec::int_delta_bitpack {

inline constexpr std::string_view kName = "int_delta_bitpack";
inline constexpr size_t kMiniblockValues = 128;
inline constexpr uint8_t kShortFlag = 0x80;
inline constexpr uint8_t kRunTag = 0xFF;

// Analysis: the exact size EncodeInts() will produce.
size_t EncodedSize(std::span<const int64_t> values);

// Encodes with the order and run placement that give the smallest payload.
absl::Status EncodeInts(std::span<const int64_t> values, std::string* out);
// Encodes with a given order (0..2), for tests and benchmarks.
absl::Status EncodeIntsWithOrder(std::span<const int64_t> values, int order, std::string* out);
absl::Status DecodeInts(std::string_view in, size_t n, int64_t* out);

}  // namespace timestore::codec::int_delta_bitpack
