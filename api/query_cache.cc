#include "api/query_cache.h"

#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <utility>
#include <vector>

#include "common/strings.h"
#include "common/time_util.h"
#include "engine/engine.h"

namespace timestore::api {
namespace {

// Where a JSON answer's per-moment part begins (api/result_writer.cc writes
// freshness, then stats, after the rows). rfind: a string in a row cannot
// hold it unescaped, and the real one comes after every row.
constexpr std::string_view kFreshnessMarker = ",\"freshness\":{";
constexpr std::string_view kStatsMarker = ",\"stats\":{";
// Per-entry bookkeeping beyond key, body and token: list node, map slot,
// control block.
constexpr uint64_t kEntryOverhead = 160;

void AppendCanonical(simdjson::dom::element e, std::string* out) {
  using simdjson::dom::element_type;
  switch (e.type()) {
    case element_type::OBJECT: {
      simdjson::dom::object object;
      if (e.get(object)) return;
      std::vector<std::pair<std::string_view, simdjson::dom::element>> members;
      for (auto field : object) members.emplace_back(field.key, field.value);
      std::stable_sort(members.begin(), members.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      out->push_back('{');
      for (size_t i = 0; i < members.size(); ++i) {
        if (i) out->push_back(',');
        AppendJsonString(out, members[i].first);
        out->push_back(':');
        AppendCanonical(members[i].second, out);
      }
      out->push_back('}');
      return;
    }
    case element_type::ARRAY: {
      simdjson::dom::array array;
      if (e.get(array)) return;
      out->push_back('[');
      bool first = true;
      for (simdjson::dom::element v : array) {
        if (!first) out->push_back(',');
        first = false;
        AppendCanonical(v, out);
      }
      out->push_back(']');
      return;
    }
    case element_type::STRING:
      AppendJsonString(out, e.get_string().value_unsafe());
      return;
    case element_type::INT64:
      out->push_back('i');
      AppendJsonInt(out, e.get_int64().value_unsafe());
      return;
    case element_type::UINT64:
      out->push_back('u');
      AppendJsonUint(out, e.get_uint64().value_unsafe());
      return;
    case element_type::DOUBLE:
      out->push_back('d');
      AppendJsonDouble(out, e.get_double().value_unsafe());
      return;
    case element_type::BOOL:
      out->push_back(e.get_bool().value_unsafe() ? 't' : 'f');
      return;
    case element_type::NULL_VALUE:
      out->push_back('n');
      return;
  }
}

// The outcome in the header, and as stats.resultCache in a JSON body (the
// stats object holds numbers only, so its first '}' closes it).
void Mark(HttpResponse* r, ResultFormat format, QueryCache::Outcome outcome) {
  const std::string_view name = QueryCache::OutcomeName(outcome);
  r->headers.emplace_back("x-timestore-result-cache", std::string(name));
  if (format != ResultFormat::kJson) return;
  const size_t stats = r->body.rfind(kStatsMarker);
  if (stats == std::string::npos) return;
  const size_t close = r->body.find('}', stats + kStatsMarker.size());
  if (close == std::string::npos) return;
  r->body.insert(close, StrCat(",\"resultCache\":\"", name, "\""));
}

}  // namespace

std::optional<std::string> CanonicalJson(std::string_view json) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json.data(), json.size()).get(root)) return std::nullopt;
  std::string out;
  out.reserve(json.size());
  AppendCanonical(root, &out);
  return out;
}

QueryCache::QueryCache(QueryCacheOptions options) : options_(std::move(options)) {}

std::string_view QueryCache::OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kOff:
      return "off";
    case Outcome::kBypass:
      return "bypass";
    case Outcome::kMiss:
      return "miss";
    case Outcome::kHit:
      return "hit";
  }
  return "off";
}

