// The service layer before and after recovery: /ready and the data routes
// answer 503 with Retry-After until the engine is handed over.
#include "api/service.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <future>

#include "common/status_util.h"

namespace timestore::api {
namespace {

HttpResponse Call(Service& s, std::string method, std::string path, std::string body = "") {
  HttpRequest req;
  req.method = std::move(method);
  req.path = std::move(path);
  req.body = std::move(body);
  std::promise<HttpResponse> p;
  auto f = p.get_future();
  s.Handle(std::move(req), [&p](HttpResponse r) { p.set_value(std::move(r)); });
  return f.get();
}

std::string RetryAfter(const HttpResponse& r) {
  for (const auto& [k, v] : r.headers)
    if (k == "Retry-After") return v;
  return "";
}

TEST(ServiceTest, NotReadyUntilRecoveryFinishes) {
  Service s(ServiceOptions{});
  EXPECT_EQ(Call(s, "GET", "/health").status, 200);
  HttpResponse ready = Call(s, "GET", "/ready");
  EXPECT_EQ(ready.status, 503);
  EXPECT_EQ(RetryAfter(ready), "1");
  EXPECT_NE(ready.body.find("not_ready"), std::string::npos);
  HttpResponse ingest = Call(s, "POST", "/datasets/cpu/ingest", R"({"records":[]})");
  EXPECT_EQ(ingest.status, 503);
  EXPECT_EQ(RetryAfter(ingest), "1");
  EXPECT_EQ(Call(s, "POST", "/datasets/cpu/query", "{}").status, 503);
  EXPECT_EQ(Call(s, "GET", "/metrics").status, 200);

  char tmpl[] = "/tmp/timestore-service-XXXXXX";
  std::string root = mkdtemp(tmpl);
  EngineOptions eo;
  eo.root = root;
  auto engine = Engine::Open(Env::Default(), eo);
  ASSERT_TRUE(engine.ok());
  s.SetEngine(engine->get());
  EXPECT_EQ(Call(s, "GET", "/ready").status, 200);
  EXPECT_EQ(Call(s, "POST", "/datasets/cpu/ingest",
                 R"({"records":[{"timestamp":"2024-05-01T00:00:00Z","v":1}]})")
                .status,
            200);
  s.Shutdown();
  engine->reset();
  std::filesystem::remove_all(root);
}

TEST(ServiceTest, UnknownRoutesAndMethods) {
  Service s(ServiceOptions{});
  HttpResponse r = Call(s, "DELETE", "/health");
  EXPECT_EQ(r.status, 405);
  bool allow = false;
  for (const auto& [k, v] : r.headers) allow |= k == "Allow" && v == "GET";
  EXPECT_TRUE(allow);
  EXPECT_EQ(Call(s, "GET", "/datasets/cpu").status, 404);
  EXPECT_EQ(Call(s, "GET", "/datasets/cpu/query").status, 405);
}

}  // namespace
}  // namespace timestore::api

namespace timestore::api {
namespace {

// Query limits reach clients as statuses that say what happened.
TEST(ServiceTest, QueryLimitsMapToClearStatuses) {
  HttpResponse r = StatusToResponse(
      MakeError(absl::StatusCode::kDeadlineExceeded, "query_timeout", "too long", ""));
  EXPECT_EQ(r.status, 504);
  EXPECT_NE(r.body.find("\"query_timeout\""), std::string::npos) << r.body;
  r = StatusToResponse(
      MakeError(absl::StatusCode::kOutOfRange, "query_memory_limit", "too big", ""));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("\"query_memory_limit\""), std::string::npos) << r.body;
}

}  // namespace
}  // namespace timestore::api
