// Segment codec benchmarks (bench/README.md, "timestore-codec-bench").
//
// Two modes:
//
//   timestore-codec-bench [--benchmark_* flags]
//     Google Benchmark micro-benchmarks: for each column of a TSBS cpu-only block set
//     (timestamp, the ten usage_* fields, the ten tags; 16 blocks of 8192 rows), for
//     usage_user typed as an integer column, and for random doubles in [0, 100), encode
//     and decode with the chooser ("auto") and with every codec that can encode the column.
//     Counters: bytes_per_value (encoded bytes / values) and bytes_per_second (of raw
//     values: 8 bytes per number, the string bytes for strings, for both directions).
//
//   timestore-codec-bench --segment-report [--hosts N] [--hours H] [--block-rows R]
//                         [--zstd-level L]
//     Encodes a whole TSBS load (default 100 hosts × 24 h) the way the segment writer will:
//     rows sorted by hostname then time, split into blocks of R rows (8192), each column
//     block encoded with the chooser, then optionally LZ4 or ZSTD per block (the smaller of
//     compressed and raw kept). Prints a per-column table and a final JSON line with the
//     totals in bytes per value, where a value is one field value (rows × 10, the TSBS
//     convention) — the timestamp and tag columns are included in the bytes.
#include <benchmark/benchmark.h>
#include <lz4.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "bench/tsbs/cpu_generator.h"
#include "common/strings.h"
#include "segment/codec/codec.h"

namespace timestore {
namespace {

namespace tsbs = bench::tsbs;

enum class Kind { kInt, kDouble, kString };

// The TSBS data as columns, rows sorted by hostname then time.
struct Dataset {
  size_t rows = 0;
  std::vector<tsbs::HostTags> hosts;  // owns the tag strings the views point into
  std::vector<int64_t> timestamps;
  std::array<std::vector<double>, tsbs::kNumFields> fields;
  std::array<std::vector<std::string_view>, tsbs::kNumTags> tags;
};

std::unique_ptr<Dataset> GenerateTsbs(int64_t hosts, int64_t hours) {
  tsbs::Options opt;
  opt.hosts = hosts;
  opt.duration_ns = hours * 3600 * tsbs::kNanosPerSecond;
  tsbs::CpuGenerator gen(opt);
  auto ds = std::make_unique<Dataset>();
  ds->hosts = gen.hosts();
  const size_t ticks = static_cast<size_t>(tsbs::TicksFor(opt));
  const size_t nhosts = ds->hosts.size();
  // Per host, in generation order (time); then hosts ordered by hostname.
  std::vector<std::vector<int64_t>> ts(nhosts);
  std::vector<std::array<std::vector<double>, tsbs::kNumFields>> fv(nhosts);
  std::map<const tsbs::HostTags*, size_t> host_index;
  for (size_t h = 0; h < nhosts; ++h) host_index[&gen.hosts()[h]] = h;
  tsbs::Row row;
  while (gen.Next(&row)) {
    size_t h = host_index[row.tags];
    ts[h].push_back(row.timestamp_ns);
    for (size_t f = 0; f < tsbs::kNumFields; ++f) fv[h][f].push_back(row.fields[f]);
  }
  std::vector<size_t> order(nhosts);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return ds->hosts[a].values[0] < ds->hosts[b].values[0]; });
  ds->rows = nhosts * ticks;
  for (size_t h : order) {
    ds->timestamps.insert(ds->timestamps.end(), ts[h].begin(), ts[h].end());
    for (size_t f = 0; f < tsbs::kNumFields; ++f) {
      ds->fields[f].insert(ds->fields[f].end(), fv[h][f].begin(), fv[h][f].end());
    }
    for (size_t t = 0; t < tsbs::kNumTags; ++t) {
      ds->tags[t].insert(ds->tags[t].end(), ts[h].size(), ds->hosts[h].values[t]);
    }
  }
  return ds;
}

