// Scans that stream blocks through the operators: downsamples as morsels on
// the query pool, raw rows a time-disjoint window at a time, and the
// decoded-block cache both read through.
#include <algorithm>
#include <functional>
#include <limits>
#include <span>

#include "common/status_macros.h"
#include "engine/engine.h"
#include "engine/filters.h"
#include "engine/grouped_aggregate.h"
#include "engine/query_executor.h"
#include "engine/scan_internal.h"

namespace timestore {
using scan_internal::BlockChunk;
using scan_internal::CheckDeadline;
using scan_internal::DecodedBytes;
using scan_internal::MemoryLimit;

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
    if (!c->MeetsRange(spec.start, spec.end)) {
      ++out.stats.hot_chunks_pruned;
    } else {
      ++out.stats.hot_chunks_scanned;
      hot_rows_scanned += c->rows;
    }
  }
  out.stats.rows_scanned = hot_rows_scanned;
  bool first = true;
  // The offset is spent window by window, in query order: a window skips
  // what is left of it, and says how many rows it skipped.
  uint64_t to_skip = spec.offset;
  for (size_t v : visit) {
    const Window& w = windows[v];
    QuerySpec sub = spec;
    sub.start = w.lo;
    sub.end = v + 1 < windows.size() ? windows[v + 1].lo : spec.end;
    sub.limit = spec.limit - out.rows;
    sub.offset = to_skip;
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
    uint64_t skipped = 0;
    ASSIGN_OR_RETURN(QueryResult part, ExecuteQuery(sub, schema, chunks, &skipped));
    to_skip -= skipped;
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
      if (!IsStringLike(col.type)) continue;
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
  ASSIGN_OR_RETURN(CompiledPredicate filters, CompileFilters(spec, schema));
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
