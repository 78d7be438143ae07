// InfluxDB line protocol against the real server: InfluxDB's own clients (the
// `influx` CLI 1.6 and the python3-influxdb client, from Debian), Telegraf's
// requests as it sends them (v1 and v2, gzip), error answers in InfluxDB's
// shape that store nothing, and acknowledged lines surviving kill -9.
#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "common/strings.h"
#include "tests/e2e/test_server.h"

namespace timestore::testing {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

class InfluxTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = MakeTempDir(); }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  void StartServer() {
    server_ = std::make_unique<TestServer>(dir_);
    ASSERT_TRUE(server_->Start()) << "see " << server_->log_path();
  }

  // Raw rows of `slug`, oldest first, as parsed JSON text.
  std::string Rows(const std::string& slug) {
    HttpClient c(server_->port());
    auto r = c.Post(StrCat("/datasets/", slug, "/query"),
                    R"({"timeRange":{"start":0,"end":"2200-01-01T00:00:00Z"},)"
                    R"("timestampFormat":"epoch_ns"})",
                    {{"Accept", "application/x-ndjson"}});
    if (r.status != 200) return StrCat("HTTP ", r.status, " ", r.body);
    return r.body;
  }

  std::string dir_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(InfluxTest, PingAnswersAsInfluxDb) {
  StartServer();
  HttpClient c(server_->port());
  for (const char* method : {"GET", "HEAD"}) {
    auto r = c.Request(method, "/ping");
    EXPECT_EQ(r.status, 204) << method;
    EXPECT_FALSE(r.headers["x-influxdb-version"].empty());
  }
}

