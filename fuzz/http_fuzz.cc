// Raw bytes from a client, through the whole HTTP front end but the socket:
// Boost.Beast's request_parser with the server's limits, one or more
// keep-alive requests per input, the conversion the server does
// (api/http_request_conversion.h), then api::Service::Handle over a real
// Engine on a temp dir: routing, scopes and credentials (Authorization,
// x-iam-*), body decoding, ingest, queries, SQL, InfluxDB and Prometheus
// routes, administration.
//
// Invariants checked for every request that reaches the service:
//   - the Responder is called exactly once (never twice, never dropped
//     unanswered, and within kAnswerTimeout);
//   - the status is 200..599 and not 500 (500 is "internal": a bug when the
//     store is a healthy temp dir);
//   - an error body (>= 400) is JSON in API.md's shape {"error":{"code":...}}
//     (InfluxDB routes may also answer InfluxDB's shape with "timestoreCode").
// A violation prints the request and aborts, so libFuzzer saves the input.
#include <stdlib.h>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "api/http_request_conversion.h"
#include "api/service.h"
#include "auth/authenticator.h"
#include "auth/token_store.h"
#include "engine/engine.h"
#include "simdjson.h"
#include "spdlog/spdlog.h"

namespace {

using namespace timestore;
namespace http = boost::beast::http;

// Requests handled from one input; later ones are ignored (keeps each run
// short whatever the input length).
constexpr int kMaxRequestsPerInput = 8;
constexpr auto kAnswerTimeout = std::chrono::seconds(30);
// A fresh store every so many inputs: datasets created by the fuzzer would
// otherwise pile up and slow every listing.
constexpr int kInputsPerStore = 2000;
constexpr char kBootstrapToken[] = "fuzz-bootstrap-token-0123456789";

// The service and its engine on a temp dir. Small budgets so a run stays fast
// and bounded; no background sealing (the fuzzer can flush through
// /admin/datasets/{id}/flush).
class Store {
 public:
  Store() {
    spdlog::set_level(spdlog::level::off);  // a dataset created per input is no news
    char tmpl[] = "/tmp/timestore-httpfuzz-XXXXXX";
    root_ = mkdtemp(tmpl);
    EngineOptions eo;
    eo.root = root_;
    eo.wal_sync = wal::SyncMode::kNone;
    eo.background_sealing = false;
    eo.memtable_max_bytes = 16ull << 20;
    eo.query_threads = 1;
    eo.query_timeout = std::chrono::seconds(5);
    eo.query_max_memory = 64ull << 20;
    eo.decoded_cache_bytes = 4ull << 20;
    eo.cache_max_bytes = 0;
    eo.cache_memory_bytes = 0;
    engine_ = Engine::Open(Env::Default(), eo).value();
    api::ServiceOptions so;
    so.query_threads = 2;
    so.query_max_limit = 10'000;
    // Token mode, as the server runs by default: every request goes through
    // the Authorization parsing; "Bearer fuzz-bootstrap-token-0123456789"
    // (in the seed corpus) is the admin, and tokens the fuzzer creates
    // through POST /admin/tokens work too.
    tokens_ = auth::TokenStore::Open(root_ + "/auth").value();
    auth::AuthConfig ac;
    ac.mode = auth::Mode::kToken;
    ac.read_scope = so.require_scope = "read";
    ac.write_scope = so.require_write_scope = "write";
    ac.admin_scope = so.admin_scope = "admin";
    ac.bootstrap_hash = auth::HashSecret(kBootstrapToken);
    ac.default_limits.queries_per_second = 1e6;  // the limiter runs, rarely refuses
    so.authenticator = std::make_shared<auth::Authenticator>(ac, tokens_.get());
    service_ = std::make_unique<api::Service>(so);
    service_->SetEngine(engine_.get());
  }
  ~Store() {
    service_->Shutdown();
    service_.reset();
    engine_.reset();
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }

  api::Service& service() { return *service_; }
  uint64_t max_body_bytes() const { return api::ServiceOptions{}.max_body_bytes; }

