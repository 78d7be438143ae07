#include "api/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/strings.h"

namespace timestore::api {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

// Generous: only reached when something is broken.
constexpr auto kLongWait = std::chrono::seconds(20);

// Polls `done` until it holds or kLongWait passes.
template <typename Pred>
bool WaitUntil(Pred done) {
  const auto deadline = std::chrono::steady_clock::now() + kLongWait;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// A blocking HTTP/1.1 client over one connection.
class Client {
 public:
  explicit Client(uint16_t port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  }

  http::response<http::string_body> Send(http::verb method, std::string target,
                                         std::string body = "", bool close = false) {
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.set("X-Test", "yes");
    if (close) req.set(http::field::connection, "close");
    req.body() = std::move(body);
    req.prepare_payload();
    http::write(socket_, req);
    return Read();
  }

  http::response<http::string_body> Read() {
    http::response_parser<http::string_body> parser;
    parser.body_limit(1ull << 30);
    http::read(socket_, buffer_, parser);
    return parser.release();
  }

  void WriteRaw(std::string_view bytes) { net::write(socket_, net::buffer(bytes)); }

  // True when the server has closed the connection (EOF or reset).
  bool ServerClosed() {
    beast::error_code ec;
    char c;
    socket_.read_some(net::buffer(&c, 1), ec);
    return ec == net::error::eof || ec == net::error::connection_reset;
  }

 private:
  net::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

HttpServerOptions TestOptions() {
  HttpServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.threads = 2;
  return options;
}

// Answers with "<method> <path> ?<query> x-test=<header> body=<body>".
void EchoHandler(HttpRequest&& request, Responder respond) {
  HttpResponse response;
  response.content_type = "text/plain";
  response.body = request.method + " " + request.path + " ?" + request.query +
                  " x-test=" + std::string(request.Header("x-test")) + " body=" + request.body;
  response.headers.emplace_back("X-Remote", request.remote_address);
  respond(std::move(response));
}

// Keeps the Responders of requests so a test can answer them later.
class Parked {
 public:
  void Add(Responder respond) {
    std::lock_guard<std::mutex> lock(mu_);
    parked_.push_back(std::move(respond));
    cv_.notify_all();
  }
  bool WaitFor(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kLongWait, [&] { return parked_.size() >= n; });
  }
  Responder Take() {
    std::lock_guard<std::mutex> lock(mu_);
    Responder r = std::move(parked_.front());
    parked_.erase(parked_.begin());
    return r;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Responder> parked_;
};

HttpResponse TextResponse(std::string body) {
  HttpResponse response;
  response.content_type = "text/plain";
  response.body = std::move(body);
  return response;
}

TEST(ErrorBodyTest, Shape) {
  EXPECT_EQ(ErrorBody("not_found", "no such dataset"),
            R"({"error":{"code":"not_found","message":"no such dataset","details":{}}})");
  EXPECT_EQ(ErrorBody("bad", "x", R"({"recordIndex":3})"),
            R"({"error":{"code":"bad","message":"x","details":{"recordIndex":3}}})");
}

TEST(ErrorBodyTest, Escapes) {
  EXPECT_EQ(ErrorBody("c", std::string("q\" b\\ n\n nul") + '\0' + "\x1f é"),
            R"({"error":{"code":"c","message":"q\" b\\ n\n nul\u0000\u001f é","details":{}}})");
}

TEST(HttpRequestTest, Header) {
  HttpRequest request;
  request.headers = {{"content-type", "application/json"}, {"x-a", "1"}, {"x-a", "2"}};
  EXPECT_EQ(request.Header("content-type"), "application/json");
  EXPECT_EQ(request.Header("x-a"), "1");
  EXPECT_EQ(request.Header("missing"), "");
}

TEST(HttpServerTest, GetRoundTrip) {
  HttpServer server(TestOptions(), EchoHandler);
  ASSERT_TRUE(server.Start().ok());
  ASSERT_NE(server.port(), 0);

  Client client(server.port());
  auto res = client.Send(http::verb::get, "/api/v1/a%20b?x=1&y=%20");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "GET /api/v1/a b ?x=1&y=%20 x-test=yes body=");
  EXPECT_EQ(res[http::field::server], "timestore");
  EXPECT_EQ(res[http::field::content_type], "text/plain");
  EXPECT_EQ(res[http::field::content_length], std::to_string(res.body().size()));
  EXPECT_TRUE(res["X-Remote"].starts_with("127.0.0.1:"));
  EXPECT_TRUE(res.keep_alive());
  // The count drops when the server's write completes, which may be after the client has read.
  EXPECT_TRUE(WaitUntil([&] { return server.in_flight() == 0; }));
}

