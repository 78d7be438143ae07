#include "api/metrics.h"

#include "common/strings.h"
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

std::string Metrics::Render(const Engine* engine) const {
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
  }
  Gauge(&out, "timestore_ready", "1 once recovery has finished.", engine != nullptr ? 1 : 0);
  return out;
}

}  // namespace timestore::api
