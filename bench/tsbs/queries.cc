#include "bench/tsbs/queries.h"

#include <xxhash.h>

#include <algorithm>
#include <charconv>
#include <numeric>
#include <random>
#include <tuple>

#include "bench/tsbs/cpu_generator.h"

namespace timestore::bench::tsbs {
namespace {

constexpr int64_t kHourNs = 3600 * kNanosPerSecond;
constexpr int64_t kMinuteNs = 60 * kNanosPerSecond;
constexpr int64_t kRowGridSeconds = 10;  // the generator's interval: windows avoid its grid

struct TypeSpec {
  std::string_view name;
  QueryKind kind;
  int hosts;       // 0 = all hosts
  int fields;      // a prefix of kFieldNames
  int64_t window;  // ns; for groupby-orderby-limit, the span its random end is drawn from
  int64_t bucket;  // ns, 0 = none
  Agg agg;
  bool group_by_host;
};

constexpr TypeSpec kTypes[] = {
    {"single-groupby-1-1-1", QueryKind::kGroupBy, 1, 1, 1 * kHourNs, kMinuteNs, Agg::kMax, false},
    {"single-groupby-1-1-12", QueryKind::kGroupBy, 1, 1, 12 * kHourNs, kMinuteNs, Agg::kMax, false},
    {"single-groupby-1-8-1", QueryKind::kGroupBy, 8, 1, 1 * kHourNs, kMinuteNs, Agg::kMax, false},
    {"single-groupby-5-1-1", QueryKind::kGroupBy, 1, 5, 1 * kHourNs, kMinuteNs, Agg::kMax, false},
    {"single-groupby-5-1-12", QueryKind::kGroupBy, 1, 5, 12 * kHourNs, kMinuteNs, Agg::kMax, false},
    {"single-groupby-5-8-1", QueryKind::kGroupBy, 8, 5, 1 * kHourNs, kMinuteNs, Agg::kMax, false},
    {"cpu-max-all-1", QueryKind::kGroupBy, 1, 10, 8 * kHourNs, kHourNs, Agg::kMax, false},
    {"cpu-max-all-8", QueryKind::kGroupBy, 8, 10, 8 * kHourNs, kHourNs, Agg::kMax, false},
    {"double-groupby-1", QueryKind::kGroupBy, 0, 1, 12 * kHourNs, kHourNs, Agg::kAvg, true},
    {"double-groupby-5", QueryKind::kGroupBy, 0, 5, 12 * kHourNs, kHourNs, Agg::kAvg, true},
    {"double-groupby-all", QueryKind::kGroupBy, 0, 10, 12 * kHourNs, kHourNs, Agg::kAvg, true},
    {"high-cpu-1", QueryKind::kHighCpu, 1, 10, 12 * kHourNs, 0, Agg::kNone, true},
    {"high-cpu-all", QueryKind::kHighCpu, 0, 10, 12 * kHourNs, 0, Agg::kNone, true},
    {"lastpoint", QueryKind::kLastpoint, 0, 10, 0, 0, Agg::kNone, true},
    {"groupby-orderby-limit", QueryKind::kGroupByOrderByLimit, 0, 1, 1 * kHourNs, kMinuteNs,
     Agg::kMax, false},
};

constexpr double kHighCpuThreshold = 90;
constexpr int64_t kOrderByLimit = 5;

const TypeSpec* FindType(std::string_view name) {
  for (const TypeSpec& t : kTypes) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

// [0, n) by multiply-shift, as the data generator does.
uint64_t UniformIndex(std::mt19937_64& rng, uint64_t n) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(rng()) * n) >> 64);
}

// A window of `window_ns` (shortened to the data span - 10 s when longer) whose start is a
// whole second at an offset from the data start that is not a multiple of 10 s.
std::pair<int64_t, int64_t> RandomWindow(const QueryDataSpec& spec, int64_t window_ns,
                                         std::mt19937_64& rng) {
  const int64_t span_s = spec.duration_ns / kNanosPerSecond;
  const int64_t window_s = std::min(window_ns / kNanosPerSecond, span_s - kRowGridSeconds);
  const int64_t slots = (span_s - window_s) / kRowGridSeconds;  // >= 1
  const int64_t tens = static_cast<int64_t>(UniformIndex(rng, static_cast<uint64_t>(slots)));
  const int64_t offset = 1 + static_cast<int64_t>(UniformIndex(rng, kRowGridSeconds - 1));
  const int64_t start = spec.start_ns + (tens * kRowGridSeconds + offset) * kNanosPerSecond;
  return {start, start + window_s * kNanosPerSecond};
}

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') out->push_back('\\');
    out->push_back(c);
  }
  out->push_back('"');
}

void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr);
}

std::string_view BucketName(int64_t bucket_ns) {
  if (bucket_ns == kMinuteNs) return "1m";
  if (bucket_ns == kHourNs) return "1h";
  return "";
}

}  // namespace

const std::vector<std::string>& AllQueryTypes() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const TypeSpec& t : kTypes) v.emplace_back(t.name);
    return v;
  }();
  return names;
}

bool IsQueryType(std::string_view name) { return FindType(name) != nullptr; }