// A client that hangs up while its request is handled is noticed (long
// queries stop then); one that waits for its answer is not.
TEST(HttpServerTest, AClientHangingUpMidRequestIsNoticed) {
  std::mutex mu;
  std::vector<std::shared_ptr<std::atomic<bool>>> gone;
  std::vector<Responder> pending;
  HttpServer server(TestOptions(), [&](HttpRequest&& req, Responder respond) {
    std::lock_guard<std::mutex> l(mu);
    gone.push_back(req.client_gone);
    pending.push_back(std::move(respond));
  });
  ASSERT_TRUE(server.Start().ok());
  {
    Client quitter(server.port());
    quitter.WriteRaw("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(WaitUntil([&] {
      std::lock_guard<std::mutex> l(mu);
      return gone.size() == 1;
    }));
  }  // closes the connection
  EXPECT_TRUE(WaitUntil([&] { return gone[0]->load(); }));

  Client patient(server.port());
  patient.WriteRaw("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(WaitUntil([&] {
    std::lock_guard<std::mutex> l(mu);
    return gone.size() == 2;
  }));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(gone[1]->load());
  {
    std::lock_guard<std::mutex> l(mu);
    HttpResponse r;
    r.body = "done";
    pending[1](std::move(r));
    pending[0](HttpResponse{});
  }
  EXPECT_EQ(patient.Read().body(), "done");
}

TEST(HttpServerTest, PostBodyArrivesIntact) {
  HttpServer server(TestOptions(), EchoHandler);
  ASSERT_TRUE(server.Start().ok());
  std::string body(3 << 20, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 26);

  Client client(server.port());
  auto res = client.Send(http::verb::post, "/ingest", body);
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "POST /ingest ? x-test=yes body=" + body);
}

TEST(HttpServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  HttpServer server(TestOptions(), EchoHandler);
  ASSERT_TRUE(server.Start().ok());

  Client client(server.port());
  auto first = client.Send(http::verb::post, "/one", "1");
  EXPECT_EQ(first.body(), "POST /one ? x-test=yes body=1");
  EXPECT_TRUE(first.keep_alive());
  auto second = client.Send(http::verb::post, "/two", "2", /*close=*/true);
  EXPECT_EQ(second.body(), "POST /two ? x-test=yes body=2");
  EXPECT_FALSE(second.keep_alive());
  EXPECT_TRUE(client.ServerClosed());
}

TEST(HttpServerTest, Http10ClosesAfterResponse) {
  HttpServer server(TestOptions(), EchoHandler);
  ASSERT_TRUE(server.Start().ok());

  Client client(server.port());
  client.WriteRaw("GET /old HTTP/1.0\r\n\r\n");
  auto res = client.Read();
  EXPECT_EQ(res.body(), "GET /old ? x-test= body=");
  EXPECT_FALSE(res.keep_alive());
  EXPECT_TRUE(client.ServerClosed());
}

TEST(HttpServerTest, BodyOverLimitIs413) {
  HttpServerOptions options = TestOptions();
  options.max_body_bytes = 1024;
  std::atomic<int> calls{0};
  HttpServer server(options, [&](HttpRequest&& request, Responder respond) {
    ++calls;
    EchoHandler(std::move(request), std::move(respond));
  });
  ASSERT_TRUE(server.Start().ok());

  const std::string expected =
      R"json({"error":{"code":"payload_too_large","message":"request body exceeds the limit of 1024 bytes (TIMESTORE_MAX_BODY_BYTES)","details":{}}})json";
  {
    Client client(server.port());
    auto res = client.Send(http::verb::post, "/ingest", std::string(4096, 'x'));
    EXPECT_EQ(res.result_int(), 413);
    EXPECT_EQ(res[http::field::content_type], "application/json");
    EXPECT_EQ(res.body(), expected);
    EXPECT_FALSE(res.keep_alive());
    EXPECT_TRUE(client.ServerClosed());
  }
  {  // Chunked: the limit applies to the decoded body.
    Client client(server.port());
    client.WriteRaw(
        "POST /ingest HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        "400\r\n" +
        std::string(1024, 'y') + "\r\n10\r\n" + std::string(16, 'z') + "\r\n0\r\n\r\n");
    auto res = client.Read();
    EXPECT_EQ(res.result_int(), 413);
    EXPECT_EQ(res.body(), expected);
  }
  {  // Exactly at the limit is fine.
    Client client(server.port());
    auto res = client.Send(http::verb::post, "/ingest", std::string(1024, 'x'));
    EXPECT_EQ(res.result_int(), 200);
  }
  EXPECT_EQ(calls.load(), 1);
}

