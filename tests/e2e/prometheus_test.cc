// End-to-end with the real Prometheus (Debian's 2.42, /usr/bin/prometheus):
// one Prometheus scrapes the real `timestore serve`'s /metrics every second
// and remote-writes what it scrapes into it; the test then remote-writes known
// gauges itself, and a second Prometheus with an empty TSDB and only
// `remote_read` (read_recent) answers PromQL range queries from Timestore,
// which must equal the same aggregation asked of Timestore's own query API.
// Skipped when Prometheus is not installed. Every child process is killed
// when the test process dies (PR_SET_PDEATHSIG), so nothing outlives it.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "api/body_decoding.h"
#include "api/prometheus.pb.h"
#include "common/strings.h"
#include "tests/e2e/test_server.h"

namespace timestore::testing {
namespace {

constexpr const char* kPrometheus = "/usr/bin/prometheus";
using Clock = std::chrono::steady_clock;

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// GET over HTTP/1.0, so that Go's server answers without chunked encoding
// and ends the body by closing the connection.
HttpResult Get10(int port, const std::string& target) {
  HttpResult result;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return result;
  }
  timeval tv{20, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::string req = StrCat("GET ", target, " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return result;
  }
  std::string all;
  char buf[65536];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0) all.append(buf, static_cast<size_t>(n));
  ::close(fd);
  size_t head_end = all.find("\r\n\r\n");
  if (head_end == std::string::npos || all.size() < 12) return result;
  result.status = std::atoi(all.c_str() + all.find(' ') + 1);
  result.body = all.substr(head_end + 4);
  return result;
}

std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// A Prometheus server on a loopback port, killed with its test.
class PrometheusProcess {
 public:
  PrometheusProcess(std::string dir, std::string config) : dir_(std::move(dir)) {
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ + "/prometheus.yml") << config;
  }
  ~PrometheusProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);  // its TSDB is a temporary directory: nothing to keep
      ::waitpid(pid_, nullptr, 0);
    }
  }
  bool Start() {
    port_ = FreePort();
    const std::string log = dir_ + "/prometheus.log";
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      std::string config = "--config.file=" + dir_ + "/prometheus.yml";
      std::string tsdb = "--storage.tsdb.path=" + dir_ + "/tsdb";
      std::string listen = StrCat("--web.listen-address=127.0.0.1:", port_);
      ::execl(kPrometheus, kPrometheus, config.c_str(), tsdb.c_str(), listen.c_str(),
              "--log.level=warn", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    while (Clock::now() < deadline) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      if (Get10(port_, "/-/ready").status == 200) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  int port() const { return port_; }
  std::string log() const {
    std::ifstream in(dir_ + "/prometheus.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

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
