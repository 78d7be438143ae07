#include "compaction/merger.h"

#include <algorithm>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "engine/row_compare.h"
#include "engine/segment_columns.h"

namespace timestore::compaction {
namespace {

using Block = std::vector<ColumnVector>;  // one decoded block, by output column

// Reads one input segment block by block.
class Cursor {
 public:
  Cursor(SegmentPtr seg, const Schema& schema, int order)
      : seg_(std::move(seg)), order_(order), out_types_(schema.fields.size()) {
    const segment::SegmentMeta& meta = seg_->reader->meta();
    for (size_t i = 0; i < schema.fields.size(); ++i) {
      out_types_[i] = schema.fields[i].type;
      int sc = SegmentColumnFor(schema, i, meta);
      if (sc >= 0) {
        read_cols_.push_back(sc);
        targets_.push_back(static_cast<int>(i));
      }
    }
    blocks_ = meta.num_blocks();
  }

  // Loads the next non-empty block; false at the end.
  absl::StatusOr<bool> Next(MergeResult* stats, const MergeOptions& options) {
    while (next_block_ < blocks_) {
      if (options.stop != nullptr && options.stop->load(std::memory_order_relaxed)) {
        return absl::CancelledError("compaction stopped");
      }
      const size_t b = next_block_++;
      uint64_t bytes = 0;
      ASSIGN_OR_RETURN(auto decoded, seg_->reader->ReadBlocks(std::span<const size_t>(&b, 1),
                                                              read_cols_, &bytes));
      stats->bytes_read += bytes;
      if (options.throttle != nullptr && !options.throttle->Acquire(bytes, options.stop)) {
        return absl::CancelledError("compaction stopped");
      }
      auto block = std::make_shared<Block>(out_types_.size());
      std::vector<bool> filled(out_types_.size(), false);
      uint32_t rows = 0;
      for (size_t j = 0; j < targets_.size(); ++j) {
        rows = static_cast<uint32_t>(decoded[0][j].size());
        (*block)[targets_[j]] = std::move(decoded[0][j]);
        filled[targets_[j]] = true;
      }
      if (rows == 0) continue;
      for (size_t i = 0; i < filled.size(); ++i) {
        if (!filled[i]) (*block)[i] = ColumnVector::AllNull(out_types_[i], rows);
      }
      block_ = std::move(block);
      rows_ = rows;
      row_ = 0;
      stats->rows_read += rows;
      return true;
    }
    block_.reset();
    return false;
  }

  const std::shared_ptr<Block>& block() const { return block_; }
  uint32_t row() const { return row_; }
  int order() const { return order_; }
  // Advances within the block; false when it is used up.
  bool Advance() { return ++row_ < rows_; }

 private:
  SegmentPtr seg_;
  int order_;
  std::vector<ColumnType> out_types_;
  std::vector<int> read_cols_;
  std::vector<int> targets_;
  size_t blocks_ = 0;
  size_t next_block_ = 0;
  std::shared_ptr<Block> block_;
  uint32_t rows_ = 0;
  uint32_t row_ = 0;
};

struct RowRef {
  std::shared_ptr<Block> block;
  uint32_t row;
};

class Merger {
 public:
  Merger(Engine* engine, const Dataset& ds, const Schema& schema,
         const std::vector<SegmentPtr>& inputs, const MergeOptions& options)
      : engine_(engine), ds_(ds), schema_(schema), inputs_(inputs), options_(options) {
    const segment::SegmentMeta& first = inputs_.front()->reader->meta();
    sort_key_ = first.sort_key;
    for (size_t i = 0; i + 1 < sort_key_.size(); ++i) {
      int c = schema_.IndexOf(sort_key_[i]);
      if (c >= 0) sort_cols_.push_back(c);
    }
    time_ = schema_.time_index();
    partition_start_ = first.partition_start;
    partition_interval_ = first.partition_interval;
    for (const auto& in : inputs_) level_ = std::max(level_, in->record.level + 1);
    block_rows_ = std::clamp<uint32_t>(engine_->options().segment_options.block_rows, 1,
                                       segment::kMaxBlockRows);
  }

