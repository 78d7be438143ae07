// Tenants and quotas through Service::Handle (docs/api.md "Tenants and
// quotas"): the tenant routes and their validation, maxDatasets and maxBytes
// (507) and the ingest rate (429) on every ingest route with nothing stored
// on refusal, tenant tokens, persistence across a restart, the environment's
// defaults and the metrics.
#include "auth/tenant.h"

#include <sys/stat.h>

#include <fstream>
#include <thread>

#include "api/body_decoding.h"
#include "api/prometheus_codec.h"
#include "api/tenant_quotas.h"
#include "auth/tenant_store.h"
#include "tests/api/token_fixture.h"

namespace timestore::api::testing {
namespace {

const Headers kAdmin = Bearer(kBootstrap);

class TenantTest : public TokenModeTest {
 protected:
  void SetUp() override {
    AdminTest::SetUp();
    Restart();
  }
  void TearDown() override {
    for (const char* v :
         {"TIMESTORE_TENANT_DEFAULT_MAX_DATASETS", "TIMESTORE_TENANT_DEFAULT_MAX_BYTES",
          "TIMESTORE_TENANT_DEFAULT_MAX_INGEST_ROWS_PER_SECOND"}) {
      unsetenv(v);
    }
    AdminTest::TearDown();
  }
  // A server in token mode; its tenants are opened from the root (as after
  // a restart) unless `tenants` is given.
  void Restart(std::shared_ptr<TenantQuotas> tenants = nullptr) {
    ServiceOptions o;
    o.tenants = std::move(tenants);
    StartTokenService(std::move(o));
  }
  Answer Ingest(const std::string& slug, int rows = 1, const Headers& h = kAdmin) {
    std::string records;
    for (int k = 0; k < rows; ++k) {
      StrAppend(&records, k ? "," : "", "{\"timestamp\":", 1'000'000 + k, ",\"v\":", k, "}");
    }
    return Call("POST", StrCat("/datasets/", slug, "/ingest"),
                StrCat("{\"records\":[", records, "]}"), h);
  }
  Answer Put(const std::string& tenant, const std::string& body) {
    return Call("PUT", "/admin/tenants/" + tenant, body, kAdmin);
  }
  uint64_t Usage(const std::string& tenant, const char* member) {
    Answer a = Call("GET", "/admin/tenants/" + tenant, "", kAdmin);
    EXPECT_EQ(a.status, 200) << a.body;
    uint64_t v = 0;
    EXPECT_FALSE(Parse(a)["usage"][member].get(v)) << a.body;
    return v;
  }
  uint64_t RowsOf(const std::string& slug) {
    auto ds = engine_->GetDataset(slug);
    if (ds == nullptr) return 0;
    uint64_t rows = ds->hot_rows();
    for (const auto& seg : ds->segments()) rows += seg->record.rows;
    return rows;
  }
  Answer PromWrite(const std::string& slug) {
    prometheus::WriteRequest w;
    prometheus::TimeSeries* ts = w.add_timeseries();
    prometheus::Label* l = ts->add_labels();
    l->set_name("__name__");
    l->set_value("up");
    prometheus::Sample* s = ts->add_samples();
    s->set_timestamp(1000);
    s->set_value(1);
    Headers h = kAdmin;
    h.emplace_back("content-encoding", "snappy");
    h.emplace_back("content-type", "application/x-protobuf");
    h.emplace_back("x-prometheus-remote-write-version", "0.1.0");
    return Call("POST", "/api/v1/write?dataset=" + slug, SnappyEncode(w.SerializeAsString()), h);
  }
};

TEST(TenantIdsTest, TenantOfSlugAndIds) {
  EXPECT_EQ(auth::TenantOfSlug("acme__cpu"), "acme");
  EXPECT_EQ(auth::TenantOfSlug("acme-eu__cpu__x"), "acme-eu");
  EXPECT_EQ(auth::TenantOfSlug("cpu"), "default");
  EXPECT_EQ(auth::TenantOfSlug("cpu_load"), "default");
  EXPECT_EQ(auth::TenantOfSlug("my_team__cpu"), "default");  // not a tenant id
  EXPECT_EQ(auth::TenantOfSlug("acme__"), "default");        // no name after it
  EXPECT_EQ(auth::TenantOfSlug("acme___x"), "acme");
  EXPECT_TRUE(auth::IsValidTenantId("a"));
  EXPECT_TRUE(auth::IsValidTenantId("0-team"));
  EXPECT_TRUE(auth::IsValidTenantId(std::string(32, 'a')));
  EXPECT_FALSE(auth::IsValidTenantId(std::string(33, 'a')));
  EXPECT_FALSE(auth::IsValidTenantId("-a"));
  EXPECT_FALSE(auth::IsValidTenantId("Acme"));
  EXPECT_FALSE(auth::IsValidTenantId("a_b"));
  EXPECT_FALSE(auth::IsValidTenantId(""));
  EXPECT_EQ(auth::ParseByteSize("50GiB"), 50ull << 30);
  EXPECT_EQ(auth::ParseByteSize("500 MB"), 500'000'000ull);
  EXPECT_EQ(auth::ParseByteSize("1024"), 1024ull);
  EXPECT_EQ(auth::ParseByteSize("1kib"), 1024ull);
  EXPECT_EQ(auth::ParseByteSize("GiB"), std::nullopt);
  EXPECT_EQ(auth::ParseByteSize("5 apples"), std::nullopt);
  EXPECT_EQ(auth::ParseByteSize("99999999999TiB"), std::nullopt);
}

TEST_F(TenantTest, TenantsAreConfiguredListedAndDeleted) {
  Answer created = Put("acme", R"({"displayName":"Acme Corp","maxDatasets":3,"maxBytes":"50GiB",)"
                               R"("maxIngestRowsPerSecond":1000})");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(Parse(created)["maxBytes"].get_uint64().value(), 50ull << 30) << created.body;
  EXPECT_EQ(Parse(created)["effective"]["maxDatasets"].get_uint64().value(), 3u);
  EXPECT_EQ(Parse(created)["usage"]["datasets"].get_uint64().value(), 0u);
  // PUT replaces the settings: members left out are null (the default).
  Answer replaced = Put("acme", R"({"maxDatasets":5})");
  ASSERT_EQ(replaced.status, 200) << replaced.body;
  EXPECT_TRUE(Parse(replaced)["maxBytes"].is_null()) << replaced.body;
  EXPECT_TRUE(Parse(replaced)["effective"]["maxBytes"].is_null()) << replaced.body;  // unlimited
  EXPECT_EQ(std::string_view(Parse(replaced)["displayName"].get_string().value()), "");

  // What GET answers can be PUT back as it is (read-only members ignored).
  Answer got = Call("GET", "/admin/tenants/acme", "", kAdmin);
  Answer round_trip = Put("acme", got.body);
  EXPECT_EQ(round_trip.status, 200) << round_trip.body;
  EXPECT_EQ(Parse(round_trip)["maxDatasets"].get_uint64().value(), 5u) << round_trip.body;
  ASSERT_EQ(Ingest("acme__cpu", 3).status, 200);
  ASSERT_EQ(Ingest("globex__cpu", 2).status, 200);
  ASSERT_EQ(Ingest("cpu", 1).status, 200);
  Answer list = Call("GET", "/admin/tenants", "", kAdmin);
  ASSERT_EQ(list.status, 200) << list.body;
  std::vector<std::string> ids;
  for (auto t : Parse(list)["tenants"].get_array()) {
    ids.emplace_back(std::string_view(t["tenant"].get_string()));
  }
  // Configured or holding datasets: acme, and globex and default by their datasets.
  EXPECT_EQ(ids, (std::vector<std::string>{"acme", "default", "globex"})) << list.body;
  Answer one = Call("GET", "/admin/tenants/acme", "", kAdmin);
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(Parse(one)["usage"]["datasets"].get_uint64().value(), 1u);
  EXPECT_EQ(Parse(one)["usage"]["rows"].get_uint64().value(), 3u);
  EXPECT_GT(Parse(one)["usage"]["bytes"].get_uint64().value(), 0u);
  EXPECT_EQ(Parse(one)["usage"]["rowsIngested"].get_uint64().value(), 3u);
  // The dataset list names each dataset's tenant and filters by it.
  Answer by_tenant = Call("GET", "/admin/datasets?tenant=globex", "", kAdmin);
  ASSERT_EQ(by_tenant.status, 200) << by_tenant.body;
  EXPECT_NE(by_tenant.body.find("\"slug\":\"globex__cpu\""), std::string::npos) << by_tenant.body;
  EXPECT_NE(by_tenant.body.find("\"tenant\":\"globex\"}"), std::string::npos) << by_tenant.body;
  EXPECT_EQ(by_tenant.body.find("acme__cpu"), std::string::npos) << by_tenant.body;
  Answer defaults = Call("GET", "/admin/datasets?tenant=default", "", kAdmin);
  EXPECT_NE(defaults.body.find("\"slug\":\"cpu\""), std::string::npos) << defaults.body;
  EXPECT_NE(defaults.body.find("\"tenant\":\"default\"}"), std::string::npos) << defaults.body;
  EXPECT_EQ(defaults.body.find("globex"), std::string::npos) << defaults.body;
  Answer bad_filter = Call("GET", "/admin/datasets?tenant=Not_One", "", kAdmin);
  EXPECT_EQ(bad_filter.status, 400) << bad_filter.body;
  EXPECT_EQ(ErrorDetail(bad_filter, "field"), "tenant");
  Answer implicit = Call("GET", "/admin/tenants/globex", "", kAdmin);
  ASSERT_EQ(implicit.status, 200) << implicit.body;
  EXPECT_FALSE(Parse(implicit)["configured"].get_bool().value());

  // A tenant with datasets is not deleted; one without is, once.
  Answer busy = Call("DELETE", "/admin/tenants/acme", "", kAdmin);
  EXPECT_EQ(busy.status, 409) << busy.body;
  EXPECT_EQ(ErrorDetail(busy, "datasets"), "1");
  ASSERT_EQ(Call("DELETE", "/admin/datasets/acme__cpu", "", kAdmin).status, 200);
  EXPECT_EQ(Call("DELETE", "/admin/tenants/acme", "", kAdmin).status, 200);
  Answer gone = Call("DELETE", "/admin/tenants/acme", "", kAdmin);
  EXPECT_EQ(gone.status, 404) << gone.body;
  EXPECT_EQ(ErrorCode(gone), "tenant_not_found");
  EXPECT_EQ(ErrorCode(Call("GET", "/admin/tenants/nobody", "", kAdmin)), "tenant_not_found");
  // Audited.
  Answer audit = Call("GET", "/admin/audit", "", kAdmin);
  EXPECT_NE(audit.body.find("tenant.put"), std::string::npos) << audit.body;
  EXPECT_NE(audit.body.find("tenant.delete"), std::string::npos) << audit.body;
}

TEST_F(TenantTest, BadTenantRequestsNameTheMember) {
  struct Case {
    std::string tenant, body, field;
  };
  for (const Case& c : std::vector<Case>{
           {"Acme", "{}", "tenant"},
           {"a_b", "{}", "tenant"},
           {std::string(33, 'a'), "{}", "tenant"},
           {"acme", R"({"maxDatasets":-1})", "maxDatasets"},
           {"acme", R"({"maxDatasets":1.5})", "maxDatasets"},
           {"acme", R"({"maxDatasets":"3"})", "maxDatasets"},
           {"acme", R"({"maxBytes":"lots"})", "maxBytes"},
           {"acme", R"({"maxBytes":-5})", "maxBytes"},
           {"acme", R"({"maxIngestRowsPerSecond":-1})", "maxIngestRowsPerSecond"},
           {"acme", R"({"maxIngestRowsPerSecond":"fast"})", "maxIngestRowsPerSecond"},
           {"acme", R"({"displayName":7})", "displayName"},
           {"acme", R"({"maxRows":7})", "maxRows"},
       }) {
    Answer a = Put(c.tenant, c.body);
    EXPECT_EQ(a.status, 400) << c.tenant << " " << c.body << ": " << a.body;
    EXPECT_EQ(ErrorCode(a), "invalid_request") << a.body;
    EXPECT_EQ(ErrorDetail(a, "field"), c.field) << c.body << ": " << a.body;
  }
  EXPECT_EQ(ErrorCode(Put("acme", "{nope")), "invalid_json");
  EXPECT_EQ(ErrorCode(Put("acme", "[1]")), "invalid_request");
  EXPECT_EQ(Call("GET", "/admin/tenants/Bad_Id", "", kAdmin).status, 400);
  EXPECT_EQ(Call("POST", "/admin/tenants/acme", "{}", kAdmin).status, 405);
  // Nothing was stored by any of them.
  EXPECT_EQ(Call("GET", "/admin/tenants/acme", "", kAdmin).status, 404);
  // Tenant routes need the admin scope.
  const std::string writer = NewToken(R"({"name":"w","scopes":["write"]})");
  EXPECT_EQ(Call("PUT", "/admin/tenants/acme", "{}", Bearer(writer)).status, 403);
}

TEST_F(TenantTest, MaxDatasetsRefusesTheNextDatasetWith507OnEveryIngestRoute) {
  ASSERT_EQ(Put("acme", R"({"maxDatasets":2})").status, 201);
  ASSERT_EQ(Ingest("acme__a").status, 200);
  ASSERT_EQ(Ingest("acme__b").status, 200);
  Answer refused = Ingest("acme__c", 5);
  ASSERT_EQ(refused.status, 507) << refused.body;
  EXPECT_EQ(ErrorCode(refused), "quota_exceeded");
  EXPECT_EQ(ErrorDetail(refused, "tenant"), "acme");
  EXPECT_EQ(ErrorDetail(refused, "quota"), "maxDatasets");
  EXPECT_EQ(ErrorDetail(refused, "limit"), "2");
  EXPECT_EQ(ErrorDetail(refused, "usage"), "2");
  EXPECT_EQ(ErrorDetail(refused, "dataset"), "acme__c");
  EXPECT_NE(refused.body.find("tenant acme is at its maxDatasets quota"), std::string::npos)
      << refused.body;
  EXPECT_EQ(engine_->GetDataset("acme__c"), nullptr);
  // Existing datasets still take rows; other tenants are not limited.
  EXPECT_EQ(Ingest("acme__a", 2).status, 200);
  EXPECT_EQ(Ingest("globex__c").status, 200);
  EXPECT_EQ(Ingest("c").status, 200);
  // InfluxDB line protocol: db "acme_" makes acme__<measurement>; the whole
  // batch is refused, including the rows for a dataset that exists.
  Answer influx = Call("POST", "/write?db=acme_", "a v=1 1000000000\nnewm v=2 1000000000", kAdmin);
  EXPECT_EQ(influx.status, 507) << influx.body;
  EXPECT_NE(influx.body.find("quota_exceeded"), std::string::npos) << influx.body;
  EXPECT_EQ(engine_->GetDataset("acme__newm"), nullptr);
  EXPECT_EQ(RowsOf("acme__a"), 3u);
  // Prometheus remote write names its dataset in ?dataset=.
  Answer prom = PromWrite("acme__prom");
  EXPECT_EQ(prom.status, 507) << prom.body;
  EXPECT_EQ(ErrorDetail(prom, "quota"), "maxDatasets");
  EXPECT_EQ(engine_->GetDataset("acme__prom"), nullptr);
  EXPECT_EQ(PromWrite("globex__prom").status, 204);
  // After a dataset is deleted, a new one fits again.
  ASSERT_EQ(Call("DELETE", "/admin/datasets/acme__b", "", kAdmin).status, 200);
  EXPECT_EQ(Ingest("acme__c").status, 200);
  Answer influx_ok = Call("POST", "/write?db=acme_", "a v=1 1000000000", kAdmin);
  EXPECT_EQ(influx_ok.status, 204) << influx_ok.body;
}

// Concurrent first writes to new datasets: an admitted write holds its
// dataset's slot until the engine answers, so exactly maxDatasets of them
// get in, however the threads interleave.
TEST_F(TenantTest, ConcurrentFirstWritesNeverExceedMaxDatasets) {
  ASSERT_EQ(Put("acme", R"({"maxDatasets":3})").status, 201);
  constexpr int kWriters = 12;
  std::vector<int> statuses(kWriters);
  std::vector<std::thread> threads;
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back(
        [this, i, &statuses] { statuses[i] = Ingest(StrCat("acme__d", i), 2).status; });
  }
  for (auto& t : threads) t.join();
  int admitted = 0, refused = 0;
  for (int s : statuses) {
    admitted += s == 200;
    refused += s == 507;
  }
  EXPECT_EQ(admitted, 3);
  EXPECT_EQ(refused, kWriters - 3);
  EXPECT_EQ(Usage("acme", "datasets"), 3u);
  EXPECT_EQ(Usage("acme", "rows"), 6u);
}

TEST_F(TenantTest, MaxBytesRefusesOnceStoredBytesReachIt) {
  ASSERT_EQ(Ingest("acme__cpu", 50).status, 200);
  ASSERT_EQ(Call("POST", "/admin/datasets/acme__cpu/flush", "", kAdmin).status, 200);
  ASSERT_EQ(Ingest("acme__cpu", 5).status, 200);  // some in memory, too
  const uint64_t bytes = Usage("acme", "bytes");
  ASSERT_GT(bytes, 0u);
  ASSERT_EQ(Put("acme", StrCat("{\"maxBytes\":", bytes, "}")).status, 201);
  const uint64_t rows = RowsOf("acme__cpu");
  Answer refused = Ingest("acme__cpu", 3);
  ASSERT_EQ(refused.status, 507) << refused.body;
  EXPECT_EQ(ErrorCode(refused), "quota_exceeded");
  EXPECT_EQ(ErrorDetail(refused, "quota"), "maxBytes");
  EXPECT_EQ(ErrorDetail(refused, "limit"), StrCat(bytes));
  EXPECT_EQ(ErrorDetail(refused, "usage"), StrCat(bytes));
  EXPECT_NE(refused.body.find(StrCat("tenant acme is at its maxBytes quota (", bytes,
                                     " bytes stored, limit ", bytes, ")")),
            std::string::npos)
      << refused.body;
  EXPECT_EQ(RowsOf("acme__cpu"), rows);
  // A new dataset of the tenant is refused too; other tenants are not.
  EXPECT_EQ(Ingest("acme__mem").status, 507);
  EXPECT_EQ(engine_->GetDataset("acme__mem"), nullptr);
  EXPECT_EQ(Ingest("mem").status, 200);
  // One byte of room: admitted (the quota is checked before the write).
  ASSERT_EQ(Put("acme", StrCat("{\"maxBytes\":", bytes + 1, "}")).status, 200);
  EXPECT_EQ(Ingest("acme__cpu", 3).status, 200);
  EXPECT_EQ(RowsOf("acme__cpu"), rows + 3);
  // A size string; and null returns to the (unlimited) default.
  ASSERT_EQ(Put("acme", R"({"maxBytes":"1KiB"})").status, 200);
  EXPECT_EQ(Ingest("acme__cpu").status, 507);
  ASSERT_EQ(Put("acme", R"({"maxBytes":null})").status, 200);
  EXPECT_EQ(Ingest("acme__cpu").status, 200);
}

TEST_F(TenantTest, IngestRateQuotaIs429WithRetryAfter) {
  ASSERT_EQ(Put("acme", R"({"maxIngestRowsPerSecond":10})").status, 201);
  // A batch larger than a second's worth goes through and leaves a debt of
  // 990 rows (99 s at 10 rows/s): the next request is refused however slow
  // the machine is.
  ASSERT_EQ(Ingest("acme__cpu", 1000).status, 200);
  Answer refused = Ingest("acme__cpu", 1);
  ASSERT_EQ(refused.status, 429) << refused.body;
  EXPECT_EQ(ErrorCode(refused), "quota_exceeded");
  EXPECT_EQ(ErrorDetail(refused, "quota"), "maxIngestRowsPerSecond");
  EXPECT_EQ(ErrorDetail(refused, "tenant"), "acme");
  EXPECT_EQ(ErrorDetail(refused, "limit"), "10");
  const int retry = std::stoi(refused.Header("Retry-After"));
  EXPECT_GE(retry, 1);
  EXPECT_LE(retry, 100);
  EXPECT_EQ(RowsOf("acme__cpu"), 1000u);
  // The line-protocol route is limited by the same bucket.
  Answer influx = Call("POST", "/write?db=acme_", "cpu v=1 2000000000", kAdmin);
  EXPECT_EQ(influx.status, 429) << influx.body;
  EXPECT_NE(influx.Header("Retry-After"), "<absent>");
  Answer influx2 = Call("POST", "/api/v2/write?bucket=acme_", "cpu v=1 2000000000", kAdmin);
  EXPECT_EQ(influx2.status, 429) << influx2.body;
  EXPECT_NE(influx2.body.find("\"code\":\"too many requests\""), std::string::npos) << influx2.body;
  EXPECT_NE(influx2.body.find("\"timestoreCode\":\"quota_exceeded\""), std::string::npos)
      << influx2.body;
  // Other tenants have their own.
  EXPECT_EQ(Ingest("globex__cpu", 1000).status, 200);
  EXPECT_EQ(Ingest("cpu", 1000).status, 200);
  // 0 lifts the quota at once.
  ASSERT_EQ(Put("acme", R"({"maxIngestRowsPerSecond":0})").status, 200);
  EXPECT_EQ(Ingest("acme__cpu", 1).status, 200);
}

TEST_F(TenantTest, TenantTokensTouchOnlyTheirTenant) {
  ASSERT_EQ(Ingest("cpu", 2).status, 200);
  ASSERT_EQ(Ingest("globex__cpu", 2).status, 200);
  const std::string t = NewToken(R"({"name":"acme-app","scopes":["read","write","admin"],)"
                                 R"("tenant":"acme"})");
  EXPECT_EQ(Ingest("acme__cpu", 3, Bearer(t)).status, 200);
  for (std::string slug : {"cpu", "globex__cpu", "globex__new"}) {
    Answer a = Ingest(slug, 1, Bearer(t));
    EXPECT_EQ(a.status, 403) << slug << ": " << a.body;
    EXPECT_EQ(ErrorDetail(a, "tenant"), "acme") << a.body;
    EXPECT_NE(a.body.find("belongs to tenant \\\"acme\\\""), std::string::npos) << a.body;
  }
  EXPECT_EQ(engine_->GetDataset("globex__new"), nullptr);
  EXPECT_EQ(Call("POST", "/datasets/cpu/query", R"({"timeRange":{"start":0,"end":9999999999}})",
                 Bearer(t))
                .status,
            403);
  // Listings show only its tenant's datasets.
  Answer list = Call("GET", "/admin/datasets", "", Bearer(t));
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_NE(list.body.find("\"acme__cpu\""), std::string::npos) << list.body;
  EXPECT_EQ(list.body.find("\"cpu\""), std::string::npos) << list.body;
  EXPECT_EQ(list.body.find("globex"), std::string::npos) << list.body;
  Answer status = Call("GET", "/status", "", Bearer(t));
  ASSERT_EQ(status.status, 200) << status.body;
  EXPECT_EQ(status.body.find("globex"), std::string::npos) << status.body;
  EXPECT_NE(status.body.find("acme__cpu"), std::string::npos) << status.body;
  // Others' datasets do not exist for it; whole-server routes are refused.
  EXPECT_EQ(Call("GET", "/admin/datasets/globex__cpu", "", Bearer(t)).status, 404);
  EXPECT_EQ(Call("GET", "/admin/datasets/acme__cpu", "", Bearer(t)).status, 200);
  for (std::string path : {"/admin/tenants", "/admin/tenants/acme", "/admin/tokens"}) {
    Answer a = Call("GET", path, "", Bearer(t));
    EXPECT_EQ(a.status, 403) << path << ": " << a.body;
  }
  // SQL: its tables read, others 42501, and the catalogs list only its own.
  Answer own = Call("POST", "/sql", R"({"query":"SELECT count(*) FROM acme__cpu"})", Bearer(t));
  EXPECT_EQ(own.status, 200) << own.body;
  Answer other = Call("POST", "/sql", R"({"query":"SELECT count(*) FROM cpu"})", Bearer(t));
  EXPECT_EQ(other.status, 403) << other.body;
  EXPECT_EQ(ErrorDetail(other, "sqlstate"), "42501");
  Answer tables = Call(
      "POST", "/sql",
      R"({"query":"SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"})",
      Bearer(t));
  ASSERT_EQ(tables.status, 200) << tables.body;
  EXPECT_NE(tables.body.find("acme__cpu"), std::string::npos) << tables.body;
  EXPECT_EQ(tables.body.find("globex"), std::string::npos) << tables.body;
  // InfluxDB writes land in the tenant only with its prefix.
  EXPECT_EQ(Call("POST", "/write?db=acme_", "mem v=1 1000000000", Bearer(t)).status, 204);
  EXPECT_EQ(Call("POST", "/write?db=globex_", "mem v=1 1000000000", Bearer(t)).status, 403);
  EXPECT_EQ(engine_->GetDataset("globex__mem"), nullptr);

  // With dataset grants too, both must allow: the intersection.
  const std::string r =
      NewToken(R"({"name":"acme-reader","scopes":["read","write"],)"
               R"("tenant":"acme","datasets":[{"pattern":"*cpu","access":"read"}]})");
  EXPECT_EQ(Call("POST", "/datasets/acme__cpu/query",
                 R"({"timeRange":{"start":0,"end":9999999999}})", Bearer(r))
                .status,
            200);
  EXPECT_EQ(Call("POST", "/datasets/globex__cpu/query",
                 R"({"timeRange":{"start":0,"end":9999999999}})", Bearer(r))
                .status,
            403);
  EXPECT_EQ(Ingest("acme__cpu", 1, Bearer(r)).status, 403);  // the grant reads only
  // The token list shows the tenant; a bad one is refused naming the member.
  Answer tokens = Call("GET", "/admin/tokens", "", kAdmin);
  EXPECT_NE(tokens.body.find("\"tenant\":\"acme\""), std::string::npos) << tokens.body;
  Answer bad =
      Call("POST", "/admin/tokens", R"({"name":"x","scopes":["read"],"tenant":"Ac_me"})", kAdmin);
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(ErrorDetail(bad, "field"), "tenant");
  // The tenant survives the token store's reload.
  auto reloaded = auth::TokenStore::Open(root_ + "/auth");
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  auto found = (*reloaded)->Find(t);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->tenant, "acme");
}

