// Describes a segment file for people (`timestore inspect`) and scripts
// (`timestore inspect --json`): the footer's facts about the segment, per
// column its type and bytes, and per block its place in the file, rows, codec
// (with the nested choices its payload header records, e.g.
// "decimal(scale=1,int_delta_huffman(order=1))"), compression, nulls and
// min/max. Strings are printed as UTF-8: a byte that starts no well-formed
// sequence shows as U+FFFD. Thread-compatible: the reader is only read.
#pragma once

#include <cstddef>
#include <string>

#include "segment/segment_reader.h"

namespace timestore::segment {

enum class InspectFormat { kText, kJson };

struct SegmentInspection {
  std::string output;         // the report; JSON: one object, no trailing newline
  size_t damaged_blocks = 0;  // blocks whose checksum or decompression failed
  std::string first_damage;   // the first such failure (names file and offset)
};

// Reads every block once (to check its checksum and read its codec header);
// damaged blocks are reported in the output and counted, not fatal.
SegmentInspection InspectSegment(const SegmentReader& reader, InspectFormat format);

}  // namespace timestore::segment