  absl::StatusOr<MergeResult> Run() {
    std::vector<std::unique_ptr<Cursor>> cursors;
    for (size_t i = 0; i < inputs_.size(); ++i) {
      auto c = std::make_unique<Cursor>(inputs_[i], schema_, static_cast<int>(i));
      ASSIGN_OR_RETURN(bool any, c->Next(&result_, options_));
      if (any) cursors.push_back(std::move(c));
    }
    // A min-heap of cursors by their current row.
    auto greater = [this](const Cursor* a, const Cursor* b) { return Less(*b, *a); };
    std::vector<Cursor*> heap;
    for (auto& c : cursors) heap.push_back(c.get());
    std::make_heap(heap.begin(), heap.end(), greater);
    ResetBuilders();
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), greater);
      Cursor* c = heap.back();
      if (options_.dedup) {
        if (!group_.empty() && !SameIdentity(group_.front(), *c->block(), c->row())) {
          RETURN_IF_ERROR(FlushGroup());
        }
        group_.push_back(RowRef{c->block(), c->row()});
      } else {
        RETURN_IF_ERROR(Emit(*c->block(), c->row()));
      }
      if (c->Advance()) {
        std::push_heap(heap.begin(), heap.end(), greater);
        continue;
      }
      ASSIGN_OR_RETURN(bool more, c->Next(&result_, options_));
      if (more) {
        std::push_heap(heap.begin(), heap.end(), greater);
      } else {
        heap.pop_back();
      }
    }
    RETURN_IF_ERROR(FlushGroup());
    RETURN_IF_ERROR(FinishOutput());
    MergeResult r = std::move(result_);
    result_ = MergeResult{};
    return r;
  }

  // A failed merge leaves nothing behind: the partial output is removed, and
  // finished outputs (in no manifest) are deleted with their handles.
  ~Merger() {
    if (builder_ != nullptr) builder_->Abandon();
    for (const auto& out : result_.outputs) out->obsolete.store(true, std::memory_order_release);
  }

 private:
  // Sort key, then time, then write order (input order; rows of one input
  // are never compared, they come in file order).
  bool Less(const Cursor& a, const Cursor& b) const {
    const Block& x = *a.block();
    const Block& y = *b.block();
    for (int col : sort_cols_) {
      int c = CompareCells(&x[col], a.row(), &y[col], b.row());
      if (c != 0) return c < 0;
    }
    int64_t ta = x[time_].ints[a.row()], tb = y[time_].ints[b.row()];
    if (ta != tb) return ta < tb;
    return a.order() < b.order();
  }

  bool SameIdentity(const RowRef& g, const Block& b, uint32_t row) const {
    const Block& x = *g.block;
    if (x[time_].ints[g.row] != b[time_].ints[row]) return false;
    for (int col : sort_cols_) {
      if (CompareCells(&x[col], g.row, &b[col], row) != 0) return false;
    }
    return true;
  }

  // The group shares sort key and time; rows also equal in the dedup key
  // columns are duplicates, and one of them (the last or first written) stays.
  absl::Status FlushGroup() {
    if (group_.empty()) return absl::OkStatus();
    if (group_.size() == 1) {
      RETURN_IF_ERROR(Emit(*group_[0].block, group_[0].row));
      group_.clear();
      return absl::OkStatus();
    }
    absl::flat_hash_map<std::string, size_t> winner;
    std::string key;
    for (size_t i = 0; i < group_.size(); ++i) {
      key.clear();
      for (int k : options_.dedup->key_columns) {
        AppendCellKey(&(*group_[i].block)[k], group_[i].row, &key);
      }
      auto [it, inserted] = winner.try_emplace(key, i);
      if (!inserted && options_.dedup->keep_last) it->second = i;
    }
    std::vector<bool> keep(group_.size(), false);
    for (const auto& [k, i] : winner) keep[i] = true;
    for (size_t i = 0; i < group_.size(); ++i) {
      if (keep[i]) {
        RETURN_IF_ERROR(Emit(*group_[i].block, group_[i].row));
      } else {
        ++result_.duplicates_dropped;
      }
    }
    group_.clear();
    return absl::OkStatus();
  }

  void ResetBuilders() {
    builders_.clear();
    for (const Field& f : schema_.fields) builders_.emplace_back(f.type);
  }

  absl::Status Emit(const Block& b, uint32_t row) {
    for (size_t i = 0; i < builders_.size(); ++i) {
      if (b[i].all_null) {
        builders_[i].AppendNull();
      } else {
        builders_[i].AppendFrom(b[i], row);
      }
    }
    ++result_.rows_written;
    if (builders_[0].size() >= block_rows_) return FlushBlock();
    return absl::OkStatus();
  }

  absl::Status FlushBlock() {
    if (builders_.empty() || builders_[0].size() == 0) return absl::OkStatus();
    if (builder_ == nullptr) RETURN_IF_ERROR(StartOutput());
    std::vector<ColumnVector> cols;
    cols.reserve(builders_.size());
    for (auto& b : builders_) cols.push_back(b.Finish());
    ResetBuilders();
    std::vector<const ColumnVector*> ptrs;
    for (const auto& c : cols) ptrs.push_back(&c);
    const uint64_t before = builder_->bytes();
    RETURN_IF_ERROR(builder_->AddBlock(ptrs));
    if (options_.throttle != nullptr &&
        !options_.throttle->Acquire(builder_->bytes() - before, options_.stop)) {
      return absl::CancelledError("compaction stopped");
    }
    if (builder_->rows() >= options_.max_output_rows) return FinishOutput();
    return absl::OkStatus();
  }

  absl::Status StartOutput() {
    segment::SegmentContents header;
    header.dataset_id = ds_.id();
    out_path_ = engine_->NewSegmentPath(ds_, partition_start_, &header.segment_id);
    header.schema_version = schema_.version;
    header.partition_start = partition_start_;
    header.partition_interval = partition_interval_;
    header.level = level_;
    header.created_ns = NowNanos();
    header.time_column = static_cast<uint32_t>(time_);
    header.sort_key = sort_key_;
    for (const Field& f : schema_.fields) header.specs.push_back({f.name, f.type});
    out_id_ = header.segment_id;
    RETURN_IF_ERROR(engine_->env()->CreateDirs(DirName(out_path_)));
    ASSIGN_OR_RETURN(
        builder_, segment::SegmentFileBuilder::Create(engine_->env(), out_path_, std::move(header),
                                                      engine_->options().segment_options));
    return absl::OkStatus();
  }

  absl::Status FinishOutput() {
    RETURN_IF_ERROR(FlushBlock());
    if (builder_ == nullptr) return absl::OkStatus();
    auto written = builder_->Finish();
    builder_.reset();
    RETURN_IF_ERROR(written.status());
    result_.bytes_written += written->bytes;
    SegmentRecord r{out_id_,
                    partition_start_,
                    written->rows,
                    written->bytes,
                    written->min_ts,
                    written->max_ts,
                    level_,
                    "",
                    ""};
    auto handle = engine_->OpenSegment(out_path_, r);
    if (!handle.ok()) {
      (void)engine_->env()->RemoveFile(out_path_);
      return handle.status();
    }
    result_.outputs.push_back(*std::move(handle));
    return absl::OkStatus();
  }

  Engine* const engine_;
  const Dataset& ds_;
  const Schema& schema_;
  const std::vector<SegmentPtr>& inputs_;
  const MergeOptions& options_;
  std::vector<std::string> sort_key_;
  std::vector<int> sort_cols_;
  int time_ = 0;
  int64_t partition_start_ = 0;
  int64_t partition_interval_ = 0;
  uint32_t level_ = 0;
  uint32_t block_rows_ = segment::kDefaultBlockRows;
  std::vector<RowRef> group_;
  std::vector<ColumnBuilder> builders_;
  std::unique_ptr<segment::SegmentFileBuilder> builder_;
  std::string out_path_;
  uint64_t out_id_ = 0;
  MergeResult result_;
};

}  // namespace

absl::StatusOr<MergeResult> MergeSegments(Engine* engine, const Dataset& ds, const Schema& schema,
                                          const std::vector<SegmentPtr>& inputs,
                                          const MergeOptions& options) {
  if (inputs.empty()) return MergeResult{};
  Merger merger(engine, ds, schema, inputs, options);
  return merger.Run();
}

}  // namespace timestore::compaction
