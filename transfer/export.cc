#include "transfer/export.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/time/time.h"
#include "common/json_writer.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time_util.h"

namespace timestore::transfer {
namespace {

constexpr int64_t kNanosPerHour = 3'600'000'000'000;
constexpr int64_t kNanosPerDay = 24 * kNanosPerHour;

std::string TempPath(const ExportOptions& options) {
  static std::atomic<uint64_t> counter{0};
  std::string dir = options.temp_dir;
  if (dir.empty()) {
    const char* t = std::getenv("TMPDIR");
    dir = t != nullptr && *t != '\0' ? t : "/tmp";
  }
  return JoinPath(
      dir, StrCat("timestore-export-", ::getpid(), "-", counter.fetch_add(1), ".parquet.tmp"));
}

void AppendTimeOrNull(JsonWriter& w, int64_t t, int64_t unbounded) {
  if (t == unbounded) {
    w.Null();
  } else {
    w.String(FormatRfc3339(t));
  }
}

// Rows [0, n) of a raw answer as the writer's columns, in `names` order.
absl::StatusOr<std::vector<ColumnVector>> ToColumns(const QueryResult& res,
                                                    const std::vector<parquet::ParquetColumn>& cols,
                                                    size_t n) {
  std::vector<ColumnVector> out;
  out.reserve(cols.size());
  for (const parquet::ParquetColumn& c : cols) {
    const ResultColumn* rc = nullptr;
    for (const ResultColumn& r : res.columns) {
      if (r.name == c.name) rc = &r;
    }
    if (rc == nullptr) {
      return absl::InternalError(StrCat("export: the query answer lacks column '", c.name, "'"));
    }
    ColumnBuilder b(c.type);
    b.Reserve(n);
    for (size_t i = 0; i < n; ++i) {
      if (!rc->valid.empty() && rc->valid[i] == 0) {
        b.AppendNull();
        continue;
      }
      switch (c.type) {
        case ColumnType::kTimestamp:
        case ColumnType::kInteger:
          b.AppendInt(rc->ints[i]);
          break;
        case ColumnType::kDouble:
          b.AppendDouble(rc->doubles[i]);
          break;
        case ColumnType::kBoolean:
          b.AppendBool(rc->ints[i] != 0);
          break;
        TIMESTORE_STRING_LIKE_CASES:  // canonical text (json, uuid, arrays too)
          b.AppendString(rc->strings[i]);
          break;
      }
    }
    out.push_back(b.Finish());
  }
  return out;
}

const ResultColumn* FindColumn(const QueryResult& res, std::string_view name) {
  for (const ResultColumn& r : res.columns) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

struct PartitionJob {
  Engine* engine;
  std::string slug;
  std::string time_column;
  std::vector<parquet::ParquetColumn> columns;
  const ExportOptions* options;
  JobProgress* progress;
};

// Writes the rows of [lo, hi) to `writer` in pages of raw queries. A page
// never ends inside a run of one timestamp (the rest of the run would be
// asked for again by offset, and ties may come back in another order after
// a seal or a compaction), except when a single timestamp holds more rows
// than a page: then that run is paged by offset.
absl::Status WriteRows(const PartitionJob& job, int64_t lo, int64_t hi,
                       parquet::ParquetWriter* writer, ExportFile* file) {
  std::vector<std::string> names;
  for (const auto& c : job.columns) names.push_back(c.name);
  const uint64_t page = std::max<uint64_t>(job.options->page_rows, 1);
  int64_t cursor = lo;
  uint64_t skip = 0;  // rows at time == cursor already written
  while (true) {
    if (job.progress != nullptr && job.progress->cancelled()) {
      return absl::CancelledError("export: cancelled (the server is stopping)");
    }
    QuerySpec spec;
    spec.start = cursor;
    spec.end = hi;
    spec.columns = names;
    spec.limit = page;
    spec.offset = skip;
    ASSIGN_OR_RETURN(QueryResult res, job.engine->Query(job.slug, spec));
    const size_t n = res.rows;
    if (n == 0) break;
    const ResultColumn* tc = FindColumn(res, job.time_column);
    if (tc == nullptr || tc->ints.size() < n) {
      return absl::InternalError("export: the query answer lacks the time column");
    }
    const int64_t first = tc->ints[0], last = tc->ints[n - 1];
    size_t keep = n;
    const bool full = n >= page;
    if (full) {
      if (first == last) {
        // One timestamp fills the page: page through it by offset.
        skip = last == cursor ? skip + n : n;
        cursor = last;
      } else {
        while (keep > 0 && tc->ints[keep - 1] == last) --keep;
        cursor = last;
        skip = 0;
      }
    }
    ASSIGN_OR_RETURN(std::vector<ColumnVector> cols, ToColumns(res, job.columns, keep));
    RETURN_IF_ERROR(writer->Append(cols));
    if (file->rows == 0) file->min_time = first;
    file->max_time = tc->ints[keep - 1];
    file->rows += keep;
    if (job.progress != nullptr) job.progress->Add("rows", static_cast<int64_t>(keep));
    if (!full) break;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int64_t> ParseExportTime(std::string_view text, std::string_view what) {
  if (auto t = ParseRfc3339(text); t.ok()) return *t;
  int64_t ns = 0;
  if (!text.empty() && absl::SimpleAtoi(absl::string_view(text.data(), text.size()), &ns))
    return ns;
  return absl::InvalidArgumentError(StrCat("export: '", what, "' is \"", text,
                                           "\": expected RFC 3339 (2024-05-01T00:00:00Z) or "
                                           "integer nanoseconds since the epoch"));
}

std::string ExportFilePath(std::string_view slug, int64_t partition_start, int64_t interval_ns,
                           std::optional<int64_t> lo, std::optional<int64_t> hi) {
  const absl::Time t = absl::FromUnixNanos(partition_start);
  std::string path =
      StrCat("dataset=", slug, "/date=", absl::FormatTime("%Y-%m-%d", t, absl::UTCTimeZone()));
  std::string base = interval_ns >= kNanosPerDay
                         ? path + "/part-0"
                         : StrCat(path, "/hour=", absl::FormatTime("%H", t, absl::UTCTimeZone()),
                                  "/part-", absl::FormatTime("%M%S", t, absl::UTCTimeZone()));
  if (lo || hi) {
    auto compact = [](int64_t ns) {
      return absl::FormatTime("%Y%m%dT%H%M%E*SZ", absl::FromUnixNanos(ns), absl::UTCTimeZone());
    };
    StrAppend(&base, "-", compact(lo.value_or(partition_start)), "-",
              compact(hi.value_or(SaturatingAdd(partition_start, interval_ns))));
  }
  return base + ".parquet";
}

std::string ExportReportJson(const ExportReport& r) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("dataset").String(r.dataset);
  w.Key("destination").String(r.destination);
  w.Key("manifest").String(r.manifest);
  w.Key("from");
  AppendTimeOrNull(w, r.from, kMin);
  w.Key("to");
  AppendTimeOrNull(w, r.to, kMax);
  w.Key("partitionIntervalNs").Int(r.partition_interval_ns);
  w.Key("compression").String(parquet::CompressionName(r.compression));
  w.Key("exportedAt").String(FormatRfc3339(r.exported_at_ns));
  w.Key("rows").Uint(r.rows);
  w.Key("bytes").Uint(r.bytes);
  w.Key("seconds").Double(r.seconds);
  w.Key("schema").Raw(r.schema_json);
  w.Key("files").BeginArray();
  for (const ExportFile& f : r.files) {
    w.BeginObject();
    w.Key("path").String(f.path);
    w.Key("partitionStart").String(FormatRfc3339(f.partition_start));
    w.Key("partitionEnd").String(FormatRfc3339(f.partition_end));
    w.Key("minTime").String(FormatRfc3339(f.min_time));
    w.Key("maxTime").String(FormatRfc3339(f.max_time));
    w.Key("rows").Uint(f.rows);
    w.Key("bytes").Uint(f.bytes);
    w.Key("rowGroups").Uint(f.row_groups);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return out;
}

absl::StatusOr<ExportReport> ExportDataset(Engine* engine, std::string_view dataset,
                                           const Destination& dest, const ExportOptions& options,
                                           JobProgress* progress) {
  const auto started = std::chrono::steady_clock::now();
  std::shared_ptr<Dataset> ds = engine->GetDataset(dataset);
  if (ds == nullptr) {
    return absl::NotFoundError(StrCat("export: dataset '", dataset, "' not found"));
  }
  if (options.from >= options.to) {
    return absl::InvalidArgumentError(
        "export: 'to' must be later than 'from' (the range is [from, to))");
  }
  SchemaPtr schema = ds->schema();
  ExportReport report;
  report.dataset = ds->slug();
  report.destination = dest.describe;
  report.from = options.from;
  report.to = options.to;
  report.compression = options.compression;
  report.exported_at_ns = NowNanos();
  const int64_t interval = ds->partition_interval_ns() > 0
                               ? ds->partition_interval_ns()
                               : engine->options().partition_interval_ns;
  report.partition_interval_ns = interval;

  PartitionJob job{engine, ds->slug(), schema->time_column, {}, &options, progress};
  // The time column first (REQUIRED), then the others in schema order.
  for (const Field& f : schema->fields) {
    if (f.name == schema->time_column) job.columns.push_back({f.name, f.type, false});
  }
  for (const Field& f : schema->fields) {
    if (f.name != schema->time_column) job.columns.push_back({f.name, f.type, true});
  }
  {
    JsonWriter w(&report.schema_json);
    w.BeginObject();
    w.Key("timeColumn").String(schema->time_column);
    w.Key("fields").BeginArray();
    for (const auto& c : job.columns) {
      w.BeginObject();
      w.Key("name").String(c.name);
      w.Key("type").String(ColumnTypeName(c.type));
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }

  // An export without its manifest did not finish: the previous export's
  // manifest goes before any file it lists can be replaced.
  report.manifest = StrCat("dataset=", ds->slug(), "/_timestore_export.json");
  RETURN_IF_ERROR(dest.store->Delete(dest.Key(report.manifest)));

  parquet::ParquetWriterOptions wopts = options.writer;
  wopts.compression = options.compression;
  Env* env = Env::Default();
  int64_t cursor = options.from;
  bool probe = true;  // ask where the next row is before the next partition
  while (cursor < options.to) {
    int64_t at = cursor;
    if (probe) {
      // After an empty partition (and at the start) the next row decides the
      // next partition, so runs of empty partitions cost one query. After a
      // partition with rows the next one is taken as it comes: a probe over
      // the rest of the range would cost more than an empty partition.
      QuerySpec next;
      next.start = cursor;
      next.end = options.to;
      next.columns = std::vector<std::string>{schema->time_column};
      next.limit = 1;
      ASSIGN_OR_RETURN(QueryResult first, engine->Query(ds->slug(), next));
      if (first.rows == 0) break;
      const ResultColumn* tc = FindColumn(first, schema->time_column);
      if (tc == nullptr || tc->ints.empty()) {
        return absl::InternalError("export: the query answer lacks the time column");
      }
      at = tc->ints[0];
    }
    const int64_t pstart = FloorToMultiple(at, interval);
    const int64_t pend = SaturatingAdd(pstart, interval);
    const int64_t lo = std::max(pstart, options.from), hi = std::min(pend, options.to);

    ExportFile file;
    const bool cut = lo > pstart || hi < pend;
    file.path = cut ? ExportFilePath(ds->slug(), pstart, interval, lo, hi)
                    : ExportFilePath(ds->slug(), pstart, interval);
    file.partition_start = pstart;
    file.partition_end = pend;
    for (const ExportFile& f : report.files) {
      if (f.path == file.path) {
        return absl::FailedPreconditionError(
            StrCat("export: partitions of ", FormatRfc3339(f.partition_start), " and ",
                   FormatRfc3339(pstart), " map to one file ", file.path,
                   " (a partition interval under one second)"));
      }
    }
    wopts.key_value_metadata = {
        {"timestore.dataset", ds->slug()},
        {"timestore.schema", report.schema_json},
        {"timestore.partition", StrCat("{\"start\":\"", FormatRfc3339(pstart), "\",\"end\":\"",
                                       FormatRfc3339(pend), "\"}")}};
    const std::string tmp = TempPath(options);
    absl::Status s = [&]() -> absl::Status {
      ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> out, env->NewWritableFile(tmp));
      parquet::FileSink sink(out.get());
      ASSIGN_OR_RETURN(std::unique_ptr<parquet::ParquetWriter> writer,
                       parquet::ParquetWriter::Create(&sink, job.columns, wopts));
      RETURN_IF_ERROR(WriteRows(job, lo, hi, writer.get(), &file));
      RETURN_IF_ERROR(writer->Finish());
      file.bytes = writer->bytes_written();
      file.row_groups = writer->row_groups();
      RETURN_IF_ERROR(out->Close());
      if (file.rows == 0) return absl::OkStatus();  // emptied meanwhile: no file
      RETURN_IF_ERROR(dest.store->PutFile(dest.Key(file.path), env, tmp));
      if (!cut) {
        // The whole partition's file holds what files of cut ranges of it
        // held before: they go, so a glob over the layout counts no row twice.
        const std::string cut_prefix = dest.Key(
            file.path.substr(0, file.path.size() - std::string_view(".parquet").size()) + "-");
        ASSIGN_OR_RETURN(std::vector<tiering::ObjectInfo> older, dest.store->List(cut_prefix));
        for (const tiering::ObjectInfo& o : older) RETURN_IF_ERROR(dest.store->Delete(o.key));
      }
      return absl::OkStatus();
    }();
    (void)env->RemoveFile(tmp);
    if (!s.ok()) {
      return absl::Status(
          s.code(), StrCat("export of ", ds->slug(), " partition ", FormatRfc3339(pstart), " to ",
                           dest.describe, ": ", s.message()));
    }
    if (file.rows > 0) {
      report.rows += file.rows;
      report.bytes += file.bytes;
      report.files.push_back(std::move(file));
      if (progress != nullptr) {
        progress->Set("files", static_cast<int64_t>(report.files.size()));
        progress->Set("bytes", static_cast<int64_t>(report.bytes));
      }
    }
    probe = file.rows == 0;
    if (pend <= pstart) break;  // the last partition of time
    cursor = pend;
  }
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  RETURN_IF_ERROR(dest.store->Put(dest.Key(report.manifest), ExportReportJson(report)));
  return report;
}

}  // namespace timestore::transfer
