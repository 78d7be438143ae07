// The Azure Blob store against what azurite cannot be made to do: scripted
// error answers, unreachable and hung stores, wrong ranges, timeouts.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <thread>

#include "common/strings.h"
#include "tests/e2e/azurite_test_server.h"
#include "tests/tiering/azure_test_support.h"
#include "tiering/azure_blob_store.h"

namespace timestore::tiering {
namespace {

using azure_test::Contains;
using azure_test::OfflineOptions;
using std::chrono::milliseconds;

// A TCP socket on 127.0.0.1: bound only (connections are refused) or
// listening but never accepting nor reading (a hung store: the kernel
// completes the handshake and takes the request, nobody answers).
class LoopbackSocket {
 public:
  explicit LoopbackSocket(bool listen) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    if (listen) {
      EXPECT_EQ(::listen(fd_, 64), 0);
    }
  }
  ~LoopbackSocket() { ::close(fd_); }
  int port() const { return port_; }
  std::string endpoint() const { return StrCat("http://127.0.0.1:", port_, "/", kDevStoreAccount); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// ---------------------------------------------------------------------------
// Scripted answers, unreachable and hung stores.

// An HTTP server on 127.0.0.1 that answers every request with the next of
// `replies` (the last one repeats), one connection per request: the errors
// and misbehaviours azurite cannot be made to produce.
class ScriptedServer {
 public:
  struct Reply {
    int status;
    std::string headers;  // "Name: value\r\n" lines
    std::string body;
  };
  explicit ScriptedServer(std::vector<Reply> replies) : replies_(std::move(replies)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    EXPECT_EQ(::listen(fd_, 16), 0);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::string endpoint() const { return StrCat("http://127.0.0.1:", port_, "/", kDevStoreAccount); }
  int requests() const { return requests_; }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      timeval tv{5, 0};
      ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      std::string in;
      char buf[65536];
      size_t head_end;
      while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
        const ssize_t n = ::recv(c, buf, sizeof(buf), 0);
        if (n <= 0) break;
        in.append(buf, static_cast<size_t>(n));
      }
      if (head_end != std::string::npos) {
        std::string lower = in.substr(0, head_end);
        for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        size_t length = 0;
        if (size_t at = lower.find("\r\ncontent-length:"); at != std::string::npos) {
          length = std::strtoull(lower.c_str() + at + 17, nullptr, 10);
        }
        while (in.size() < head_end + 4 + length) {
          const ssize_t n = ::recv(c, buf, sizeof(buf), 0);
          if (n <= 0) break;
          in.append(buf, static_cast<size_t>(n));
        }
        const bool head = in.starts_with("HEAD ");
        const Reply& r = replies_[std::min<size_t>(requests_, replies_.size() - 1)];
        ++requests_;
        std::string out = StrCat("HTTP/1.1 ", r.status, " Scripted\r\n", r.headers,
                                 "Content-Length: ", r.body.size(), "\r\nConnection: close\r\n\r\n",
                                 head ? "" : r.body);
        (void)::send(c, out.data(), out.size(), MSG_NOSIGNAL);
      }
      ::close(c);
    }
  }

