// Paths into json columns on one core (bench/README.md, "timestore-json-path-bench"):
// what a query pays per distinct json value to read `attributes.http.status`
// (nested) or `attributes.http.route` when OpenTelemetry sent it as the flat key
// "http.route", and what ingest pays to make a value canonical. 10,000 distinct
// OTLP-like attribute objects of about 230 bytes; counter docs_per_second.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "common/strings.h"
#include "segment/typed_text.h"

namespace timestore {
namespace {

constexpr int kDocs = 10000;

// As a client sends them: keys unsorted, whole doubles spelled 200.0.
const std::vector<std::string>& RawDocs() {
  static const std::vector<std::string> docs = [] {
    std::vector<std::string> out;
    for (int i = 0; i < kDocs; ++i) {
      std::string raw =
          StrCat(R"({"service.version":"1.4.)", i % 7, R"(","http.route":"/api/v1/items/)", i % 50,
                 R"(","http":{"method":")", i % 3 ? "GET" : "POST", R"(","status":)",
                 200 + i % 5 * 100, R"(.0,"user_agent":"Mozilla/5.0 (X11; Linux x86_64) probe/)", i,
                 R"("},)", R"("net.peer.port":)", 30000 + i, R"(,"retry":)",
                 i % 2 ? "true" : "false", R"(,"tags":["a","b",")", i % 11, R"("]})");
      out.push_back(std::move(raw));
    }
    return out;
  }();
  return docs;
}

// As stored: canonical.
const std::vector<std::string>& Docs() {
  static const std::vector<std::string> docs = [] {
    std::vector<std::string> out;
    for (const std::string& raw : RawDocs()) out.push_back(*CanonicalJsonText(raw));
    return out;
  }();
  return docs;
}

void Extract(benchmark::State& state, const char* path) {
  const std::vector<std::string>& docs = Docs();
  const std::vector<std::string> segments = SplitJsonPath(path);
  for (auto _ : state) {
    for (const std::string& d : docs) benchmark::DoNotOptimize(ExtractJsonPath(d, segments));
  }
  state.counters["docs_per_second"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kDocs, benchmark::Counter::kIsRate);
}

void BM_ExtractNested(benchmark::State& state) { Extract(state, "http.status"); }
void BM_ExtractFlatDottedKey(benchmark::State& state) { Extract(state, "http.route"); }

void BM_CanonicalJsonText(benchmark::State& state) {
  const std::vector<std::string>& docs = RawDocs();
  for (auto _ : state) {
    for (const std::string& d : docs) benchmark::DoNotOptimize(CanonicalJsonText(d));
  }
  state.counters["docs_per_second"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kDocs, benchmark::Counter::kIsRate);
}

BENCHMARK(BM_ExtractNested);
BENCHMARK(BM_ExtractFlatDottedKey);
BENCHMARK(BM_CanonicalJsonText);

}  // namespace
}  // namespace timestore

BENCHMARK_MAIN();
