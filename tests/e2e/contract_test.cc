// The original service's contract, held end to end through the real server:
// freshness controls and headers on queries, `x-user-id` as the audit actor,
// the log-level names operators use, and filter items and offset.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>

#include "common/strings.h"
#include "tests/e2e/test_server.h"

namespace timestore::testing {
namespace {

class ContractTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = MakeTempDir(); }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  bool StartServer(std::map<std::string, std::string> env = {}) {
    server_ = std::make_unique<TestServer>(dir_, env);
    return server_->Start();
  }
  std::string dir_;
  std::unique_ptr<TestServer> server_;
};

std::string Code(const HttpResult& r) {
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  std::string_view code;
  if (p.parse(r.body).get(doc) || doc["error"]["code"].get(code)) return "<none>";
  return std::string(code);
}

TEST_F(ContractTest, FreshnessControlsAndHeaders) {
  ASSERT_TRUE(StartServer());
  HttpClient c(server_->port());
  ASSERT_EQ(
      c.Post("/datasets/f/ingest", R"({"records":[{"timestamp":"2024-05-01T12:00:00Z","v":1},)"
                                   R"({"timestamp":"2024-05-01T12:01:30Z","v":2}]})")
          .status,
      200);
  const std::string range =
      R"("timeRange":{"start":"2024-05-01T00:00:00Z","end":"2024-05-02T00:00:00Z"})";
  // Reached: answered, with the freshness in the body and in headers.
  auto r =
      c.Post("/datasets/f/query",
             StrCat("{", range, R"(,"minWatermark":"2024-05-01T12:01:30Z","requireFresh":true})"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers["x-timestore-watermark"], "2024-05-01T12:01:30Z");
  EXPECT_EQ(r.headers["x-timestore-hot-rows"], "2");
  EXPECT_EQ(r.headers["x-timestore-fresh"], "true");
  EXPECT_NE(r.body.find(R"("fresh":true)"), std::string::npos) << r.body;
  // CSV has no freshness in its body: the headers carry it.
  r = c.Post("/datasets/f/query", StrCat("{", range, "}"), {{"Accept", "text/csv"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["x-timestore-watermark"], "2024-05-01T12:01:30Z");
  // Not reached: 409 not_fresh naming both watermarks, never a silent answer.
  r = c.Post("/datasets/f/query", StrCat("{", range, R"(,"minWatermark":"2024-05-01T13:00:00Z"})"));
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(Code(r), "not_fresh");
  EXPECT_NE(r.body.find(R"("watermark":"2024-05-01T12:01:30Z")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("minWatermark":"2024-05-01T13:00:00Z")"), std::string::npos);
  // Integer minWatermark in the request's precision (ms by default).
  r = c.Post("/datasets/f/query", StrCat("{", range, R"(,"minWatermark":1714564890000})"));
  EXPECT_EQ(r.status, 200) << r.body;
  r = c.Post("/datasets/f/query", StrCat("{", range, R"(,"minWatermark":1714564890001})"));
  EXPECT_EQ(r.status, 409) << r.body;
  // Wrong types are 400s that name the member.
  r = c.Post("/datasets/f/query", StrCat("{", range, R"(,"requireFresh":"yes"})"));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("requireFresh"), std::string::npos);
  r = c.Post("/datasets/f/query", StrCat("{", range, R"(,"minWatermark":"soon"})"));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("minWatermark"), std::string::npos);
}

TEST_F(ContractTest, XUserIdNamesTheAuditActor) {
  ASSERT_TRUE(StartServer());
  HttpClient c(server_->port());
  ASSERT_EQ(c.Post("/datasets/a/ingest", R"({"records":[{"timestamp":1,"v":1}]})",
                   {{"x-user-id", "carol"}})
                .status,
            200);
  auto r = c.Get("/admin/audit?dataset=a");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find(R"("actor":"carol")"), std::string::npos) << r.body;
}

// Runs `timestore serve --log-level <level>` for at most 3 s; returns the exit
// status (124 when it was still serving, i.e. it started) and its output.
std::pair<int, std::string> ServeWithLogLevel(const std::string& dir, const std::string& level) {
  std::string cmd =
      StrCat("timeout 3 ", TimestoreBinary(), " serve --host 127.0.0.1 --port 0 ",
             "--storage-root ", dir, "/data-", level, " --log-level ", level, " 2>&1");
  std::string out;
  FILE* f = popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  int rc = pclose(f);
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, out};
}

TEST_F(ContractTest, LogLevelNames) {
  for (const char* ok : {"warning", "FATAL"}) {
    EXPECT_EQ(ServeWithLogLevel(dir_, ok).first, 124) << ok << " did not start";
  }
  // An unknown name refuses to start, naming the valid ones, instead of
  // silently logging nothing.
  auto [rc, out] = ServeWithLogLevel(dir_, "verbose");
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("is not one of trace, debug, info, warn"), std::string::npos) << out;
}

