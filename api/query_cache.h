// The query result cache (docs/api.md "Query result cache"): answers of
// POST /datasets/{slug}/query whose time range holds no row in memory, kept
// as encoded response bodies and served again while the data they came from
// is unchanged.
//
// Key: the slug, the response format, the raw query string and the request
// body in canonical form (object members sorted, whitespace dropped, numbers
// tagged with their JSON type). The canonical body rather than a field list
// of QuerySpec, so that a query member added later is part of the key without
// a change here.
//
// Validity: each entry holds the ResultToken (engine/result_token.h) of its
// range from before the query ran, stored only if the engine read the answer
// from exactly that (QueryResult::source: the same segments in range, no rows
// in memory there, the same schema and dedup); a lookup serves the entry only
// if the token now is still equal. An answer whose computed columns read the
// clock is not stored.
// Any edit to the partitions in range (a seal of late rows, compaction,
// retention, a migration rewrite, a schema or dedup change, a dataset delete
// and re-create) changes the token, so a stale entry is never served: it is
// dropped at its next lookup, or evicted.
//
// The body is cached whole for NDJSON and CSV. For JSON, only what precedes
// "freshness": freshness (watermark, hot rows, fresh) is of the moment and
// rendered per answer; the stats of a hit are zeros (no segment was read)
// with "resultCache":"hit".
//
// Bounded by bytes and entries; the least recently used entry goes first.
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "api/http_server.h"
#include "api/result_writer.h"
#include "common/json_writer.h"
#include "engine/query.h"
#include "engine/result_token.h"

namespace timestore {
class Engine;
}

namespace timestore::api {

struct QueryCacheOptions {
  bool enabled = true;
  uint64_t max_bytes = 64ull << 20;
  uint64_t max_entries = 1024;
  // Larger answers are not kept (at most max_bytes).
  uint64_t max_entry_bytes = 8ull << 20;
};

// "{...}" with members sorted by key (equal keys keep their order), no
// whitespace, and numbers as i<int>, u<uint> or d<double>; nullopt when
// `json` does not parse.
std::optional<std::string> CanonicalJson(std::string_view json);

class QueryCache {
 public:
  explicit QueryCache(QueryCacheOptions options);

  enum class Outcome { kOff, kBypass, kMiss, kHit };
  static std::string_view OutcomeName(Outcome o);

  // One query's pass through the cache.
  struct Ticket {
    Outcome outcome = Outcome::kOff;
    std::string key;
    ResultFormat format = ResultFormat::kJson;
    std::optional<ResultToken> token;  // kMiss: the range's token before the run
    std::optional<HttpResponse> hit;   // kHit: the answer
    // Set by the caller before Finish: a computed column read the clock
    // (sql::ComputedColumns::Apply), so the answer is of its moment and is
    // not kept (counted as bypassed).
    bool read_clock = false;
    // Set by the caller before Finish: what the engine read the answer from
    // (QueryResult::source; null: rows in memory in range).
    std::shared_ptr<const ResultToken> source;
  };

  // Looks the query up. kHit: `hit` is the whole answer. kMiss: run the query,
  // then Finish. kBypass: the range holds rows in memory, or the query asks
  // for freshness the dataset does not have now (the engine answers, 409
  // included). kOff: the cache is off.
  Ticket Begin(const Engine& engine, std::string_view slug, const HttpRequest& req,
               const QuerySpec& spec, ResultFormat format);
  // After a 200 answer from the engine: stores `r`'s body when the ticket is
  // a miss, did not read the clock, and its source equals the token from
  // before the run, and marks `r` with the outcome (x-timestore-result-cache,
  // and stats.resultCache in JSON).
  void Finish(Ticket& ticket, HttpResponse* r);

  struct Stats {
    bool enabled = false;
    uint64_t entries = 0, bytes = 0, max_entries = 0, max_bytes = 0;
    uint64_t hits = 0, misses = 0, bypassed = 0;
    uint64_t stale = 0;      // entries found outdated at lookup and dropped
    uint64_t evictions = 0;  // entries dropped for room
    uint64_t stored = 0;
    uint64_t not_stored_changed = 0;    // the data in range changed during the run
    uint64_t not_stored_too_large = 0;  // over max_entry_bytes
  };
  Stats stats() const;
  // Prometheus text (timestore_result_cache_*).
  void RenderMetrics(std::string* out) const;
  // The members of the /status "resultCache" object.
  void WriteStatus(JsonWriter& w) const;

  // The engine-independent core, public for tests.
  struct Entry {
    ResultToken token;
    std::string body;  // JSON: the part before ,"freshness"
    uint64_t bytes = 0;
  };
  std::shared_ptr<const Entry> Lookup(const std::string& key, const ResultToken& token);
  // Keeps `entry` under `key` (replacing one there), evicting the least
  // recently used entries over the bounds. False when it is over
  // max_entry_bytes.
  bool Insert(const std::string& key, ResultToken token, std::string body);

 private:
  struct Node {
    std::string key;
    std::shared_ptr<const Entry> entry;
  };
  void EraseLocked(std::list<Node>::iterator it);

  const QueryCacheOptions options_;
  mutable std::mutex mu_;
  std::list<Node> lru_;  // most recently used first
  absl::flat_hash_map<std::string, std::list<Node>::iterator> index_;
  uint64_t bytes_ = 0;
  uint64_t stale_ = 0, evictions_ = 0, stored_ = 0;
  std::atomic<uint64_t> hits_{0}, misses_{0}, bypassed_{0};
  std::atomic<uint64_t> not_stored_changed_{0}, not_stored_too_large_{0};
};

}  // namespace timestore::api
