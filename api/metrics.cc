#include "api/metrics.h"

#include "common/strings.h"
#include "compaction/compactor.h"
#include "engine/engine.h"

namespace timestore::api {
namespace {

std::string_view RouteName(int r) {
  static constexpr std::string_view kNames[] = {"ingest",  "query",  "health", "ready",
                                                "metrics", "status", "other"};
  return kNames[r];
}

void Counter(std::string* out, std::string_view name, std::string_view help, uint64_t v) {
  StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " counter\n", name, " ", v, "\n");
}

void Gauge(std::string* out, std::string_view name, std::string_view help, uint64_t v) {
  StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " gauge\n", name, " ", v, "\n");
}

}  // namespace

void Histogram::Observe(double seconds) {
  size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

void Histogram::Render(std::string_view name, std::string_view labels, std::string* out) const {
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= kBounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    std::string le = i < kBounds.size() ? StrCat(kBounds[i]) : "+Inf";
    StrAppend(out, name, "_bucket{", labels, ",le=\"", le, "\"} ", cumulative, "\n");
  }
  StrAppend(out, name, "_sum{", labels, "} ",
            static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6, "\n");
  StrAppend(out, name, "_count{", labels, "} ", count_.load(std::memory_order_relaxed), "\n");
}

void Metrics::RecordRequest(Route route, int status, double seconds) {
  int cls = std::clamp(status / 100 - 1, 0, kStatusClasses - 1);
  requests_[static_cast<int>(route)][cls].fetch_add(1, std::memory_order_relaxed);
  latency_[static_cast<int>(route)].Observe(seconds);
}