TEST_F(TenantTest, QuotasSurviveARestart) {
  ASSERT_EQ(Put("acme", R"({"displayName":"Acme","maxDatasets":1,"maxBytes":"10GiB"})").status,
            201);
  ASSERT_EQ(Ingest("acme__a").status, 200);
  Restart();  // tenants opened again from <root>/tenants.json
  Answer a = Call("GET", "/admin/tenants/acme", "", kAdmin);
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(Parse(a)["maxDatasets"].get_uint64().value(), 1u);
  EXPECT_EQ(Parse(a)["maxBytes"].get_uint64().value(), 10ull << 30);
  EXPECT_EQ(std::string_view(Parse(a)["displayName"].get_string().value()), "Acme");
  EXPECT_EQ(Ingest("acme__b").status, 507);
  struct stat st;
  ASSERT_EQ(::stat((root_ + "/tenants.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // A file that does not parse stops the server from starting, naming it.
  Restart();
  StopService();
  std::ofstream(root_ + "/tenants.json") << "{\"tenants\":[{\"tenant\":\"BAD\"}]}";
  auto broken = TenantQuotas::Open(root_);
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(std::string(broken.status().message()).find("tenants.json"), std::string::npos)
      << broken.status();
  std::ofstream(root_ + "/tenants.json") << "not json";
  EXPECT_FALSE(TenantQuotas::Open(root_).ok());
  std::filesystem::remove(root_ + "/tenants.json");
  Restart();
}

TEST_F(TenantTest, ServerDefaultsApplyToTenantsWithoutSettings) {
  setenv("TIMESTORE_TENANT_DEFAULT_MAX_DATASETS", "1", 1);
  setenv("TIMESTORE_TENANT_DEFAULT_MAX_BYTES", "1GiB", 1);
  Restart();
  ASSERT_EQ(Ingest("globex__a").status, 200);
  Answer refused = Ingest("globex__b");
  EXPECT_EQ(refused.status, 507) << refused.body;
  EXPECT_EQ(ErrorDetail(refused, "limit"), "1");
  Answer list = Call("GET", "/admin/tenants", "", kAdmin);
  EXPECT_EQ(Parse(list)["defaults"]["maxDatasets"].get_uint64().value(), 1u) << list.body;
  EXPECT_EQ(Parse(list)["defaults"]["maxBytes"].get_uint64().value(), 1ull << 30) << list.body;
  // A tenant's own 0 is unlimited, whatever the default.
  ASSERT_EQ(Put("globex", R"({"maxDatasets":0})").status, 201);
  EXPECT_EQ(Ingest("globex__b").status, 200);
  // A malformed default is named.
  setenv("TIMESTORE_TENANT_DEFAULT_MAX_BYTES", "huge", 1);
  auto bad = TenantDefaultsFromEnvironment();
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("TIMESTORE_TENANT_DEFAULT_MAX_BYTES"),
            std::string::npos);
  setenv("TIMESTORE_TENANT_DEFAULT_MAX_INGEST_ROWS_PER_SECOND", "-3", 1);
  unsetenv("TIMESTORE_TENANT_DEFAULT_MAX_BYTES");
  EXPECT_FALSE(TenantDefaultsFromEnvironment().ok());
}

TEST_F(TenantTest, MetricsShowUsageIngestAndRejections) {
  ASSERT_EQ(Put("acme", R"({"maxDatasets":1})").status, 201);
  ASSERT_EQ(Ingest("acme__a", 3).status, 200);
  ASSERT_EQ(Ingest("acme__b").status, 507);
  ASSERT_EQ(Ingest("cpu", 2).status, 200);
  Answer m = Call("GET", "/metrics");
  ASSERT_EQ(m.status, 200);
  for (std::string line :
       {"timestore_tenant_datasets{tenant=\"acme\"} 1\n",
        "timestore_tenant_datasets{tenant=\"default\"} 1\n",
        "timestore_tenant_rows_ingested_total{tenant=\"acme\"} 3\n",
        "timestore_tenant_rows_ingested_total{tenant=\"default\"} 2\n",
        "timestore_tenant_quota_rejections_total{tenant=\"acme\",quota=\"maxDatasets\"} 1\n",
        "timestore_tenant_quota_rejections_total{tenant=\"acme\",quota=\"maxBytes\"} 0\n",
        "# TYPE timestore_tenant_bytes gauge\n"}) {
    EXPECT_NE(m.body.find(line), std::string::npos) << line << "\n" << m.body;
  }
  EXPECT_EQ(m.body.find("timestore_tenant_bytes{tenant=\"acme\"} 0\n"), std::string::npos);
  // The same figures in the tenant's usage.
  Answer a = Call("GET", "/admin/tenants/acme", "", kAdmin);
  EXPECT_EQ(Parse(a)["usage"]["quotaRejections"]["maxDatasets"].get_uint64().value(), 1u) << a.body;
}

TEST_F(TenantTest, RejectionsOfUnknownTenantsShareOneMetricsLabel) {
  // Every tenant may hold one dataset by default; a writer naming new
  // tenants must not add a label per name.
  setenv("TIMESTORE_TENANT_DEFAULT_MAX_DATASETS", "1", 1);
  Restart();
  ASSERT_EQ(Put("acme", R"({"maxDatasets":1})").status, 201);
  ASSERT_EQ(Ingest("acme__a").status, 200);
  ASSERT_EQ(Ingest("acme__b").status, 507);  // configured: its own label
  for (int i = 0; i < 5; ++i) {
    // Two new datasets of an unseen tenant in one InfluxDB write: refused.
    Answer a =
        Call("POST", StrCat("/write?db=t", i, "_"), "m1 v=1 1000000000\nm2 v=1 1000000000", kAdmin);
    ASSERT_EQ(a.status, 507) << a.body;
  }
  Answer m = Call("GET", "/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(
      m.body.find(
          "timestore_tenant_quota_rejections_total{tenant=\"acme\",quota=\"maxDatasets\"} 1\n"),
      std::string::npos)
      << m.body;
  EXPECT_NE(
      m.body.find(
          "timestore_tenant_quota_rejections_total{tenant=\"_other\",quota=\"maxDatasets\"} 5\n"),
      std::string::npos)
      << m.body;
  EXPECT_EQ(m.body.find("tenant=\"t0\""), std::string::npos) << m.body;
  EXPECT_EQ(m.body.find("tenant=\"t4\""), std::string::npos) << m.body;
}

TEST_F(TenantTest, QuotasApplyAsSoonAsSetAndStopWhenRemoved) {
  // No defaults and no settings: ingest skips the quota checks; a quota set
  // later applies at once, and removing the tenant lifts it.
  ASSERT_EQ(Ingest("acme__a").status, 200);
  ASSERT_EQ(Put("acme", R"({"maxDatasets":1})").status, 201);
  EXPECT_EQ(Ingest("acme__b").status, 507);
  ASSERT_EQ(Put("acme", R"({"maxDatasets":0})").status, 200);
  EXPECT_EQ(Ingest("acme__b").status, 200);
  ASSERT_EQ(Put("acme", R"({"maxDatasets":2})").status, 200);
  EXPECT_EQ(Ingest("acme__c").status, 507);
  ASSERT_EQ(Call("DELETE", "/admin/tenants/acme", "", kAdmin).status, 409);  // has datasets
  ASSERT_EQ(Put("other", R"({"maxBytes":"1GiB"})").status, 201);
  ASSERT_EQ(Call("DELETE", "/admin/tenants/other", "", kAdmin).status, 200);
  EXPECT_EQ(Ingest("acme__c").status, 507);  // acme's own quota still holds
  ASSERT_EQ(Put("acme", "{}").status, 200);
  EXPECT_EQ(Ingest("acme__c").status, 200);
}

}  // namespace
}  // namespace timestore::api::testing
