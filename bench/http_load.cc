// timestore-http-load: many concurrent keep-alive HTTP clients against a running
// `timestore serve`, and a slowloris of half-open connections (bench/README.md).
//
// --mode load: N connections, each bounded (send a request, wait for its
// response, send the next), mixing small JSON ingest batches into a few
// datasets with raw range queries and downsampling queries over the last
// minute. Latency runs from the start of writing a request to the end of
// reading its response. Any non-2xx answer, connection error or timeout
// counts as an error.
//
// --mode slowloris: S connections send a partial request head and then one
// byte every --trickle-ms (or nothing), are reopened when the server drops
// them, and are held for --duration; meanwhile a probe thread times
// GET /health and a small query, each on a fresh connection, every
// --probe-interval-ms (before the holders are opened too, as a baseline).
//
// Both modes print a human table and, last on stdout, one JSON line. With
// --server-pid, the server's VmHWM and VmRSS (/proc/<pid>/status) at the end.
// The client runs on the same machine as the server and competes for its CPUs.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"

namespace timestore::bench {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr auto kRequestTimeout = std::chrono::seconds(30);
constexpr int kHosts = 100;  // distinct "host" tag values per dataset
constexpr size_t kMaxErrorsKept = 5;

double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 4100;
  std::string mode = "load";
  double duration_s = 60;
  int connections = 1000;
  int threads = 1;
  double ingest_fraction = 0.8;
  int datasets = 4;
  int min_rows = 10;
  int max_rows = 100;
  int slow_connections = 3000;
  int trickle_ms = 5000;
  int probe_interval_ms = 100;
  double baseline_s = 5;
  int server_pid = 0;
  uint64_t seed = 1;
};

std::string Dataset(int i) { return "load" + std::to_string(i); }

std::string IngestBody(std::mt19937_64& rng, int rows) {
  const int64_t now = NowMs();
  std::string body = "{\"records\":[";
  body.reserve(64 + rows * 72);
  for (int r = 0; r < rows; ++r) {
    if (r) body += ',';
    // Up to a second behind the clock: mostly in order, a little out of order.
    const int64_t ts = now - static_cast<int64_t>(rng() % 1000);
    char buf[160];
    const int n =
        std::snprintf(buf, sizeof buf,
                      "{\"timestamp\":%lld,\"host\":\"h%02d\",\"usage\":%.3f,"
                      "\"count\":%d}",
                      static_cast<long long>(ts), static_cast<int>(rng() % kHosts),
                      static_cast<double>(rng() % 100000) / 1000.0, static_cast<int>(rng() % 1000));
    body.append(buf, n);
  }
  body += "]}";
  return body;
}

// The last 10 s of one host, newest first, at most 100 rows.
std::string RawQueryBody(std::mt19937_64& rng) {
  const int64_t now = NowMs();
  char buf[320];
  const int n = std::snprintf(
      buf, sizeof buf,
      "{\"timeRange\":{\"start\":%lld,\"end\":%lld},\"columns\":[\"usage\",\"count\"],"
      "\"filters\":[{\"column\":\"host\",\"op\":\"eq\",\"value\":\"h%02d\"}],"
      "\"order\":\"desc\",\"limit\":100}",
      static_cast<long long>(now - 10'000), static_cast<long long>(now + 1),
      static_cast<int>(rng() % kHosts));
  return std::string(buf, n);
}

// The last minute in 10 s buckets per host: avg and max of usage, count.
std::string DownsampleQueryBody() {
  const int64_t now = NowMs();
  char buf[400];
  const int n = std::snprintf(
      buf, sizeof buf,
      "{\"timeRange\":{\"start\":%lld,\"end\":%lld},\"downsample\":{\"intervalUnit\":\"second\","
      "\"intervalSize\":10,\"groupBy\":[\"host\"],\"aggregations\":[{\"fn\":\"avg\","
      "\"column\":\"usage\"},{\"fn\":\"max\",\"column\":\"usage\"},{\"fn\":\"count\"}]}}",
      static_cast<long long>(now - 60'000), static_cast<long long>(now + 1));
  return std::string(buf, n);
}

struct Percentiles {
  size_t n = 0;
  double p50 = 0, p99 = 0, max = 0, mean = 0;
};

Percentiles Summarize(std::vector<double> v) {
  Percentiles p;
  p.n = v.size();
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
  };
  p.p50 = at(0.50);
  p.p99 = at(0.99);
  p.max = v.back();
  double sum = 0;
  for (double x : v) sum += x;
  p.mean = sum / static_cast<double>(v.size());
  return p;
}

std::string PercentilesJson(const Percentiles& p) {
  char buf[200];
  std::snprintf(buf, sizeof buf, "{\"n\":%zu,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f}", p.n,
                p.p50, p.p99, p.max);
  return buf;
}

// VmHWM and VmRSS of `pid` in KiB (0 when unreadable).
std::pair<int64_t, int64_t> ServerMemoryKb(int pid) {
  int64_t hwm = 0, rss = 0;
  if (pid <= 0) return {0, 0};
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) hwm = std::stoll(line.substr(6));
    if (line.rfind("VmRSS:", 0) == 0) rss = std::stoll(line.substr(6));
  }
  return {hwm, rss};
}