// One column of the data set (or of synthetic data), viewed for encoding.
struct Column {
  std::string name;
  Kind kind;
  bool is_timestamp;
  std::span<const int64_t> ints;
  std::span<const double> doubles;
  std::span<const std::string_view> strings;
  size_t size() const {
    return kind == Kind::kInt ? ints.size()
                              : (kind == Kind::kDouble ? doubles.size() : strings.size());
  }
  // Raw bytes of rows [begin, end): 8 per number, the string bytes for strings.
  size_t RawBytes(size_t begin, size_t end) const {
    if (kind != Kind::kString) return (end - begin) * 8;
    size_t b = 0;
    for (size_t i = begin; i < end; ++i) b += strings[i].size();
    return b;
  }
};

std::vector<Column> TsbsColumns(const Dataset& ds) {
  std::vector<Column> cols;
  cols.push_back({std::string(tsbs::kTimestampName), Kind::kInt, true, ds.timestamps, {}, {}});
  for (size_t f = 0; f < tsbs::kNumFields; ++f) {
    cols.push_back({std::string(tsbs::kFieldNames[f]), Kind::kDouble, false, {}, ds.fields[f], {}});
  }
  for (size_t t = 0; t < tsbs::kNumTags; ++t) {
    cols.push_back({std::string(tsbs::kTagNames[t]), Kind::kString, false, {}, {}, ds.tags[t]});
  }
  return cols;
}

struct Block {
  CodecId codec;
  size_t begin, n;
  std::string bytes;
};

// Encodes rows [begin, end) with `codec`, or the chooser when `codec` is empty.
absl::StatusOr<Block> EncodeBlock(const Column& c, size_t begin, size_t end,
                                  std::optional<CodecId> codec) {
  Block b{CodecId::kPlain, begin, end - begin, {}};
  absl::StatusOr<CodecId> id = codec.value_or(CodecId::kPlain);
  absl::Status s;
  switch (c.kind) {
    case Kind::kInt: {
      auto v = c.ints.subspan(begin, end - begin);
      if (codec) {
        s = EncodeInts(*codec, v, &b.bytes);
      } else {
        id = EncodeIntsBest(v, c.is_timestamp, &b.bytes);
      }
      break;
    }
    case Kind::kDouble: {
      auto v = c.doubles.subspan(begin, end - begin);
      if (codec) {
        s = EncodeDoubles(*codec, v, &b.bytes);
      } else {
        id = EncodeDoublesBest(v, &b.bytes);
      }
      break;
    }
    case Kind::kString: {
      auto v = c.strings.subspan(begin, end - begin);
      if (codec) {
        s = EncodeStrings(*codec, v, &b.bytes);
      } else {
        id = EncodeStringsBest(v, &b.bytes);
      }
      break;
    }
  }
  if (!s.ok()) return s;
  if (!id.ok()) return id.status();
  b.codec = *id;
  return b;
}

absl::StatusOr<std::vector<Block>> EncodeColumn(const Column& c, size_t block_rows,
                                                std::optional<CodecId> codec) {
  std::vector<Block> blocks;
  for (size_t begin = 0; begin < c.size(); begin += block_rows) {
    auto b = EncodeBlock(c, begin, std::min(c.size(), begin + block_rows), codec);
    if (!b.ok()) return b.status();
    blocks.push_back(std::move(*b));
  }
  return blocks;
}

// Reusable decode buffers.
struct DecodeBuffers {
  std::vector<int64_t> ints;
  std::vector<double> doubles;
  std::vector<std::string> dict;
  std::vector<uint32_t> ids;
};