  std::vector<Reply> replies_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

std::string ErrorXml(const std::string& code) {
  return StrCat("<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>", code,
                "</Code><Message>scripted ", code, "\nRequestId:1</Message></Error>");
}

AzureOptions ScriptedOptions(const ScriptedServer& server) {
  AzureOptions o = OfflineOptions();
  o.endpoint = server.endpoint();
  o.retry = {4, 1, 5};
  return o;
}

TEST(AzureBlobStoreFaultTest, ServerBusyAndInternalErrorsAreRetried) {
  ScriptedServer server({{503, "x-ms-error-code: ServerBusy\r\n", ErrorXml("ServerBusy")},
                         {500, "", ErrorXml("OperationTimedOut")},
                         {201, "", ""}});
  AzureBlobStore store(ScriptedOptions(server));
  absl::Status s = store.Put("k", "v");
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(server.requests(), 3);
  EXPECT_EQ(store.stats().retries, 2u);
  EXPECT_EQ(store.stats().failures, 0u);
}

TEST(AzureBlobStoreFaultTest, ThrottlingOutlastingTheRetriesIsUnavailable) {
  ScriptedServer server({{429, "x-ms-error-code: ServerBusy\r\n", ""}});
  AzureBlobStore store(ScriptedOptions(server));
  auto head = store.Head("k");  // HEAD: no body, the code from x-ms-error-code
  ASSERT_TRUE(absl::IsUnavailable(head.status())) << head.status();
  EXPECT_TRUE(Contains(head.status(), "429 ServerBusy")) << head.status();
  EXPECT_TRUE(Contains(head.status(), store.Describe() + "/k")) << head.status();
  EXPECT_EQ(server.requests(), 4);
  EXPECT_EQ(store.stats().retries, 3u);
}

TEST(AzureBlobStoreFaultTest, ClientErrorsAreNotRetried) {
  struct Case {
    int status;
    std::string code;
    absl::StatusCode expect;
  };
  for (const Case& c : std::vector<Case>{
           {400, "InvalidHeaderValue", absl::StatusCode::kInvalidArgument},
           {409, "LeaseIdMissing", absl::StatusCode::kFailedPrecondition},
           {412, "ConditionNotMet", absl::StatusCode::kFailedPrecondition},
           {403, "AuthenticationFailed", absl::StatusCode::kPermissionDenied},
           {404, "ContainerNotFound", absl::StatusCode::kNotFound},
       }) {
    ScriptedServer server({{c.status, "", ErrorXml(c.code)}});
    AzureBlobStore store(ScriptedOptions(server));
    absl::Status s = store.Put("k", "v");
    EXPECT_EQ(s.code(), c.expect) << s;
    EXPECT_TRUE(Contains(s, StrCat(c.status, " ", c.code))) << s;
    EXPECT_TRUE(Contains(s, "scripted " + c.code)) << s;
    EXPECT_FALSE(Contains(s, "RequestId")) << s;  // the first line of <Message> only
    EXPECT_EQ(server.requests(), 1);
  }
}

TEST(AzureBlobStoreFaultTest, WrongRangeAnswersAreDataLoss) {
  struct Case {
    ScriptedServer::Reply reply;
    std::string expect;
  };
  for (const Case& c : std::vector<Case>{
           {{200, "", "0123456789"}, "HTTP 200"},  // range ignored
           {{206, "Content-Range: bytes 0-10/100\r\n", "0123456789A"}, "11 bytes"},   // too long
           {{206, "Content-Range: bytes 0-8/100\r\n", "012345678"}, "9 bytes"},       // short
           {{206, "Content-Range: bytes 5-14/100\r\n", "0123456789"}, "bytes 5-14"},  // elsewhere
           {{206, "", std::string(100000, 'x')}, "more than"},  // far too long
       }) {
    ScriptedServer server({c.reply});
    AzureBlobStore store(ScriptedOptions(server));
    std::string out;
    RangeRead r{"k", 0, 10, &out};
    absl::Status s =
        store.GetRanges(std::span<RangeRead>(&r, 1), Clock::now() + std::chrono::seconds(10));
    EXPECT_TRUE(absl::IsDataLoss(s)) << s;
    EXPECT_TRUE(Contains(s, c.expect)) << s;
    EXPECT_TRUE(Contains(s, store.Describe() + "/k")) << s;
    EXPECT_EQ(server.requests(), 1);
  }
  ScriptedServer good({{206, "Content-Range: bytes 0-9/100\r\n", "0123456789"}});
  AzureBlobStore store(ScriptedOptions(good));
  std::string out;
  RangeRead r{"k", 0, 10, &out};
  ASSERT_TRUE(
      store.GetRanges(std::span<RangeRead>(&r, 1), Clock::now() + std::chrono::seconds(10)).ok());
  EXPECT_EQ(out, "0123456789");
}

TEST(AzureBlobStoreFaultTest, ConnectionRefusedIsUnavailableNamingTheEndpoint) {
  LoopbackSocket closed(/*listen=*/false);
  AzureOptions o = OfflineOptions();
  o.endpoint = closed.endpoint();
  o.retry = {3, 1, 5};
  AzureBlobStore store(o);
  absl::Status s = store.Put("k", "v");
  ASSERT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_TRUE(Contains(s, closed.endpoint())) << s;
  EXPECT_TRUE(Contains(s, store.Describe() + "/k")) << s;
  EXPECT_EQ(store.stats().put_requests, 3u);
  EXPECT_EQ(store.stats().retries, 2u);
  EXPECT_EQ(store.stats().failures, 1u);
}

TEST(AzureBlobStoreFaultTest, GetRangesHonoursTheDeadlineOnAHungStore) {
  LoopbackSocket hung(/*listen=*/true);
  AzureOptions o = OfflineOptions();
  o.endpoint = hung.endpoint();
  AzureBlobStore store(o);
  std::vector<std::string> outs(3);
  std::vector<RangeRead> reads = {
      {"a", 0, 10, &outs[0]}, {"b", 0, 10, &outs[1]}, {"c", 5, 10, &outs[2]}};
  const auto start = Clock::now();
  RequestCounters counters;
  absl::Status s = store.GetRanges(reads, start + milliseconds(300), &counters);
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  ASSERT_TRUE(absl::IsDeadlineExceeded(s)) << s;
  EXPECT_TRUE(Contains(s, store.Describe() + "/a")) << s;
  EXPECT_GE(took.count(), 290);
  EXPECT_LT(took.count(), 1500) << "the deadline was not honoured";
  EXPECT_EQ(counters.requests, 3u);
  EXPECT_EQ(counters.retries, 0u);

  // A deadline already past fails at once.
  s = store.GetRanges(reads, Clock::now() - milliseconds(1));
  EXPECT_TRUE(absl::IsDeadlineExceeded(s)) << s;
}

TEST(AzureBlobStoreFaultTest, RequestTimeoutIsRetriedThenUnavailable) {
  LoopbackSocket hung(/*listen=*/true);
  AzureOptions o = OfflineOptions();
  o.endpoint = hung.endpoint();
  o.request_timeout = milliseconds(150);
  o.retry = {2, 1, 5};
  AzureBlobStore store(o);
  const auto start = Clock::now();
  auto head = store.Head("k");
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
  ASSERT_TRUE(absl::IsUnavailable(head.status())) << head.status();
  EXPECT_TRUE(Contains(head.status(), "within 150 ms")) << head.status();
  EXPECT_EQ(store.stats().head_requests, 2u);
  EXPECT_EQ(store.stats().retries, 1u);
  EXPECT_LT(took.count(), 2000);
}

}  // namespace
}  // namespace timestore::tiering
