// The TSBS cpu-only query generator (bench/README.md, "timestore-tsbs"): query instances
// described independently of any system, so that Timestore and the peer systems answer the
// same questions. Each instance prints as one JSON line (QueryToJsonLine); the runners
// translate it to their own query language.
//
// Types (TSBS devops semantics; fields are always a prefix of kFieldNames):
//   single-groupby-M-H-T  max of the first M fields per 1-minute bucket, H random hosts
//                         pooled, a window of T hours (M-H-T: 1-1-1, 1-1-12, 1-8-1, 5-1-1,
//                         5-1-12, 5-8-1)
//   cpu-max-all-H         max of all 10 fields per 1-hour bucket, H random hosts pooled, 8 h
//   double-groupby-M      avg of the first M (1, 5, 10 = "all") fields per 1-hour bucket and
//                         host, all hosts, 12 h
//   high-cpu-1, -all      raw rows (all 10 fields) with usage_user > 90, one random host /
//                         all hosts, 12 h
//   lastpoint             the latest row of every host, over the whole data set
//   groupby-orderby-limit max of usage_user per 1-minute bucket, all hosts pooled, before a
//                         random end with no lower bound: the 5 latest buckets
//
// Windows: every random window lies inside the data and is half-open [start, end). Its
// start is a whole second whose offset from the data start is not a multiple of 10 s, so
// it is never on a row timestamp nor on a minute or hour boundary (when the data start is
// a multiple of 10 s, as the default 2016-01-01 is), and neither is its end (start + whole
// hours). A window longer than the data minus 10 s is shortened to that length.
//
// Determinism: instance i of a type depends only on (seed, type, i, hosts, start, duration):
// each type draws from its own std::mt19937_64 seeded with XXH3_64bits_withSeed(type name,
// seed), so --types and --count select without changing the instances. Per instance the
// draws are: the hosts (partial Fisher-Yates over host indexes, as many as the type needs),
// then the window (tens, then the 1-9 s offset).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace timestore::bench::tsbs {

enum class QueryKind {
  kGroupBy,              // single-groupby, cpu-max-all, double-groupby
  kHighCpu,              // raw rows over a threshold
  kLastpoint,            // latest row per host
  kGroupByOrderByLimit,  // latest `limit` buckets before `end`
};

enum class Agg { kNone, kMax, kAvg };

// One query instance.
struct Query {
  std::string type;
  QueryKind kind = QueryKind::kGroupBy;
  std::vector<std::string> hosts;   // empty = all hosts
  std::vector<std::string> fields;  // a prefix of kFieldNames
  int64_t start_ns = 0;             // inclusive
  int64_t end_ns = 0;               // exclusive
  int64_t bucket_ns = 0;            // 0 = no buckets
  Agg agg = Agg::kNone;
  bool group_by_host = false;       // result rows carry the hostname as their group
  std::optional<double> threshold;  // high-cpu: usage_user > threshold
  std::optional<int64_t> limit;     // groupby-orderby-limit: 5
};

// What the queries are generated for: the data set's shape (the cpu generator's Options).
struct QueryDataSpec {
  int64_t hosts = 100;
  int64_t start_ns = 0;     // data start; whole seconds
  int64_t duration_ns = 0;  // whole seconds, at least 20 s
};

// The type names in their canonical order.
const std::vector<std::string>& AllQueryTypes();
bool IsQueryType(std::string_view name);

// Empty when `spec` can be used; otherwise what is wrong.
std::string ValidateQueryDataSpec(const QueryDataSpec& spec);

// The first `count` instances of `type`. REQUIRES: IsQueryType(type), a valid spec.
std::vector<Query> GenerateQueries(const QueryDataSpec& spec, std::string_view type, int64_t count,
                                   uint64_t seed);

// One JSON object, no newline, members in this order:
// {"type":"single-groupby-1-1-1","hosts":["host_3"],"fields":["usage_user"],
//  "start":<ns>,"end":<ns>,"bucket":"1m"|"1h"|null,"agg":"max"|"avg"|null,
//  "groupByHost":false,"threshold":90|null,"limit":5|null}
std::string QueryToJsonLine(const Query& q);

// "1d", "6h", "30m", "10s", "500ms", "2w"; a bare number is seconds.
std::optional<int64_t> ParseDurationNs(std::string_view s);

}  // namespace timestore::bench::tsbs
