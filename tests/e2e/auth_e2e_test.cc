// Authentication (issue 13) end to end: the real `timestore serve` in token
// mode, driven by the real `timestore token` CLI, curl, psql, node-postgres,
// Prometheus remote write with basic_auth, the InfluxDB 1.x clients (the
// `influx` CLI and python3-influxdb) and plain HTTP for the rate limits.
// Each peer that is missing skips its test locally and fails it under CI
// (TIMESTORE_SKIP_WITHOUT). Every server listens on 127.0.0.1, on ports the
// kernel picks; no test depends on tight timing.
#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/strings.h"
#include "tests/e2e/prometheus_process.h"
#include "tests/e2e/test_server.h"

namespace timestore::testing {
namespace {

using Env = std::map<std::string, std::string>;
using Headers = std::vector<std::pair<std::string, std::string>>;
using Clock = std::chrono::steady_clock;

// The bootstrap admin token of the tests that set one (at least 16 characters).
constexpr char kAdminToken[] = "e2e-admin-token-0123456789abcdef";

constexpr const char* kMemRows = R"({
  "schema": {"fields": [{"name": "timestamp", "type": "timestamp"},
                        {"name": "hostname", "type": "string"},
                        {"name": "used", "type": "double"}]},
  "records": [{"timestamp": "2024-05-01T12:00:00Z", "hostname": "host_0", "used": 1024}]})";

constexpr const char* kAllRows =
    R"({"timeRange":{"start":0,"end":"2200-01-01T00:00:00Z"},"timestampFormat":"epoch_ns"})";

// The value of the sample `name` (with its labels, as printed) in a
// Prometheus text exposition; -1 when it is absent.
double MetricValue(const std::string& exposition, const std::string& name) {
  size_t at = 0;
  while ((at = exposition.find(name + " ", at)) != std::string::npos) {
    if (at == 0 || exposition[at - 1] == '\n') {
      return std::strtod(exposition.c_str() + at + name.size() + 1, nullptr);
    }
    at += name.size();
  }
  return -1;
}

bool HaveTool(const std::string& name) {
  return Shell("command -v " + name + " >/dev/null").first == 0;
}

bool HaveNodePg() {
  return Shell(StrCat("NODE_PATH=", TIMESTORE_SOURCE_DIR,
                      "/tests/node/node_modules node -e \"require('pg')\""))
             .first == 0;
}

class AuthE2ETest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = MakeTempDir(); }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Starts a server in token mode with `env` added (the harness defaults to
  // TIMESTORE_AUTH=none).
  void StartServer(Env env = {{"TIMESTORE_ADMIN_TOKEN", kAdminToken}}) {
    env.emplace("TIMESTORE_AUTH", "token");
    server_ = std::make_unique<TestServer>(dir_, std::move(env));
    ASSERT_TRUE(server_->Start()) << ReadFileToString(server_->log_path());
  }
  std::string Url() const { return StrCat("http://127.0.0.1:", server_->port()); }

  // `timestore token <args>`; exit status and output.
  std::pair<int, std::string> TokenCli(const std::string& args) {
    return Shell(StrCat(TimestoreBinary(), " token ", args));
  }
  std::string AgainstServer(const std::string& admin = kAdminToken) const {
    return StrCat(" --server ", Url(), " --token ", ShellQuote(admin));
  }
  // Creates a token through the CLI against the running server; returns it.
  std::string CreateToken(const std::string& args) {
    auto [rc, out] = TokenCli("create" + AgainstServer() + " " + args);
    EXPECT_EQ(rc, 0) << out;
    std::string token = JsonMember(out, "token");
    EXPECT_EQ(token.substr(0, 4), "tsk_") << out;
    return token;
  }

  void Ingest(const std::string& slug, const char* rows) {
    HttpClient c(server_->port());
    Headers h = BearerHeaders(kAdminToken);
    h.emplace_back("Content-Type", "application/json");
    auto r = c.Post(StrCat("/datasets/", slug, "/ingest"), rows, h);
    ASSERT_EQ(r.status, 200) << r.body;
  }
  // The rows of `slug` as NDJSON, read with the admin token.
  std::string Rows(const std::string& slug) {
    HttpClient c(server_->port());
    Headers h = BearerHeaders(kAdminToken);
    h.emplace_back("Accept", "application/x-ndjson");
    auto r = c.Post(StrCat("/datasets/", slug, "/query"), kAllRows, h);
    if (r.status != 200) return StrCat("HTTP ", r.status, " ", r.body);
    return r.body;
  }
  std::string Metrics() {
    HttpClient c(server_->port());
    return c.Get("/metrics").body;  // open: no token
  }

  std::string dir_;
  std::unique_ptr<TestServer> server_;
};

