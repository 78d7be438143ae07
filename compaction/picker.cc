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

// Picks among `group` (indices into `segments`, write order, one sort key).
std::vector<size_t> PickInGroup(const std::vector<PickerSegment>& segments,
                                const std::vector<size_t>& group, const PickerOptions& options,
                                int64_t now_ns) {
  if (group.size() < 2) return {};
  if (options.force) return group;
  auto fits = [&](const std::vector<size_t>& pick) {
    uint64_t rows = 0;
    for (size_t i : pick) rows += segments[i].rows;
    return rows <= options.max_output_rows;
  };
  const size_t min = static_cast<size_t>(std::max(2, options.min_segments));
  std::map<int, size_t> per_tier;
  for (size_t i : group) ++per_tier[SizeTier(segments[i].bytes, options)];
  for (const auto& [tier, count] : per_tier) {
    if (count < min) continue;
    std::vector<size_t> pick;
    for (size_t i : group) {
      if (SizeTier(segments[i].bytes, options) <= tier) pick.push_back(i);
    }
    if (options.contiguous) {
      // Widen to the run between the first and last picked.
      std::vector<size_t> run;
      for (size_t i : group) {
        if (i >= pick.front() && i <= pick.back()) run.push_back(i);
      }
      pick = std::move(run);
    }
    if (fits(pick)) return pick;
    break;
  }
  int64_t newest = 0;
  for (size_t i : group) newest = std::max(newest, segments[i].created_ns);
  if (now_ns - newest >= options.quiet_ns && fits(group)) return group;
  return {};
}

}  // namespace

std::vector<size_t> PickSegments(const std::vector<PickerSegment>& segments,
                                 const PickerOptions& options, int64_t now_ns) {
  std::vector<std::vector<size_t>> groups;
  if (options.contiguous) {
    // Runs of consecutive segments with one sort key.
    for (size_t i = 0; i < segments.size(); ++i) {
      if (groups.empty() || segments[groups.back().back()].sort_key != segments[i].sort_key) {
        groups.emplace_back();
      }
      groups.back().push_back(i);
    }
  } else {
    std::map<std::string, size_t> by_key;
    for (size_t i = 0; i < segments.size(); ++i) {
      auto [it, inserted] = by_key.try_emplace(segments[i].sort_key, groups.size());
      if (inserted) groups.emplace_back();
      groups[it->second].push_back(i);
    }
  }
  // The group with the most segments first: it gains the most.
  std::stable_sort(groups.begin(), groups.end(),
                   [](const auto& a, const auto& b) { return a.size() > b.size(); });
  for (const auto& g : groups) {
    auto pick = PickInGroup(segments, g, options, now_ns);
    if (!pick.empty()) return pick;
  }
  return {};
}

}  // namespace timestore::compaction
