// Codec `int_delta_huffman` (CodecId::kIntDeltaHuffman = 9): the residuals of
// int_delta_bitpack (orders 0..2, common step), coded with a canonical Huffman code built
// per block. For peaked residual distributions — random-walk gauges such as TSBS's
// usage_* fields, whose deltas have about 2.15 bits of entropy — it comes within a few
// percent of the entropy where bit-packing needs 3 or 4 bits per value. Values outside a
// window of at most 255 symbols are escaped.
//
//   ints    := prefix | [residuals ≥ 1] body           (prefix, residuals, step: residuals.h)
//   body    := base zigzag varint                       the smallest residual
//              lo varint                                symbol s < k stands for u = lo + s
//              k varint (1..255)                        value symbols; symbol k is the escape
//              ew u8 (0..64)                            bits of an escaped u
//              lengths: k + 1 code lengths of 4 bits (0 = unused, 1..11), symbol 0 in the
//                       low nibble of the first byte; a final unused nibble is zero
//              bit stream (bit_writer.h order), zero-padded to a byte: per residual its
//                       code, and after an escape code ew bits of u
//   residual r = base + step · u (mod 2^64)
//
// Codes are canonical (as in DEFLATE, RFC 1951 §3.2.2: shorter codes first, then by
// symbol) and written first bit first, so the stream is read with one table lookup of
// the next max-length bits. The lengths must satisfy Kraft's inequality; an incomplete
// code is allowed (a code that was never assigned is corruption). Nothing follows the
// bit stream.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace timestore::codec::int_delta_huffman {

inline constexpr std::string_view kName = "int_delta_huffman";
inline constexpr int kMaxCodeLength = 11;
inline constexpr int kMaxValueSymbols = 255;

// Analysis: the exact size EncodeInts() will produce.
size_t EncodedSize(std::span<const int64_t> values);

// Encodes with the order (0..2) that gives the smallest payload.
absl::Status EncodeInts(std::span<const int64_t> values, std::string* out);
absl::Status DecodeInts(std::string_view in, size_t n, int64_t* out);

}  // namespace timestore::codec::int_delta_huffman
