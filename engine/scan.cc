// Engine queries: snapshot, pruning by time and zone maps, the footer shortcut
// for lastpoint, block reads, then the executor.
#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <random>
#include <span>

#include "absl/container/flat_hash_set.h"
#include "common/crash_point.h"
#include "common/json_writer.h"
#include "common/status_macros.h"
#include "common/status_util.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "engine/dedup.h"
#include "engine/engine.h"
#include "engine/engine_internal.h"
#include "engine/filter_tree.h"
#include "engine/filters.h"
#include "engine/grouped_aggregate.h"
#include "engine/json_paths.h"
#include "engine/query_executor.h"
#include "engine/result_token.h"
#include "engine/row_compare.h"
#include "engine/scan_internal.h"
#include "engine/segment_columns.h"
#include "spdlog/spdlog.h"

namespace timestore {
using engine_internal::NotFound;
using engine_internal::WalDir;
using scan_internal::BlockChunk;
using scan_internal::CheckDeadline;
using scan_internal::DecodedBytes;
using scan_internal::MemoryLimit;

namespace {

// Whether a block whose zone map is `b` may hold a row passing `f`. Only
// comparisons that are false for null and NaN prune; anything uncertain keeps
// the block. Double min/max leave NaN out (segment/segment_writer.cc), and NaN
// is above every number, so `gt`/`gte` on a double column never prune, nor
// does a NaN literal.
bool BlockMayMatch(const Filter& f, ColumnType type, const segment::BlockInfo& b,
                   Precision precision) {
  if (f.op == FilterOp::kIsNull) return b.null_count > 0;
  if (b.null_count == b.rows) return false;  // every comparison with null is false
  if (f.op == FilterOp::kIsNotNull || f.op == FilterOp::kNeq || f.op == FilterOp::kNotIn ||
      !b.has_minmax) {
    return true;
  }
  if (type == ColumnType::kDouble && (f.op == FilterOp::kGt || f.op == FilterOp::kGte)) return true;
  auto may = [&](auto lo, auto hi, auto v) {
    switch (f.op) {
      case FilterOp::kEq:
      case FilterOp::kIn:
        return v >= lo && v <= hi;
      case FilterOp::kLt:
        return lo < v;
      case FilterOp::kLte:
        return lo <= v;
      case FilterOp::kGt:
        return hi > v;
      case FilterOp::kGte:
        return hi >= v;
      default:
        return true;
    }
  };
  for (const Literal& l : f.values) {
    bool m = true;
    switch (type) {
      case ColumnType::kDouble:
        if (l.kind == Literal::Kind::kInt) {
          m = may(b.min_double, b.max_double, static_cast<double>(l.i));
        } else if (l.kind == Literal::Kind::kDouble && !std::isnan(l.d)) {
          m = may(b.min_double, b.max_double, l.d);
        }
        break;
      case ColumnType::kInteger:
        if (l.kind == Literal::Kind::kInt) {
          m = may(b.min_int, b.max_int, l.i);
        } else if (l.kind == Literal::Kind::kDouble && !std::isnan(l.d)) {
          m = may(static_cast<long double>(b.min_int), static_cast<long double>(b.max_int),
                  static_cast<long double>(l.d));
        }
        break;
      case ColumnType::kTimestamp:
        if (l.kind == Literal::Kind::kString) {
          if (auto ts = ParseRfc3339(l.s); ts.ok()) m = may(b.min_int, b.max_int, *ts);
        } else if (l.kind == Literal::Kind::kInt) {
          if (auto ts = ScaleToNanos(l.i, precision); ts.ok()) m = may(b.min_int, b.max_int, *ts);
        }
        break;
      case ColumnType::kString:
      case ColumnType::kUuid:  // the literal is canonical (ValidateQuery), like the values
        if (l.kind == Literal::Kind::kString) {
          m = may(std::string_view(b.min_string), std::string_view(b.max_string),
                  std::string_view(l.s));
        }
        break;
      case ColumnType::kBoolean:
        if (l.kind == Literal::Kind::kBool) m = may(b.min_int, b.max_int, int64_t{l.b ? 1 : 0});
        break;
      default:
        break;  // json and arrays compare by their content, not their text: no pruning
    }
    if (l.kind == Literal::Kind::kNull) m = false;  // comparing with null is false
    if (m) return true;
    if (f.op != FilterOp::kIn) return false;
  }
  return f.op != FilterOp::kIn;  // an empty in-list matches nothing
}

// Whether block `b` of a segment may hold a row passing `f`. `seg_col` maps
// dataset columns to the segment's (-1: absent, every value null); a filter
// on a column that is not `prunable` keeps every block.
bool LeafMayMatch(const Filter& f, const segment::SegmentMeta& meta, size_t b,
                  const std::vector<int>& seg_col, const std::vector<bool>& prunable,
                  Precision precision) {
  if (!prunable[f.index]) return true;
  const int sc = seg_col[f.index];
  if (sc < 0) return f.op == FilterOp::kIsNull;
  return BlockMayMatch(f, meta.columns[sc].type, meta.columns[sc].blocks[b], precision);
}

// A tree prunes a block only when it provably matches nothing there: an AND
// when any child does not match, an OR when none of its children does.
bool TreeMayMatch(const FilterTree& t, const segment::SegmentMeta& meta, size_t b,
                  const std::vector<int>& seg_col, const std::vector<bool>& prunable,
                  Precision precision) {
  switch (t.kind) {
    case FilterTree::Kind::kLeaf:
      return LeafMayMatch(t.leaf, meta, b, seg_col, prunable, precision);
    case FilterTree::Kind::kAnd:
      for (const FilterTree& c : t.children)
        if (!TreeMayMatch(c, meta, b, seg_col, prunable, precision)) return false;
      return true;
    case FilterTree::Kind::kOr:
      for (const FilterTree& c : t.children)
        if (TreeMayMatch(c, meta, b, seg_col, prunable, precision)) return true;
      return false;
  }
  return true;
}

// The group column when `spec` asks only for the newest values per series
// (lastpoint: a downsample without an interval, grouped by one string column,
// of `last` of any columns and `max` of the time column, no filters), which a
// segment's footer answers (SegmentMeta::series_last); -1 otherwise. Not with
// dedup: a duplicate's null would hide an older value the footer still shows.
int LatestPerSeriesKey(const QuerySpec& spec, const Schema& schema, bool dedup) {
  // Not for json paths either: the footer keeps a series' newest json value,
  // which may lack the path an older one holds.
  if (dedup || !spec.downsample || spec.downsample->has_interval || !spec.filters.empty() ||
      !spec.filter_trees.empty() || spec.downsample->group_by.size() != 1 ||
      spec.downsample->aggregations.empty() || !schema.derived.empty()) {
    return -1;
  }
  const int key = schema.IndexOf(spec.downsample->group_by[0]);
  if (key < 0 || schema.fields[key].type != ColumnType::kString) return -1;
  for (const Aggregation& a : spec.downsample->aggregations) {
    const bool last = a.fn == AggFn::kLast;
    const bool max_time = a.fn == AggFn::kMax && a.column == schema.time_column;
    if (!last && !max_time) return -1;
  }
  return key;
}

// The rows that carry a segment's newest values per series: per series, one
// row at its newest time holding every needed column whose newest non-null
// value is at that time (usually all of them), and one more row per distinct
// older time for the columns whose newest value is older. `last` and
// `max(time)` over these rows equal those over the segment's rows.
ChunkPtr SeriesLastChunk(const segment::SegmentMeta& meta, const Schema& schema,
                         const std::vector<int>& seg_col, const std::vector<bool>& need, int key) {
  const int time = schema.time_index();
  std::vector<int> value_cols;  // needed columns with a value in this segment
  for (size_t c = 0; c < schema.fields.size(); ++c) {
    const int ci = static_cast<int>(c);
    if (ci != time && ci != key && need[c] && seg_col[c] >= 0) value_cols.push_back(ci);
  }
  std::vector<ColumnBuilder> cols;
  for (const Field& f : schema.fields) cols.emplace_back(f.type);
  std::vector<int64_t> times;  // distinct row times of one series, newest first
  for (const segment::SeriesLast& s : meta.series_last) {
    times.assign(1, s.last_ts);
    for (int c : value_cols) {
      const auto& v = s.values[seg_col[c]];
      if (v.has && std::find(times.begin(), times.end(), v.ts) == times.end())
        times.push_back(v.ts);
    }
    for (int64_t ts : times) {
      for (size_t i = 0; i < cols.size(); ++i) {
        const int c = static_cast<int>(i);
        if (c == time) {
          cols[i].AppendInt(ts);
          continue;
        }
        if (c == key) {
          s.key_null ? cols[i].AppendNull() : cols[i].AppendString(s.key);
          continue;
        }
        const bool value =
            need[i] && seg_col[i] >= 0 && s.values[seg_col[i]].has && s.values[seg_col[i]].ts == ts;
        if (!value) {
          cols[i].AppendNull();
          continue;
        }
        const segment::SeriesLast::Value& v = s.values[seg_col[i]];
        switch (schema.fields[i].type) {
          case ColumnType::kDouble:
            cols[i].AppendDouble(v.double_value);
            break;
          TIMESTORE_STRING_LIKE_CASES:
            cols[i].AppendString(v.string_value);
            break;
          case ColumnType::kBoolean:
            cols[i].AppendBool(v.int_value != 0);
            break;
          default:
            cols[i].AppendInt(v.int_value);
        }
      }
    }
  }
  auto chunk = std::make_shared<Chunk>();
  chunk->time_index = time;
  for (auto& b : cols) chunk->columns.push_back(b.Finish());
  chunk->rows = static_cast<uint32_t>(chunk->columns[time].size());
  chunk->ComputeStats();
  return chunk;
}

// The dataset columns a query reads.
std::vector<bool> NeededColumns(const QuerySpec& spec, const Schema& schema) {
  std::vector<bool> need(schema.fields.size(), false);
  auto mark = [&](const std::string& name) {
    int i = schema.IndexOf(name);
    if (i >= 0) need[i] = true;
  };
  mark(schema.time_column);
  for (const auto& f : spec.filters) mark(f.column);
  for (const auto& t : spec.filter_trees) ForEachLeaf(t, [&](const Filter& f) { mark(f.column); });
  if (spec.downsample) {
    for (const auto& g : spec.downsample->group_by) mark(g);
    for (const auto& a : spec.downsample->aggregations) mark(a.column);
  } else if (spec.columns) {
    for (const auto& c : *spec.columns) mark(c);
  } else {
    need.assign(need.size(), true);
  }
  return need;
}

// Fills the scan's stats and source into an executed result.
QueryResult FinishScan(QueryResult result, const QueryStats& seg_stats, size_t partitions,
                       const IoStats& io, const Dataset& ds, uint64_t hot_rows,
                       std::shared_ptr<const ResultToken> source) {
  result.source = std::move(source);
  result.stats.segments_scanned = seg_stats.segments_scanned;
  result.stats.segments_pruned = seg_stats.segments_pruned;
  result.stats.blocks_scanned = seg_stats.blocks_scanned;
  result.stats.blocks_pruned = seg_stats.blocks_pruned;
  result.stats.partitions_scanned = partitions;
  result.stats.bytes_read = seg_stats.bytes_read;
  result.stats.segments_remote = seg_stats.segments_remote;
  result.stats.remote_bytes_read = io.remote_bytes;
  result.stats.remote_requests = io.remote_requests;
  result.stats.cache_hits = io.cache_hits;
  result.stats.cache_misses = io.cache_misses;
  result.stats.cache_bytes_read = io.cache_bytes;
  result.watermark = ds.watermark();
  result.hot_rows = hot_rows;
  return result;
}

}  // namespace

// The latest buckets first: a downsample over time alone, newest first,
// with a limit (TSBS groupby-orderby-limit: "the 5 latest minutes", often
// with no lower bound) needs only the last few buckets that hold data. It is
// run over the `offset + limit` latest buckets, then 4x, 16x ... as many,
// until the window yields `limit` rows after its offset (so it held offset +
// limit buckets with data) or covers the whole range. Windows start on a
// bucket boundary, so every bucket they hold is complete and equals the one
// the full query computes, and the newest offset + limit buckets of a window
// that has that many are the full query's.
absl::StatusOr<QueryResult> Engine::Query(std::string_view slug, QuerySpec spec) {
  const auto t0 = std::chrono::steady_clock::now();
  // One deadline for the whole query (TIMESTORE_QUERY_TIMEOUT), and one for
  // every remote read of it, windows included.
  const auto query_deadline = options_.query_timeout.count() > 0
                                  ? t0 + options_.query_timeout
                                  : std::chrono::steady_clock::time_point::max();
  const auto deadline = std::min(t0 + options_.remote.timeout, query_deadline);
  // What every pass read, whichever answers: the stats are the query's.
  QueryStats spent;
  // Every path (parallel morsels, windows, shortcuts) answers in the mode asked.
  const bool downsampled = spec.downsample.has_value();
  // Freshness, read before the snapshot: requests still in the WAL queue
  // when the query starts are the rows it cannot include.
  bool fresh = true;
  if (auto ds = GetDataset(slug)) {
    const uint32_t inflight = ds->inflight_batches();
    fresh = inflight == 0;
    const std::optional<int64_t> w = ds->watermark();
    auto not_fresh = [&](std::string why) {
      std::string details;
      JsonWriter d(&details);
      d.BeginObject().Key("watermark");
      if (w) {
        d.String(FormatRfc3339(*w));
      } else {
        d.Null();
      }
      d.Key("minWatermark");
      if (spec.min_watermark) {
        d.String(FormatRfc3339(*spec.min_watermark));
      } else {
        d.Null();
      }
      d.Key("inflightRequests").Uint(inflight).EndObject();
      return MakeError(absl::StatusCode::kFailedPrecondition, "not_fresh", why, details);
    };
    if (spec.require_fresh && !fresh) {
      return not_fresh(StrCat("requireFresh: ", inflight, " ingest request(s) for dataset \"", slug,
                              "\" are being made durable and are not visible yet; retry"));
    }
    if (spec.min_watermark && (!w || *w < *spec.min_watermark)) {
      return not_fresh(StrCat("minWatermark ", FormatRfc3339(*spec.min_watermark),
                              " is not reached: dataset \"", slug, "\" holds rows up to ",
                              w ? FormatRfc3339(*w) : std::string("nothing yet")));
    }
  }
  auto finish = [&](QueryResult r) {
    r.downsampled = downsampled;
    r.fresh = fresh;
    QueryStats& s = r.stats;
    s.bytes_read += spent.bytes_read;
    s.remote_bytes_read += spent.remote_bytes_read;
    s.remote_requests += spent.remote_requests;
    s.cache_hits += spent.cache_hits;
    s.cache_misses += spent.cache_misses;
    s.cache_bytes_read += spent.cache_bytes_read;
    s.rows_scanned += spent.rows_scanned;
    s.elapsed_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return r;
  };
  if (spec.downsample && spec.downsample->has_interval && spec.downsample->interval_ns > 0 &&
      spec.downsample->group_by.empty() && spec.descending && spec.limit > 0 &&
      RowsToRank(spec) <= 100'000 && spec.end > spec.start) {
    const int64_t iv = spec.downsample->interval_ns;
    // Windows never reach below the oldest stored row: once one would, the
    // full query runs (so a range with fewer than `limit` buckets of data
    // costs at most the windows below the data's start, then one full query).
    int64_t data_min = std::numeric_limits<int64_t>::max();
    if (auto ds = GetDataset(slug)) {
      for (const SegmentPtr& seg : ds->segments())
        if (seg->record.rows > 0) data_min = std::min(data_min, seg->record.min_ts);
      if (auto hot = ds->hot_min_ts()) data_min = std::min(data_min, *hot);
    }
    const int64_t floor = std::max(spec.start, data_min);
    const int64_t last_bucket = FloorToMultiple(spec.end - 1, iv);
    for (__int128 span = RowsToRank(spec);; span *= 4) {
      const __int128 from = static_cast<__int128>(last_bucket) - (span - 1) * iv;
      if (from <= floor) break;  // the window would hold all the rows in range
      QuerySpec window = spec;
      window.start = static_cast<int64_t>(from);
      ASSIGN_OR_RETURN(QueryResult r,
                       QueryOnce(slug, std::move(window), spec.start, deadline, query_deadline));
      if (r.rows >= spec.limit) return finish(std::move(r));
      spent.bytes_read += r.stats.bytes_read;
      spent.remote_bytes_read += r.stats.remote_bytes_read;
      spent.remote_requests += r.stats.remote_requests;
      spent.cache_hits += r.stats.cache_hits;
      spent.cache_misses += r.stats.cache_misses;
      spent.cache_bytes_read += r.stats.cache_bytes_read;
      spent.rows_scanned += r.stats.rows_scanned;
    }
  }
  const int64_t range_start = spec.start;
  ASSIGN_OR_RETURN(QueryResult r,
                   QueryOnce(slug, std::move(spec), range_start, deadline, query_deadline));
  return finish(std::move(r));
}

absl::Status Engine::ReadSegments(std::vector<SegmentRead>& reads, IoStats* io, bool remote_only) {
  std::vector<SegmentRead*> remote;
  for (SegmentRead& r : reads) {
    if (r.footer_chunk != nullptr) continue;
    if (r.seg->remote() && fetch_pool_ != nullptr) {
      remote.push_back(&r);
      continue;
    }
    if (remote_only) continue;
    ASSIGN_OR_RETURN(r.decoded,
                     r.seg->reader->ReadBlocks(r.blocks, r.read_cols, &r.bytes_read, io));
  }
  if (remote.empty()) return absl::OkStatus();
  // Each remote read waits on the network: they run side by side, each
  // bounded by the remote timeout, and the first error (in segment order)
  // fails the query.
  std::vector<absl::Status> status(remote.size());
  std::vector<IoStats> stats(remote.size());
  std::atomic<bool> failed{false};
  std::vector<std::function<void()>> tasks;
  for (size_t i = 0; i < remote.size(); ++i) {
    stats[i].deadline = io->deadline;
    tasks.push_back([&, i] {
      if (failed.load(std::memory_order_relaxed)) {
        status[i] = absl::CancelledError("another read of the query failed");
        return;
      }
      SegmentRead& r = *remote[i];
      auto d = r.seg->reader->ReadBlocks(r.blocks, r.read_cols, &r.bytes_read, &stats[i]);
      if (d.ok()) {
        r.decoded = *std::move(d);
      } else {
        status[i] = d.status();
        failed.store(true, std::memory_order_relaxed);
      }
    });
  }
  if (tasks.size() == 1) {
    tasks[0]();
  } else {
    fetch_pool_->RunAll(tasks);
  }
  for (const IoStats& s : stats) io->Add(s);
  // The first real failure (in segment order); a read skipped after it is not one.
  for (const absl::Status& s : status) {
    if (!s.ok() && !absl::IsCancelled(s)) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<QueryResult> Engine::QueryOnce(
    std::string_view slug, QuerySpec spec, int64_t range_start,
    std::chrono::steady_clock::time_point deadline,
    std::chrono::steady_clock::time_point query_deadline) {
  auto ds = GetDataset(slug);
  if (ds == nullptr) return NotFound(slug);
  // What the answer is read from (QueryResult::source): each read once here.
  const SchemaPtr dataset_schema = ds->schema();
  const std::optional<DedupSettings> dedup_settings = ds->dedup();
  // Paths into json columns become derived fields of a query schema.
  SchemaPtr schema = WithJsonPaths(spec, dataset_schema);
  RETURN_IF_ERROR(ValidateQuery(&spec, *schema));
  // One consistent snapshot: segments, then the segment being sealed, then
  // the active rows. A seal swaps frozen rows for segments under the same lock.
  std::vector<SegmentPtr> segments;
  std::vector<ChunkPtr> hot;
  uint64_t hot_rows = 0;
  {
    std::lock_guard<std::mutex> l(ds->version_mu_);
    segments = ds->segments_;
    if (ds->frozen_) {
      hot = ds->frozen_->Snapshot();
      hot_rows += ds->frozen_->rows();
    }
    auto active = ds->active_->Snapshot();
    hot.insert(hot.end(), active.begin(), active.end());
    hot_rows += ds->active_->rows();
  }
  // The snapshot's token over the range asked; none when rows in memory fall
  // in it (a chunk's min/max bound its rows).
  std::shared_ptr<ResultToken> source;
  if (std::none_of(hot.begin(), hot.end(), [&](const ChunkPtr& c) {
        return c->rows > 0 && c->min_ts < spec.end && c->max_ts >= range_start;
      })) {
    source = std::make_shared<ResultToken>();
    source->dataset_id = ds->id();
    source->schema = dataset_schema;
    source->dedup = dedup_settings;
    source->segments = SegmentIdsInRange(segments, range_start, spec.end);
  }
  std::vector<bool> need = NeededColumns(spec, *schema);
  MarkDerivedBases(*schema, &need);
  // Merge on read: duplicates are dropped before filtering, so a block may be
  // skipped only for its time range or a filter on a key column (a row's
  // duplicates share those values); other filters could hide the winner.
  const std::optional<DedupPlan> dedup = MakeDedupPlan(dedup_settings, *schema);
  std::vector<bool> prunable(schema->fields.size(), true);
  if (dedup) {
    prunable.assign(schema->fields.size(), false);
    prunable[dedup->time_index] = true;
    for (int k : dedup->key_columns) need[k] = prunable[k] = true;
  }
  // A derived field has no zone maps (its segment column is absent, which
  // would otherwise read as all null).
  for (const DerivedField& d : schema->derived) prunable[d.index] = false;
  QueryStats seg_stats;
  absl::flat_hash_set<int64_t> partitions;
  const int last_key = LatestPerSeriesKey(spec, *schema, dedup.has_value());
  // Plan every segment first (pruning needs only footers, local for remote
  // segments too), then read: remote segments side by side.
  std::vector<SegmentRead> reads;
  for (const SegmentPtr& seg : segments) {
    const segment::SegmentMeta& meta = seg->reader->meta();
    if (meta.rows == 0 || meta.max_ts < spec.start || meta.min_ts >= spec.end) {
      ++seg_stats.segments_pruned;
      continue;
    }
    SegmentRead read;
    read.seg = seg.get();
    // Dataset column -> segment column (by name, or the name a migration
    // under way mapped it from; a column added after the segment was written,
    // or whose type differs, reads as null).
    std::vector<int> seg_col(schema->fields.size(), -1);
    for (size_t i = 0; i < schema->fields.size(); ++i) {
      int sc = i < schema->fields.size() - schema->derived.size()
                   ? SegmentColumnFor(*schema, i, meta)
                   : -1;
      seg_col[i] = sc;
      if (need[i] && sc >= 0) {
        read.read_cols.push_back(sc);
        read.read_targets.push_back(static_cast<int>(i));
      }
    }
    // "The newest values per series" from the footer alone, when the whole
    // segment is in range and it is sorted by that series column.
    if (last_key >= 0 && !meta.series_last.empty() && meta.sort_key.size() == 2 &&
        meta.sort_key[0] == schema->fields[last_key].name && seg_col[last_key] >= 0 &&
        meta.min_ts >= spec.start && meta.max_ts < spec.end) {
      ++seg_stats.segments_scanned;
      partitions.insert(meta.partition_start);
      read.footer_chunk = SeriesLastChunk(meta, *schema, seg_col, need, last_key);
      reads.push_back(std::move(read));
      continue;
    }
    const auto& time_blocks = meta.columns[meta.time_column].blocks;
    for (size_t b = 0; b < time_blocks.size(); ++b) {
      const auto& tb = time_blocks[b];
      if (tb.max_int < spec.start || tb.min_int >= spec.end) continue;
      bool keep = true;
      for (const auto& f : spec.filters) {
        keep = LeafMayMatch(f, meta, b, seg_col, prunable, spec.precision);
        if (!keep) break;
      }
      for (size_t t = 0; keep && t < spec.filter_trees.size(); ++t)
        keep = TreeMayMatch(spec.filter_trees[t], meta, b, seg_col, prunable, spec.precision);
      if (keep) read.blocks.push_back(b);
    }
    seg_stats.blocks_scanned += read.blocks.size();
    seg_stats.blocks_pruned += time_blocks.size() - read.blocks.size();
    if (read.blocks.empty()) {
      ++seg_stats.segments_pruned;
      continue;
    }
    ++seg_stats.segments_scanned;
    if (seg->remote()) ++seg_stats.segments_remote;
    partitions.insert(meta.partition_start);
    reads.push_back(std::move(read));
  }
  IoStats io;
  io.deadline = deadline;
  QueryLimits limits{query_deadline, options_.query_max_memory, spec.cancelled.get()};
  QueryResult result;
  if (spec.downsample && !dedup) {
    // Streaming: blocks are decoded, aggregated and dropped, many at once.
    ASSIGN_OR_RETURN(result, ScanDownsample(ds->id(), spec, *schema, reads, hot, limits, &io,
                                            &seg_stats.bytes_read));
    return FinishScan(std::move(result), seg_stats, partitions.size(), io, *ds, hot_rows,
                      std::move(source));
  }
  if (!dedup) {
    // Streaming: time-disjoint windows of segments, in query order, until
    // `limit` rows are out.
    ASSIGN_OR_RETURN(
        result, ScanRaw(ds->id(), spec, *schema, reads, hot, limits, &io, &seg_stats.bytes_read));
    return FinishScan(std::move(result), seg_stats, partitions.size(), io, *ds, hot_rows,
                      std::move(source));
  }
  // Dedup needs every chunk at once, and rewrites them column by column.
  RETURN_IF_ERROR(ReadSegments(reads, &io));
  RETURN_IF_ERROR(CheckDeadline(limits.deadline, limits.cancelled));
  std::vector<ChunkPtr> chunks;
  uint64_t memory = 0;
  for (SegmentRead& read : reads) {
    seg_stats.bytes_read += read.bytes_read;
    for (size_t k = 0; k < read.blocks.size(); ++k) {
      memory += DecodedBytes(read.decoded[k]);
      chunks.push_back(BlockChunk(read, k, std::move(read.decoded[k]), *schema));
    }
    read.decoded.clear();
    if (limits.max_memory > 0 && memory > limits.max_memory) {
      return MemoryLimit(limits.max_memory, "the raw rows in range");
    }
  }
  const size_t segment_chunks = chunks.size();
  chunks.insert(chunks.end(), hot.begin(), hot.end());
  chunks = DedupChunks(chunks, *dedup);
  ASSIGN_OR_RETURN(result, ExecuteQuery(spec, *schema, chunks));
  // The executor counted every chunk; the segment blocks are reported apart.
  result.stats.hot_chunks_scanned -=
      std::min<uint64_t>(result.stats.hot_chunks_scanned, segment_chunks);
  return FinishScan(std::move(result), seg_stats, partitions.size(), io, *ds, hot_rows,
                    std::move(source));
}

}  // namespace timestore