 private:
  std::string root_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<auth::TokenStore> tokens_;  // outlives service_
  std::unique_ptr<api::Service> service_;
};

// What the Responder saw. Shared by the Responder's copies and the waiter.
struct Answer {
  std::mutex mu;
  std::condition_variable cv;
  int calls = 0;
  bool dropped = false;  // every copy of the Responder destroyed unanswered
  api::HttpResponse response;
};

// Lives as long as the last copy of the Responder.
struct DropWatch {
  DropWatch() = default;
  DropWatch(const DropWatch&) = delete;
  DropWatch& operator=(const DropWatch&) = delete;
  std::shared_ptr<Answer> answer;
  ~DropWatch() {
    std::lock_guard<std::mutex> l(answer->mu);
    if (answer->calls == 0) {
      answer->dropped = true;
      answer->cv.notify_all();
    }
  }
};

[[noreturn]] void Fail(const api::HttpRequest& req, std::string_view what,
                       const api::HttpResponse* resp = nullptr) {
  fprintf(stderr, "http_fuzz: %.*s\n  request: %s %s%s%s\n", static_cast<int>(what.size()),
          what.data(), req.method.c_str(), req.path.substr(0, 300).c_str(),
          req.query.empty() ? "" : "?", req.query.substr(0, 300).c_str());
  if (resp != nullptr) {
    fprintf(stderr, "  status %d, body: %s\n", resp->status, resp->body.substr(0, 1000).c_str());
  }
  abort();
}

bool IsInfluxRoute(std::string_view path) {
  return path == "/write" || path == "/api/v2/write" || path == "/query";
}

void CheckResponse(const api::HttpRequest& req, const api::HttpResponse& resp) {
  if (resp.status < 200 || resp.status > 599) Fail(req, "status outside 200..599", &resp);
  if (resp.status == 500) Fail(req, "500 internal for a request from outside", &resp);
  if (resp.status < 400) return;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(resp.body).get(doc)) Fail(req, "error body is not JSON", &resp);
  std::string_view code;
  // InfluxDB routes answer their own errors in InfluxDB's shape; what the
  // router answers before them (405) keeps API.md's.
  bool has_code = !doc["error"]["code"].get(code);
  if (!has_code && IsInfluxRoute(req.path)) has_code = !doc["timestoreCode"].get(code);
  if (!has_code || code.empty()) Fail(req, "error body without its code", &resp);
}

// Hands `req` to the service and waits for its one answer.
void Handle(api::Service& service, api::HttpRequest req) {
  auto answer = std::make_shared<Answer>();
  auto watch = std::make_shared<DropWatch>();
  watch->answer = answer;
  const api::HttpRequest copy = req;  // for the report; the service takes `req`
  service.Handle(std::move(req), [answer, watch](api::HttpResponse r) {
    std::lock_guard<std::mutex> l(answer->mu);
    if (++answer->calls == 1) {
      answer->response = std::move(r);
      answer->cv.notify_all();
    } else {
      fprintf(stderr, "http_fuzz: the Responder was called %d times\n", answer->calls);
      abort();
    }
  });
  watch.reset();
  std::unique_lock<std::mutex> l(answer->mu);
  if (!answer->cv.wait_for(l, kAnswerTimeout,
                           [&] { return answer->calls > 0 || answer->dropped; })) {
    Fail(copy, "no answer within 30 s");
  }
  if (answer->calls == 0) Fail(copy, "the Responder was dropped without an answer");
  CheckResponse(copy, answer->response);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static int inputs = 0;
  static std::unique_ptr<Store> store;
  if (!store || ++inputs % kInputsPerStore == 0) {
    store.reset();
    store = std::make_unique<Store>();
  }

  boost::beast::flat_buffer buffer;
  buffer.commit(boost::asio::buffer_copy(buffer.prepare(size), boost::asio::buffer(data, size)));
  for (int n = 0; n < kMaxRequestsPerInput; ++n) {
    // As the server reads one request: a fresh parser per request, its header
    // and body limits, the rest of the buffer kept for the next (pipelining).
    http::request_parser<http::string_body> parser;
    parser.header_limit(api::kRequestHeaderLimit);
    parser.body_limit(store->max_body_bytes());
    parser.eager(true);
    boost::beast::error_code ec;
    while (!parser.is_done()) {
      const size_t used = parser.put(buffer.data(), ec);
      buffer.consume(used);
      if (ec == http::error::need_more) {
        if (buffer.size() > 0 && used > 0) {
          ec = {};
          continue;
        }
        // The client stopped mid-request: the server closes without an answer.
        return 0;
      }
      if (ec) return 0;  // 400 / 413 from the server itself; connection closed
      if (used == 0) return 0;
    }
    auto message = parser.release();
    const bool keep_alive = message.keep_alive();
    auto request = api::ToHttpRequest(std::move(message), "127.0.0.1:40000");
    if (request.ok()) Handle(store->service(), *std::move(request));
    if (!keep_alive || buffer.size() == 0) return 0;
  }
  return 0;
}