// ---------------------------------------------------------------------------
// Load mode.

enum Kind { kIngest = 0, kRawQuery = 1, kDownsample = 2, kKinds = 3 };
constexpr const char* kKindNames[kKinds] = {"ingest", "query_raw", "query_downsample"};

// One client thread's results; merged at the end.
struct ThreadStats {
  std::vector<double> latency_ms[kKinds];
  int64_t ok[kKinds] = {};
  int64_t rows_ingested = 0;
  std::map<std::string, int64_t> errors;  // "http 503", "connect: ...", "read: ..."
  std::vector<std::string> error_samples;
  int64_t reconnects = 0;

  void Error(std::string key, std::string sample) {
    ++errors[std::move(key)];
    if (error_samples.size() < kMaxErrorsKept) error_samples.push_back(std::move(sample));
  }
};

struct LoadShared {
  Options options;
  tcp::endpoint endpoint;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> completed{0};
  std::atomic<int> connected{0};
};

// One keep-alive connection: request, response, next request, until stop.
class LoadConnection : public std::enable_shared_from_this<LoadConnection> {
 public:
  LoadConnection(net::io_context& ioc, LoadShared& shared, ThreadStats& stats, uint64_t seed)
      : stream_(ioc), shared_(shared), stats_(stats), rng_(seed) {}

  void Start() { Connect(); }

 private:
  void Connect() {
    if (shared_.stop.load()) return;
    stream_.expires_after(kRequestTimeout);
    stream_.async_connect(shared_.endpoint, [self = shared_from_this()](beast::error_code ec) {
      if (ec) {
        self->stats_.Error("connect: " + ec.message(), "connect: " + ec.message());
        self->Retry();
        return;
      }
      if (!self->counted_) {
        self->counted_ = true;
        self->shared_.connected.fetch_add(1);
      }
      beast::error_code ignored;
      self->stream_.socket().set_option(tcp::no_delay(true), ignored);
      self->Next();
    });
  }

  // After a connection error: a fresh connection shortly after.
  void Retry() {
    beast::error_code ignored;
    stream_.socket().close(ignored);
    ++stats_.reconnects;
    auto timer = std::make_shared<net::steady_timer>(stream_.get_executor());
    timer->expires_after(std::chrono::milliseconds(10));
    timer->async_wait([self = shared_from_this(), timer](beast::error_code) { self->Connect(); });
  }

