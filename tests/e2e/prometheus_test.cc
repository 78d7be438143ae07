// End-to-end with the real Prometheus (Debian's 2.42, /usr/bin/prometheus):
// one Prometheus scrapes the real `timestore serve`'s /metrics every second
// and remote-writes what it scrapes into it; the test then remote-writes known
// gauges itself, and a second Prometheus with an empty TSDB and only
// `remote_read` (read_recent) answers PromQL range queries from Timestore,
// which must equal the same aggregation asked of Timestore's own query API.
// Skipped when Prometheus is not installed. Every child process is killed
// when the test process dies (PR_SET_PDEATHSIG), so nothing outlives it.
#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <thread>

#include "api/body_decoding.h"
#include "api/prometheus.pb.h"
#include "common/strings.h"
#include "tests/e2e/prometheus_process.h"
#include "tests/e2e/test_server.h"

namespace timestore::testing {
namespace {

constexpr const char* kPrometheus = kPrometheusBinary;
using Clock = std::chrono::steady_clock;

// region -> [(time ms, value)]
using Curves = std::map<std::string, std::vector<std::pair<int64_t, double>>>;

// A PromQL range query's matrix, keyed by the value of `by`.
Curves PromRange(int port, const std::string& query, int64_t start_ms, int64_t end_ms,
                 int64_t step_ms, const std::string& by, std::string* raw) {
  HttpResult r =
      Get10(port, StrCat("/api/v1/query_range?query=", UrlEncode(query), "&start=", start_ms / 1000,
                         "&end=", end_ms / 1000, "&step=", step_ms / 1000, "s"));
  *raw = r.body;
  Curves out;
  EXPECT_EQ(r.status, 200) << r.body;
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  if (p.parse(r.body).get(doc)) {
    ADD_FAILURE() << "not JSON: " << r.body;
    return out;
  }
  EXPECT_EQ(std::string_view(doc["status"]), "success") << r.body;
  for (auto series : doc["data"]["result"].get_array()) {
    std::string key(std::string_view(series["metric"][by].get_string()));
    for (auto point : series["values"].get_array()) {
      double t = point.at(0).get_double();
      std::string v(std::string_view(point.at(1).get_string()));
      out[key].emplace_back(std::llround(t * 1000), std::strtod(v.c_str(), nullptr));
    }
  }
  return out;
}

// The same aggregation asked of Timestore: rows of a downsample query.
Curves TimestoreSums(HttpClient& c, const std::string& filters, int64_t start_ms, int64_t end_ms,
                     int64_t step_ms, std::string* raw) {
  HttpResult r = c.Post(
      "/datasets/prometheus/query",
      StrCat(
          R"({"timeRange":{"start":)", start_ms, R"(,"end":)", end_ms + 1, R"(},"filters":)",
          filters, R"(,"downsample":{"intervalUnit":"millisecond","intervalSize":)", step_ms,
          R"(,"groupBy":["region"],"aggregations":[{"fn":"sum","column":"value","alias":"s"}]},)",
          R"("timestampFormat":"epoch_ns","limit":100000})"));
  *raw = r.body;
  Curves out;
  EXPECT_EQ(r.status, 200) << r.body;
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  if (p.parse(r.body).get(doc)) return out;
  for (auto row : doc["rows"].get_array()) {
    std::string key(std::string_view(row["region"].get_string()));
    int64_t ns = row["timestamp"].get_int64();
    out[key].emplace_back(ns / 1'000'000, double(row["s"].get_double()));
  }
  return out;
}

TEST(PrometheusE2ETest, RemoteWriteFromScrapesAndRemoteReadMatchesTimestoreQueries) {
  TIMESTORE_SKIP_WITHOUT(::access(kPrometheus, X_OK) == 0, kPrometheus);
  const auto t0 = Clock::now();
  const std::string dir = MakeTempDir();
  struct Cleanup {
    std::string dir;
    ~Cleanup() { std::filesystem::remove_all(dir); }
  } cleanup{dir};

  TestServer server(dir);
  ASSERT_TRUE(server.Start()) << "timestore did not start; see " << server.log_path();
  const std::string base = StrCat("http://127.0.0.1:", server.port());

  // 1. A Prometheus that scrapes Timestore and remote-writes to it.
  PrometheusProcess writer(dir + "/writer",
                           StrCat("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                                  "scrape_configs:\n  - job_name: timestore\n    static_configs:\n"
                                  "      - targets: ['127.0.0.1:",
                                  server.port(),
                                  "']\n"
                                  "remote_write:\n  - url: ",
                                  base,
                                  "/api/v1/write\n"
                                  "    queue_config:\n      batch_send_deadline: 500ms\n"
                                  "      min_backoff: 100ms\n      max_backoff: 1s\n"));
  ASSERT_TRUE(writer.Start()) << writer.log();

  HttpClient c(server.port());
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  bool written = false;
  std::string last;
  while (Clock::now() - t0 < std::chrono::seconds(30)) {
    HttpResult r =
        c.Post("/datasets/prometheus/query",
               StrCat(R"({"timeRange":{"start":)", now_ms - 60'000, R"(,"end":)", now_ms + 600'000,
                      R"(},"filters":[{"column":"__name__","op":"eq","value":"up"},)",
                      R"({"column":"job","op":"eq","value":"timestore"}],"limit":5})"));
    last = r.body;
    if (r.status == 200 && r.body.find(R"("rows":[{)") != std::string::npos) {
      written = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(written) << "no remote-written `up` rows; last answer " << last << "\n"
                       << writer.log();
  // Scraped series carry Prometheus's target labels.
  EXPECT_NE(last.find(R"("instance":"127.0.0.1:)"), std::string::npos) << last;

  // 2. Known gauges: 6 hosts in 3 regions, 31 samples 10 s apart, values
  // exact in binary so that sums agree whatever their order.
  const int64_t step = 10'000;
  const int64_t start = (now_ms / step) * step - 40 * step;
  const int64_t end = start + 30 * step;
  prometheus::WriteRequest w;
  const char* regions[] = {"eu", "us", "ap"};
  for (int h = 0; h < 6; ++h) {
    prometheus::TimeSeries* ts = w.add_timeseries();
    for (auto [n, v] : {std::pair<std::string, std::string>{"__name__", "cpu_usage"},
                        {"host", StrCat("h", h)},
                        {"region", regions[h % 3]}}) {
      prometheus::Label* l = ts->add_labels();
      l->set_name(n);
      l->set_value(v);
    }
    for (int k = 0; k <= 30; ++k) {
      prometheus::Sample* s = ts->add_samples();
      s->set_timestamp(start + k * step);
      s->set_value(h * 10 + k * 0.5 + (k % 7 == 0 ? 0.25 : 0));
    }
  }
  HttpResult wr = c.Post("/api/v1/write", api::SnappyEncode(w.SerializeAsString()),
                         {{"Content-Encoding", "snappy"},
                          {"Content-Type", "application/x-protobuf"},
                          {"X-Prometheus-Remote-Write-Version", "0.1.0"}});
  ASSERT_EQ(wr.status, 204) << wr.body;

  // 3. A Prometheus with an empty TSDB that reads only from Timestore.
  PrometheusProcess reader(dir + "/reader", StrCat("global:\n  scrape_interval: 1m\n"
                                                   "remote_read:\n  - url: ",
                                                   base, "/api/v1/read\n    read_recent: true\n"));
  ASSERT_TRUE(reader.Start()) << reader.log();

  struct Case {
    std::string promql;
    std::string filters;  // Timestore's equivalent
  };
  const std::string name = R"({"column":"__name__","op":"eq","value":"cpu_usage"})";
  for (const Case& k : {
           Case{"sum by (region) (cpu_usage)", StrCat("[", name, "]")},
           Case{
               R"(sum by (region) (cpu_usage{host=~"h[0-3]"}))",
               StrCat("[", name, R"(,{"column":"host","op":"in","value":["h0","h1","h2","h3"]}])")},
           Case{R"(sum by (region) (cpu_usage{host!="h4",region=~"eu|us"}))",
                StrCat("[", name, R"(,{"column":"host","op":"neq","value":"h4"},)",
                       R"({"column":"region","op":"in","value":["eu","us"]}])")},
       }) {
    SCOPED_TRACE(k.promql);
    std::string prom_raw, ts_raw;
    Curves prom = PromRange(reader.port(), k.promql, start, end, step, "region", &prom_raw);
    Curves mine = TimestoreSums(c, k.filters, start, end, step, &ts_raw);
    ASSERT_FALSE(mine.empty()) << ts_raw;
    for (const auto& [region, points] : mine) {
      EXPECT_EQ(points.size(), 31u) << region;
    }
    EXPECT_EQ(prom, mine) << "PromQL: " << prom_raw << "\nTimestore: " << ts_raw;
  }

  // What the first Prometheus scraped reads back through the second.
  HttpResult up =
      Get10(reader.port(), "/api/v1/query?query=" + UrlEncode(R"(up{job="timestore"})"));
  EXPECT_EQ(up.status, 200) << up.body;
  EXPECT_NE(up.body.find(R"("value":[)"), std::string::npos) << up.body;
  EXPECT_NE(up.body.find(R"(,"1"])"), std::string::npos) << up.body;

  // Every batch the writer sent was taken (a 4xx would be "non-recoverable",
  // a 5xx "Failed to send batch, retrying") and the reader saw no error.
  const std::string writer_log = writer.log(), reader_log = reader.log();
  EXPECT_EQ(writer_log.find("non-recoverable"), std::string::npos) << writer_log;
  EXPECT_EQ(writer_log.find("Failed to send"), std::string::npos) << writer_log;
  EXPECT_EQ(reader_log.find("level=error"), std::string::npos) << reader_log;
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(60));
  server.Stop(SIGTERM);
}

}  // namespace
}  // namespace timestore::testing
