// The segment file (.tseg): one time partition of one dataset, column-major,
// rows sorted by the dataset's segmentBy columns then time. Little-endian.
//
//   file    := header block* footer trailer
//   header  := magic u64le kSegmentMagic | format_version u32le | reserved u32le   (16 bytes)
//   block   := `length` bytes: compress(payload) per BlockMeta.compression
//   payload := validity_length varint | validity (EncodeValidity; absent when no
//              row is null) | values (encoded by BlockMeta.codec; null slots hold 0)
//   footer  := FlatBuffers `Footer` (segment_footer.fbs): per column and block:
//              offset, length, raw_length, rows, codec, compression, null count,
//              xxh3-64 checksum, min/max; per segment: time range, rows, schema
//              version, sort key, partition; optionally `series_last`, the newest
//              value of each column per series of a one-string-column sort key
//              (readers that predate it ignore it). Blocks may be laid out column
//              by column (sealing) or block by block (compaction's streaming
//              writer); the footer's offsets locate them either way.
//   trailer := footer_length u32le | reserved u32le | footer_checksum u64le (xxh3-64
//              of the footer bytes) | format_version u32le | reserved u32le |
//              magic u64le kSegmentMagic                                      (32 bytes)
//
// Every column has the same block boundaries, and the footer gives each
// block's rows: at most the writer's block_rows, fewer where long text ended
// the block early (kDefaultBlockTextBytes) and in a segment's last block. So
// the footer alone answers "which blocks do I need", and a reader fetches the
// trailer, the footer, then only the blocks of the columns a query touches.
// Every checksum is verified before decompression; damage is DataLoss naming
// file and offset.
#pragma once

#include <cstddef>
#include <cstdint>

namespace timestore::segment {

inline constexpr uint64_t kSegmentMagic = 0x3130304745535354ull;  // "TSSEG001", never change
inline constexpr uint32_t kSegmentFormatVersion = 1;
inline constexpr size_t kHeaderSize = 16;
inline constexpr size_t kTrailerSize = 32;
inline constexpr uint32_t kDefaultBlockRows = 8192;
// Sanity bounds on lengths read from a footer, before anything is allocated.
inline constexpr uint32_t kMaxFooterBytes = 256u << 20;
inline constexpr uint32_t kMaxBlockRawBytes = 256u << 20;
// A block decodes into rows x 8 bytes whatever its payload size (a `constant`
// block of any length is a few bytes), so its row count is bounded too; the
// writer never makes larger blocks.
inline constexpr uint32_t kMaxBlockRows = 1u << 20;
// Writers also end a block once one string-like column's rows in it hold this
// much text (values plus 16 bytes a row: see BlockTextWeight). Encodings grow
// text at most 4x (an integer array's "1," as an 8-byte int), so a block of
// long values stays far below kMaxBlockRawBytes, which readers refuse.
inline constexpr uint64_t kDefaultBlockTextBytes = 32u << 20;
// At most this many series in a footer's `series_last` (more: none written).
inline constexpr size_t kMaxSeriesLast = 10'000;
// Nor when its keys and string values add up to more than this many bytes.
inline constexpr size_t kMaxSeriesLastBytes = 4u << 20;

// on disk: never renumber
enum class Compression : uint8_t {
  kNone = 0,
  kLz4 = 1,
  kZstd = 2,
};

}  // namespace timestore::segment