  void Next() {
    if (shared_.stop.load()) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream_.socket().close(ignored);
      return;
    }
    const double pick = std::uniform_real_distribution<double>(0, 1)(rng_);
    const std::string dataset =
        Dataset(static_cast<int>(rng_() % static_cast<uint64_t>(shared_.options.datasets)));
    req_ = {};
    req_.version(11);
    req_.method(http::verb::post);
    req_.set(http::field::host, shared_.options.host);
    req_.set(http::field::content_type, "application/json");
    rows_ = 0;
    if (pick < shared_.options.ingest_fraction) {
      kind_ = kIngest;
      rows_ = shared_.options.min_rows +
              static_cast<int>(rng_() % static_cast<uint64_t>(shared_.options.max_rows -
                                                              shared_.options.min_rows + 1));
      req_.target("/datasets/" + dataset + "/ingest");
      req_.body() = IngestBody(rng_, rows_);
    } else {
      kind_ = rng_() % 2 ? kRawQuery : kDownsample;
      req_.target("/datasets/" + dataset + "/query");
      req_.body() = kind_ == kRawQuery ? RawQueryBody(rng_) : DownsampleQueryBody();
    }
    req_.keep_alive(true);
    req_.prepare_payload();
    t0_ = Clock::now();
    stream_.expires_after(kRequestTimeout);
    http::async_write(stream_, req_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Failed("write: " + ec.message());
      self->res_.emplace();
      self->res_->body_limit(256 << 20);
      http::async_read(self->stream_, self->buffer_, *self->res_,
                       [self](beast::error_code ec, size_t) { self->OnResponse(ec); });
    });
  }

  void OnResponse(beast::error_code ec) {
    if (ec) return Failed("read: " + ec.message());
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0_).count();
    auto& res = res_->get();
    const unsigned status = res.result_int();
    shared_.completed.fetch_add(1, std::memory_order_relaxed);
    if (status >= 200 && status < 300) {
      stats_.latency_ms[kind_].push_back(ms);
      ++stats_.ok[kind_];
      stats_.rows_ingested += rows_;
    } else {
      stats_.Error("http " + std::to_string(status), std::string(kKindNames[kind_]) + " " +
                                                         std::to_string(status) + ": " +
                                                         res.body().substr(0, 300));
    }
    if (!res.keep_alive()) {
      stats_.Error("server closed keep-alive", "server closed a keep-alive connection");
      return Retry();
    }
    Next();
  }

  void Failed(std::string what) {
    if (shared_.stop.load() && what.find("operation aborted") != std::string::npos) return;
    stats_.Error(what, std::string(kKindNames[kind_]) + " " + what);
    buffer_.clear();
    Retry();
  }

  beast::tcp_stream stream_;
  LoadShared& shared_;
  ThreadStats& stats_;
  std::mt19937_64 rng_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  std::optional<http::response_parser<http::string_body>> res_;
  Kind kind_ = kIngest;
  int rows_ = 0;
  Clock::time_point t0_;
  bool counted_ = false;
};

// A blocking request on a fresh connection with a timeout (no Asio: its
// blocking sockets ignore SO_RCVTIMEO). The status, or -1 with `error` set.
int BlockingRequest(const sockaddr_in& addr, const std::string& request, int timeout_ms,
                    std::string* error) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = "socket: " + std::string(strerror(errno));
    return -1;
  }
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  auto fail = [&](std::string what) {
    *error = what + ": " + strerror(errno);
    ::close(fd);
    return -1;
  };
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    return fail("connect");
  }
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return fail("send");
    sent += static_cast<size_t>(n);
  }
  // Read the head, then Content-Length bytes of body.
  std::string in;
  char buf[16384];
  size_t head_end = std::string::npos, want = std::string::npos;
  while (want == std::string::npos || in.size() < want) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0) return fail("recv");
    if (n == 0) {
      errno = ECONNRESET;
      return fail("recv (closed early)");
    }
    in.append(buf, static_cast<size_t>(n));
    if (head_end == std::string::npos) {
      head_end = in.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        size_t length = 0;
        std::string head = in.substr(0, head_end);
        for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const size_t cl = head.find("\r\ncontent-length:");
        if (cl != std::string::npos) length = std::stoull(head.substr(cl + 17));
        want = head_end + 4 + length;
      }
    }
  }
  ::close(fd);
  if (in.size() < 12 || in.compare(0, 5, "HTTP/") != 0) {
    *error = "bad response";
    return -1;
  }
  return std::atoi(in.c_str() + 9);
}