// 1. No TIMESTORE_ADMIN_TOKEN: one is generated into <root>/auth/admin.token
// (0600), the log names the file (and never holds the token), curl reads
// /status with it and gets 401 with WWW-Authenticate without it, and a
// restart keeps the same token.
TEST_F(AuthE2ETest, FirstStartGeneratesTheAdminTokenOnce) {
  TIMESTORE_SKIP_WITHOUT(HaveTool("curl"), "curl");
  StartServer({{"TIMESTORE_LOG_LEVEL", "info"}});
  const std::string path = server_->storage_root() + "/auth/admin.token";
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0) << path;
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((server_->storage_root() + "/auth").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);  // the directory is private too
  const std::string file = ReadFileToString(path);
  const std::string token(StripWhitespace(file));
  ASSERT_EQ(token.substr(0, 4), "tsk_") << file;
  const std::string log = ReadFileToString(server_->log_path());
  EXPECT_NE(log.find(path), std::string::npos) << log;
  EXPECT_EQ(log.find(token.substr(4)), std::string::npos) << "the token was logged";

  const std::string curl = "curl -s -o /dev/null -w '%{http_code}' ";
  for (const std::string& credentials : {"-H " + ShellQuote("Authorization: Bearer " + token),
                                         "-H " + ShellQuote("Authorization: Token " + token),
                                         "-u " + ShellQuote("anyone:" + token)}) {
    SCOPED_TRACE(credentials);
    auto [rc, code] = Shell(StrCat(curl, credentials, " ", Url(), "/status"));
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(code, "200");
  }
  // Without a token, and with a wrong one: 401 naming how to authenticate.
  for (const std::string& credentials :
       {std::string(),
        "-H 'Authorization: Bearer tsk_0000000000000000_" + std::string(64, '0') + "'"}) {
    SCOPED_TRACE(credentials);
    auto [rc, head] =
        Shell(StrCat("curl -s -D - -o /dev/null ", credentials, " ", Url(), "/status"));
    EXPECT_EQ(head.substr(0, 12), "HTTP/1.1 401") << head;
    EXPECT_NE(head.find("WWW-Authenticate: Bearer realm=\"timestore\""), std::string::npos) << head;
  }
  HttpClient c(server_->port());
  auto r = c.Get("/status");
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.body.find("\"unauthorized\""), std::string::npos) << r.body;
  EXPECT_EQ(c.Request("GET", "/status", "", BearerHeaders(token)).status, 200);

  // Generated once: a restart reads the same file, and the token still works.
  EXPECT_EQ(WEXITSTATUS(server_->Stop(SIGTERM)), 0);
  ASSERT_TRUE(server_->Start()) << ReadFileToString(server_->log_path());
  EXPECT_EQ(ReadFileToString(path), file);
  HttpClient c2(server_->port());
  EXPECT_EQ(c2.Request("GET", "/status", "", BearerHeaders(token)).status, 200);
  EXPECT_EQ(c2.Get("/status").status, 401);
}