TEST_F(InfluxTest, InfluxCliInserts) {
  TIMESTORE_SKIP_WITHOUT(access("/usr/bin/influx", X_OK) == 0, "the influx CLI");
  StartServer();
  auto [rc, out] =
      Shell(StrCat("/usr/bin/influx -host 127.0.0.1 -port ", server_->port(),
                   " -database clidb -execute "
                   "'INSERT weather,city=Oslo,kind=obs temp=-3.5,humidity=81i,sunny=false,"
                   "note=\"first \\\"snow\\\"\" 1700000000000000000'"));
  ASSERT_EQ(rc, 0) << out;
  std::string rows = Rows("clidb_weather");
  EXPECT_NE(rows.find("\"city\":\"Oslo\""), std::string::npos) << rows;
  EXPECT_NE(rows.find("\"temp\":-3.5"), std::string::npos) << rows;
  EXPECT_NE(rows.find("\"humidity\":81"), std::string::npos) << rows;
  EXPECT_NE(rows.find("\"sunny\":false"), std::string::npos) << rows;
  EXPECT_NE(rows.find(R"("note":"first \"snow\"")"), std::string::npos) << rows;
  EXPECT_NE(rows.find("1700000000000000000"), std::string::npos) << rows;

  // A malformed line: the CLI prints InfluxDB's error (it exits 0 all the same).
  auto [rc2, out2] = Shell(StrCat("/usr/bin/influx -host 127.0.0.1 -port ", server_->port(),
                                  " -database clidb -execute 'INSERT weather temp=' "));
  EXPECT_NE(out2.find("ERR:"), std::string::npos) << out2;
  EXPECT_NE(out2.find("field \\\"temp\\\" has no value"), std::string::npos) << out2;
}

TEST_F(InfluxTest, PythonClientWritesEveryType) {
  TIMESTORE_SKIP_WITHOUT(Shell("/usr/bin/python3 -c 'import influxdb'").first == 0,
                         "python3-influxdb");
  StartServer();
  std::string script = StrCat(R"(
from influxdb import InfluxDBClient
for gz in (False, True):
    c = InfluxDBClient(host='127.0.0.1', port=)",
                              server_->port(), R"(, database='py', gzip=gz)
    ok = c.write_points([
        {'measurement': 'sensor', 'tags': {'room': 'a b,c=d', 'floor': '1'},
         'time': 1700000000000 + (1000 if gz else 0),
         'fields': {'temp': 21.25, 'count': 7, 'on': True, 'label': 'x "y" \\z'}},
        {'measurement': 'door', 'tags': {'room': 'hall'}, 'time': 1700000000500,
         'fields': {'open': False}},
    ], time_precision='ms')
    assert ok, ok
print('written')
)");
  std::string path = dir_ + "/client.py";
  std::ofstream(path) << script;
  auto [rc, out] = Shell("/usr/bin/python3 " + path);
  ASSERT_EQ(rc, 0) << out;
  std::string rows = Rows("py_sensor");
  EXPECT_NE(rows.find(R"("room":"a b,c=d")"), std::string::npos) << rows;
  EXPECT_NE(rows.find(R"("temp":21.25)"), std::string::npos) << rows;
  EXPECT_NE(rows.find(R"("count":7)"), std::string::npos) << rows;
  EXPECT_NE(rows.find(R"("on":true)"), std::string::npos) << rows;
  EXPECT_NE(rows.find(R"("label":"x \"y\" \\z")"), std::string::npos) << rows;
  EXPECT_NE(rows.find("1700000000000000000"), std::string::npos) << rows;
  EXPECT_NE(rows.find("1700000001000000000"), std::string::npos) << rows;  // the gzip write
  EXPECT_NE(Rows("py_door").find(R"("open":false)"), std::string::npos);
}

// Telegraf's outputs.influxdb (v1) and outputs.influxdb_v2 requests as it
// sends them: CREATE DATABASE first, then gzip line protocol.
TEST_F(InfluxTest, TelegrafRequestsWork) {
  StartServer();
  HttpClient c(server_->port());
  auto r = c.Post("/query", "q=CREATE+DATABASE+%22telegraf%22",
                  {{"Content-Type", "application/x-www-form-urlencoded"},
                   {"User-Agent", "Telegraf/1.28.5 Go/1.21.4"}});
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string lines =
      "cpu,cpu=cpu-total,host=h1 usage_user=1.5,usage_system=0.5 1700000000000000000\n"
      "mem,host=h1 used=1024i,available_percent=40.5 1700000000000000000\n"
      "system,host=h1 load1=0.25,n_cpus=2i,uptime_format=\"1 day\" 1700000000000000000\n";
  r = c.Post("/write?db=telegraf", Gzip(lines),
             {{"Content-Encoding", "gzip"},
              {"Content-Type", "text/plain; charset=utf-8"},
              {"User-Agent", "Telegraf/1.28.5 Go/1.21.4"}});
  ASSERT_EQ(r.status, 204) << r.body;
  r = c.Post("/api/v2/write?bucket=tg2&org=acme&precision=s",
             Gzip("cpu,host=h2 usage_user=9 1700000000\n"),
             {{"Content-Encoding", "gzip"},
              {"Authorization", "Token secret"},
              {"Content-Type", "text/plain; charset=utf-8"}});
  ASSERT_EQ(r.status, 204) << r.body;
  EXPECT_NE(Rows("telegraf_cpu").find(R"("usage_user":1.5)"), std::string::npos);
  EXPECT_NE(Rows("telegraf_mem").find(R"("used":1024)"), std::string::npos);
  EXPECT_NE(Rows("telegraf_system").find(R"("uptime_format":"1 day")"), std::string::npos);
  EXPECT_NE(Rows("tg2_cpu").find("1700000000000000000"), std::string::npos);
}

TEST_F(InfluxTest, ErrorsInInfluxShapeStoreNothing) {
  StartServer();
  HttpClient c(server_->port());
  // The second line is bad: the first (another measurement) is not stored.
  auto r = c.Post("/write?db=e", "good v=1 1\nbad v=1x 2\n");
  ASSERT_EQ(r.status, 400) << r.body;
  simdjson::dom::parser p;
  simdjson::dom::element doc;
  ASSERT_FALSE(p.parse(r.body).get(doc)) << r.body;
  std::string_view error;
  ASSERT_FALSE(doc["error"].get(error)) << r.body;
  EXPECT_NE(error.find("line 2"), std::string_view::npos) << error;
  EXPECT_FALSE(r.headers["x-influxdb-error"].empty());
  EXPECT_EQ(Rows("e_good").substr(0, 8), "HTTP 404");

  r = c.Post("/api/v2/write?bucket=e", "m v=1\nm v=2i\n");
  ASSERT_EQ(r.status, 400);
  ASSERT_FALSE(p.parse(r.body).get(doc));
  std::string_view code, message;
  ASSERT_FALSE(doc["code"].get(code));
  ASSERT_FALSE(doc["message"].get(message));
  EXPECT_EQ(code, "invalid");
  EXPECT_NE(message.find("type conflict"), std::string_view::npos) << message;

  EXPECT_EQ(c.Post("/write", "m v=1\n").status, 400);  // no db
  EXPECT_EQ(c.Post("/write?db=e&precision=d", "m v=1\n").status, 400);
  EXPECT_EQ(c.Post("/write?db=e", "not gzip", {{"Content-Encoding", "gzip"}}).status, 400);
  EXPECT_EQ(c.Post("/write?db=e", "m v=1\n", {{"Content-Encoding", "br"}}).status, 415);
  // A decompression bomb: 1 MiB body limit, 16 MiB of zeros gzipped to ~16 KiB.
  server_.reset();
  server_ = std::make_unique<TestServer>(
      dir_, std::map<std::string, std::string>{{"TIMESTORE_MAX_BODY_BYTES", "1MiB"}});
  ASSERT_TRUE(server_->Start());
  HttpClient c2(server_->port());
  std::string bomb = Gzip(std::string(16 << 20, '0'));
  ASSERT_LT(bomb.size(), 1u << 20);
  r = c2.Post("/write?db=e", bomb, {{"Content-Encoding", "gzip"}});
  EXPECT_EQ(r.status, 413) << r.body;
  EXPECT_EQ(c2.Get("/health").status, 200);
  // Over the limit on the wire: the HTTP server refuses it before the route,
  // still in InfluxDB's shape.
  const std::string big((1 << 20) + 100, '#');
  {
    HttpClient c3(server_->port());
    r = c3.Post("/api/v2/write?bucket=e", big);
    EXPECT_EQ(r.status, 413) << r.body;
    EXPECT_NE(r.body.find(R"("code":"request too large")"), std::string::npos) << r.body;
  }
  {
    HttpClient c3(server_->port());
    r = c3.Post("/write?db=e", big);
    EXPECT_EQ(r.status, 413) << r.body;
    EXPECT_NE(r.body.find(R"({"error":"request body exceeds the limit of 1048576 bytes)"),
              std::string::npos)
        << r.body;
  }
}

// An Idempotency-Key makes a retried body (two measurements here) store once,
// also after a restart; the same key with another body is a 409.
TEST_F(InfluxTest, IdempotencyKeyStoresARetriedBodyOnce) {
  StartServer();
  HttpClient c(server_->port());
  const std::string body = "a,host=h v=1i 1700000000000000000\nb w=2 1700000000000000000\n";
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(c.Post("/write?db=idem", body, {{"Idempotency-Key", "batch-1"}}).status, 204);
  }
  server_->Stop(SIGKILL);
  ASSERT_TRUE(server_->Start());
  HttpClient c2(server_->port());
  EXPECT_EQ(c2.Post("/write?db=idem", body, {{"Idempotency-Key", "batch-1"}}).status, 204);
  for (const char* slug : {"idem_a", "idem_b"}) {
    std::string rows = Rows(slug);
    EXPECT_EQ(std::count(rows.begin(), rows.end(), '\n'), 1) << slug << ": " << rows;
  }
  EXPECT_EQ(c2.Post("/write?db=idem", "a v=9i 5\n", {{"Idempotency-Key", "batch-1"}}).status, 409);
}

// Every acknowledged (204) line-protocol write survives kill -9, including
// bodies spanning several measurements.
TEST_F(InfluxTest, AcknowledgedLinesSurviveKill9) {
  StartServer();
  HttpClient c(server_->port());
  int acked = 0;
  for (int b = 0; b < 50; ++b) {
    std::string body;
    for (int k = 0; k < 20; ++k) {
      int64_t ts = 1700000000000000000 + (b * 20 + k) * 1000000000LL;
      body += StrCat("a,host=h", k % 4, " v=", b * 20 + k, "i ", ts, "\n");
      body += StrCat("b,host=h", k % 4, " w=", b * 20 + k, " ", ts, "\n");
    }
    if (c.Post("/write?db=k", body).status == 204) ++acked;
  }
  ASSERT_EQ(acked, 50);
  server_->Stop(SIGKILL);
  ASSERT_TRUE(server_->Start());
  for (const char* slug : {"k_a", "k_b"}) {
    std::string rows = Rows(slug);
    EXPECT_EQ(std::count(rows.begin(), rows.end(), '\n'), 1000) << slug;
  }
}

}  // namespace
}  // namespace timestore::testing