std::string PostRequest(const Options& o, const std::string& target, const std::string& body) {
  return "POST " + target + " HTTP/1.1\r\nHost: " + o.host +
         "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::optional<sockaddr_in> Resolve(const Options& o) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(o.port);
  if (inet_pton(AF_INET, o.host.c_str(), &addr.sin_addr) != 1) return std::nullopt;
  return addr;
}

// One ingest per dataset, so the queries find them from the start.
bool Prime(const Options& o, const sockaddr_in& addr) {
  std::mt19937_64 rng(o.seed);
  for (int d = 0; d < o.datasets; ++d) {
    std::string error;
    const int status = BlockingRequest(
        addr, PostRequest(o, "/datasets/" + Dataset(d) + "/ingest", IngestBody(rng, 100)), 10'000,
        &error);
    if (status < 200 || status >= 300) {
      std::fprintf(stderr, "priming %s failed: status %d %s\n", Dataset(d).c_str(), status,
                   error.c_str());
      return false;
    }
  }
  return true;
}

int RunLoad(const Options& o) {
  auto addr = Resolve(o);
  if (!addr) {
    std::fprintf(stderr, "--host must be an IPv4 address\n");
    return 2;
  }
  if (!Prime(o, *addr)) return 1;
  LoadShared shared;
  shared.options = o;
  shared.endpoint = tcp::endpoint(net::ip::make_address(o.host), o.port);
  const int threads = std::max(1, o.threads);
  std::vector<std::unique_ptr<net::io_context>> iocs;
  std::vector<ThreadStats> stats(threads);
  for (int t = 0; t < threads; ++t) iocs.push_back(std::make_unique<net::io_context>(1));
  for (int c = 0; c < o.connections; ++c) {
    const int t = c % threads;
    std::make_shared<LoadConnection>(*iocs[t], shared, stats[t], o.seed * 1'000'003 + c)->Start();
  }
  const auto t0 = Clock::now();
  std::vector<std::thread> runners;
  for (int t = 0; t < threads; ++t) runners.emplace_back([&, t] { iocs[t]->run(); });

  const bool tty = isatty(STDERR_FILENO) != 0;
  double connect_s = -1;
  int64_t last = 0;
  auto last_t = t0;
  while (SecondsSince(t0) < o.duration_s) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (connect_s < 0 && shared.connected.load() >= o.connections) connect_s = SecondsSince(t0);
    if (tty && Clock::now() - last_t >= std::chrono::seconds(1)) {
      const int64_t done = shared.completed.load();
      std::fprintf(stderr, "\r\033[K%.0f s: %d connected, %lld requests, %.0f req/s",
                   SecondsSince(t0), shared.connected.load(), static_cast<long long>(done),
                   static_cast<double>(done - last) / SecondsSince(last_t));
      last = done;
      last_t = Clock::now();
    }
  }
  shared.stop = true;
  const double elapsed = SecondsSince(t0);
  const int64_t completed_at_stop = shared.completed.load();
  // Requests in flight finish (bounded by their timeout); connections close.
  for (auto& r : runners) r.join();
  if (tty) std::fprintf(stderr, "\r\033[K");

  ThreadStats all;
  for (auto& s : stats) {
    for (int k = 0; k < kKinds; ++k) {
      all.latency_ms[k].insert(all.latency_ms[k].end(), s.latency_ms[k].begin(),
                               s.latency_ms[k].end());
      all.ok[k] += s.ok[k];
    }
    all.rows_ingested += s.rows_ingested;
    all.reconnects += s.reconnects;
    for (auto& [k, v] : s.errors) all.errors[k] += v;
    for (auto& e : s.error_samples)
      if (all.error_samples.size() < kMaxErrorsKept) all.error_samples.push_back(e);
  }
  int64_t errors = 0;
  for (auto& [k, v] : all.errors) errors += v;
  const auto [hwm_kb, rss_kb] = ServerMemoryKb(o.server_pid);

  std::printf(
      "timestore-http-load: %d keep-alive connections, %.0f s, %.0f%% ingest (%d-%d rows, "
      "%d datasets), client threads %d\n",
      o.connections, o.duration_s, o.ingest_fraction * 100, o.min_rows, o.max_rows, o.datasets,
      threads);
  std::printf("%-18s %10s %10s %10s %10s %10s\n", "kind", "ok", "req/s", "p50 ms", "p99 ms",
              "max ms");
  std::vector<double> every;
  Percentiles per_kind[kKinds];
  for (int k = 0; k < kKinds; ++k) {
    per_kind[k] = Summarize(all.latency_ms[k]);
    every.insert(every.end(), all.latency_ms[k].begin(), all.latency_ms[k].end());
    std::printf("%-18s %10lld %10.0f %10.2f %10.2f %10.2f\n", kKindNames[k],
                static_cast<long long>(all.ok[k]), static_cast<double>(all.ok[k]) / elapsed,
                per_kind[k].p50, per_kind[k].p99, per_kind[k].max);
  }
  const Percentiles total = Summarize(every);
  std::printf("%-18s %10zu %10.0f %10.2f %10.2f %10.2f\n", "all", total.n,
              static_cast<double>(total.n) / elapsed, total.p50, total.p99, total.max);
  std::printf(
      "rows ingested %lld (%.0f rows/s); all %d connected after %.1f s; errors %lld; "
      "reconnects %lld\n",
      static_cast<long long>(all.rows_ingested), static_cast<double>(all.rows_ingested) / elapsed,
      shared.connected.load(), connect_s, static_cast<long long>(errors),
      static_cast<long long>(all.reconnects));
  for (auto& [k, v] : all.errors) std::printf("  error %s: %lld\n", k.c_str(), (long long)v);
  for (auto& e : all.error_samples) std::printf("  e.g. %s\n", e.c_str());
  if (o.server_pid > 0) {
    std::printf("server pid %d: VmHWM %.1f MiB, VmRSS %.1f MiB\n", o.server_pid, hwm_kb / 1024.0,
                rss_kb / 1024.0);
  }

  std::string json = "{\"bench\":\"http_load\",\"mode\":\"load\",\"connections\":" +
                     std::to_string(o.connections) + ",\"duration_s\":" + std::to_string(elapsed) +
                     ",\"requests\":" + std::to_string(total.n) + ",\"requests_per_sec\":" +
                     std::to_string(static_cast<double>(total.n) / elapsed) +
                     ",\"completed_at_stop\":" + std::to_string(completed_at_stop) +
                     ",\"rows_ingested\":" + std::to_string(all.rows_ingested) +
                     ",\"errors\":" + std::to_string(errors) + ",\"all\":" + PercentilesJson(total);
  for (int k = 0; k < kKinds; ++k) {
    json += ",\"" + std::string(kKindNames[k]) + "\":" + PercentilesJson(per_kind[k]);
  }
  json += ",\"server_vmhwm_kb\":" + std::to_string(hwm_kb) +
          ",\"server_vmrss_kb\":" + std::to_string(rss_kb) + "}";
  std::printf("%s\n", json.c_str());
  return errors == 0 ? 0 : 1;
}

