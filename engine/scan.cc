// Engine queries: snapshot, pruning by time and zone maps, the footer shortcut
// for lastpoint, block reads, then the executor.
#include <chrono>
#include <functional>
#include <map>
#include <random>
#include <span>

#include "absl/container/flat_hash_set.h"
#include "common/crash_point.h"
#include "common/status_macros.h"
#include "common/status_util.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "engine/dedup.h"
#include "engine/engine.h"
#include "engine/engine_internal.h"
#include "engine/filters.h"
#include "engine/grouped_aggregate.h"
#include "engine/query_executor.h"
#include "engine/row_compare.h"
#include "spdlog/spdlog.h"

namespace timestore {
using engine_internal::NotFound;
using engine_internal::WalDir;

namespace {

// Whether a block whose zone map is `b` may hold a row passing `f`. Only
// comparisons that are false for null and NaN prune; anything uncertain keeps
// the block.
bool BlockMayMatch(const Filter& f, ColumnType type, const segment::BlockInfo& b,
                   Precision precision) {
  if (f.op == FilterOp::kIsNull) return b.null_count > 0;
  if (b.null_count == b.rows) return false;  // every comparison with null is false
  if (f.op == FilterOp::kIsNotNull || f.op == FilterOp::kNeq || !b.has_minmax) return true;
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
        } else if (l.kind == Literal::Kind::kDouble) {
          m = may(b.min_double, b.max_double, l.d);
        }
        break;
      case ColumnType::kInteger:
        if (l.kind == Literal::Kind::kInt) {
          m = may(b.min_int, b.max_int, l.i);
        } else if (l.kind == Literal::Kind::kDouble) {
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
        if (l.kind == Literal::Kind::kString) {
          m = may(std::string_view(b.min_string), std::string_view(b.max_string),
                  std::string_view(l.s));
        }
        break;
      case ColumnType::kBoolean:
        if (l.kind == Literal::Kind::kBool) m = may(b.min_int, b.max_int, int64_t{l.b ? 1 : 0});
        break;
    }
    if (l.kind == Literal::Kind::kNull) m = false;  // comparing with null is false
    if (m) return true;
    if (f.op != FilterOp::kIn) return false;
  }
  return f.op != FilterOp::kIn;  // an empty in-list matches nothing
}