absl::Status DecodeBlock(Kind kind, const Block& b, DecodeBuffers* buf) {
  switch (kind) {
    case Kind::kInt:
      buf->ints.resize(b.n);
      return DecodeInts(b.codec, b.bytes, b.n, buf->ints.data());
    case Kind::kDouble:
      buf->doubles.resize(b.n);
      return DecodeDoubles(b.codec, b.bytes, b.n, buf->doubles.data());
    case Kind::kString:
      return DecodeStrings(b.codec, b.bytes, b.n, &buf->dict, &buf->ids);
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------- micro-benchmarks

constexpr size_t kBlockRows = 8192;
constexpr size_t kBenchBlocks = 16;

struct BenchData {
  std::unique_ptr<Dataset> tsbs;
  std::vector<int64_t> walk_ints;
  std::vector<double> random_doubles;
  std::vector<Column> columns;  // the bench subset: the first kBenchBlocks blocks
};

BenchData& Data() {
  static BenchData* data = [] {
    auto* d = new BenchData;
    // 10 hosts × 24 h = 86,400 rows; the first 16 blocks cover 131,072 rows when there
    // are that many, so use 16 hosts.
    d->tsbs = GenerateTsbs(16, 24);
    const size_t rows = std::min(d->tsbs->rows, kBenchBlocks * kBlockRows);
    for (Column c : TsbsColumns(*d->tsbs)) {
      if (c.kind == Kind::kInt) c.ints = c.ints.first(rows);
      if (c.kind == Kind::kDouble) c.doubles = c.doubles.first(rows);
      if (c.kind == Kind::kString) c.strings = c.strings.first(rows);
      d->columns.push_back(c);
    }
    // usage_user as if typed `integer`: every int codec on realistic data.
    for (size_t i = 0; i < rows; ++i) {
      d->walk_ints.push_back(static_cast<int64_t>(d->tsbs->fields[0][i]));
    }
    d->columns.push_back({"usage_user_as_int", Kind::kInt, false, d->walk_ints, {}, {}});
    std::mt19937_64 rng(1);
    std::uniform_real_distribution<double> u(0, 100);
    d->random_doubles.resize(rows);
    for (double& x : d->random_doubles) x = u(rng);
    d->columns.push_back({"random_doubles", Kind::kDouble, false, {}, d->random_doubles, {}});
    return d;
  }();
  return *data;
}

void SetCounters(benchmark::State& state, const Column& c, const std::vector<Block>& blocks) {
  size_t encoded = 0;
  for (const Block& b : blocks) encoded += b.bytes.size();
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * c.RawBytes(0, c.size())));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * c.size()));
  state.counters["bytes_per_value"] = static_cast<double>(encoded) / c.size();
}

void BM_Encode(benchmark::State& state, const Column* c, std::optional<CodecId> codec) {
  std::vector<Block> blocks;
  for (auto _ : state) {
    auto b = EncodeColumn(*c, kBlockRows, codec);
    if (!b.ok()) {
      state.SkipWithError(std::string(ToStd(b.status().message())).c_str());
      return;
    }
    blocks = std::move(*b);
    benchmark::DoNotOptimize(blocks.data());
  }
  SetCounters(state, *c, blocks);
}

void BM_Decode(benchmark::State& state, const Column* c, std::optional<CodecId> codec) {
  auto blocks = EncodeColumn(*c, kBlockRows, codec);
  if (!blocks.ok()) {
    state.SkipWithError(std::string(ToStd(blocks.status().message())).c_str());
    return;
  }
  DecodeBuffers buf;
  for (auto _ : state) {
    for (const Block& b : *blocks) {
      absl::Status s = DecodeBlock(c->kind, b, &buf);
      if (!s.ok()) {
        state.SkipWithError(std::string(ToStd(s.message())).c_str());
        return;
      }
      benchmark::ClobberMemory();
    }
  }
  SetCounters(state, *c, *blocks);
}

void RegisterBenchmarks() {
  for (const Column& c : Data().columns) {
    uint8_t domain = c.kind == Kind::kInt
                         ? kDomainInts
                         : (c.kind == Kind::kDouble ? kDomainDoubles : kDomainStrings);
    std::vector<std::optional<CodecId>> codecs = {std::nullopt};
    for (const CodecInfo& info : AllCodecs()) {
      if (!(info.domains & domain)) continue;
      // Only codecs that can encode every block of the column.
      if (EncodeColumn(c, kBlockRows, info.id).ok()) codecs.push_back(info.id);
    }
    for (auto codec : codecs) {
      std::string codec_name = codec ? CodecName(*codec) : "auto";
      benchmark::RegisterBenchmark(StrCat("encode/", c.name, "/", codec_name).c_str(), BM_Encode,
                                   &c, codec);
      benchmark::RegisterBenchmark(StrCat("decode/", c.name, "/", codec_name).c_str(), BM_Decode,
                                   &c, codec);
    }
  }
}