// The server's own error answers go through early_error with the path (no
// query) and Content-Type the head named: the 413, and a malformed body's 400.
TEST(HttpServerTest, TheServersOwnErrorsGoThroughEarlyError) {
  HttpServerOptions options = TestOptions();
  options.max_body_bytes = 1024;
  options.early_error = [](std::string_view path, std::string_view content_type, HttpResponse r) {
    r.body = StrCat(r.status, " ", path, " ", content_type);
    return r;
  };
  HttpServer server(options, EchoHandler);
  ASSERT_TRUE(server.Start().ok());
  {
    Client client(server.port());
    client.WriteRaw(
        "POST /v1/logs?x=1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
        "Content-Length: 2000\r\n\r\n" +
        std::string(2000, 'y'));
    auto res = client.Read();
    EXPECT_EQ(res.result_int(), 413);
    EXPECT_EQ(res.body(), "413 /v1/logs application/x-protobuf");
  }
  {
    Client client(server.port());
    client.WriteRaw("POST /write HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
    auto res = client.Read();
    EXPECT_EQ(res.result_int(), 400);
    EXPECT_EQ(res.body(), "400 /write ");
  }
}

TEST(HttpServerTest, ExpectContinueGetsContinueThenFinalResponse) {
  HttpServerOptions options = TestOptions();
  options.max_body_bytes = 1024;
  HttpServer server(options, EchoHandler);
  ASSERT_TRUE(server.Start().ok());

  Client client(server.port());
  client.WriteRaw(
      "POST /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
  auto cont = client.Read();
  EXPECT_EQ(cont.result_int(), 100);
  client.WriteRaw("abc");
  auto res = client.Read();
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "POST /e ? x-test= body=abc");

  // Over the limit: 413 straight away, no 100.
  client.WriteRaw(
      "POST /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n");
  EXPECT_EQ(client.Read().result_int(), 413);
}

TEST(HttpServerTest, MalformedRequestIs400) {
  HttpServer server(TestOptions(), EchoHandler);
  ASSERT_TRUE(server.Start().ok());

  Client client(server.port());
  client.WriteRaw("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n");
  auto res = client.Read();
  EXPECT_EQ(res.result_int(), 400);
  EXPECT_TRUE(res.body().starts_with(R"({"error":{"code":"bad_request","message":")"))
      << res.body();
  EXPECT_TRUE(client.ServerClosed());

  Client bad_escape(server.port());
  auto res2 = bad_escape.Send(http::verb::get, "/a%zz");
  EXPECT_EQ(res2.result_int(), 400);
  EXPECT_TRUE(res2.keep_alive());  // the message itself was well framed
  EXPECT_EQ(bad_escape.Send(http::verb::get, "/ok").result_int(), 200);
}

TEST(HttpServerTest, AnswerLaterFromAnotherThread) {
  std::vector<std::thread> answerers;
  std::mutex mu;
  HttpServer server(TestOptions(), [&](HttpRequest&& request, Responder respond) {
    std::lock_guard<std::mutex> lock(mu);
    answerers.emplace_back([body = request.body, respond = std::move(respond)] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      respond(TextResponse("late " + body));
    });
  });
  ASSERT_TRUE(server.Start().ok());

  Client client(server.port());
  EXPECT_EQ(client.Send(http::verb::post, "/x", "a").body(), "late a");
  EXPECT_EQ(client.Send(http::verb::post, "/x", "b").body(), "late b");
  server.Stop();
  for (auto& t : answerers) t.join();
}

TEST(HttpServerTest, HandlerErrorsBecome500) {
  HttpServer server(TestOptions(), [](HttpRequest&& request, Responder respond) {
    if (request.path == "/throw") throw std::runtime_error("boom");
    if (request.path == "/drop") return;  // never answers
    respond(TextResponse("twice-1"));
    respond(TextResponse("twice-2"));  // ignored
  });
  ASSERT_TRUE(server.Start().ok());

  Client client(server.port());
  auto thrown = client.Send(http::verb::get, "/throw");
  EXPECT_EQ(thrown.result_int(), 500);
  EXPECT_NE(thrown.body().find("boom"), std::string::npos);
  auto dropped = client.Send(http::verb::get, "/drop");
  EXPECT_EQ(dropped.result_int(), 500);
  auto twice = client.Send(http::verb::get, "/twice");
  EXPECT_EQ(twice.body(), "twice-1");
  EXPECT_EQ(client.Send(http::verb::get, "/twice").body(), "twice-1");  // connection still in sync
  EXPECT_TRUE(WaitUntil([&] { return server.in_flight() == 0; }));
}

TEST(HttpServerTest, StopWaitsForInFlightRequest) {
  Parked parked;
  HttpServer server(TestOptions(),
                    [&](HttpRequest&&, Responder respond) { parked.Add(std::move(respond)); });
  ASSERT_TRUE(server.Start().ok());
  const uint16_t port = server.port();

  std::optional<http::response<http::string_body>> got;
  std::thread client_thread([&] {
    Client client(port);
    got = client.Send(http::verb::post, "/slow", "x");
  });
  ASSERT_TRUE(parked.WaitFor(1));
  EXPECT_EQ(server.in_flight(), 1);

  std::atomic<bool> answered{false};
  std::thread answerer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    answered = true;
    parked.Take()(TextResponse("done"));
  });
  server.Stop(/*grace_ms=*/20'000);
  EXPECT_TRUE(answered.load());
  EXPECT_EQ(server.in_flight(), 0);
  answerer.join();
  client_thread.join();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->body(), "done");
  EXPECT_FALSE(got->keep_alive());  // draining: no keep-alive

  // No longer accepting.
  beast::error_code ec;
  net::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
  EXPECT_TRUE(ec);
}