// 2. Settings that would expose the server refuse to start, with exit code 2
// and a message saying what to change. The binary is run directly (the
// harness always listens on 127.0.0.1), with a timeout in case it starts.
TEST_F(AuthE2ETest, UnsafeSettingsRefuseToStart) {
  struct Case {
    std::string env;
    std::string args;
    std::string says;
  };
  const std::string pg = StrCat(" --pg-port ", PickFreePort(), " --pg-host 0.0.0.0");
  for (const Case& k : {
           Case{"TIMESTORE_AUTH=none", "--host 0.0.0.0", "loopback"},
           Case{"TIMESTORE_AUTH=none", "--host 127.0.0.1" + pg, "loopback"},
           Case{"TIMESTORE_AUTH=proxy", "--host 127.0.0.1", "TIMESTORE_TRUSTED_PROXIES"},
           Case{"TIMESTORE_AUTH=token TIMESTORE_ADMIN_TOKEN=short", "--host 127.0.0.1",
                "TIMESTORE_ADMIN_TOKEN"},
       }) {
    SCOPED_TRACE(k.env + " " + k.args);
    auto [rc, out] =
        Shell(StrCat("env -u TIMESTORE_ADMIN_TOKEN -u TIMESTORE_TRUSTED_PROXIES ", k.env,
                     " timeout -s KILL 60 ", TimestoreBinary(), " serve ", k.args,
                     " --port 0 --storage-root ", ShellQuote(dir_ + "/data"), " --log-level warn"));
    EXPECT_EQ(rc, 2) << out;
    EXPECT_NE(out.find(k.says), std::string::npos) << out;
  }
  // A short admin token is not echoed back.
  auto [rc, out] =
      Shell(StrCat("TIMESTORE_AUTH=token TIMESTORE_ADMIN_TOKEN=sh0rtsecret timeout -s "
                   "KILL 60 ",
                   TimestoreBinary(),
                   " serve --host 127.0.0.1 --port 0 "
                   "--storage-root ",
                   ShellQuote(dir_ + "/data")));
  EXPECT_EQ(rc, 2) << out;
  EXPECT_EQ(out.find("sh0rtsecret"), std::string::npos) << out;
}

