// Ingest body parsing on one core (bench/README.md, "timestore-parse-bench"):
// the same TSBS cpu-only rows as NDJSON (simdjson) and as InfluxDB line
// protocol, 10,000 rows per body, parsed into columns as the server does.
// Counter rows_per_second is per core; the server parses on every I/O thread.
#include <benchmark/benchmark.h>

#include <string>

#include "api/ingest_parser.h"
#include "api/line_protocol.h"
#include "bench/tsbs/cpu_generator.h"
#include "bench/tsbs/formats.h"

namespace timestore {
namespace {

using bench::tsbs::CpuGenerator;

constexpr int kRows = 10000;

std::string Body(bool influx) {
  bench::tsbs::Options options;
  options.hosts = 100;
  CpuGenerator gen(options);
  bench::tsbs::Row row;
  std::string body;
  for (int i = 0; i < kRows && gen.Next(&row); ++i) {
    if (influx) {
      bench::tsbs::AppendInfluxLine(row, &body);
    } else {
      bench::tsbs::AppendNdjsonLine(row, &body);
    }
  }
  return body;
}

void BM_ParseNdjson(benchmark::State& state) {
  const std::string body = Body(false);
  api::IngestParseOptions opts;
  opts.slug = "cpu";
  opts.format = api::BodyFormat::kNdjson;
  for (auto _ : state) {
    std::string copy = body;
    auto r = api::ParseIngestBody(&copy, opts);
    if (!r.ok()) state.SkipWithError(std::string(r.status().message()).c_str());
    benchmark::DoNotOptimize(r);
  }
  state.counters["rows_per_second"] = benchmark::Counter(
      static_cast<double>(kRows) * state.iterations(), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<int64_t>(body.size()) * state.iterations());
}
BENCHMARK(BM_ParseNdjson)->Unit(benchmark::kMillisecond);

void BM_ParseLineProtocol(benchmark::State& state) {
  const std::string body = Body(true);
  api::LineProtocolOptions opts;
  opts.dataset_prefix = "db_";
  for (auto _ : state) {
    std::string copy = body;  // as the NDJSON case, which needs its own padded copy
    auto r = api::ParseLineProtocol(copy, opts);
    if (!r.ok()) state.SkipWithError(std::string(r.status().message()).c_str());
    benchmark::DoNotOptimize(r);
  }
  state.counters["rows_per_second"] = benchmark::Counter(
      static_cast<double>(kRows) * state.iterations(), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<int64_t>(body.size()) * state.iterations());
}
BENCHMARK(BM_ParseLineProtocol)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace timestore

BENCHMARK_MAIN();
