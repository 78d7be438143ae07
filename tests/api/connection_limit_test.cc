// HttpServer's connection limit (TIMESTORE_MAX_CONNECTIONS) and its admin
// reserve, in process over loopback; and that a slowloris of half-open
// connections does not starve the listener.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "api/http_server.h"

namespace timestore::api {
namespace {

using Clock = std::chrono::steady_clock;

// Generous: only reached when something is broken.
constexpr auto kLongWait = std::chrono::seconds(20);

template <typename Pred>
bool WaitUntil(Pred done) {
  const auto deadline = Clock::now() + kLongWait;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

// A blocking loopback socket with a 20 s receive timeout; -1 on failure.
int Connect(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{20, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

bool SendAll(int fd, const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

// Everything the server sends until it closes (or 20 s pass).
std::string ReadToClose(int fd) {
  std::string out;
  char buf[4096];
  while (true) {
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// One request with Connection: close on a new connection: the whole answer.
std::string OneRequest(uint16_t port, const std::string& target) {
  const int fd = Connect(port);
  if (fd < 0) return "";
  SendAll(fd, "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::string out = ReadToClose(fd);
  ::close(fd);
  return out;
}

int StatusOf(const std::string& response) {
  return response.rfind("HTTP/1.1 ", 0) == 0 ? std::atoi(response.c_str() + 9) : 0;
}

class ConnectionLimitTest : public ::testing::Test {
 protected:
  void StartServer(HttpServerOptions options) {
    options.host = "127.0.0.1";
    options.port = 0;
    options.threads = 2;
    server_ = std::make_unique<HttpServer>(options, [](HttpRequest&& req, Responder respond) {
      HttpResponse response;
      response.body = "{\"path\":\"" + req.path + "\"}";
      respond(std::move(response));
    });
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    for (int fd : held_) ::close(fd);
    if (server_) server_->Stop(1'000);
  }

  // Opens `n` idle connections and waits until the server counts them.
  void Hold(int n) {
    const int64_t before = server_->open_connections();
    for (int i = 0; i < n; ++i) {
      const int fd = Connect(server_->port());
      ASSERT_GE(fd, 0);
      held_.push_back(fd);
    }
    ASSERT_TRUE(WaitUntil([&] { return server_->open_connections() >= before + n; }))
        << server_->open_connections();
  }

  std::unique_ptr<HttpServer> server_;
  std::vector<int> held_;
};

TEST_F(ConnectionLimitTest, BeyondTheLimitNewConnectionsGet503ButAdminRoutesAreServed) {
  HttpServerOptions options;
  options.max_connections = 20;
  StartServer(options);
  Hold(20);
  EXPECT_EQ(server_->open_connections(), 20);

  const auto start = Clock::now();
  const std::string refused = OneRequest(server_->port(), "/api/v1/query");
  const auto took = Clock::now() - start;
  EXPECT_EQ(StatusOf(refused), 503) << refused;
  EXPECT_NE(refused.find(R"({"error":{"code":"too_many_connections","message":)"),
            std::string::npos)
      << refused;
  EXPECT_NE(refused.find("Retry-After: 1\r\n"), std::string::npos) << refused;
  EXPECT_NE(refused.find("Connection: close\r\n"), std::string::npos) << refused;
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_EQ(server_->connections_refused(), 1u);

  for (const std::string path :
       {"/health", "/ready", "/metrics", "/status", "/admin/datasets", "/admin/datasets/cpu?x=1"}) {
    const std::string answer = OneRequest(server_->port(), path);
    EXPECT_EQ(StatusOf(answer), 200) << path << "\n" << answer;
    EXPECT_NE(answer.find("Connection: close\r\n"), std::string::npos) << answer;
  }
  // Not admin paths, however close.
  for (const std::string path : {"/administrator", "/healthz", "/api/v1/datasets"}) {
    EXPECT_EQ(StatusOf(OneRequest(server_->port(), path)), 503) << path;
  }
  EXPECT_EQ(server_->connections_refused(), 4u);

  // A request body is not waited for: the 503 comes after the head.
  const int fd = Connect(server_->port());
  ASSERT_GE(fd, 0);
  SendAll(fd, "POST /api/v1/ingest/cpu HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n");
  const std::string early = ReadToClose(fd);
  ::close(fd);
  EXPECT_EQ(StatusOf(early), 503) << early;

  // The held connections still work, and once some close, new ones are served.
  ASSERT_TRUE(SendAll(held_[0], "GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(StatusOf(ReadToClose(held_[0])), 200);
  for (int i = 0; i < 5; ++i) ::close(held_[i]);
  held_.erase(held_.begin(), held_.begin() + 5);
  ASSERT_TRUE(WaitUntil([&] { return server_->open_connections() <= 15; }));
  EXPECT_EQ(StatusOf(OneRequest(server_->port(), "/api/v1/query")), 200);
}

TEST_F(ConnectionLimitTest, BeyondTheReserveConnectionsAreClosedAtOnce) {
  HttpServerOptions options;
  options.max_connections = 4;
  options.admin_reserve_connections = 2;
  StartServer(options);
  Hold(6);  // the limit and the reserve, all idle
  const auto start = Clock::now();
  const std::string answer = OneRequest(server_->port(), "/health");
  EXPECT_EQ(answer, "");  // closed without a word
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
  EXPECT_GE(server_->connections_refused(), 1u);
  // Freeing a reserve place lets /health through again.
  ::close(held_.back());
  held_.pop_back();
  ASSERT_TRUE(WaitUntil([&] { return server_->open_connections() <= 5; }));
  EXPECT_EQ(StatusOf(OneRequest(server_->port(), "/health")), 200);
}

TEST_F(ConnectionLimitTest, ReserveConnectionsServeOneRequestThenClose) {
  HttpServerOptions options;
  options.max_connections = 1;
  StartServer(options);
  Hold(1);
  const int fd = Connect(server_->port());
  ASSERT_GE(fd, 0);
  // Keep-alive asked for, two requests pipelined: only the first is answered.
  SendAll(fd, "GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string out = ReadToClose(fd);
  ::close(fd);
  EXPECT_EQ(StatusOf(out), 200) << out;
  EXPECT_EQ(out.find("HTTP/1.1", 5), std::string::npos) << out;
}

// Issue 13: a slowloris of 3,000 half-open connections (each has sent part of
// a request head and waits for the header timeout) must not delay a normal
// request. The bound asserted is generous (a loaded 2-core CI machine); the
// figures are printed.
TEST_F(ConnectionLimitTest, SlowlorisDoesNotStarveTheListener) {
  constexpr int kHalfOpen = 3'000;
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);
  ::getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < 2 * kHalfOpen + 200) {
    GTEST_SKIP() << "needs " << 2 * kHalfOpen + 200 << " file descriptors, the limit is "
                 << limit.rlim_cur;
  }
  HttpServerOptions options;
  options.header_timeout_ms = 60'000;  // held for the whole test
  StartServer(options);
  const uint16_t port = server_->port();
  for (int i = 0; i < kHalfOpen; ++i) {
    const int fd = Connect(port);
    ASSERT_GE(fd, 0) << i;
    held_.push_back(fd);
    ASSERT_TRUE(SendAll(fd, "GET /slow HTTP/1.1\r\nHost: x\r\nX-Slow: "));
  }
  ASSERT_TRUE(WaitUntil([&] { return server_->open_connections() >= kHalfOpen; }));

  std::vector<double> ms;
  for (int i = 0; i < 50; ++i) {
    const auto start = Clock::now();
    const std::string answer = OneRequest(port, "/api/v1/query");
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    ASSERT_EQ(StatusOf(answer), 200) << answer;
  }
  std::sort(ms.begin(), ms.end());
  std::printf(
      "{\"test\":\"slowloris\",\"half_open\":%d,\"requests\":%zu,\"p50_ms\":%.2f,"
      "\"p99_ms\":%.2f,\"max_ms\":%.2f}\n",
      kHalfOpen, ms.size(), ms[ms.size() / 2], ms[ms.size() * 99 / 100], ms.back());
  EXPECT_LT(ms[ms.size() / 2], 1'000.0);
  EXPECT_LT(ms.back(), 5'000.0);
  EXPECT_EQ(server_->connections_refused(), 0u);
}

}  // namespace
}  // namespace timestore::api
