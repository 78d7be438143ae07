// Process metrics in the Prometheus text exposition format 0.0.4. Counters and
// histograms are lock-free atomics; gauges are read from the engine at scrape.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace timestore {
class Engine;
namespace compaction {
class Compactor;
class TierMover;
}  // namespace compaction
}  // namespace timestore

namespace timestore::api {

inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// A fixed-bucket latency histogram in seconds.
class Histogram {
 public:
  static constexpr std::array<double, 14> kBounds = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  void Observe(double seconds);
  void Render(std::string_view name, std::string_view labels, std::string* out) const;

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micros_{0};
};

enum class Route { kIngest, kQuery, kHealth, kReady, kMetrics, kStatus, kOther, kCount };

class Metrics {
 public:
  void RecordRequest(Route route, int status, double seconds);
  void AddIngest(uint64_t rows, uint64_t bytes) {
    ingest_rows_.fetch_add(rows, std::memory_order_relaxed);
    ingest_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  }
  void AddQueryRows(uint64_t scanned, uint64_t returned) {
    query_rows_scanned_.fetch_add(scanned, std::memory_order_relaxed);
    query_rows_returned_.fetch_add(returned, std::memory_order_relaxed);
  }
  // What queries read from object storage and the block cache.
  void AddQueryRemote(uint64_t block_bytes, uint64_t requests, uint64_t bytes, uint64_t cache_hits,
                      uint64_t cache_misses) {
    query_block_bytes_.fetch_add(block_bytes, std::memory_order_relaxed);
    query_remote_requests_.fetch_add(requests, std::memory_order_relaxed);
    query_remote_bytes_.fetch_add(bytes, std::memory_order_relaxed);
    query_cache_hits_.fetch_add(cache_hits, std::memory_order_relaxed);
    query_cache_misses_.fetch_add(cache_misses, std::memory_order_relaxed);
  }
  // A request refused by authentication (401) or authorisation (403).
  void AddAuthFailure(bool unauthenticated) {
    (unauthenticated ? auth_unauthenticated_ : auth_forbidden_)
        .fetch_add(1, std::memory_order_relaxed);
  }
  // A request refused with 429 by a token's rate limit.
  void AddRateLimited(bool ingest) {
    (ingest ? rate_limited_ingest_ : rate_limited_queries_).fetch_add(1, std::memory_order_relaxed);
  }
  // `engine` may be null (not ready yet), `compactor` and `mover` too.
  std::string Render(const Engine* engine, const compaction::Compactor* compactor = nullptr,
                     const compaction::TierMover* mover = nullptr) const;

 private:
  static constexpr int kStatusClasses = 5;  // 1xx..5xx
  std::array<std::array<std::atomic<uint64_t>, kStatusClasses>, static_cast<int>(Route::kCount)>
      requests_{};
  std::array<Histogram, static_cast<int>(Route::kCount)> latency_;
  std::atomic<uint64_t> ingest_rows_{0}, ingest_bytes_{0};
  std::atomic<uint64_t> query_rows_scanned_{0}, query_rows_returned_{0};
  std::atomic<uint64_t> query_remote_requests_{0}, query_remote_bytes_{0};
  std::atomic<uint64_t> query_cache_hits_{0}, query_cache_misses_{0};
  std::atomic<uint64_t> query_block_bytes_{0};
  std::atomic<uint64_t> auth_unauthenticated_{0}, auth_forbidden_{0};
  std::atomic<uint64_t> rate_limited_ingest_{0}, rate_limited_queries_{0};
};

}  // namespace timestore::api
