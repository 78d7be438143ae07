// Codec `zstd_dictionary` (CodecId::kZstdDictionary = 11): a `dictionary`
// payload (codec/dictionary.h) compressed as one zstd frame at a higher level
// than the block compression's. For long texts that repeat structure (json
// objects with the same keys, string arrays) the entries compress several
// times over; the block compression then finds nothing more and stores the
// block as it is.
//
//   strings := raw_length varint (bytes of the dictionary payload)
//              zstd frame (the rest; decompresses to exactly raw_length bytes)
//
// raw_length is at most 255 times the frame's size plus 64 KiB (the encoder
// refuses anything that compresses better, which `dictionary` plus the block
// compression then holds) and at most kMaxRawLength, the frame is exactly the
// rest of the payload (one frame: no skippable or second frame after it) and
// its header states raw_length, so a decoder never allocates more than the
// payload's size allows.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "segment/segment_format.h"

namespace timestore::codec::zstd_dictionary {

inline constexpr std::string_view kName = "zstd_dictionary";
// Measured on OTLP-like attribute objects (docs/storage.md).
inline constexpr int kLevel = 9;
// The largest dictionary payload a frame may hold: the largest block payload
// a segment reader accepts (256 MiB); larger ones are left to `dictionary`.
inline constexpr uint64_t kMaxRawLength = segment::kMaxBlockRawBytes;

absl::Status EncodeStrings(std::span<const std::string_view> values, std::string* out);
// The same from a `dictionary` payload already built (EncodeTextBest builds it
// once for both candidates): appends raw_length and the frame to `*out`.
absl::Status CompressDictionary(std::string_view raw, std::string* out);
absl::Status DecodeStrings(std::string_view in, size_t n, std::vector<std::string>* dict,
                           std::vector<uint32_t>* ids);
// The largest raw_length a frame of `frame_bytes` may claim.
inline uint64_t MaxRawLength(uint64_t frame_bytes) { return 255 * frame_bytes + (64u << 10); }

}  // namespace timestore::codec::zstd_dictionary
