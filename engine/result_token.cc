#include "engine/result_token.h"

#include "engine/engine.h"

namespace timestore {

std::optional<ResultToken> ResultTokenFor(const Engine& engine, std::string_view slug,
                                          int64_t start, int64_t end) {
  std::shared_ptr<Dataset> ds = engine.GetDataset(slug);
  if (ds == nullptr || ds->deleted() || end <= start) return std::nullopt;
  ResultToken token;
  token.dataset_id = ds->id();
  token.schema = ds->schema();
  token.dedup = ds->dedup();
  // Memory first (see the header): the oldest row there bounds every row there.
  if (std::optional<int64_t> hot_min = ds->hot_min_ts(); hot_min && *hot_min < end) {
    return std::nullopt;
  }
  token.segments = SegmentIdsInRange(ds->segments(), start, end);
  // A delete that began meanwhile: its segments may already be gone.
  if (ds->deleted()) return std::nullopt;
  return token;
}

std::vector<uint64_t> SegmentIdsInRange(const std::vector<SegmentPtr>& segments, int64_t start,
                                        int64_t end) {
  std::vector<uint64_t> ids;
  for (const SegmentPtr& seg : segments) {
    // As the scan prunes (engine/scan.cc QueryOnce): by the footer's range.
    const segment::SegmentMeta& meta = seg->reader->meta();
    if (meta.rows == 0 || meta.max_ts < start || meta.min_ts >= end) continue;
    ids.push_back(seg->record.id);
  }
  return ids;
}

}  // namespace timestore