// ---------------------------------------------------------------------------
// Slowloris mode.

struct SlowShared {
  Options options;
  tcp::endpoint endpoint;
  std::atomic<bool> stop{false};
  std::atomic<int> held{0};       // connections open with a partial head sent
  std::atomic<int64_t> drops{0};  // closed by the server
  std::atomic<int64_t> connect_errors{0};
  std::mutex mu;
  std::vector<double> held_s;  // how long each dropped connection was held
};

// Sends a partial head, trickles a byte every trickle_ms, reopens when dropped.
class SlowConnection : public std::enable_shared_from_this<SlowConnection> {
 public:
  SlowConnection(net::io_context& ioc, SlowShared& shared)
      : socket_(ioc), timer_(ioc), shared_(shared) {}

  void Start() {
    if (shared_.stop.load()) return;
    const uint64_t gen = gen_;
    socket_.async_connect(shared_.endpoint, [self = shared_from_this(), gen](beast::error_code ec) {
      if (gen != self->gen_) return;
      if (ec) {
        self->shared_.connect_errors.fetch_add(1);
        self->Reopen(std::chrono::milliseconds(100));
        return;
      }
      static constexpr std::string_view kHead =
          "POST /datasets/load0/ingest HTTP/1.1\r\nHost: slow\r\nX-Slow: ";
      net::async_write(self->socket_, net::buffer(kHead.data(), kHead.size()),
                       [self, gen](beast::error_code ec, size_t) {
                         if (gen != self->gen_) return;
                         if (ec) return self->Dropped();
                         self->since_ = Clock::now();
                         self->holding_ = true;
                         self->shared_.held.fetch_add(1);
                         self->WatchClose();
                         self->Trickle();
                       });
    });
  }