TEST(HttpServerTest, ResponderOutlivingTheServerIsHarmless) {
  Parked parked;
  auto server = std::make_unique<HttpServer>(
      TestOptions(), [&](HttpRequest&&, Responder respond) { parked.Add(std::move(respond)); });
  ASSERT_TRUE(server->Start().ok());

  bool closed = false;
  std::thread client_thread([&, port = server->port()] {
    Client client(port);
    client.WriteRaw("GET /never HTTP/1.1\r\nHost: x\r\n\r\n");
    closed = client.ServerClosed();
  });
  ASSERT_TRUE(parked.WaitFor(1));
  Responder late = parked.Take();
  server->Stop(/*grace_ms=*/50);
  client_thread.join();
  EXPECT_TRUE(closed);
  server->Stop();  // idempotent
  server.reset();
  late(TextResponse("too late"));  // dropped, no crash
}

TEST(HttpServerTest, SlowClientDoesNotBlockOthers) {
  HttpServerOptions options = TestOptions();
  options.threads = 1;
  HttpServer server(options, EchoHandler);
  ASSERT_TRUE(server.Start().ok());

  Client slow(server.port());
  slow.WriteRaw("POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab");
  Client fast(server.port());
  EXPECT_EQ(fast.Send(http::verb::get, "/fast").result_int(), 200);
  slow.WriteRaw("cdefghij");
  EXPECT_EQ(slow.Read().body(), "POST /slow ? x-test= body=abcdefghij");
}

TEST(HttpServerTest, HeaderTimeoutClosesConnection) {
  HttpServerOptions options = TestOptions();
  options.header_timeout_ms = 100;
  HttpServer server(options, EchoHandler);
  ASSERT_TRUE(server.Start().ok());

  Client client(server.port());
  client.WriteRaw("GET / HTTP/1.1\r\nHo");
  EXPECT_TRUE(client.ServerClosed());  // blocks until the server gives up
}

TEST(HttpServerTest, ManyConcurrentClients) {
  HttpServerOptions options = TestOptions();
  HttpServer server(options, [](HttpRequest&& request, Responder respond) {
    if (request.query == "later") {
      std::thread([body = std::move(request.body), respond = std::move(respond)] {
        respond(TextResponse("re:" + body));
      }).detach();
      return;
    }
    respond(TextResponse("re:" + request.body));
  });
  ASSERT_TRUE(server.Start().ok());

  constexpr int kThreads = 8;
  constexpr int kRequests = 50;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::optional<Client> client;
      for (int i = 0; i < kRequests; ++i) {
        if (i % 10 == 0) client.emplace(server.port());  // some new connections too
        const std::string body = std::to_string(t) + "/" + std::to_string(i);
        auto res = client->Send(http::verb::post, i % 2 ? "/x?later" : "/x", body);
        if (res.result_int() == 200 && res.body() == "re:" + body) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads * kRequests);
  EXPECT_TRUE(WaitUntil([&] { return server.in_flight() == 0; }));
}

TEST(HttpServerTest, StartFailsOnPortInUse) {
  HttpServer first(TestOptions(), EchoHandler);
  ASSERT_TRUE(first.Start().ok());
  HttpServerOptions options = TestOptions();
  options.port = first.port();
  HttpServer second(options, EchoHandler);
  absl::Status status = second.Start();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_EQ(first.Start().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(HttpServerTest, StopWithoutStart) {
  HttpServer server(TestOptions(), EchoHandler);
  server.Stop();
  server.Stop();
  EXPECT_FALSE(server.Start().ok());
}

}  // namespace
}  // namespace timestore::api