// Calendar buckets through the query API, over sealed and in-memory rows:
// months (31, 29 and 31 days), and civil days in a zone with daylight saving.
TEST_F(ContractTest, CalendarBucketsAndTimeZones) {
  ASSERT_TRUE(StartServer());
  HttpClient c(server_->port());
  // One row every 6 hours from 2024-01-31 to 2024-03-31 (Berlin changed to
  // summer time on 2024-03-31), half sealed, half in memory.
  std::string first, second;
  int64_t t0 = 1706659200;  // 2024-01-31T00:00:00Z
  for (int i = 0; i < 61 * 4; ++i) {
    StrAppend(i < 120 ? &first : &second, (i < 120 ? !first.empty() : !second.empty()) ? "," : "",
              "{\"timestamp\":", (t0 + i * 21600) * 1000, ",\"v\":1,\"host\":\"h", i % 2, "\"}");
  }
  ASSERT_EQ(c.Post("/datasets/cal/ingest", StrCat(R"({"records":[)", first, "]}")).status, 200);
  ASSERT_EQ(c.Post("/admin/datasets/cal/flush", "").status, 200);
  ASSERT_EQ(c.Post("/datasets/cal/ingest", StrCat(R"({"records":[)", second, "]}")).status, 200);
  const std::string range =
      R"("timeRange":{"start":"2024-01-01T00:00:00Z","end":"2024-05-01T00:00:00Z"})";
  auto r = c.Post("/datasets/cal/query",
                  StrCat("{", range, R"(,"downsample":{"intervalUnit":"month",)",
                         R"("aggregations":[{"fn":"count","alias":"n"}]}})"),
                  {{"Accept", "text/csv"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body,
            "timestamp,n\r\n2024-01-01T00:00:00Z,4\r\n2024-02-01T00:00:00Z,116\r\n"
            "2024-03-01T00:00:00Z,124\r\n");
  // Grouped too (the dense path): per host, per month.
  r = c.Post("/datasets/cal/query",
             StrCat("{", range, R"(,"downsample":{"intervalUnit":"month","groupBy":["host"],)",
                    R"("aggregations":[{"fn":"count","alias":"n"}]}})"),
             {{"Accept", "text/csv"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("2024-02-01T00:00:00Z,h0,58"), std::string::npos) << r.body;
  // Berlin days: 2024-03-31 is 23 h long and holds the rows from 23:00Z the
  // day before to 22:00Z (00:00Z, 06:00Z, 12:00Z, 18:00Z).
  r = c.Post(
      "/datasets/cal/query",
      StrCat(R"({"timeRange":{"start":"2024-03-30T23:00:00Z","end":"2024-04-01T00:00:00Z"},)",
             R"("downsample":{"intervalUnit":"day","timezone":"Europe/Berlin",)",
             R"("aggregations":[{"fn":"count","alias":"n"}]}})"),
      {{"Accept", "text/csv"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "timestamp,n\r\n2024-03-30T23:00:00Z,4\r\n") << r.body;
  // Errors name the member.
  r = c.Post("/datasets/cal/query",
             StrCat("{", range, R"(,"downsample":{"intervalUnit":"day","timezone":"Mars/Olympus",)",
                    R"("aggregations":[{"fn":"count"}]}})"));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("IANA"), std::string::npos) << r.body;
  r = c.Post("/datasets/cal/query",
             StrCat("{", range, R"(,"downsample":{"intervalUnit":"hour","timezone":"UTC",)",
                    R"("aggregations":[{"fn":"count"}]}})"));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("applies to day, week, month and year"), std::string::npos) << r.body;
}

// Filter items with "or" and "not", and an offset, over sealed and hot rows.
TEST_F(ContractTest, OrNotFiltersAndOffset) {
  ASSERT_TRUE(StartServer());
  HttpClient c(server_->port());
  for (int half = 0; half < 2; ++half) {
    std::string records;
    for (int i = half * 5; i < half * 5 + 5; ++i) {
      StrAppend(&records, records.empty() ? "" : ",", "{\"timestamp\":\"2024-05-01T12:00:0", i,
                "Z\",\"v\":", i, ",\"host\":\"", i % 2 ? "b" : "a", "\"}");
    }
    ASSERT_EQ(c.Post("/datasets/o/ingest", StrCat(R"({"records":[)", records, "]}")).status, 200);
    if (half == 0) {
      ASSERT_EQ(c.Post("/admin/datasets/o/flush", "").status, 200);
    }
  }
  const std::string range =
      R"("timeRange":{"start":"2024-05-01T00:00:00Z","end":"2024-05-02T00:00:00Z"})";
  // v < 2 OR NOT host in ["a"]: rows 0, 1, 3, 5, 7, 9; the second to the fourth.
  auto r = c.Post("/datasets/o/query",
                  StrCat("{", range, R"(,"columns":["v"],"offset":1,"limit":3,"filters":[)",
                         R"({"or":[{"column":"v","op":"lt","value":2},)",
                         R"({"not":{"column":"host","op":"in","value":["a"]}}]}]})"),
                  {{"Accept", "text/csv"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body,
            "timestamp,v\r\n2024-05-01T12:00:01Z,1\r\n2024-05-01T12:00:03Z,3\r\n"
            "2024-05-01T12:00:05Z,5\r\n");
  r = c.Post("/datasets/o/query", StrCat("{", range, R"(,"filters":[{"or":[]}]})"));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("filters[0].or must be a non-empty array"), std::string::npos) << r.body;
  r = c.Post("/datasets/o/query", StrCat("{", range, R"(,"offset":-1})"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "invalid_query");
  EXPECT_NE(r.body.find("offset"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace timestore::testing