  void Stop() {
    ++gen_;
    if (holding_) {
      holding_ = false;
      shared_.held.fetch_sub(1);
    }
    beast::error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
  }

 private:
  void WatchClose() {
    socket_.async_read_some(net::buffer(scratch_),
                            [self = shared_from_this(), gen = gen_](beast::error_code ec, size_t) {
                              if (gen != self->gen_) return;
                              if (ec) return self->Dropped();
                              self->WatchClose();  // a 400 or 408 body: wait for the close
                            });
  }

  void Trickle() {
    if (shared_.options.trickle_ms <= 0) return;
    timer_.expires_after(std::chrono::milliseconds(shared_.options.trickle_ms));
    timer_.async_wait([self = shared_from_this(), gen = gen_](beast::error_code ec) {
      if (ec || gen != self->gen_ || !self->holding_) return;
      static constexpr char kByte = 'a';
      net::async_write(self->socket_, net::buffer(&kByte, 1),
                       [self, gen](beast::error_code ec, size_t) {
                         if (gen != self->gen_) return;
                         if (ec) return self->Dropped();
                         self->Trickle();
                       });
    });
  }

  void Dropped() {
    if (holding_) {
      holding_ = false;
      shared_.held.fetch_sub(1);
      if (!shared_.stop.load()) {
        shared_.drops.fetch_add(1);
        std::lock_guard<std::mutex> l(shared_.mu);
        shared_.held_s.push_back(SecondsSince(since_));
      }
    }
    Reopen(std::chrono::milliseconds(0));
  }

  void Reopen(std::chrono::milliseconds after) {
    ++gen_;  // callbacks of the old socket are ignored from here on
    beast::error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
    if (shared_.stop.load()) return;
    auto t = std::make_shared<net::steady_timer>(socket_.get_executor());
    t->expires_after(after);
    t->async_wait([self = shared_from_this(), t](beast::error_code) { self->Start(); });
  }

  tcp::socket socket_;
  net::steady_timer timer_;
  SlowShared& shared_;
  char scratch_[512];
  Clock::time_point since_;
  bool holding_ = false;
  uint64_t gen_ = 0;  // bumped when the socket is replaced
};

struct ProbeResults {
  std::vector<double> health_ms, query_ms;
  int64_t errors = 0;
  std::vector<std::string> error_samples;
};

// Every interval: GET /health, then a small query, each on a fresh connection.
ProbeResults Probe(const Options& o, const sockaddr_in& addr, double seconds,
                   const std::atomic<bool>* stop_early = nullptr) {
  ProbeResults r;
  std::mt19937_64 rng(o.seed + 7);
  const std::string health =
      "GET /health HTTP/1.1\r\nHost: " + o.host + "\r\nConnection: close\r\n\r\n";
  const auto t0 = Clock::now();
  auto next = t0;
  while (SecondsSince(t0) < seconds && !(stop_early && stop_early->load())) {
    std::this_thread::sleep_until(next);
    next += std::chrono::milliseconds(o.probe_interval_ms);
    for (int which = 0; which < 2; ++which) {
      const std::string req =
          which == 0 ? health : PostRequest(o, "/datasets/load0/query", RawQueryBody(rng));
      std::string error;
      const auto s = Clock::now();
      const int status = BlockingRequest(addr, req, 10'000, &error);
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - s).count();
      if (status >= 200 && status < 300) {
        (which == 0 ? r.health_ms : r.query_ms).push_back(ms);
      } else {
        ++r.errors;
        if (r.error_samples.size() < kMaxErrorsKept) {
          r.error_samples.push_back((which == 0 ? "health " : "query ") + std::to_string(status) +
                                    " " + error);
        }
      }
    }
  }
  return r;
}

