// The parts of the HTTP load bench both modes use (bench/http_load.cc: the
// keep-alive load and main; bench/http_slowloris.cc: half-open connections
// with probes): options, request bodies, percentiles, the server's memory and
// a blocking request helper.
#pragma once

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

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

inline constexpr auto kRequestTimeout = std::chrono::seconds(30);
inline constexpr int kHosts = 100;  // distinct "host" tag values per dataset
inline constexpr size_t kMaxErrorsKept = 5;

inline double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

inline int64_t NowMs() {
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

inline std::string Dataset(int i) { return "load" + std::to_string(i); }

inline std::string IngestBody(std::mt19937_64& rng, int rows) {
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
inline std::string RawQueryBody(std::mt19937_64& rng) {
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
inline std::string DownsampleQueryBody() {
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

inline Percentiles Summarize(std::vector<double> v) {
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

inline std::string PercentilesJson(const Percentiles& p) {
  char buf[200];
  std::snprintf(buf, sizeof buf, "{\"n\":%zu,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f}", p.n,
                p.p50, p.p99, p.max);
  return buf;
}

// VmHWM and VmRSS of `pid` in KiB (0 when unreadable).
inline std::pair<int64_t, int64_t> ServerMemoryKb(int pid) {
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
inline constexpr const char* kKindNames[kKinds] = {"ingest", "query_raw", "query_downsample"};

// One client thread's results; merged at the end.
// A blocking request on a fresh connection with a timeout (no Asio: its
// blocking sockets ignore SO_RCVTIMEO). The status, or -1 with `error` set.
inline int BlockingRequest(const sockaddr_in& addr, const std::string& request, int timeout_ms,
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

inline std::string PostRequest(const Options& o, const std::string& target,
                               const std::string& body) {
  return "POST " + target + " HTTP/1.1\r\nHost: " + o.host +
         "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

inline std::optional<sockaddr_in> Resolve(const Options& o) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(o.port);
  if (inet_pton(AF_INET, o.host.c_str(), &addr.sin_addr) != 1) return std::nullopt;
  return addr;
}

// One ingest per dataset, so the queries find them from the start.
inline bool Prime(const Options& o, const sockaddr_in& addr) {
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

// Each mode: 0 when every request succeeded.
int RunLoad(const Options& o);
int RunSlowloris(const Options& o);

}  // namespace timestore::bench