std::string ValidateQueryDataSpec(const QueryDataSpec& spec) {
  if (spec.hosts < 1) return "hosts must be at least 1";
  if (spec.start_ns % kNanosPerSecond != 0) return "the data start must be a whole second";
  if (spec.duration_ns % kNanosPerSecond != 0) return "the duration must be whole seconds";
  if (spec.duration_ns < 2 * kRowGridSeconds * kNanosPerSecond) {
    return "the duration must be at least 20 s for query windows";
  }
  return "";
}

std::vector<Query> GenerateQueries(const QueryDataSpec& spec, std::string_view type, int64_t count,
                                   uint64_t seed) {
  const TypeSpec& t = *FindType(type);
  std::mt19937_64 rng(XXH3_64bits_withSeed(type.data(), type.size(), seed));
  std::vector<int64_t> perm(static_cast<size_t>(spec.hosts));
  std::vector<Query> out;
  out.reserve(static_cast<size_t>(std::max<int64_t>(count, 0)));
  for (int64_t i = 0; i < count; ++i) {
    Query q;
    q.type = std::string(t.name);
    q.kind = t.kind;
    q.bucket_ns = t.bucket;
    q.agg = t.agg;
    q.group_by_host = t.group_by_host;
    for (int f = 0; f < t.fields; ++f) q.fields.emplace_back(kFieldNames[static_cast<size_t>(f)]);
    if (t.hosts > 0) {
      // Distinct hosts: a partial Fisher-Yates shuffle from the identity each time.
      const int64_t n = std::min<int64_t>(t.hosts, spec.hosts);
      std::iota(perm.begin(), perm.end(), 0);
      for (int64_t k = 0; k < n; ++k) {
        const int64_t j =
            k + static_cast<int64_t>(UniformIndex(rng, static_cast<uint64_t>(spec.hosts - k)));
        std::swap(perm[static_cast<size_t>(k)], perm[static_cast<size_t>(j)]);
        q.hosts.push_back("host_" + std::to_string(perm[static_cast<size_t>(k)]));
      }
    }
    switch (t.kind) {
      case QueryKind::kGroupBy:
      case QueryKind::kHighCpu:
        std::tie(q.start_ns, q.end_ns) = RandomWindow(spec, t.window, rng);
        break;
      case QueryKind::kLastpoint:
        q.start_ns = spec.start_ns;
        q.end_ns = spec.start_ns + spec.duration_ns;
        break;
      case QueryKind::kGroupByOrderByLimit:
        q.start_ns = spec.start_ns;  // "no lower bound": nothing lies before the data start
        q.end_ns = RandomWindow(spec, t.window, rng).second;
        break;
    }
    if (t.kind == QueryKind::kHighCpu) q.threshold = kHighCpuThreshold;
    if (t.kind == QueryKind::kGroupByOrderByLimit) q.limit = kOrderByLimit;
    out.push_back(std::move(q));
  }
  return out;
}

std::string QueryToJsonLine(const Query& q) {
  std::string out = "{\"type\":";
  AppendJsonString(q.type, &out);
  out += ",\"hosts\":[";
  for (size_t i = 0; i < q.hosts.size(); ++i) {
    if (i) out.push_back(',');
    AppendJsonString(q.hosts[i], &out);
  }
  out += "],\"fields\":[";
  for (size_t i = 0; i < q.fields.size(); ++i) {
    if (i) out.push_back(',');
    AppendJsonString(q.fields[i], &out);
  }
  out += "],\"start\":";
  AppendInt(q.start_ns, &out);
  out += ",\"end\":";
  AppendInt(q.end_ns, &out);
  out += ",\"bucket\":";
  if (q.bucket_ns == 0) {
    out += "null";
  } else {
    AppendJsonString(BucketName(q.bucket_ns), &out);
  }
  out += ",\"agg\":";
  out += q.agg == Agg::kMax ? "\"max\"" : q.agg == Agg::kAvg ? "\"avg\"" : "null";
  out += ",\"groupByHost\":";
  out += q.group_by_host ? "true" : "false";
  out += ",\"threshold\":";
  if (q.threshold) {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof(buf), *q.threshold);
    out.append(buf, r.ptr);
  } else {
    out += "null";
  }
  out += ",\"limit\":";
  if (q.limit) {
    AppendInt(*q.limit, &out);
  } else {
    out += "null";
  }
  out.push_back('}');
  return out;
}

std::optional<int64_t> ParseDurationNs(std::string_view s) {
  int64_t n = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || ptr == s.data() || n < 0) return std::nullopt;
  const std::string_view unit(ptr, static_cast<size_t>(s.data() + s.size() - ptr));
  int64_t scale;
  if (unit.empty() || unit == "s") {
    scale = kNanosPerSecond;
  } else if (unit == "ms") {
    scale = 1'000'000;
  } else if (unit == "m") {
    scale = 60 * kNanosPerSecond;
  } else if (unit == "h") {
    scale = 3600 * kNanosPerSecond;
  } else if (unit == "d") {
    scale = 86400 * kNanosPerSecond;
  } else if (unit == "w") {
    scale = 7 * 86400 * kNanosPerSecond;
  } else {
    return std::nullopt;
  }
  if (n > INT64_MAX / scale) return std::nullopt;
  return n * scale;
}

}  // namespace timestore::bench::tsbs