QueryCache::Ticket QueryCache::Begin(const Engine& engine, std::string_view slug,
                                     const HttpRequest& req, const QuerySpec& spec,
                                     ResultFormat format) {
  const auto t0 = std::chrono::steady_clock::now();
  Ticket t;
  t.format = format;
  if (!options_.enabled) return t;
  t.outcome = Outcome::kBypass;
  std::shared_ptr<Dataset> ds = engine.GetDataset(slug);
  if (ds == nullptr) {  // the engine answers 404
    bypassed_.fetch_add(1, std::memory_order_relaxed);
    return t;
  }
  // The freshness of this moment, read before the token: with nothing in
  // flight now, every request acknowledged so far is in memory or in a
  // segment the token lists.
  const bool fresh = ds->inflight_batches() == 0;
  const std::optional<int64_t> watermark = ds->watermark();
  // A freshness condition that fails now: the engine answers (409 not_fresh,
  // or the answer if the condition came true meanwhile).
  if ((spec.require_fresh && !fresh) ||
      (spec.min_watermark && (!watermark || *watermark < *spec.min_watermark))) {
    bypassed_.fetch_add(1, std::memory_order_relaxed);
    return t;
  }
  t.token = ResultTokenFor(engine, slug, spec.start, spec.end);
  std::optional<std::string> canonical;
  if (t.token) canonical = CanonicalJson(req.body);
  if (!canonical) {
    t.token.reset();
    bypassed_.fetch_add(1, std::memory_order_relaxed);
    return t;
  }
  t.outcome = Outcome::kMiss;
  t.key.reserve(slug.size() + req.query.size() + canonical->size() + 8);
  // The range as parsed too: the body alone would do today, but not once a
  // body could name a moving range.
  StrAppend(&t.key, slug, std::string_view("\0", 1), static_cast<int>(format),
            std::string_view("\0", 1), spec.start, std::string_view("\0", 1), spec.end,
            std::string_view("\0", 1), req.query, std::string_view("\0", 1), *canonical);
  std::shared_ptr<const Entry> entry = Lookup(t.key, *t.token);
  if (entry == nullptr) return t;
  t.outcome = Outcome::kHit;
  HttpResponse r;
  r.content_type = std::string(ContentType(format));
  const uint64_t hot_rows = ds->hot_rows();
  r.headers.emplace_back("x-timestore-watermark", watermark ? FormatRfc3339(*watermark) : "");
  r.headers.emplace_back("x-timestore-hot-rows", StrCat(hot_rows));
  r.headers.emplace_back("x-timestore-fresh", fresh ? "true" : "false");
  if (format == ResultFormat::kJson) {
    // Freshness and stats as the writer renders them, after the cached rows.
    QueryResult now;
    now.watermark = watermark;
    now.hot_rows = hot_rows;
    now.fresh = fresh;
    now.stats.elapsed_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::string tail;
    WriteResult(now, slug, spec.epoch_ns, ResultFormat::kJson, &tail);
    const size_t pos = tail.rfind(kFreshnessMarker);
    r.body.reserve(entry->body.size() + tail.size());
    r.body = entry->body;
    r.body.append(tail, pos == std::string::npos ? tail.size() : pos);
  } else {
    r.body = entry->body;
  }
  Mark(&r, format, t.outcome);
  t.hit = std::move(r);
  return t;
}

void QueryCache::Finish(Ticket& t, HttpResponse* r) {
  if (t.outcome == Outcome::kHit) return;  // marked by Begin
  if (t.outcome == Outcome::kMiss && t.read_clock) {
    // The answer is of its moment: a computed column read the clock (now()
    // and its aliases, or text that became 'now' as a timestamp, built as
    // ('n' || 'ow')::timestamptz or read from a column).
    t.outcome = Outcome::kBypass;
    misses_.fetch_sub(1, std::memory_order_relaxed);
    bypassed_.fetch_add(1, std::memory_order_relaxed);
  }
  if (t.outcome == Outcome::kMiss && r->status == 200 && t.token) {
    // Stored only if the answer was read from the token's data: the same
    // segments in range, no rows in memory there, the same schema and dedup.
    // Edits elsewhere in the dataset during the run do not matter; rows
    // sealed and dropped again in range (retention) do, though the token
    // after the run would equal the one before.
    if (t.source == nullptr || !(*t.source == *t.token)) {
      not_stored_changed_.fetch_add(1, std::memory_order_relaxed);
    } else {
      size_t keep = r->body.size();
      if (t.format == ResultFormat::kJson) keep = r->body.rfind(kFreshnessMarker);
      // Too large: counted without copying the body first.
      if (keep != std::string::npos &&
          (keep > options_.max_entry_bytes ||
           !Insert(t.key, *std::move(t.token), r->body.substr(0, keep)))) {
        not_stored_too_large_.fetch_add(1, std::memory_order_relaxed);
      }
    }
  }
  Mark(r, t.format, t.outcome);
}

std::shared_ptr<const QueryCache::Entry> QueryCache::Lookup(const std::string& key,
                                                            const ResultToken& token) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  if (!(it->second->entry->token == token)) {
    ++stale_;
    EraseLocked(it->second);
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  hits_.fetch_add(1, std::memory_order_relaxed);
  return lru_.front().entry;
}

