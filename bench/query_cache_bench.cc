// The query result cache on a dashboard-like repeat of the TSBS query mix:
// build/timestore-query-cache-bench.
//
//   timestore-query-cache-bench --port 4100 --dataset cpu --hosts 100 --duration 1d \
//       --seed 123 --per-type 20 --rounds 10
//
// The data must be loaded and sealed already (bench/run_query_cache.sh does
// both). Each round sends every query instance of every TSBS type once, as a
// dashboard refreshing its panels does; the first round fills the cache, the
// later ones are answered from it while the data is unchanged. Latencies are
// client-side (keep-alive HTTP on loopback), split by the answer's
// stats.resultCache (miss, hit, bypass, off); per type it prints p50 and p99
// of misses and hits and the p50 ratio, and checks that every hit's rows are
// byte for byte the rows of its miss. The last line is the totals as JSON.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "bench/tsbs/cpu_generator.h"
#include "bench/tsbs/queries.h"
#include "bench/tsbs/timestore_client.h"

namespace timestore::bench::tsbs {
namespace {

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// stats.resultCache of a JSON answer ("" when absent).
std::string Outcome(const std::string& body) {
  constexpr std::string_view kKey = "\"resultCache\":\"";
  size_t at = body.rfind(kKey);
  if (at == std::string::npos) return "";
  at += kKey.size();
  return body.substr(at, body.find('"', at) - at);
}

// The answer without its per-moment part (freshness, stats).
std::string Rows(const std::string& body) { return body.substr(0, body.rfind(",\"freshness\":")); }

int Main(int argc, char** argv) {
  CLI::App app{"The query result cache on a repeated TSBS query mix"};
  std::string host = "127.0.0.1", dataset = "cpu", duration = "1d";
  int port = 4100, per_type = 20, rounds = 10;
  int64_t hosts = 100;
  uint64_t seed = 123;
  app.add_option("--host", host)->capture_default_str();
  app.add_option("--port", port)->capture_default_str();
  app.add_option("--dataset", dataset)->capture_default_str();
  app.add_option("--hosts", hosts)->capture_default_str();
  app.add_option("--duration", duration)->capture_default_str();
  app.add_option("--seed", seed)->capture_default_str();
  app.add_option("--per-type", per_type, "Query instances per type")->capture_default_str();
  app.add_option("--rounds", rounds, "Refreshes of the whole mix")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  QueryDataSpec spec;
  spec.hosts = hosts;
  spec.start_ns = Options{}.start_ns;
  spec.duration_ns = ParseDurationNs(duration).value_or(86400'000'000'000);
  if (std::string e = ValidateQueryDataSpec(spec); !e.empty()) {
    std::fprintf(stderr, "error: %s\n", e.c_str());
    return 2;
  }
  HttpConnection http(host, port);
  const std::string target = "/datasets/" + dataset + "/query?precision=ns";
  struct Instance {
    std::string type, body, rows;
  };
  std::vector<Instance> mix;
  for (const std::string& type : AllQueryTypes()) {
    for (const Query& q : GenerateQueries(spec, type, per_type, seed)) {
      mix.push_back({type, TimestoreQueryBody(q), ""});
    }
  }
  std::map<std::string, std::map<std::string, std::vector<double>>> ms;  // type -> outcome -> ms
  std::map<std::string, int> outcomes;
  int errors = 0, mismatches = 0;
  for (int r = 0; r < rounds; ++r) {
    for (Instance& in : mix) {
      auto t0 = std::chrono::steady_clock::now();
      HttpResponse resp = http.Request("POST", target, in.body);
      double t =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (resp.status != 200) {
        if (errors++ < 5)
          std::fprintf(stderr, "%s: %d %s\n", in.type.c_str(), resp.status,
                       resp.body.substr(0, 300).c_str());
        continue;
      }
      std::string outcome = Outcome(resp.body);
      if (outcome.empty()) outcome = "none";
      ++outcomes[outcome];
      ms[in.type][outcome].push_back(t);
      ms["all"][outcome].push_back(t);
      std::string rows = Rows(resp.body);
      if (in.rows.empty()) {
        in.rows = std::move(rows);
      } else if (rows != in.rows && mismatches++ < 5) {
        std::fprintf(stderr, "%s: round %d answered other rows (%s)\n", in.type.c_str(), r,
                     outcome.c_str());
      }
    }
  }
  std::printf("%-24s %8s %8s %10s %10s %10s %10s %9s\n", "type", "misses", "hits", "miss p50",
              "miss p99", "hit p50", "hit p99", "p50 x");
  auto row = [&](const std::string& type) {
    auto& m = ms[type]["miss"];
    auto& h = ms[type]["hit"];
    const double mp50 = Percentile(m, 0.5), hp50 = Percentile(h, 0.5);
    std::printf("%-24s %8zu %8zu %10.3f %10.3f %10.3f %10.3f %9.1f\n", type.c_str(), m.size(),
                h.size(), mp50, Percentile(m, 0.99), hp50, Percentile(h, 0.99),
                hp50 > 0 ? mp50 / hp50 : 0.0);
  };
  for (const std::string& type : AllQueryTypes()) row(type);
  row("all");
  std::printf("outcomes:");
  for (const auto& [o, n] : outcomes) std::printf(" %s=%d", o.c_str(), n);
  std::printf("; errors %d; hits with other rows than their miss: %d\n", errors, mismatches);
  auto& m = ms["all"]["miss"];
  auto& h = ms["all"]["hit"];
  std::printf(
      "{\"bench\":\"query_cache\",\"hosts\":%lld,\"duration\":\"%s\",\"per_type\":%d,"
      "\"rounds\":%d,\"misses\":%zu,\"hits\":%zu,\"miss_p50_ms\":%.3f,\"miss_p99_ms\":%.3f,"
      "\"hit_p50_ms\":%.3f,\"hit_p99_ms\":%.3f,\"errors\":%d,\"mismatches\":%d}\n",
      static_cast<long long>(hosts), duration.c_str(), per_type, rounds, m.size(), h.size(),
      Percentile(m, 0.5), Percentile(m, 0.99), Percentile(h, 0.5), Percentile(h, 0.99), errors,
      mismatches);
  return errors == 0 && mismatches == 0 ? 0 : 1;
}

}  // namespace
}  // namespace timestore::bench::tsbs

int main(int argc, char** argv) { return timestore::bench::tsbs::Main(argc, argv); }