std::string Metrics::Render(const Engine* engine, const compaction::Compactor* compactor) const {
  std::string out;
  out.reserve(8192);
  StrAppend(&out,
            "# HELP timestore_http_requests_total HTTP requests answered, by route and "
            "status class.\n# TYPE timestore_http_requests_total counter\n");
  for (int r = 0; r < static_cast<int>(Route::kCount); ++r) {
    for (int c = 0; c < kStatusClasses; ++c) {
      uint64_t v = requests_[r][c].load(std::memory_order_relaxed);
      if (v == 0) continue;
      StrAppend(&out, "timestore_http_requests_total{route=\"", RouteName(r), "\",code=\"", c + 1,
                "xx\"} ", v, "\n");
    }
  }
  StrAppend(&out,
            "# HELP timestore_http_request_duration_seconds Time from a complete "
            "request to its answer.\n# TYPE timestore_http_request_duration_seconds "
            "histogram\n");
  for (int r = 0; r < static_cast<int>(Route::kCount); ++r) {
    latency_[r].Render("timestore_http_request_duration_seconds",
                       StrCat("route=\"", RouteName(r), "\""), &out);
  }
  Counter(&out, "timestore_ingest_rows_total", "Rows acknowledged by ingest requests.",
          ingest_rows_.load(std::memory_order_relaxed));
  Counter(&out, "timestore_ingest_bytes_total", "Request body bytes of acknowledged ingests.",
          ingest_bytes_.load(std::memory_order_relaxed));
  Counter(&out, "timestore_query_rows_scanned_total", "Rows read by queries.",
          query_rows_scanned_.load(std::memory_order_relaxed));
  Counter(&out, "timestore_query_rows_returned_total", "Rows returned by queries.",
          query_rows_returned_.load(std::memory_order_relaxed));
  if (engine != nullptr) {
    Engine::Stats s = engine->GetStats();
    Counter(&out, "timestore_wal_fsyncs_total", "fdatasync calls on the write-ahead log.",
            s.wal.fsyncs);
    Counter(&out, "timestore_wal_bytes_total", "Bytes written to the write-ahead log.",
            s.wal.bytes_written);
    Counter(&out, "timestore_wal_records_total", "Records written to the write-ahead log.",
            s.wal.records);
    Counter(&out, "timestore_wal_group_commits_total",
            "Group commits (one write, at most one fsync, for all pending records).", s.wal.groups);
    Gauge(&out, "timestore_wal_disk_bytes", "Bytes of write-ahead log files on disk.",
          s.wal_bytes_on_disk);
    Gauge(&out, "timestore_memtable_bytes", "Bytes held by in-memory segments.", s.memtable_bytes);
    Gauge(&out, "timestore_memtable_rows", "Rows held by in-memory segments.", s.memtable_rows);
    Gauge(&out, "timestore_datasets", "Datasets.", s.datasets);
    Gauge(&out, "timestore_segments", "Sealed segment files.", s.segments);
    Gauge(&out, "timestore_segment_bytes", "Bytes of sealed segment files.", s.segment_bytes);
    Gauge(&out, "timestore_wal_files", "Write-ahead log files on disk.", s.wal_files);
    Counter(&out, "timestore_seals_total", "In-memory segments sealed into segment files.",
            s.seals);
    Counter(&out, "timestore_seal_bytes_written_total",
            "Bytes of segment files written by sealing.", s.seal_bytes_written);
    Gauge(&out, "timestore_partitions", "Time partitions holding sealed segments.", s.partitions);
    Gauge(&out, "timestore_segments_per_partition_max",
          "Sealed segments in the partition that has the most.", s.max_segments_per_partition);
    if (compactor != nullptr) {
      const compaction::CompactorStats c = compactor->stats();
      Counter(&out, "timestore_compaction_runs_total", "Compaction merges committed.", c.runs);
      Counter(&out, "timestore_compaction_failures_total", "Compaction merges that failed.",
              c.failures);
      Counter(&out, "timestore_compaction_aborted_total",
              "Compaction merges dropped because their inputs changed (retention, delete).",
              c.aborted);
      Counter(&out, "timestore_compaction_segments_merged_total",
              "Segments consumed by compaction.", c.segments_merged);
      Counter(&out, "timestore_compaction_rows_total", "Rows written by compaction.",
              c.rows_written);
      Counter(&out, "timestore_compaction_duplicates_dropped_total",
              "Duplicate rows removed by compaction (dedup).", c.duplicates_dropped);
      Counter(&out, "timestore_compaction_bytes_read_total", "Bytes read by compaction.",
              c.bytes_read);
      Counter(&out, "timestore_compaction_bytes_written_total", "Bytes written by compaction.",
              c.bytes_written);
      StrAppend(&out,
                "# HELP timestore_compaction_seconds_total Time spent merging.\n"
                "# TYPE timestore_compaction_seconds_total counter\n"
                "timestore_compaction_seconds_total ",
                c.seconds, "\n");
      const double wa = s.seal_bytes_written > 0 ? static_cast<double>(c.bytes_written) /
                                                       static_cast<double>(s.seal_bytes_written)
                                                 : 0.0;
      StrAppend(&out,
                "# HELP timestore_compaction_write_amplification Bytes written by compaction "
                "per byte written by sealing, since start.\n"
                "# TYPE timestore_compaction_write_amplification gauge\n"
                "timestore_compaction_write_amplification ",
                wa, "\n");
      Counter(&out, "timestore_retention_runs_total", "Retention enforcement passes.",
              c.retention_runs);
      Counter(&out, "timestore_retention_partitions_dropped_total",
              "Partitions dropped by retention.", c.retention_partitions_dropped);
      Counter(&out, "timestore_retention_segments_dropped_total", "Segments dropped by retention.",
              c.retention_segments_dropped);
      Counter(&out, "timestore_retention_rows_dropped_total", "Rows dropped by retention.",
              c.retention_rows_dropped);
      Counter(&out, "timestore_retention_bytes_dropped_total",
              "Segment bytes dropped by retention.", c.retention_bytes_dropped);
    }
  }
  Gauge(&out, "timestore_ready", "1 once recovery has finished.", engine != nullptr ? 1 : 0);
  return out;
}

}  // namespace timestore::api
