// Parquet export: a dataset's rows in [from, to) as Parquet files any engine
// reads, in a Hive layout, with a manifest written last (docs/export.md).
//
// Layout under the destination:
//   dataset=<slug>/date=YYYY-MM-DD/part-0.parquet          partitions of a day or
//                                                          more (the start's UTC date)
//   dataset=<slug>/date=YYYY-MM-DD/hour=HH/part-MMSS.parquet  shorter partitions
//                                                          (HH:MM:SS the start, UTC)
//   dataset=<slug>/_timestore_export.json                  the manifest
// One file per partition of the dataset (its partition interval) that holds
// rows in the range; a partition without rows writes nothing. Each object is
// written whole or not at all (ObjectStore puts are atomic per object), the
// manifest after every file it lists: an export without the manifest did not
// finish. Files of an earlier export to the same place that this one does not
// rewrite stay; the manifest lists this export's.
//
// Rows are read through Engine::Query (raw, ascending time, in pages), so the
// answer is what a query sees: rows still in memory, segments in object
// storage, and the dataset's deduplication. Every row acknowledged before the
// export began is exported; rows written into the range while it runs may or
// may not be. Memory is bounded by one page of rows plus one row group of
// encoded Parquet pages; each file is built in a temporary local file first.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/engine.h"
#include "parquet/parquet_writer.h"
#include "transfer/destination.h"
#include "transfer/jobs.h"

namespace timestore::transfer {

struct ExportOptions {
  int64_t from = std::numeric_limits<int64_t>::min();  // inclusive, ns
  int64_t to = std::numeric_limits<int64_t>::max();    // exclusive, ns
  parquet::Compression compression = parquet::Compression::kZstd;
  // Rows asked of the engine per query.
  uint64_t page_rows = 100'000;
  // Row group and page bounds of the files (compression is taken from above).
  parquet::ParquetWriterOptions writer;
  // Where files are built before they are stored; "" = $TMPDIR or /tmp.
  std::string temp_dir;
};

struct ExportFile {
  std::string path;  // relative to the destination: dataset=<slug>/date=.../part-0.parquet
  int64_t partition_start = 0, partition_end = 0;
  int64_t min_time = 0, max_time = 0;
  uint64_t rows = 0, bytes = 0, row_groups = 0;
};

struct ExportReport {
  std::string dataset;
  std::string destination;  // as described: "file:///x" or "s3://t/p"
  std::string manifest;     // relative path of the manifest
  int64_t from = 0, to = 0;
  int64_t partition_interval_ns = 0;
  parquet::Compression compression = parquet::Compression::kZstd;
  std::vector<ExportFile> files;
  uint64_t rows = 0, bytes = 0;
  int64_t exported_at_ns = 0;
  double seconds = 0;
  std::string schema_json;  // {"timeColumn":..,"fields":[{"name","type"}]}
};

// The manifest and the job's answer: {"dataset","destination","manifest",
// "from","to","partitionInterval","compression","exportedAt","rows","bytes",
// "seconds","schema":{...},"files":[{"path","partitionStart","partitionEnd",
// "minTime","maxTime","rows","bytes","rowGroups"}]}; times RFC 3339 (from/to
// null when unbounded).
std::string ExportReportJson(const ExportReport& r);

// A bound of the range: RFC 3339 ("2024-05-01T00:00:00Z") or integer
// nanoseconds since the epoch. InvalidArgument naming `what` otherwise.
absl::StatusOr<int64_t> ParseExportTime(std::string_view text, std::string_view what);

// The path of a partition's file (relative to the destination). When the
// exported range [lo, hi) cuts the partition, the range is in the name
// ("part-0-20240501T120000Z-20240502T000000Z.parquet"), so exports of two
// halves never replace each other; lo/hi of nullopt: the whole partition.
std::string ExportFilePath(std::string_view slug, int64_t partition_start, int64_t interval_ns,
                           std::optional<int64_t> lo = std::nullopt,
                           std::optional<int64_t> hi = std::nullopt);

// Exports dataset `dataset` (slug) of `engine` to `dest`. NotFound for an
// unknown dataset, InvalidArgument for an empty range; the engine's or the
// store's error otherwise (files stored before it stay, the manifest is not
// written). `progress` may be null; a cancelled job stops between pages.
absl::StatusOr<ExportReport> ExportDataset(Engine* engine, std::string_view dataset,
                                           const Destination& dest, const ExportOptions& options,
                                           JobProgress* progress);

}  // namespace timestore::transfer
