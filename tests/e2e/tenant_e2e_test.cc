// Tenants and quotas against the real binary: quotas set with curl on the
// admin route, a tenant token made by `timestore token create --tenant`,
// its 403 outside the tenant and filtered listings, 507 and 429
// quota_exceeded refusals that store nothing, the metrics, persistence
// across a restart and a server that refuses to start on a bad tenants.json.
#include <simdjson.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/strings.h"
#include "tests/e2e/test_server.h"

namespace timestore::testing {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr char kAdminToken[] = "e2e-admin-token-0123456789abcdef";
constexpr const char* kAllRows =
    R"({"timeRange":{"start":0,"end":"2200-01-01T00:00:00Z"},"timestampFormat":"epoch_ns"})";

class TenantE2ETest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = MakeTempDir(); }
  void StartServer(std::map<std::string, std::string> env = {}) {
    env.emplace("TIMESTORE_AUTH", "token");
    env.emplace("TIMESTORE_ADMIN_TOKEN", kAdminToken);
    env.emplace("TIMESTORE_TENANT_DEFAULT_MAX_DATASETS", "10");
    server_ = std::make_unique<TestServer>(dir_, std::move(env));
    ASSERT_TRUE(server_->Start()) << ReadFileToString(server_->log_path());
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string Url() const { return StrCat("http://127.0.0.1:", server_->port()); }
  // curl with the admin token: "<status> <body>".
  std::pair<int, std::string> Curl(const std::string& method, const std::string& path,
                                   const std::string& body = "") {
    auto [rc, out] = Shell(StrCat("curl -s -w '\\n%{http_code}' -X ", method, " -H ",
                                  ShellQuote(StrCat("Authorization: Bearer ", kAdminToken)),
                                  body.empty() ? "" : " -H 'Content-Type: application/json' -d ",
                                  body.empty() ? "" : ShellQuote(body), " ", Url(), path));
    const size_t nl = out.rfind('\n');
    if (rc != 0 || nl == std::string::npos) return {0, out};
    return {std::atoi(out.c_str() + nl + 1), out.substr(0, nl)};
  }
  std::string Server() const { return StrCat(" --server ", Url(), " --token ", kAdminToken); }
  std::pair<int, std::string> Tenant(const std::string& args) {
    return Shell(StrCat(TimestoreBinary(), " tenant ", args));
  }
  std::string dir_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(TenantE2ETest, TenantTokenAndQuotasEndToEnd) {
  TIMESTORE_SKIP_WITHOUT(Shell("command -v curl >/dev/null").first == 0, "curl");
  StartServer();
  auto [put_status, put] = Curl("PUT", "/admin/tenants/acme",
                                R"({"displayName":"Acme","maxDatasets":1,"maxBytes":"1GiB"})");
  ASSERT_EQ(put_status, 201) << put;
  EXPECT_NE(put.find("\"maxBytes\":1073741824"), std::string::npos) << put;
  auto [bad_status, bad] = Curl("PUT", "/admin/tenants/acme", R"({"maxDatasets":"many"})");
  EXPECT_EQ(bad_status, 400) << bad;
  EXPECT_NE(bad.find("\"field\":\"maxDatasets\""), std::string::npos) << bad;

  // A tenant token from the CLI; a bad tenant id is refused naming the member.
  auto [rc, created] =
      Shell(StrCat(TimestoreBinary(), " token create --server ", Url(), " --token ", kAdminToken,
                   " --name acme-app --scope read --scope write --tenant acme"));
  ASSERT_EQ(rc, 0) << created;
  const std::string token = JsonMember(created, "token");
  ASSERT_EQ(token.substr(0, 4), "tsk_") << created;
  EXPECT_NE(created.find("\"tenant\":\"acme\""), std::string::npos) << created;
  auto [rc_bad, refused_cli] =
      Shell(StrCat(TimestoreBinary(), " token create --server ", Url(), " --token ", kAdminToken,
                   " --name x --scope read --tenant Not_A_Tenant"));
  EXPECT_EQ(rc_bad, 1) << refused_cli;
  EXPECT_NE(refused_cli.find("tenant"), std::string::npos) << refused_cli;

  HttpClient c(server_->port());
  auto r = c.Post("/datasets/acme__cpu/ingest", kCpuRowsJson, BearerJsonHeaders(token));
  ASSERT_EQ(r.status, 200) << r.body;
  r = c.Post("/datasets/cpu/ingest", kCpuRowsJson, BearerJsonHeaders(kAdminToken));
  ASSERT_EQ(r.status, 200) << r.body;
  // Outside its tenant: 403 naming the tenant.
  r = c.Post("/datasets/cpu/query", kAllRows, BearerJsonHeaders(token));
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_NE(r.body.find("\"tenant\":\"acme\""), std::string::npos) << r.body;
  r = c.Post("/datasets/globex__cpu/ingest", kCpuRowsJson, BearerJsonHeaders(token));
  EXPECT_EQ(r.status, 403) << r.body;
  r = c.Request("GET", "/admin/datasets", "", BearerJsonHeaders(token));
  EXPECT_EQ(r.status, 403) << r.body;  // no admin scope: the listing is an admin route
  r = c.Request("GET", "/status", "", BearerJsonHeaders(kAdminToken));
  EXPECT_NE(r.body.find("\"cpu\""), std::string::npos) << r.body;

  // maxDatasets 1: a second dataset is 507 and is not created; the same
  // through the InfluxDB v2 route.
  r = c.Post("/datasets/acme__mem/ingest", kCpuRowsJson, BearerJsonHeaders(token));
  EXPECT_EQ(r.status, 507) << r.body;
  EXPECT_NE(r.body.find("\"code\":\"quota_exceeded\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"quota\":\"maxDatasets\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("tenant acme is at its maxDatasets quota (1 datasets, limit 1)"),
            std::string::npos)
      << r.body;
  Headers lp = BearerJsonHeaders(token);
  lp.back().second = "text/plain";
  r = c.Post("/api/v2/write?bucket=acme_&precision=s", "mem v=1 1700000000\n", lp);
  EXPECT_EQ(r.status, 507) << r.body;
  EXPECT_NE(r.body.find("quota_exceeded"), std::string::npos) << r.body;
  r = c.Request("GET", "/admin/datasets", "", BearerJsonHeaders(kAdminToken));
  EXPECT_EQ(r.body.find("acme__mem"), std::string::npos) << r.body;

  // The rate quota, set with the CLI (the other settings are kept): a
  // 1,000-row debt at 1 row/s refuses the next batch.
  auto [rc_set, set] = Tenant(StrCat("set acme --max-ingest-rows-per-second 1", Server()));
  ASSERT_EQ(rc_set, 0) << set;
  EXPECT_NE(set.find("\"maxDatasets\":1,"), std::string::npos) << set;
  EXPECT_NE(set.find("\"maxIngestRowsPerSecond\":1,"), std::string::npos) << set;
  auto [rc_bad_set, bad_set] = Tenant(StrCat("set acme --max-bytes lots", Server()));
  EXPECT_EQ(rc_bad_set, 1) << bad_set;
  EXPECT_NE(bad_set.find("maxBytes"), std::string::npos) << bad_set;
  // Offline is refused while the server holds the root.
  auto [rc_busy, busy] = Tenant(StrCat("list --storage-root ", server_->storage_root()));
  EXPECT_EQ(rc_busy, 1) << busy;
  std::string big = "{\"records\":[";
  for (int i = 0; i < 1000; ++i) StrAppend(&big, i ? "," : "", "{\"timestamp\":", i, ",\"v\":1}");
  big += "]}";
  r = c.Post("/datasets/acme__cpu/ingest", big, BearerJsonHeaders(token));
  ASSERT_EQ(r.status, 200) << r.body;
  r = c.Post("/datasets/acme__cpu/ingest", kCpuRowsJson, BearerJsonHeaders(token));
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_FALSE(r.headers["retry-after"].empty());
  EXPECT_NE(r.body.find("maxIngestRowsPerSecond"), std::string::npos) << r.body;

  // Usage in the admin API and /metrics.
  auto [get_status, got] = Curl("GET", "/admin/tenants/acme");
  ASSERT_EQ(get_status, 200) << got;
  EXPECT_NE(got.find("\"datasets\":1,\"rows\":1004"), std::string::npos) << got;
  const std::string metrics = c.Get("/metrics").body;
  for (std::string line : {"timestore_tenant_datasets{tenant=\"acme\"} 1\n",
                           "timestore_tenant_rows_ingested_total{tenant=\"acme\"} 1004\n",
                           "timestore_tenant_quota_rejections_total{tenant=\"acme\",quota="
                           "\"maxDatasets\"} 2\n",
                           "timestore_tenant_quota_rejections_total{tenant=\"acme\",quota="
                           "\"maxIngestRowsPerSecond\"} 1\n"}) {
    EXPECT_NE(metrics.find(line), std::string::npos) << line;
  }

  auto [rc_show, shown] = Tenant(StrCat("show acme", Server()));
  ASSERT_EQ(rc_show, 0) << shown;
  EXPECT_NE(shown.find("\"usage\":{\"datasets\":1,"), std::string::npos) << shown;
  auto [rc_list, listed] = Tenant(StrCat("list", Server()));
  EXPECT_NE(listed.find("\"tenant\":\"default\""), std::string::npos) << listed;

  // A restart keeps the quotas and the tenant token; offline, the CLI edits
  // tenants.json of the stopped root.
  EXPECT_EQ(WEXITSTATUS(server_->Stop(SIGTERM)), 0);
  const std::string offline = StrCat(" --storage-root ", server_->storage_root());
  auto [rc_off, off] = Tenant("set globex --max-datasets 3 --display-name Globex" + offline);
  ASSERT_EQ(rc_off, 0) << off;
  auto [rc_del, del] = Tenant("delete acme" + offline);
  EXPECT_EQ(rc_del, 1) << del;  // acme__cpu is still there
  EXPECT_NE(del.find("still has 1 datasets"), std::string::npos) << del;
  struct stat st {};
  ASSERT_EQ(::stat((server_->storage_root() + "/tenants.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_TRUE(server_->Start()) << ReadFileToString(server_->log_path());
  HttpClient c2(server_->port());
  r = c2.Post("/datasets/acme__mem/ingest", kCpuRowsJson, BearerJsonHeaders(token));
  EXPECT_EQ(r.status, 507) << r.body;
  r = c2.Post("/datasets/cpu/query", kAllRows, BearerJsonHeaders(token));
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(Curl("DELETE", "/admin/tenants/acme").first, 409);
  auto [globex_status, globex] = Curl("GET", "/admin/tenants/globex");
  EXPECT_EQ(globex_status, 200) << globex;
  EXPECT_NE(globex.find("\"displayName\":\"Globex\",\"maxDatasets\":3,"), std::string::npos)
      << globex;

  // A tenants.json that does not parse: the server does not start.
  EXPECT_EQ(WEXITSTATUS(server_->Stop(SIGTERM)), 0);
  std::ofstream(server_->storage_root() + "/tenants.json") << "{\"tenants\":[{}]}";
  EXPECT_FALSE(server_->Start());
  EXPECT_NE(ReadFileToString(server_->log_path()).find("tenants.json"), std::string::npos)
      << ReadFileToString(server_->log_path());
}

// psql with a tenant token as its password: the tenant's tables answer,
// another tenant's are 42501, and \dt lists only the tenant's.
TEST_F(TenantE2ETest, TenantTokenOverPgwire) {
  TIMESTORE_SKIP_WITHOUT(Shell("command -v psql >/dev/null").first == 0, "psql");
  StartServer({{"TIMESTORE_PG_PORT", std::to_string(PickFreePort())}});
  HttpClient c(server_->port());
  for (std::string slug : {"acme__cpu", "cpu", "globex__cpu"}) {
    auto r =
        c.Post(StrCat("/datasets/", slug, "/ingest"), kCpuRowsJson, BearerJsonHeaders(kAdminToken));
    ASSERT_EQ(r.status, 200) << r.body;
  }
  auto [rc, created] = Tenant(StrCat("list", Server()));
  ASSERT_EQ(rc, 0) << created;
  auto [rc_token, token_out] = Shell(StrCat(TimestoreBinary(), " token create", Server(),
                                            " --name acme-bi --scope read --tenant acme"));
  ASSERT_EQ(rc_token, 0) << token_out;
  const std::string token = JsonMember(token_out, "token");
  auto psql = [&](const std::string& sql) {
    return Shell(StrCat("PGPASSWORD=", ShellQuote(token),
                        " PGCONNECT_TIMEOUT=60 psql -X -At -v VERBOSITY=verbose -h 127.0.0.1 -p ",
                        server_->pg_port(), " -U anyone -c ", ShellQuote(sql)));
  };
  auto [rc_own, own] = psql("SELECT count(*) FROM acme__cpu");
  EXPECT_EQ(rc_own, 0) << own;
  EXPECT_EQ(own, "4\n");
  auto [rc_other, other] = psql("SELECT count(*) FROM cpu");
  EXPECT_EQ(rc_other, 1) << other;
  EXPECT_NE(other.find("42501"), std::string::npos) << other;
  auto [rc_dt, dt] = psql("\\dt");
  EXPECT_EQ(rc_dt, 0) << dt;
  EXPECT_NE(dt.find("acme__cpu"), std::string::npos) << dt;
  EXPECT_EQ(dt.find("globex"), std::string::npos) << dt;
  EXPECT_EQ(dt.find("|cpu|"), std::string::npos) << dt;
}

}  // namespace
}  // namespace timestore::testing
