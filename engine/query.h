// A parsed query (API.md "Query") and its result. The HTTP layer turns JSON
// into a QuerySpec; the executor (query_executor.h) validates it against the
// dataset's schema and runs it over chunks from any tier.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/time_util.h"
#include "engine/chunk.h"
#include "segment/column.h"

namespace timestore {

struct ResultToken;  // engine/result_token.h

class StringArena;  // engine/aggregators.h

// A JSON literal from a filter, converted to the column's type by the executor.
struct Literal {
  enum class Kind { kNull, kBool, kInt, kDouble, kString };
  Kind kind = Kind::kNull;
  bool b = false;
  int64_t i = 0;
  double d = 0;
  std::string s;
};

// kNotIn: the value is not null and equals none of the values (SQL NOT IN
// without nulls in the list).
enum class FilterOp { kEq, kNeq, kLt, kLte, kGt, kGte, kIn, kIsNull, kIsNotNull, kNotIn };

struct Filter {
  std::string column;
  FilterOp op = FilterOp::kEq;
  std::vector<Literal> values;  // one for comparisons, any number for kIn, none for null tests
  int index = -1;               // filled by the executor
};

enum class AggFn {
  kAvg,
  kMin,
  kMax,
  kSum,
  kCount,
  kCountDistinct,
  kMedian,
  kPercentile,
  kFirst,
  kLast
};

// A boolean combination of filters (API.md filter items {"or": [...]},
// {"and": [...]}, {"not": ...}). Parsers push NOT down to the leaves (De
// Morgan, and x < 5 -> x >= 5, in -> notIn, isNull -> isNotNull), so a tree
// holds AND and OR nodes over leaves only. A leaf never passes a null, which
// makes this SQL's three-valued WHERE: a row passes when the tree is true.
struct FilterTree {
  enum class Kind : uint8_t { kLeaf, kAnd, kOr };
  Kind kind = Kind::kLeaf;
  Filter leaf;                       // kLeaf
  std::vector<FilterTree> children;  // kAnd, kOr
};

struct Aggregation {
  AggFn fn = AggFn::kCount;
  std::string column;  // empty: count of rows
  double percentile = 0.5;
  std::string alias;  // defaulted to fn_column by ValidateQuery
};

// Calendar buckets (engine/buckets.h): months and years, and days and weeks in
// a named time zone.
enum class CalendarUnit : uint8_t { kNone, kDay, kWeek, kMonth, kYear };

struct Downsample {
  bool has_interval = false;
  int64_t interval_ns = 0;  // fixed-width buckets; 0 for calendar ones
  CalendarUnit calendar = CalendarUnit::kNone;
  int64_t calendar_size = 1;  // intervalSize of a calendar unit
  std::string timezone;       // IANA name; "" is UTC
  std::vector<std::string> group_by;
  std::vector<Aggregation> aggregations;
};

// A column computed from the answer's columns by a SQL scalar expression
// (API.md "computed"). The engine ignores these: the API layer evaluates them
// above it with the SQL layer's expressions (sql/projection.h).
struct ComputedColumn {
  std::string alias;
  std::string expr;
};

struct QuerySpec {
  int64_t start = 0;  // inclusive, ns
  int64_t end = 0;    // exclusive, ns
  std::optional<std::vector<std::string>> columns;
  std::vector<Filter> filters;  // all must pass
  // Each tree must also pass; plain conjunctions are flattened into `filters`
  // by the parsers, so only trees with an OR remain here.
  std::vector<FilterTree> filter_trees;
  std::optional<Downsample> downsample;
  bool descending = false;
  uint64_t limit = 10000;
  uint64_t offset = 0;  // rows (or buckets) skipped before `limit` applies
  bool epoch_ns = false;
  Precision precision = Precision::kMilliseconds;  // for integer literals of timestamp columns
  // Set (by the HTTP layer) when the client has gone: the query stops with
  // Cancelled "query_cancelled" at its next morsel wave.
  std::shared_ptr<const std::atomic<bool>> cancelled;
  // Freshness controls (docs/api.md "Freshness"): refuse to answer, with
  // FailedPrecondition "not_fresh", when an ingest for the dataset is in
  // flight (require_fresh) or the visible watermark is below min_watermark.
  bool require_fresh = false;
  std::optional<int64_t> min_watermark;
  std::vector<ComputedColumn> computed;
};

struct QueryStats {
  uint64_t partitions_scanned = 0;
  uint64_t segments_scanned = 0;
  uint64_t segments_pruned = 0;
  // Blocks of the segments in the time range: read, or skipped by their time
  // range or zone maps (block min/max against the filters).
  uint64_t blocks_scanned = 0;
  uint64_t blocks_pruned = 0;
  uint64_t hot_chunks_scanned = 0;
  uint64_t hot_chunks_pruned = 0;
  uint64_t rows_scanned = 0;
  uint64_t bytes_read = 0;         // bytes of the blocks the query needed
  uint64_t remote_bytes_read = 0;  // bytes fetched from object storage
  uint64_t remote_requests = 0;    // object-store requests (ranged GETs)
  uint64_t segments_remote = 0;    // scanned segments that live in object storage
  uint64_t cache_hits = 0;         // remote blocks served by the block cache
  uint64_t cache_misses = 0;       // remote blocks fetched from object storage
  uint64_t cache_bytes_read = 0;
  double elapsed_ms = 0;
};

// One output column. Booleans are stored in `ints` (0/1); strings are views
// into the chunks or `owned_strings` held by the QueryResult.
struct ResultColumn {
  std::string name;
  ColumnType type;
  std::vector<uint8_t> valid;  // one per row, 1 = value
  std::vector<int64_t> ints;
  std::vector<double> doubles;
  std::vector<std::string_view> strings;
};

struct QueryResult {
  bool downsampled = false;
  std::vector<ResultColumn> columns;
  size_t rows = 0;
  QueryStats stats;
  std::optional<int64_t> watermark;
  uint64_t hot_rows = 0;
  // No ingest for the dataset was in flight (in the WAL queue, not yet
  // applied and answered) when the query started: the answer holds every row
  // of every request acknowledged or being acknowledged by then.
  bool fresh = true;
  // Keeps the memory behind string views alive.
  std::vector<ChunkPtr> keepalive;
  std::deque<std::string> owned_strings;
  std::shared_ptr<StringArena> string_arena;  // strings of aggregated answers
  // What the answer was read from, over the range asked: the ResultToken of
  // the snapshot the scan read (its dataset, schema, dedup settings and the
  // segments in range); null when it read rows in memory in the range. The
  // query result cache keeps the answer only if this equals its token from
  // before the run (api/query_cache.h).
  std::shared_ptr<const ResultToken> source;
};

}  // namespace timestore
