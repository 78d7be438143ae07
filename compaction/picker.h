// Which segments of one partition to merge. Pure: the scheduler hands it the
// partition's segments in write order and merges what it answers.
//
// Size tiers: a segment's tier is 0 below `tier_base_bytes`, then one more
// for every factor of `min_segments` in size. The lowest tier holding at least
// `min_segments` segments is merged together with every smaller segment
// between them, so a byte is rewritten about once per tier it climbs (O(log n)
// write amplification) and a burst of small late segments is merged among
// itself without rewriting the large segment written before it. A partition
// that has had no new segment for `quiet_ns` and still holds more than one is
// merged whole, once: the end state is one segment per partition.
//
// A pick is always a contiguous run of the partition's write order with one
// sort key, so the merged segment takes the run's place and the list stays in
// write order (dedup's "last written" relies on it, whenever it is turned on).
// Segments of another sort key (written before a segmentBy change) end a run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace timestore::compaction {

struct PickerOptions {
  int min_segments = 4;
  uint64_t tier_base_bytes = 1ull << 20;
  int64_t quiet_ns = 300'000'000'000;  // 5 minutes
  bool force = false;                  // merge whatever can be merged (POST /compact)
  // A merge whose inputs hold more rows would be split into several outputs;
  // tier and quiet merges skip it (else they would rewrite it forever).
  uint64_t max_output_rows = 1ull << 31;
};

struct PickerSegment {
  uint64_t bytes = 0;
  uint64_t rows = 0;
  int64_t created_ns = 0;  // wall clock of the newest write into it
  std::string sort_key;    // joined sort key; only equal keys merge
  bool fresh = false;      // written by this compaction call: never merged again on its own
};

// Indices into `segments` (ascending, contiguous), empty when nothing is due.
std::vector<size_t> PickSegments(const std::vector<PickerSegment>& segments,
                                 const PickerOptions& options, int64_t now_ns);

// The size tier of a segment of `bytes`.
int SizeTier(uint64_t bytes, const PickerOptions& options);

}  // namespace timestore::compaction