bool QueryCache::Insert(const std::string& key, ResultToken token, std::string body) {
  auto entry = std::make_shared<Entry>();
  entry->bytes = 2 * key.size() + body.size() + token.bytes() + kEntryOverhead;
  if (entry->bytes > std::min(options_.max_entry_bytes, options_.max_bytes) ||
      options_.max_entries == 0) {
    return false;
  }
  entry->token = std::move(token);
  entry->body = std::move(body);
  std::lock_guard<std::mutex> l(mu_);
  if (auto it = index_.find(key); it != index_.end()) EraseLocked(it->second);
  lru_.push_front(Node{key, entry});
  index_.emplace(key, lru_.begin());
  bytes_ += entry->bytes;
  ++stored_;
  // The new entry fits alone, so it is never the one that goes.
  while (bytes_ > options_.max_bytes || lru_.size() > options_.max_entries) {
    EraseLocked(std::prev(lru_.end()));
    ++evictions_;
  }
  return true;
}

void QueryCache::EraseLocked(std::list<Node>::iterator it) {
  bytes_ -= it->entry->bytes;
  index_.erase(it->key);
  lru_.erase(it);
}

QueryCache::Stats QueryCache::stats() const {
  Stats s;
  s.enabled = options_.enabled;
  s.max_entries = options_.max_entries;
  s.max_bytes = options_.max_bytes;
  s.hits = hits_.load(std::memory_order_relaxed);
  s.misses = misses_.load(std::memory_order_relaxed);
  s.bypassed = bypassed_.load(std::memory_order_relaxed);
  s.not_stored_changed = not_stored_changed_.load(std::memory_order_relaxed);
  s.not_stored_too_large = not_stored_too_large_.load(std::memory_order_relaxed);
  std::lock_guard<std::mutex> l(mu_);
  s.entries = lru_.size();
  s.bytes = bytes_;
  s.stale = stale_;
  s.evictions = evictions_;
  s.stored = stored_;
  return s;
}

void QueryCache::RenderMetrics(std::string* out) const {
  const Stats s = stats();
  auto metric = [out](std::string_view name, std::string_view type, std::string_view help,
                      uint64_t value) {
    StrAppend(out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n", name, " ", value,
              "\n");
  };
  metric("timestore_result_cache_enabled", "gauge",
         "1 when the query result cache is on (TIMESTORE_QUERY_CACHE_ENABLED).", s.enabled);
  metric("timestore_result_cache_hits_total", "counter",
         "Queries answered from the query result cache.", s.hits);
  metric("timestore_result_cache_misses_total", "counter",
         "Cacheable queries the result cache did not hold (or held outdated).", s.misses);
  metric("timestore_result_cache_bypassed_total", "counter",
         "Queries not cacheable: rows in memory in range, a freshness condition unmet, or a "
         "computed column that read the clock.",
         s.bypassed);
  metric("timestore_result_cache_stale_total", "counter",
         "Result cache entries dropped at lookup because the data in range changed.", s.stale);
  metric("timestore_result_cache_evictions_total", "counter",
         "Result cache entries evicted (least recently used) for room.", s.evictions);
  metric("timestore_result_cache_stores_total", "counter", "Answers stored in the result cache.",
         s.stored);
  StrAppend(out,
            "# HELP timestore_result_cache_not_stored_total Cacheable answers not stored, by "
            "reason.\n# TYPE timestore_result_cache_not_stored_total counter\n"
            "timestore_result_cache_not_stored_total{reason=\"changed\"} ",
            s.not_stored_changed,
            "\ntimestore_result_cache_not_stored_total{reason=\"too_large\"} ",
            s.not_stored_too_large, "\n");
  metric("timestore_result_cache_entries", "gauge", "Answers held by the result cache.", s.entries);
  metric("timestore_result_cache_bytes", "gauge", "Bytes held by the result cache.", s.bytes);
  metric("timestore_result_cache_max_entries", "gauge", "TIMESTORE_QUERY_CACHE_MAX_ENTRIES.",
         s.max_entries);
  metric("timestore_result_cache_max_bytes", "gauge", "TIMESTORE_QUERY_CACHE_MAX_BYTES.",
         s.max_bytes);
}

void QueryCache::WriteStatus(JsonWriter& w) const {
  const Stats s = stats();
  w.Key("enabled").Bool(s.enabled);
  w.Key("entries").Uint(s.entries).Key("bytes").Uint(s.bytes);
  w.Key("maxEntries").Uint(s.max_entries).Key("maxBytes").Uint(s.max_bytes);
  w.Key("hits").Uint(s.hits).Key("misses").Uint(s.misses).Key("bypassed").Uint(s.bypassed);
  w.Key("stale").Uint(s.stale).Key("evictions").Uint(s.evictions);
}

}  // namespace timestore::api