// 3. `timestore token` against a running server (with the bootstrap token)
// and against a stopped server's storage root.
TEST_F(AuthE2ETest, TokenCliCreatesListsAndRevokes) {
  StartServer();
  Ingest("cpu", kCpuRowsJson);
  auto [rc, created] = TokenCli("create" + AgainstServer() + " --name reader --scope read");
  ASSERT_EQ(rc, 0) << created;
  const std::string reader = JsonMember(created, "token");
  ASSERT_EQ(reader.substr(0, 4), "tsk_") << created;

  // Listed without the secret (nor its hash).
  auto [rc_list, listed] = TokenCli("list" + AgainstServer());
  ASSERT_EQ(rc_list, 0) << listed;
  EXPECT_NE(listed.find("\"name\":\"reader\""), std::string::npos) << listed;
  EXPECT_EQ(listed.find(reader.substr(4)), std::string::npos) << listed;
  EXPECT_EQ(listed.find(reader.substr(reader.size() - 16)), std::string::npos) << listed;
  EXPECT_EQ(listed.find("\"hash\""), std::string::npos) << listed;

  HttpClient c(server_->port());
  auto r = c.Post("/datasets/cpu/query", kAllRows, BearerHeaders(reader));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("host_3"), std::string::npos) << r.body;
  // Outside its scope: 403 naming the scope it lacks, not 401.
  Headers json = BearerHeaders(reader);
  json.emplace_back("Content-Type", "application/json");
  r = c.Post("/datasets/cpu/ingest", kCpuRowsJson, json);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_NE(r.body.find("\"forbidden\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("write"), std::string::npos) << r.body;
  EXPECT_EQ(c.Request("GET", "/admin/tokens", "", BearerHeaders(reader)).status, 403);
  // ... and it cannot make tokens: the CLI fails with the server's 403.
  auto [rc_denied, denied] = TokenCli("create" + AgainstServer(reader) + " --name x --scope admin");
  EXPECT_EQ(rc_denied, 1) << denied;
  EXPECT_NE(denied.find("forbidden"), std::string::npos) << denied;
  // Without a token, the CLI gets the 401.
  auto [rc_anon, anon] = TokenCli("list --server " + Url());
  EXPECT_EQ(rc_anon, 1) << anon;
  EXPECT_NE(anon.find("unauthorized"), std::string::npos) << anon;

  // Revoked (by name): 401 from then on.
  auto [rc_revoke, revoked] = TokenCli("revoke" + AgainstServer() + " reader");
  ASSERT_EQ(rc_revoke, 0) << revoked;
  r = c.Post("/datasets/cpu/query", kAllRows, BearerHeaders(reader));
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_FALSE(r.headers["www-authenticate"].empty());

  // Against the storage root of the stopped server.
  EXPECT_EQ(WEXITSTATUS(server_->Stop(SIGTERM)), 0);
  auto [rc_offline, offline] =
      TokenCli(StrCat("create --storage-root ", ShellQuote(server_->storage_root()),
                      " --name offline --scope read --scope write"));
  ASSERT_EQ(rc_offline, 0) << offline;
  const std::string writer = JsonMember(offline, "token");
  ASSERT_EQ(writer.substr(0, 4), "tsk_") << offline;
  struct stat st {};
  ASSERT_EQ(::stat((server_->storage_root() + "/auth/tokens.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_TRUE(server_->Start()) << ReadFileToString(server_->log_path());
  HttpClient c2(server_->port());
  json = BearerHeaders(writer);
  json.emplace_back("Content-Type", "application/json");
  r = c2.Post("/datasets/cpu2/ingest", kCpuRowsJson, json);
  EXPECT_EQ(r.status, 200) << r.body;
  r = c2.Post("/datasets/cpu2/query", kAllRows, BearerHeaders(writer));
  EXPECT_EQ(r.status, 200) << r.body;
  // The revocation survived the restart; the offline token is listed.
  EXPECT_EQ(c2.Post("/datasets/cpu/query", kAllRows, BearerHeaders(reader)).status, 401);
  auto [rc_list2, listed2] = TokenCli("list" + AgainstServer());
  EXPECT_NE(listed2.find("\"name\":\"offline\""), std::string::npos) << listed2;
  EXPECT_EQ(listed2.find("\"name\":\"reader\""), std::string::npos) << listed2;
}

// A bug fixed: `timestore token create --storage-root` on the root of a
// running server wrote tokens.json beside it and said it had made a token;
// the server (which reads the file once) refused that token, and rewrote
// the file from memory at its next change, so the token was lost. The
// storage root is now locked while a server runs on it.
TEST_F(AuthE2ETest, TokenCliRefusesTheStorageRootOfARunningServer) {
  StartServer();
  const std::string root = ShellQuote(server_->storage_root());
  auto [rc, out] = TokenCli("create --storage-root " + root + " --name sneaky --scope admin");
  EXPECT_EQ(rc, 1) << out;
  EXPECT_EQ(out.find("tsk_"), std::string::npos) << out;
  EXPECT_NE(out.find("a timestore server is running on this storage root"), std::string::npos)
      << out;
  EXPECT_NE(out.find("--server"), std::string::npos) << out;
  EXPECT_EQ(TokenCli("list --storage-root " + root).first, 1);
  // A second server on the same root refuses to start too.
  TestServer second(dir_, {{"TIMESTORE_AUTH", "token"}, {"TIMESTORE_ADMIN_TOKEN", kAdminToken}});
  EXPECT_FALSE(second.Start());
  EXPECT_NE(ReadFileToString(second.log_path()).find("is locked"), std::string::npos);
  // Once the server has stopped (even by SIGKILL) the root is free.
  server_->Stop(SIGKILL);
  auto [rc_free, created] =
      TokenCli("create --storage-root " + root + " --name later --scope read");
  EXPECT_EQ(rc_free, 0) << created;
  ASSERT_TRUE(server_->Start()) << ReadFileToString(server_->log_path());
  HttpClient c(server_->port());
  EXPECT_EQ(
      c.Request("GET", "/admin/tokens", "", BearerHeaders(kAdminToken)).body.find("\"later\"") !=
          std::string::npos,
      true);
}

// 4. psql (and node-postgres, for the SQLSTATE of a failed login) with a
// token as the PostgreSQL password.
TEST_F(AuthE2ETest, PsqlWithATokenAsPassword) {
  TIMESTORE_SKIP_WITHOUT(HaveTool("psql"), "psql");
  StartServer({{"TIMESTORE_ADMIN_TOKEN", kAdminToken},
               {"TIMESTORE_PG_PORT", std::to_string(PickFreePort())}});
  Ingest("cpu", kCpuRowsJson);
  Ingest("mem", kMemRows);
  const std::string reader = CreateToken("--name reader --scope read");
  const std::string mem_only = CreateToken("--name mem-only --scope read --dataset 'mem:read'");
  auto psql = [&](const std::string& password, const std::string& sql) {
    return Shell(StrCat("PGPASSWORD=", ShellQuote(password),
                        " PGCONNECT_TIMEOUT=60 psql -X -At -v VERBOSITY=verbose -h 127.0.0.1 -p ",
                        server_->pg_port(), " -U anyone -c ", ShellQuote(sql)));
  };

  auto [rc, out] = psql(reader, "SELECT count(*) FROM cpu");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "4\n");

  auto [rc_bad, bad] = psql(reader + "x", "SELECT count(*) FROM cpu");
  EXPECT_EQ(rc_bad, 2) << bad;
  EXPECT_NE(bad.find("password authentication failed for user \"anyone\""), std::string::npos)
      << bad;
  auto [rc_none, none] = psql("", "SELECT 1");
  EXPECT_EQ(rc_none, 2) << none;

  auto [rc_mem, mem] = psql(mem_only, "SELECT count(*) FROM mem");
  EXPECT_EQ(rc_mem, 0) << mem;
  EXPECT_EQ(mem, "1\n");
  auto [rc_cpu, cpu] = psql(mem_only, "SELECT count(*) FROM cpu");
  EXPECT_EQ(rc_cpu, 1) << cpu;
  EXPECT_NE(cpu.find("42501"), std::string::npos) << cpu;
  EXPECT_NE(cpu.find("permission denied for table cpu"), std::string::npos) << cpu;

  // psql (and psycopg2) print no SQLSTATE for a refused login;
  // node-postgres has it as the error's code.
  TIMESTORE_SKIP_WITHOUT(HaveNodePg(), "node or tests/node/node_modules/pg");
  const std::string script = dir_ + "/login.js";
  std::ofstream(script) << StrCat(R"(
const {Client} = require('pg');
const c = new Client({host: '127.0.0.1', port: )",
                                  server_->pg_port(), R"(, user: 'anyone',
                      database: 'timestore', password: process.argv[2]});
c.connect().then(() => c.query('SELECT count(*) AS n FROM cpu'))
  .then(r => { console.log('rows', r.rows[0].n); return c.end(); },
        e => { console.log('code', e.code, e.message); return c.end(); });
)");
  auto node = [&](const std::string& password) {
    return Shell(StrCat("NODE_PATH=", TIMESTORE_SOURCE_DIR, "/tests/node/node_modules node ",
                        script, " ", ShellQuote(password)))
        .second;
  };
  EXPECT_EQ(node(reader), "rows 4\n");
  const std::string wrong = node(reader + "x");
  EXPECT_EQ(wrong.substr(0, 11), "code 28P01 ") << wrong;
  EXPECT_NE(wrong.find("password authentication failed"), std::string::npos) << wrong;
  EXPECT_EQ(wrong.find(reader), std::string::npos) << "the token was echoed";
  const std::string denied = node(mem_only);
  EXPECT_EQ(denied.substr(0, 11), "code 42501 ") << denied;
  EXPECT_NE(denied.find("permission denied for table cpu"), std::string::npos) << denied;
}

// 5. Prometheus remote write with basic_auth: the token as password gets the
// samples in; a wrong password gets 401s (counted on /metrics) and nothing.
TEST_F(AuthE2ETest, PrometheusRemoteWriteWithBasicAuth) {
  TIMESTORE_SKIP_WITHOUT(::access(kPrometheusBinary, X_OK) == 0, kPrometheusBinary);
  StartServer();
  const std::string writer = CreateToken("--name prometheus --scope write");
  auto config = [&](const std::string& job, const std::string& password) {
    // Prometheus scrapes Timestore's /metrics (open) and remote-writes it.
    return StrCat(
        "global:\n  scrape_interval: 1s\n"
        "scrape_configs:\n  - job_name: ",
        job, "\n    static_configs:\n      - targets: ['127.0.0.1:", server_->port(),
        "']\nremote_write:\n  - url: ", Url(),
        "/api/v1/write\n    basic_auth:\n      username: prometheus\n"
        "      password: '",
        password,
        "'\n    queue_config:\n      batch_send_deadline: 500ms\n"
        "      min_backoff: 100ms\n      max_backoff: 1s\n");
  };
  const std::string up_query = R"({"timeRange":{"start":0,"end":"2200-01-01T00:00:00Z"},)"
                               R"("filters":[{"column":"__name__","op":"eq","value":"up"}],)"
                               R"("limit":1000})";
  auto has_job = [&](const std::string& job) {
    HttpClient c(server_->port());
    auto r = c.Post("/datasets/prometheus/query", up_query, BearerHeaders(kAdminToken));
    return r.status == 200 && r.body.find(StrCat("\"job\":\"", job, "\"")) != std::string::npos;
  };
  const std::string failures = R"(timestore_auth_failures_total{reason="unauthenticated"})";
  const double failures_before = MetricValue(Metrics(), failures);
  ASSERT_GE(failures_before, 0) << Metrics();

  PrometheusProcess good(dir_ + "/good", config("good", writer));
  ASSERT_TRUE(good.Start()) << good.log();
  PrometheusProcess bad(dir_ + "/bad", config("bad", writer + "x"));
  ASSERT_TRUE(bad.Start()) << bad.log();

  // The good one's samples arrive; the bad one's are refused (several
  // times: each batch is refused and dropped).
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  bool arrived = false;
  double failures_now = failures_before;
  while (Clock::now() < deadline && (!arrived || failures_now < failures_before + 2)) {
    arrived = arrived || has_job("good");
    failures_now = MetricValue(Metrics(), failures);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_TRUE(arrived) << good.log();
  EXPECT_GE(failures_now, failures_before + 2) << Metrics() << "\n" << bad.log();
  EXPECT_FALSE(has_job("bad"));
  // Prometheus saw the 401 as an error it does not retry.
  EXPECT_NE(bad.log().find("401"), std::string::npos) << bad.log();
  EXPECT_EQ(good.log().find("401"), std::string::npos) << good.log();
}

// 6. InfluxDB 1.x clients: the `influx` CLI and python3-influxdb send the
// token as the Basic password; curl sends it as ?p=.
TEST_F(AuthE2ETest, InfluxClientsWithAToken) {
  StartServer();
  const std::string writer = CreateToken("--name telegraf --scope write");
  const std::string influx = "/usr/bin/influx";
  const bool have_cli = ::access(influx.c_str(), X_OK) == 0;
  const bool have_py = Shell("/usr/bin/python3 -c 'import influxdb'").first == 0;

  if (have_cli) {
    auto cli = [&](const std::string& credentials, const std::string& line) {
      return Shell(StrCat(influx, " -host 127.0.0.1 -port ", server_->port(), credentials,
                          " -database clidb -execute ", ShellQuote("INSERT " + line)));
    };
    auto [rc, out] =
        cli(" -username x -password " + ShellQuote(writer), "weather,city=Oslo temp=-3.5");
    EXPECT_EQ(rc, 0) << out;
    EXPECT_EQ(out.find("ERR"), std::string::npos) << out;
    EXPECT_NE(Rows("clidb_weather").find(R"("temp":-3.5)"), std::string::npos);
    // Without the token: the CLI prints the 401 (and stores nothing).
    auto [rc_anon, anon] = cli("", "rain,city=Oslo mm=1");
    EXPECT_NE(anon.find("ERR"), std::string::npos) << anon;
    EXPECT_NE(anon.find("unauthorized"), std::string::npos) << anon;
    auto [rc_bad, bad] = cli(" -username x -password wrong", "rain,city=Oslo mm=1");
    EXPECT_NE(bad.find("ERR"), std::string::npos) << bad;
    EXPECT_EQ(Rows("clidb_rain").substr(0, 8), "HTTP 404");
  }

  if (have_py) {
    const std::string script = dir_ + "/client.py";
    std::ofstream(script) << StrCat(R"(
import sys
from influxdb import InfluxDBClient
from influxdb.exceptions import InfluxDBClientError
kw = {'username': 'x', 'password': sys.argv[1]} if len(sys.argv) > 1 else {}
c = InfluxDBClient(host='127.0.0.1', port=)",
                                    server_->port(), R"(, database='py', **kw)
try:
    ok = c.write_points([{'measurement': 'sensor', 'tags': {'room': 'a'},
                          'time': 1700000000000, 'fields': {'temp': 21.25}}],
                        time_precision='ms')
    print('written', ok)
except InfluxDBClientError as e:
    print('refused', e.code)
)");
    auto [rc, out] = Shell(StrCat("/usr/bin/python3 ", script, " ", ShellQuote(writer)));
    EXPECT_EQ(rc, 0) << out;
    EXPECT_EQ(out, "written True\n");
    EXPECT_NE(Rows("py_sensor").find(R"("temp":21.25)"), std::string::npos);
    auto [rc_anon, anon] = Shell(StrCat("/usr/bin/python3 ", script));
    EXPECT_EQ(anon, "refused 401\n");
    auto [rc_bad, bad] = Shell(StrCat("/usr/bin/python3 ", script, " wrong-token"));
    EXPECT_EQ(bad, "refused 401\n");
  }

  // InfluxDB 1.x's query-string credentials (?u=&p=), as curl sends them.
  if (HaveTool("curl")) {
    auto write = [&](const std::string& query) {
      return Shell(StrCat("curl -s -o /dev/null -w '%{http_code}' -XPOST ",
                          ShellQuote(StrCat(Url(), "/write?db=qs", query)),
                          " --data-binary 'm,k=v x=1 1700000000000000000'"))
          .second;
    };
    EXPECT_EQ(write("&u=x&p=" + writer), "204");
    EXPECT_EQ(write(""), "401");
    EXPECT_EQ(write("&u=x&p=wrong"), "401");
    EXPECT_NE(Rows("qs_m").find(R"("x":1)"), std::string::npos);
  }
  TIMESTORE_SKIP_WITHOUT(have_cli, "the influx CLI");
  TIMESTORE_SKIP_WITHOUT(have_py, "python3-influxdb");
}

// A bug fixed: a wrong token on the InfluxDB routes was refused in
// Timestore's error shape ({"error":{"code",...}}), though no token at all
// was refused in InfluxDB's ({"error":"..."}) as every other error there;
// InfluxDB clients read the latter.
TEST_F(AuthE2ETest, WrongTokenOnInfluxRoutesAnswersInInfluxShape) {
  StartServer();
  HttpClient c(server_->port());
  const Headers wrong = BearerHeaders("tsk_0000000000000000_" + std::string(64, '0'));
  for (const char* target : {"/write?db=x", "/query?q=SHOW+DATABASES"}) {
    SCOPED_TRACE(target);
    for (const Headers& h : {Headers{}, wrong}) {
      auto r = c.Post(target, "m v=1\n", h);
      EXPECT_EQ(r.status, 401) << r.body;
      EXPECT_EQ(r.body.substr(0, 10), R"({"error":")") << r.body;
      EXPECT_NE(r.body.find(R"("timestoreCode":"unauthorized")"), std::string::npos) << r.body;
      EXPECT_FALSE(r.headers["x-influxdb-version"].empty());
      EXPECT_FALSE(r.headers["www-authenticate"].empty());
    }
  }
  for (const Headers& h : {Headers{}, wrong}) {
    auto r = c.Post("/api/v2/write?bucket=x", "m v=1\n", h);
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_EQ(r.body.substr(0, 25), R"({"code":"unauthorized","m)") << r.body;
  }
  // The same wrong token on Timestore's own routes keeps Timestore's shape.
  auto r = c.Post("/datasets/x/query", kAllRows, wrong);
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body.substr(0, 18), R"({"error":{"code":")") << r.body;
}

// 7. A token's query rate: at 0.5 queries/s, of quick queries after the
// first some are refused with 429 and Retry-After, and one goes through
// again once Retry-After has passed.
TEST_F(AuthE2ETest, TokenQueryRateLimitAnswers429WithRetryAfter) {
  StartServer();
  Ingest("cpu", kCpuRowsJson);
  const std::string slow = CreateToken("--name slow --scope read --queries-per-second 0.5");
  HttpClient c(server_->port());
  HttpResult limited;
  // The bucket holds one second's worth (0.5): the first query passes into
  // debt, and the next ones within about 2 s are refused. Five tries keep
  // this true on a loaded machine too.
  for (int i = 0; i < 5 && limited.status != 429; ++i) {
    HttpResult r = c.Post("/datasets/cpu/query", kAllRows, BearerHeaders(slow));
    if (r.status == 429) {
      limited = r;
    } else {
      EXPECT_EQ(r.status, 200) << r.body;
    }
  }
  ASSERT_EQ(limited.status, 429) << "no query was refused";
  EXPECT_NE(limited.body.find("\"rate_limited\""), std::string::npos) << limited.body;
  EXPECT_NE(limited.body.find(R"(the token \"slow\")"), std::string::npos) << limited.body;
  const int retry = std::atoi(limited.headers["retry-after"].c_str());
  EXPECT_GE(retry, 1) << limited.headers["retry-after"];
  EXPECT_LE(retry, 3) << limited.headers["retry-after"];
  // Other tokens are not held back by it.
  EXPECT_EQ(c.Post("/datasets/cpu/query", kAllRows, BearerHeaders(kAdminToken)).status, 200);
  EXPECT_GE(MetricValue(Metrics(), R"(timestore_rate_limited_total{kind="query"})"), 1);
  // After Retry-After the token is served again.
  std::this_thread::sleep_for(std::chrono::seconds(retry));
  EXPECT_EQ(c.Post("/datasets/cpu/query", kAllRows, BearerHeaders(slow)).status, 200);
}

}  // namespace
}  // namespace timestore::testing
