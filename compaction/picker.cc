#include "compaction/picker.h"

#include <algorithm>
#include <map>

namespace timestore::compaction {

int SizeTier(uint64_t bytes, const PickerOptions& options) {
  const uint64_t fanout = static_cast<uint64_t>(std::max(2, options.min_segments));
  int tier = 0;
  for (uint64_t limit = options.tier_base_bytes; bytes >= limit && tier < 32; limit *= fanout) {
    ++tier;
  }
  return tier;
}

namespace {

// Picks within `run` (consecutive indices into `segments`, one sort key).
std::vector<size_t> PickInRun(const std::vector<PickerSegment>& segments,
                              const std::vector<size_t>& run, const PickerOptions& options,
                              int64_t now_ns) {
  if (run.size() < 2) return {};
  bool all_fresh = true;
  for (size_t i : run) all_fresh = all_fresh && segments[i].fresh;
  if (all_fresh) return {};
  if (options.force) return run;
  auto fits = [&](const std::vector<size_t>& pick) {
    uint64_t rows = 0;
    for (size_t i : pick) rows += segments[i].rows;
    return rows <= options.max_output_rows;
  };
  const size_t min = static_cast<size_t>(std::max(2, options.min_segments));
  std::map<int, size_t> per_tier;
  for (size_t i : run) ++per_tier[SizeTier(segments[i].bytes, options)];
  for (const auto& [tier, count] : per_tier) {
    if (count < min) continue;
    // From the first to the last segment of this tier or below, with
    // whatever larger segment lies between (write order must hold).
    size_t first = run.size(), last = 0;
    for (size_t k = 0; k < run.size(); ++k) {
      if (SizeTier(segments[run[k]].bytes, options) <= tier) {
        first = std::min(first, k);
        last = k;
      }
    }
    std::vector<size_t> pick(run.begin() + static_cast<std::ptrdiff_t>(first),
                             run.begin() + static_cast<std::ptrdiff_t>(last) + 1);
    if (fits(pick)) return pick;
    break;
  }
  int64_t newest = 0;
  for (size_t i : run) newest = std::max(newest, segments[i].created_ns);
  if (now_ns - newest >= options.quiet_ns && fits(run)) return run;
  return {};
}

}  // namespace

std::vector<size_t> PickSegments(const std::vector<PickerSegment>& segments,
                                 const PickerOptions& options, int64_t now_ns) {
  // Runs of consecutive segments with one sort key.
  std::vector<std::vector<size_t>> runs;
  for (size_t i = 0; i < segments.size(); ++i) {
    if (runs.empty() || segments[runs.back().back()].sort_key != segments[i].sort_key) {
      runs.emplace_back();
    }
    runs.back().push_back(i);
  }
  // The run with the most segments first: it gains the most.
  std::stable_sort(runs.begin(), runs.end(),
                   [](const auto& a, const auto& b) { return a.size() > b.size(); });
  for (const auto& r : runs) {
    auto pick = PickInRun(segments, r, options, now_ns);
    if (!pick.empty()) return pick;
  }
  return {};
}

}  // namespace timestore::compaction
