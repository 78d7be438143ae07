#include "compaction/retention.h"

#include <set>
#include <vector>

#include "common/status_macros.h"
#include "common/status_util.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "spdlog/spdlog.h"

namespace timestore::compaction {

absl::StatusOr<RetentionResult> EnforceRetention(Engine* engine, Dataset* ds, int64_t now_ns) {
  RetentionResult result;
  auto deleted = [&] {
    return MakeError(absl::StatusCode::kNotFound, "dataset_not_found",
                     StrCat("dataset \"", ds->slug(), "\" was deleted"));
  };
  if (ds->deleted()) return deleted();
  result.delete_after_ns = engine->EffectiveDeleteAfter(*ds);
  if (result.delete_after_ns <= 0) return result;
  result.cutoff_ns = SaturatingAdd(now_ns, -result.delete_after_ns);
  // Rows in memory whose partition has surely expired are sealed first, so
  // the drop below takes them too.
  RETURN_IF_ERROR(
      engine->SealIfHotBefore(ds, SaturatingAdd(result.cutoff_ns, -ds->partition_interval_ns())));
  // A compaction may swap segments between the listing and the edit; then the
  // edit aborts and the listing is taken again.
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::vector<uint64_t> remove;
    std::set<int64_t> partitions;
    uint64_t rows = 0, bytes = 0;
    for (const SegmentPtr& seg : ds->segments()) {
      const int64_t interval = seg->reader->meta().partition_interval > 0
                                   ? seg->reader->meta().partition_interval
                                   : ds->partition_interval_ns();
      if (SaturatingAdd(seg->record.partition_start, interval) > result.cutoff_ns) continue;
      remove.push_back(seg->record.id);
      partitions.insert(seg->record.partition_start);
      rows += seg->record.rows;
      bytes += seg->record.bytes;
    }
    if (remove.empty()) return result;
    absl::Status s = engine->ReplaceSegments(ds, remove, {});
    if (absl::IsAborted(s)) {
      if (ds->deleted()) return deleted();
      continue;
    }
    RETURN_IF_ERROR(s);
    result.partitions_dropped = partitions.size();
    result.segments_dropped = remove.size();
    result.rows_dropped = rows;
    result.bytes_dropped = bytes;
    spdlog::info("dataset {}: retention dropped {} partition(s), {} segment(s), {} rows",
                 ds->slug(), partitions.size(), remove.size(), rows);
    return result;
  }
  return absl::UnavailableError("retention kept racing with compaction; it runs again later");
}

}  // namespace timestore::compaction