int RunSlowloris(const Options& o) {
  auto addr = Resolve(o);
  if (!addr) {
    std::fprintf(stderr, "--host must be an IPv4 address\n");
    return 2;
  }
  Options primed = o;
  primed.datasets = 1;
  if (!Prime(primed, *addr)) return 1;
  const bool tty = isatty(STDERR_FILENO) != 0;

  if (tty) std::fprintf(stderr, "baseline probes for %.0f s\n", o.baseline_s);
  const ProbeResults baseline = Probe(o, *addr, o.baseline_s);

  SlowShared shared;
  shared.options = o;
  shared.endpoint = tcp::endpoint(net::ip::make_address(o.host), o.port);
  net::io_context ioc(1);
  std::vector<std::shared_ptr<SlowConnection>> conns;
  for (int i = 0; i < o.slow_connections; ++i) {
    conns.push_back(std::make_shared<SlowConnection>(ioc, shared));
    conns.back()->Start();
  }
  auto guard = net::make_work_guard(ioc);
  std::thread io([&] { ioc.run(); });
  const auto t_open = Clock::now();
  while (shared.held.load() < o.slow_connections && SecondsSince(t_open) < 10) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const double open_s = SecondsSince(t_open);
  const int held_at_start = shared.held.load();
  if (tty) {
    std::fprintf(stderr, "%d slow connections held after %.2f s; probing for %.0f s\n",
                 held_at_start, open_s, o.duration_s);
  }
  // Sample how many are held while probing.
  std::atomic<bool> probing{true};
  int held_min = held_at_start, held_max = held_at_start;
  std::thread sampler([&] {
    while (probing.load()) {
      const int h = shared.held.load();
      held_min = std::min(held_min, h);
      held_max = std::max(held_max, h);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  const ProbeResults during = Probe(o, *addr, o.duration_s);
  probing = false;
  sampler.join();
  shared.stop = true;
  net::post(ioc, [&] {
    for (auto& c : conns) c->Stop();
  });
  guard.reset();
  io.join();
  const auto [hwm_kb, rss_kb] = ServerMemoryKb(o.server_pid);

  const Percentiles bh = Summarize(baseline.health_ms), bq = Summarize(baseline.query_ms);
  const Percentiles dh = Summarize(during.health_ms), dq = Summarize(during.query_ms);
  const Percentiles held = Summarize([&] {
    std::vector<double> ms;
    for (double s : shared.held_s) ms.push_back(s * 1000);
    return ms;
  }());
  std::printf(
      "timestore-http-load slowloris: %d half-open connections (%s), probes every %d ms "
      "on fresh connections\n",
      o.slow_connections,
      o.trickle_ms > 0 ? ("1 byte every " + std::to_string(o.trickle_ms) + " ms").c_str()
                       : "nothing after the partial head",
      o.probe_interval_ms);
  std::printf("%-28s %8s %10s %10s %10s\n", "probe", "n", "p50 ms", "p99 ms", "max ms");
  auto row = [](const char* name, const Percentiles& p) {
    std::printf("%-28s %8zu %10.2f %10.2f %10.2f\n", name, p.n, p.p50, p.p99, p.max);
  };
  row("baseline GET /health", bh);
  row("baseline query", bq);
  row("under slowloris GET /health", dh);
  row("under slowloris query", dq);
  std::printf(
      "held: %d after %.2f s, between %d and %d while probing; %lld dropped by the server "
      "(held p50 %.1f s, max %.1f s), %lld connect errors; probe errors %lld + %lld\n",
      held_at_start, open_s, held_min, held_max, static_cast<long long>(shared.drops.load()),
      held.p50 / 1000, held.max / 1000, static_cast<long long>(shared.connect_errors.load()),
      static_cast<long long>(baseline.errors), static_cast<long long>(during.errors));
  for (auto& e : during.error_samples) std::printf("  e.g. %s\n", e.c_str());
  if (o.server_pid > 0) {
    std::printf("server pid %d: VmHWM %.1f MiB, VmRSS %.1f MiB\n", o.server_pid, hwm_kb / 1024.0,
                rss_kb / 1024.0);
  }
  std::printf(
      "{\"bench\":\"http_load\",\"mode\":\"slowloris\",\"slow_connections\":%d,\"trickle_ms\":%d,"
      "\"held_at_start\":%d,\"held_min\":%d,\"held_max\":%d,\"drops\":%lld,\"held_p50_s\":%.3f,"
      "\"connect_errors\":%lld,\"probe_errors\":%lld,\"baseline_health\":%s,\"baseline_query\":%s,"
      "\"health\":%s,\"query\":%s,\"server_vmhwm_kb\":%lld,\"server_vmrss_kb\":%lld}\n",
      o.slow_connections, o.trickle_ms, held_at_start, held_min, held_max,
      static_cast<long long>(shared.drops.load()), held.p50 / 1000,
      static_cast<long long>(shared.connect_errors.load()),
      static_cast<long long>(baseline.errors + during.errors), PercentilesJson(bh).c_str(),
      PercentilesJson(bq).c_str(), PercentilesJson(dh).c_str(), PercentilesJson(dq).c_str(),
      static_cast<long long>(hwm_kb), static_cast<long long>(rss_kb));
  return baseline.errors + during.errors == 0 ? 0 : 1;
}

}  // namespace
}  // namespace timestore::bench

int main(int argc, char** argv) {
  using timestore::bench::Options;
  Options o;
  CLI::App app{"timestore-http-load: concurrent keep-alive load, or a slowloris, over HTTP"};
  app.add_option("--host", o.host, "server address (IPv4)");
  app.add_option("--port", o.port, "server port");
  app.add_option("--mode", o.mode, "load | slowloris")->check(CLI::IsMember({"load", "slowloris"}));
  app.add_option("--duration", o.duration_s, "seconds of load, or of probing under slowloris");
  app.add_option("--connections", o.connections, "load: keep-alive connections");
  app.add_option("--threads", o.threads, "load: client I/O threads");
  app.add_option("--ingest-fraction", o.ingest_fraction, "load: share of requests that ingest");
  app.add_option("--datasets", o.datasets, "load: datasets written and queried")
      ->check(CLI::PositiveNumber);
  app.add_option("--min-rows", o.min_rows, "load: fewest rows per ingest batch");
  app.add_option("--max-rows", o.max_rows, "load: most rows per ingest batch");
  app.add_option("--slow-connections", o.slow_connections, "slowloris: half-open connections");
  app.add_option("--trickle-ms", o.trickle_ms,
                 "slowloris: one more header byte this often (0: nothing after the partial head)");
  app.add_option("--probe-interval-ms", o.probe_interval_ms, "slowloris: probe period");
  app.add_option("--baseline", o.baseline_s, "slowloris: seconds of probes before the holders");
  app.add_option("--server-pid", o.server_pid, "report this process's VmHWM/VmRSS at the end");
  app.add_option("--seed", o.seed, "random seed");
  CLI11_PARSE(app, argc, argv);
  if (o.min_rows < 1 || o.max_rows < o.min_rows) {
    std::fprintf(stderr, "need 1 <= --min-rows <= --max-rows\n");
    return 2;
  }
  return o.mode == "load" ? timestore::bench::RunLoad(o) : timestore::bench::RunSlowloris(o);
}