// ---------------------------------------------------------------- segment report

struct ReportOptions {
  int64_t hosts = 100;
  int64_t hours = 24;
  size_t block_rows = kBlockRows;
  int zstd_level = 3;
};

struct ColumnTotals {
  std::string name;
  std::map<std::string, int> codecs;  // codec name → blocks
  size_t plain = 0, raw = 0, lz4 = 0, zstd = 0, plain_zstd = 0;
};

size_t Lz4Size(const std::string& in, std::string* scratch) {
  scratch->resize(LZ4_compressBound(static_cast<int>(in.size())));
  int n = LZ4_compress_default(in.data(), scratch->data(), static_cast<int>(in.size()),
                               static_cast<int>(scratch->size()));
  return n > 0 ? std::min(static_cast<size_t>(n), in.size()) : in.size();
}

size_t ZstdSize(const std::string& in, int level, std::string* scratch) {
  scratch->resize(ZSTD_compressBound(in.size()));
  size_t n = ZSTD_compress(scratch->data(), scratch->size(), in.data(), in.size(), level);
  return ZSTD_isError(n) ? in.size() : std::min(n, in.size());
}

int SegmentReport(const ReportOptions& opt) {
  const bool tty = isatty(2);
  auto t0 = std::chrono::steady_clock::now();
  if (tty)
    std::fprintf(stderr, "generating %lld hosts x %lld h...\n", static_cast<long long>(opt.hosts),
                 static_cast<long long>(opt.hours));
  auto ds = GenerateTsbs(opt.hosts, opt.hours);
  auto t1 = std::chrono::steady_clock::now();
  std::vector<ColumnTotals> totals;
  std::string scratch;
  double encode_seconds = 0;
  for (const Column& c : TsbsColumns(*ds)) {
    if (tty) std::fprintf(stderr, "encoding %s...\n", c.name.c_str());
    ColumnTotals t;
    t.name = c.name;
    auto e0 = std::chrono::steady_clock::now();
    auto blocks = EncodeColumn(c, opt.block_rows, std::nullopt);
    encode_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - e0).count();
    if (!blocks.ok()) {
      std::fprintf(stderr, "%s: %s\n", c.name.c_str(),
                   std::string(ToStd(blocks.status().message())).c_str());
      return 1;
    }
    DecodeBuffers buf;
    for (const Block& b : *blocks) {
      // Every block must decode back (a cheap end-to-end check of the numbers).
      absl::Status s = DecodeBlock(c.kind, b, &buf);
      if (!s.ok()) {
        std::fprintf(stderr, "%s: decode: %s\n", c.name.c_str(),
                     std::string(ToStd(s.message())).c_str());
        return 1;
      }
      t.codecs[DescribePayload(b.codec, b.bytes)]++;
      t.raw += b.bytes.size();
      t.lz4 += Lz4Size(b.bytes, &scratch);
      t.zstd += ZstdSize(b.bytes, opt.zstd_level, &scratch);
      auto plain = EncodeBlock(c, b.begin, b.begin + b.n, CodecId::kPlain);
      t.plain += plain->bytes.size();
      t.plain_zstd += ZstdSize(plain->bytes, opt.zstd_level, &scratch);
    }
    totals.push_back(std::move(t));
  }
  const double field_values = static_cast<double>(ds->rows) * tsbs::kNumFields;
  ColumnTotals all;
  std::printf(
      "TSBS cpu-only, %lld hosts x %lld h = %zu rows, %.0f field values; blocks of %zu "
      "rows sorted by hostname, time; zstd level %d\n",
      static_cast<long long>(opt.hosts), static_cast<long long>(opt.hours), ds->rows, field_values,
      opt.block_rows, opt.zstd_level);
  std::printf("%-20s %10s %10s %10s %10s %11s  %s\n", "column", "bytes", "B/row", "+lz4 B/row",
              "+zstd B/row", "plain+zstd", "codecs (blocks)");
  for (const ColumnTotals& t : totals) {
    std::string codecs;
    for (const auto& [name, count] : t.codecs) {
      StrAppend(&codecs, codecs.empty() ? "" : " ", name, "x", count);
    }
    const double rows = static_cast<double>(ds->rows);
    std::printf("%-20s %10zu %10.4f %10.4f %10.4f %11.4f  %s\n", t.name.c_str(), t.raw,
                t.raw / rows, t.lz4 / rows, t.zstd / rows, t.plain_zstd / rows, codecs.c_str());
    all.raw += t.raw;
    all.lz4 += t.lz4;
    all.zstd += t.zstd;
    all.plain += t.plain;
    all.plain_zstd += t.plain_zstd;
  }
  std::printf("%-20s %10zu %10.4f %10.4f %10.4f %11.4f\n", "total", all.raw,
              all.raw / static_cast<double>(ds->rows), all.lz4 / static_cast<double>(ds->rows),
              all.zstd / static_cast<double>(ds->rows),
              all.plain_zstd / static_cast<double>(ds->rows));
  std::printf(
      "bytes per field value: codecs %.4f, +lz4 %.4f, +zstd %.4f (plain %.4f, "
      "plain+zstd %.4f); target 0.35\n",
      all.raw / field_values, all.lz4 / field_values, all.zstd / field_values,
      all.plain / field_values, all.plain_zstd / field_values);
  std::printf("generation %.2f s, chooser encode of all columns %.2f s (%.1f M values/s)\n",
              std::chrono::duration<double>(t1 - t0).count(), encode_seconds,
              ds->rows * 21.0 / encode_seconds / 1e6);
  std::string json =
      StrCat("{\"bench\":\"codec_segment\",\"hosts\":", opt.hosts, ",\"hours\":", opt.hours,
             ",\"rows\":", ds->rows, ",\"field_values\":", static_cast<int64_t>(field_values),
             ",\"block_rows\":", opt.block_rows, ",\"zstd_level\":", opt.zstd_level,
             ",\"bytes\":", all.raw, ",\"lz4_bytes\":", all.lz4, ",\"zstd_bytes\":", all.zstd,
             ",\"plain_bytes\":", all.plain, ",\"plain_zstd_bytes\":", all.plain_zstd,
             ",\"bytes_per_value\":", all.raw / field_values,
             ",\"lz4_bytes_per_value\":", all.lz4 / field_values,
             ",\"zstd_bytes_per_value\":", all.zstd / field_values, ",\"columns\":[");
  for (size_t i = 0; i < totals.size(); ++i) {
    const ColumnTotals& t = totals[i];
    StrAppend(&json, i ? "," : "", "{\"name\":\"", t.name, "\",\"bytes\":", t.raw,
              ",\"lz4_bytes\":", t.lz4, ",\"zstd_bytes\":", t.zstd, "}");
  }
  json += "]}";
  std::printf("%s\n", json.c_str());
  return 0;
}

}  // namespace
}  // namespace timestore

int main(int argc, char** argv) {
  timestore::ReportOptions opt;
  bool report = false;
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&](std::string_view flag, auto* out) {
      if (a.substr(0, flag.size() + 1) != std::string(flag) + "=") return false;
      return timestore::ParseInt(a.substr(flag.size() + 1), out);
    };
    if (a == "--segment-report") {
      report = true;
    } else if (value("--hosts", &opt.hosts) || value("--hours", &opt.hours) ||
               value("--block-rows", &opt.block_rows) || value("--zstd-level", &opt.zstd_level)) {
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (report) {
    if (opt.hosts < 1 || opt.hours < 1 || opt.block_rows < 1) {
      std::fprintf(stderr, "--hosts, --hours and --block-rows must be positive\n");
      return 2;
    }
    return timestore::SegmentReport(opt);
  }
  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());
  if (benchmark::ReportUnrecognizedArguments(rest_argc, rest.data())) return 2;
  timestore::RegisterBenchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