// The group column when `spec` asks only for the newest values per series
// (lastpoint: a downsample without an interval, grouped by one string column,
// of `last` of any columns and `max` of the time column, no filters), which a
// segment's footer answers (SegmentMeta::series_last); -1 otherwise. Not with
// dedup: a duplicate's null would hide an older value the footer still shows.
int LatestPerSeriesKey(const QuerySpec& spec, const Schema& schema, bool dedup) {
  if (dedup || !spec.downsample || spec.downsample->has_interval || !spec.filters.empty() ||
      spec.downsample->group_by.size() != 1 || spec.downsample->aggregations.empty()) {
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
          case ColumnType::kString:
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

// Bytes of decoded column vectors (for the per-query memory limit).
uint64_t DecodedBytes(const std::vector<ColumnVector>& cols) {
  uint64_t bytes = 0;
  for (const ColumnVector& c : cols) {
    bytes += c.ints.capacity() * sizeof(int64_t) + c.doubles.capacity() * sizeof(double) +
             c.bools.capacity() + c.ids.capacity() * sizeof(uint32_t) + c.valid.capacity();
    for (const std::string& d : c.dict) bytes += d.capacity() + sizeof(std::string);
  }
  return bytes;
}

// Block k of a read as a chunk with the dataset's columns: `cols` are the
// read's columns, in read_cols order; the others read as null.
template <typename Read>
ChunkPtr BlockChunk(const Read& read, size_t k, std::vector<ColumnVector> cols,
                    const Schema& schema) {
  const segment::SegmentMeta& meta = read.seg->reader->meta();
  const segment::BlockInfo& tb = meta.columns[meta.time_column].blocks[read.blocks[k]];
  auto chunk = std::make_shared<Chunk>();
  chunk->rows = tb.rows;
  chunk->time_index = schema.time_index();
  chunk->columns.resize(schema.fields.size());
  std::vector<bool> filled(schema.fields.size(), false);
  for (size_t j = 0; j < read.read_cols.size(); ++j) {
    chunk->columns[read.read_targets[j]] = std::move(cols[j]);
    filled[read.read_targets[j]] = true;
  }
  for (size_t i = 0; i < filled.size(); ++i) {
    if (!filled[i]) chunk->columns[i] = ColumnVector::AllNull(schema.fields[i].type, chunk->rows);
  }
  chunk->min_ts = tb.min_int;
  chunk->max_ts = tb.max_int;
  return chunk;
}

absl::Status MemoryLimit(uint64_t limit, std::string_view what) {
  return MakeError(
      absl::StatusCode::kOutOfRange, "query_memory_limit",
      StrCat("the query needs more than TIMESTORE_QUERY_MAX_MEMORY (", limit, " bytes) for ", what,
             "; narrow the time range, filter, or aggregate over fewer groups"),
      ErrorDetails(-1, "", "", ""));
}

absl::Status CheckDeadline(std::chrono::steady_clock::time_point deadline,
                           const std::atomic<bool>* cancelled) {
  if (cancelled != nullptr && cancelled->load(std::memory_order_relaxed)) {
    return MakeError(absl::StatusCode::kCancelled, "query_cancelled",
                     "the client closed the connection; the query was stopped", "");
  }
  if (std::chrono::steady_clock::now() < deadline) return absl::OkStatus();
  return MakeError(absl::StatusCode::kDeadlineExceeded, "query_timeout",
                   "the query ran longer than TIMESTORE_QUERY_TIMEOUT and was stopped; narrow "
                   "the time range or downsample",
                   "");
}

// Fills the scan's stats into an executed result.
QueryResult FinishScan(QueryResult result, const QueryStats& seg_stats, size_t partitions,
                       const IoStats& io, const Dataset& ds, uint64_t hot_rows) {
  result.stats.segments_scanned = seg_stats.segments_scanned;
  result.stats.segments_pruned = seg_stats.segments_pruned;
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
// run over the `limit` latest buckets, then 4x, 16x ... as many, until the
// window yields `limit` rows or covers the whole range. Windows start on a
// bucket boundary, so every bucket they hold is complete and equals the one
// the full query computes.
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
  auto finish = [&](QueryResult r) {
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
      spec.limit <= 100'000 && spec.end > spec.start) {
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
    for (__int128 span = spec.limit;; span *= 4) {
      const __int128 from = static_cast<__int128>(last_bucket) - (span - 1) * iv;
      if (from <= floor) break;  // the window would hold all the rows in range
      QuerySpec window = spec;
      window.start = static_cast<int64_t>(from);
      ASSIGN_OR_RETURN(QueryResult r, QueryOnce(slug, std::move(window), deadline, query_deadline));
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
  ASSIGN_OR_RETURN(QueryResult r, QueryOnce(slug, std::move(spec), deadline, query_deadline));
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
    std::string_view slug, QuerySpec spec, std::chrono::steady_clock::time_point deadline,
    std::chrono::steady_clock::time_point query_deadline) {
  auto ds = GetDataset(slug);
  if (ds == nullptr) return NotFound(slug);
  SchemaPtr schema = ds->schema();
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
  std::vector<bool> need = NeededColumns(spec, *schema);
  // Merge on read: duplicates are dropped before filtering, so a block may be
  // skipped only for its time range or a filter on a key column (a row's
  // duplicates share those values); other filters could hide the winner.
  const std::optional<DedupPlan> dedup = MakeDedupPlan(ds->dedup(), *schema);
  std::vector<bool> prunable(schema->fields.size(), true);
  if (dedup) {
    prunable.assign(schema->fields.size(), false);
    prunable[dedup->time_index] = true;
    for (int k : dedup->key_columns) need[k] = prunable[k] = true;
  }
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
    // Dataset column -> segment column (by name; a column added after the
    // segment was written, or whose type differs, reads as null).
    std::vector<int> seg_col(schema->fields.size(), -1);
    for (size_t i = 0; i < schema->fields.size(); ++i) {
      int sc = meta.ColumnIndex(schema->fields[i].name);
      if (sc >= 0 && meta.columns[sc].type != schema->fields[i].type) sc = -1;
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
        if (!prunable[f.index]) continue;
        int sc = seg_col[f.index];
        if (sc < 0) {
          // Absent from this segment: every value is null.
          keep = f.op == FilterOp::kIsNull;
        } else {
          keep =
              BlockMayMatch(f, meta.columns[sc].type, meta.columns[sc].blocks[b], spec.precision);
        }
        if (!keep) break;
      }
      if (keep) read.blocks.push_back(b);
    }
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
    return FinishScan(std::move(result), seg_stats, partitions.size(), io, *ds, hot_rows);
  }
  if (!dedup) {
    // Streaming: time-disjoint windows of segments, in query order, until
    // `limit` rows are out.
    ASSIGN_OR_RETURN(
        result, ScanRaw(ds->id(), spec, *schema, reads, hot, limits, &io, &seg_stats.bytes_read));
    return FinishScan(std::move(result), seg_stats, partitions.size(), io, *ds, hot_rows);
  }
  // Dedup needs every chunk at once, and rewrites them column by column.
  const bool cached = false;
  RETURN_IF_ERROR(ReadSegments(reads, &io, /*remote_only=*/cached));
  RETURN_IF_ERROR(CheckDeadline(limits.deadline, limits.cancelled));
  std::vector<ChunkPtr> chunks;
  uint64_t memory = 0;
  for (SegmentRead& read : reads) {
    if (read.footer_chunk != nullptr) {
      chunks.push_back(std::move(read.footer_chunk));
      continue;
    }
    if (cached && UseDecodedCache(read)) {
      for (size_t k = 0; k < read.blocks.size(); ++k) {
        ASSIGN_OR_RETURN(ChunkPtr c, CachedBlockChunk(ds->id(), read, k, *schema, &read.bytes_read,
                                                      &io, &memory));
        chunks.push_back(std::move(c));
        if (limits.max_memory > 0 && memory > limits.max_memory) {
          return MemoryLimit(limits.max_memory, "the raw rows in range");
        }
      }
      seg_stats.bytes_read += read.bytes_read;
      continue;
    }
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
  if (dedup) chunks = DedupChunks(chunks, *dedup);
  ASSIGN_OR_RETURN(result, ExecuteQuery(spec, *schema, chunks));
  // The executor counted every chunk; the segment blocks are reported apart.
  result.stats.hot_chunks_scanned -=
      std::min<uint64_t>(result.stats.hot_chunks_scanned, segment_chunks);
  return FinishScan(std::move(result), seg_stats, partitions.size(), io, *ds, hot_rows);
}

absl::StatusOr<QueryResult> Engine::ScanRaw(uint64_t dataset_id, const QuerySpec& spec,
                                            const Schema& schema, std::vector<SegmentRead>& reads,
                                            const std::vector<ChunkPtr>& hot,
                                            const QueryLimits& limits, IoStats* io,
                                            uint64_t* bytes_read) {
  RETURN_IF_ERROR(ReadSegments(reads, io, /*remote_only=*/true));
  // Groups of reads whose time ranges overlap (a partition's segments), in
  // time order; groups are disjoint in time.
  std::vector<SegmentRead*> order;
  for (SegmentRead& r : reads) order.push_back(&r);
  auto min_of = [](const SegmentRead* r) { return r->seg->reader->meta().min_ts; };
  auto max_of = [](const SegmentRead* r) { return r->seg->reader->meta().max_ts; };
  std::stable_sort(order.begin(), order.end(), [&](const SegmentRead* a, const SegmentRead* b) {
    return min_of(a) < min_of(b);
  });
  struct Window {
    int64_t lo = 0;  // the window is [lo, next window's lo)
    std::vector<SegmentRead*> reads;
  };
  std::vector<Window> windows;
  int64_t group_max = std::numeric_limits<int64_t>::min();
  for (SegmentRead* r : order) {
    if (windows.empty() || min_of(r) > group_max) {
      windows.push_back({std::max(spec.start, min_of(r)), {}});
      group_max = max_of(r);
    }
    group_max = std::max(group_max, max_of(r));
    windows.back().reads.push_back(r);
  }
  if (windows.empty() || windows.front().lo > spec.start)
    windows.insert(windows.begin(), {spec.start, {}});
  // Segment chunks keep segment order inside a window (ties keep ingest order).
  for (Window& w : windows) {
    std::sort(w.reads.begin(), w.reads.end());
  }
  std::vector<size_t> visit(windows.size());
  for (size_t i = 0; i < visit.size(); ++i) visit[i] = spec.descending ? visit.size() - 1 - i : i;

  QueryResult out;
  uint64_t hot_rows_scanned = 0;
  for (const ChunkPtr& c : hot) {
    if (c->rows == 0 || c->max_ts < spec.start || c->min_ts >= spec.end) {
      ++out.stats.hot_chunks_pruned;
    } else {
      ++out.stats.hot_chunks_scanned;
      hot_rows_scanned += c->rows;
    }
  }
  out.stats.rows_scanned = hot_rows_scanned;
  bool first = true;
  for (size_t v : visit) {
    const Window& w = windows[v];
    QuerySpec sub = spec;
    sub.start = w.lo;
    sub.end = v + 1 < windows.size() ? windows[v + 1].lo : spec.end;
    sub.limit = spec.limit - out.rows;
    if (sub.start >= sub.end) continue;
    std::vector<ChunkPtr> chunks;
    uint64_t memory = 0;
    for (SegmentRead* r : w.reads) {
      if (!r->decoded.empty() || !UseDecodedCache(*r)) {
        if (r->decoded.empty()) {
          ASSIGN_OR_RETURN(r->decoded,
                           r->seg->reader->ReadBlocks(r->blocks, r->read_cols, &r->bytes_read, io));
        }
        for (size_t k = 0; k < r->blocks.size(); ++k) {
          memory += DecodedBytes(r->decoded[k]);
          chunks.push_back(BlockChunk(*r, k, std::move(r->decoded[k]), schema));
        }
        r->decoded.clear();
      } else {
        for (size_t k = 0; k < r->blocks.size(); ++k) {
          ASSIGN_OR_RETURN(
              ChunkPtr c, CachedBlockChunk(dataset_id, *r, k, schema, &r->bytes_read, io, &memory));
          chunks.push_back(std::move(c));
        }
      }
      *bytes_read += r->bytes_read;
      if (limits.max_memory > 0 && memory > limits.max_memory) {
        return MemoryLimit(limits.max_memory, "the raw rows of one partition");
      }
    }
    for (const ChunkPtr& c : chunks) out.stats.rows_scanned += c->rows;
    chunks.insert(chunks.end(), hot.begin(), hot.end());
    ASSIGN_OR_RETURN(QueryResult part, ExecuteQuery(sub, schema, chunks));
    RETURN_IF_ERROR(CheckDeadline(limits.deadline, limits.cancelled));
    if (first) {
      out.columns = std::move(part.columns);
      out.rows = part.rows;
      first = false;
    } else {
      for (size_t k = 0; k < out.columns.size(); ++k) {
        ResultColumn& to = out.columns[k];
        ResultColumn& from = part.columns[k];
        to.valid.insert(to.valid.end(), from.valid.begin(), from.valid.end());
        to.ints.insert(to.ints.end(), from.ints.begin(), from.ints.end());
        to.doubles.insert(to.doubles.end(), from.doubles.begin(), from.doubles.end());
        to.strings.insert(to.strings.end(), from.strings.begin(), from.strings.end());
      }
      out.rows += part.rows;
    }
    // Strings are views into this window's chunks: copied out, so the
    // chunks can go.
    for (ResultColumn& col : out.columns) {
      if (col.type != ColumnType::kString) continue;
      for (size_t i = col.strings.size() - part.rows; i < col.strings.size(); ++i) {
        if (col.strings[i].empty()) continue;
        col.strings[i] = out.owned_strings.emplace_back(col.strings[i]);
      }
    }
    if (out.rows >= spec.limit) break;
  }
  if (first) {
    // No window: the executor still names the columns.
    ASSIGN_OR_RETURN(QueryResult empty, ExecuteQuery(spec, schema, {}));
    out.columns = std::move(empty.columns);
  }
  out.downsampled = false;
  out.keepalive = hot;
  return out;
}

absl::StatusOr<ChunkPtr> Engine::CachedBlockChunk(uint64_t dataset_id, const SegmentRead& r,
                                                  size_t k, const Schema& schema,
                                                  uint64_t* bytes_read, IoStats* io,
                                                  uint64_t* held) {
  const size_t block = r.blocks[k];
  const uint64_t segment = r.seg->record.id;
  std::vector<DecodedCache::ColumnPtr> cols(r.read_cols.size());
  std::vector<int> missing;
  std::vector<size_t> missing_at;
  for (size_t j = 0; j < r.read_cols.size(); ++j) {
    cols[j] = decoded_cache_->Get(
        {dataset_id, segment, static_cast<uint32_t>(block), static_cast<int32_t>(r.read_cols[j])});
    if (cols[j] == nullptr) {
      missing.push_back(r.read_cols[j]);
      missing_at.push_back(j);
    }
  }
  if (!missing.empty()) {
    ASSIGN_OR_RETURN(auto d, r.seg->reader->ReadBlocks(std::span<const size_t>(&block, 1), missing,
                                                       bytes_read, io));
    for (size_t m = 0; m < missing.size(); ++m) {
      auto col = std::make_shared<const ColumnVector>(std::move(d[0][m]));
      decoded_cache_->Put(
          {dataset_id, segment, static_cast<uint32_t>(block), static_cast<int32_t>(missing[m])},
          col);
      cols[missing_at[m]] = std::move(col);
    }
  }
  const segment::SegmentMeta& meta = r.seg->reader->meta();
  const segment::BlockInfo& tb = meta.columns[meta.time_column].blocks[block];
  auto chunk = std::make_shared<Chunk>();
  chunk->rows = tb.rows;
  chunk->time_index = schema.time_index();
  chunk->min_ts = tb.min_int;
  chunk->max_ts = tb.max_int;
  // Columns the query does not read, or the segment lacks, stay null (all null).
  chunk->shared_columns.resize(schema.fields.size());
  for (size_t j = 0; j < r.read_cols.size(); ++j) {
    *held += cols[j]->MemoryBytes();
    chunk->shared_columns[r.read_targets[j]] = std::move(cols[j]);
  }
  return ChunkPtr(std::move(chunk));
}

absl::StatusOr<QueryResult> Engine::ScanDownsample(uint64_t dataset_id, const QuerySpec& spec,
                                                   const Schema& schema,
                                                   std::vector<SegmentRead>& reads,
                                                   const std::vector<ChunkPtr>& hot,
                                                   const QueryLimits& limits, IoStats* io,
                                                   uint64_t* bytes_read) {
  ASSIGN_OR_RETURN(std::vector<CompiledFilter> filters, CompileFilters(spec, schema));
  GroupedAggregate op(spec, schema, filters);
  // Remote segments are fetched first, side by side (their ranges merged per
  // segment); local blocks are read by the morsel that aggregates them.
  RETURN_IF_ERROR(ReadSegments(reads, io, /*remote_only=*/true));
  struct Morsel {
    SegmentRead* read = nullptr;
    size_t k = 0;
    ChunkPtr chunk;
  };
  std::vector<Morsel> morsels;
  for (SegmentRead& read : reads) {
    if (read.footer_chunk != nullptr) {
      morsels.push_back({nullptr, 0, std::move(read.footer_chunk)});
      continue;
    }
    *bytes_read += read.bytes_read;  // remote reads, done above
    for (size_t k = 0; k < read.blocks.size(); ++k) morsels.push_back({&read, k, nullptr});
  }
  for (const ChunkPtr& c : hot) morsels.push_back({nullptr, 0, c});

  // Waves of morsels: aggregated side by side, merged in order (so the
  // answer does not depend on the thread count), then dropped.
  const size_t wave = static_cast<size_t>(query_threads_) * 4;
  std::vector<std::unique_ptr<GroupedAggregate::Partial>> partials(wave);
  std::vector<absl::Status> status(wave);
  std::vector<IoStats> ios(wave);
  std::vector<uint64_t> bytes(wave), decoded(wave);
  std::vector<std::function<void()>> tasks;
  for (size_t first = 0; first < morsels.size(); first += wave) {
    const size_t n = std::min(wave, morsels.size() - first);
    tasks.clear();
    for (size_t i = 0; i < n; ++i) {
      status[i] = absl::OkStatus();
      ios[i] = IoStats{};
      ios[i].deadline = io->deadline;
      bytes[i] = decoded[i] = 0;
      tasks.push_back([&, i, m = &morsels[first + i]] {
        ChunkPtr c = std::move(m->chunk);
        if (c == nullptr) {
          SegmentRead& r = *m->read;
          if (r.decoded.empty() && UseDecodedCache(r)) {
            auto cached =
                CachedBlockChunk(dataset_id, r, m->k, schema, &bytes[i], &ios[i], &decoded[i]);
            if (!cached.ok()) {
              status[i] = cached.status();
              return;
            }
            partials[i] = op.Aggregate(*std::move(cached));
            return;
          }
          std::vector<ColumnVector> cols;
          if (!r.decoded.empty()) {
            cols = std::move(r.decoded[m->k]);
          } else {
            const size_t block = r.blocks[m->k];
            auto d = r.seg->reader->ReadBlocks(std::span<const size_t>(&block, 1), r.read_cols,
                                               &bytes[i], &ios[i]);
            if (!d.ok()) {
              status[i] = d.status();
              return;
            }
            cols = std::move((*d)[0]);
          }
          decoded[i] = DecodedBytes(cols);
          c = BlockChunk(r, m->k, std::move(cols), schema);
        }
        partials[i] = op.Aggregate(std::move(c));
      });
    }
    if (query_pool_ != nullptr && n > 1) {
      query_pool_->RunAll(tasks);
    } else {
      for (auto& t : tasks) t();
    }
    uint64_t in_flight = 0;
    for (size_t i = 0; i < n; ++i) {
      io->Add(ios[i]);
      *bytes_read += bytes[i];
      in_flight += decoded[i];
    }
    for (size_t i = 0; i < n; ++i) RETURN_IF_ERROR(status[i]);
    for (size_t i = 0; i < n; ++i) RETURN_IF_ERROR(op.Merge(std::move(partials[i])));
    if (limits.max_memory > 0 && op.MemoryBytes() + in_flight > limits.max_memory) {
      return MemoryLimit(limits.max_memory, "the groups and aggregates of this downsample");
    }
    RETURN_IF_ERROR(CheckDeadline(limits.deadline, limits.cancelled));
  }
  return op.Finish(QueryResult{});
}

}  // namespace timestore
