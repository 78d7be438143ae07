#include "api/metrics.h"

#include "common/strings.h"
#include "compaction/compactor.h"
#include "compaction/tier_mover.h"
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

// Storage by tier, the block cache, the mover, and each object store.
void RenderTiering(const Engine& engine, const compaction::TierMover* mover, std::string* out) {
  const Engine::Stats s = engine.GetStats();
  StrAppend(out,
            "# HELP timestore_storage_bytes Bytes of sealed segments by tier (hot: local disk, "
            "cold: object storage).\n# TYPE timestore_storage_bytes gauge\n",
            "timestore_storage_bytes{tier=\"hot\"} ", s.segment_bytes - s.remote_segment_bytes,
            "\ntimestore_storage_bytes{tier=\"cold\"} ", s.remote_segment_bytes, "\n");
  Gauge(out, "timestore_remote_segments", "Segments in object storage.", s.remote_segments);
  if (const tiering::BlockCache* cache = engine.cache()) {
    const tiering::BlockCacheStats c = cache->stats();
    Gauge(out, "timestore_cache_bytes", "Bytes in the block cache of remote segments.", c.bytes);
    Gauge(out, "timestore_cache_max_bytes", "The block cache's bound (TIMESTORE_CACHE_MAX_BYTES).",
          c.max_bytes);
    Gauge(out, "timestore_cache_entries", "Blocks in the block cache.", c.entries);
    Counter(out, "timestore_cache_hits_total", "Block cache lookups that found the block.", c.hits);
    Counter(out, "timestore_cache_misses_total", "Block cache lookups that did not.", c.misses);
    Counter(out, "timestore_cache_evictions_total", "Blocks evicted to stay within the bound.",
            c.evictions);
    Counter(out, "timestore_cache_corrupt_total",
            "Cache entries dropped because they failed their checksum.", c.corrupt_dropped);
    Counter(out, "timestore_cache_write_failures_total", "Blocks the cache could not store.",
            c.write_failures);
  }
  if (mover != nullptr) {
    const compaction::TieringStats t = mover->stats();
    Counter(out, "timestore_tiering_segments_moved_total", "Segments moved to object storage.",
            t.segments_moved);
    Counter(out, "timestore_tiering_bytes_uploaded_total", "Segment bytes uploaded.",
            t.bytes_uploaded);
    Counter(out, "timestore_tiering_upload_failures_total",
            "Segment moves that failed (retried later).", t.upload_failures);
    Counter(out, "timestore_tiering_objects_deleted_total",
            "Objects deleted after their segments left the manifest.", t.objects_deleted);
    Counter(out, "timestore_tiering_delete_failures_total", "Object deletes that failed.",
            t.delete_failures);
    Counter(out, "timestore_tiering_orphans_deleted_total",
            "Objects no segment listed, deleted by the sweep.", t.orphans_deleted);
    Counter(out, "timestore_tiering_multipart_aborted_total",
            "Interrupted multipart uploads aborted by the sweep.", t.uploads_aborted);
    Counter(out, "timestore_tiering_sweeps_total", "Orphan sweeps.", t.sweeps);
  }
  if (engine.targets() == nullptr) return;
  const auto stores = engine.targets()->BuiltStores();
  if (stores.empty()) return;
  StrAppend(out,
            "# HELP timestore_object_store_requests_total Requests sent to object stores, by "
            "target and operation.\n# TYPE timestore_object_store_requests_total counter\n");
  for (const auto& [id, store] : stores) {
    const tiering::ObjectStoreStats st = store->stats();
    for (auto [op, v] : {std::pair<std::string_view, uint64_t>{"get", st.get_requests},
                         {"put", st.put_requests},
                         {"head", st.head_requests},
                         {"list", st.list_requests},
                         {"delete", st.delete_requests},
                         {"other", st.other_requests}}) {
      StrAppend(out, "timestore_object_store_requests_total{target=\"", id, "\",op=\"", op, "\"} ",
                v, "\n");
    }
  }
  StrAppend(out,
            "# HELP timestore_object_store_bytes_total Body bytes exchanged with object stores."
            "\n# TYPE timestore_object_store_bytes_total counter\n");
  for (const auto& [id, store] : stores) {
    const tiering::ObjectStoreStats st = store->stats();
    StrAppend(out, "timestore_object_store_bytes_total{target=\"", id, "\",direction=\"in\"} ",
              st.bytes_in, "\ntimestore_object_store_bytes_total{target=\"", id,
              "\",direction=\"out\"} ", st.bytes_out, "\n");
  }
  StrAppend(out,
            "# HELP timestore_object_store_retries_total Requests retried after a retryable "
            "error.\n# TYPE timestore_object_store_retries_total counter\n");
  for (const auto& [id, store] : stores) {
    StrAppend(out, "timestore_object_store_retries_total{target=\"", id, "\"} ",
              store->stats().retries, "\n");
  }
  StrAppend(out,
            "# HELP timestore_object_store_failures_total Object-store calls that failed."
            "\n# TYPE timestore_object_store_failures_total counter\n");
  for (const auto& [id, store] : stores) {
    StrAppend(out, "timestore_object_store_failures_total{target=\"", id, "\"} ",
              store->stats().failures, "\n");
  }
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

std::string Metrics::Render(const Engine* engine, const compaction::Compactor* compactor,
                            const compaction::TierMover* mover) const {
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
  Counter(&out, "timestore_query_block_bytes_total",
          "Bytes of the segment blocks queries needed, wherever they came from.",
          query_block_bytes_.load(std::memory_order_relaxed));
  Counter(&out, "timestore_query_remote_requests_total",
          "Object-store requests (ranged GETs) made by queries.",
          query_remote_requests_.load(std::memory_order_relaxed));
  Counter(&out, "timestore_query_remote_bytes_total", "Bytes queries fetched from object storage.",
          query_remote_bytes_.load(std::memory_order_relaxed));
  Counter(&out, "timestore_query_cache_hits_total",
          "Remote blocks queries found in the block cache.",
          query_cache_hits_.load(std::memory_order_relaxed));
  Counter(&out, "timestore_query_cache_misses_total",
          "Remote blocks queries fetched from object storage.",
          query_cache_misses_.load(std::memory_order_relaxed));
  StrAppend(&out,
            "# HELP timestore_auth_failures_total Requests refused by authentication "
            "(unauthenticated: 401) or authorisation (forbidden: 403).\n"
            "# TYPE timestore_auth_failures_total counter\n"
            "timestore_auth_failures_total{reason=\"unauthenticated\"} ",
            auth_unauthenticated_.load(std::memory_order_relaxed),
            "\ntimestore_auth_failures_total{reason=\"forbidden\"} ",
            auth_forbidden_.load(std::memory_order_relaxed), "\n");
  StrAppend(&out,
            "# HELP timestore_rate_limited_total Requests refused with 429 by a token's rate "
            "limit.\n# TYPE timestore_rate_limited_total counter\n"
            "timestore_rate_limited_total{kind=\"ingest\"} ",
            rate_limited_ingest_.load(std::memory_order_relaxed),
            "\ntimestore_rate_limited_total{kind=\"query\"} ",
            rate_limited_queries_.load(std::memory_order_relaxed), "\n");
  if (engine != nullptr) RenderTiering(*engine, mover, &out);
  Gauge(&out, "timestore_ready", "1 once recovery has finished.", engine != nullptr ? 1 : 0);
  return out;
}

}  // namespace timestore::api
