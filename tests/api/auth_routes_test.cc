// Authentication and authorisation through Service::Handle: token mode's
// 401s and 403s, the token admin routes, dataset grants, per-dataset iam
// scopes, proxy mode, rate limits (429), and what /metrics and the audit log
// record of refusals.
#include <thread>

#include "tests/api/token_fixture.h"
#include "tiering/http_util.h"

namespace timestore::api::testing {
namespace {

class AuthRoutesTest : public TokenModeTest {
 protected:
  void Restart(auth::Mode mode, const std::string& proxies = "") {
    StartTokenService({}, mode, proxies);
  }
  Answer Ingest(const std::string& slug, const Headers& h, int rows = 1) {
    std::string records;
    for (int k = 0; k < rows; ++k) {
      StrAppend(&records, k ? "," : "", "{\"timestamp\":", 1'000'000 + k, ",\"v\":", k, "}");
    }
    return Call("POST", StrCat("/datasets/", slug, "/ingest"),
                StrCat("{\"records\":[", records, "]}"), h);
  }
  Answer Query(const std::string& slug, const Headers& h) {
    return Call("POST", StrCat("/datasets/", slug, "/query"),
                R"({"timeRange":{"start":0,"end":999999999999}})", h);
  }
};

TEST_F(AuthRoutesTest, NoCredentialsIs401AndOpenRoutesStayOpen) {
  for (auto [method, path] :
       std::vector<std::pair<std::string, std::string>>{{"POST", "/datasets/cpu/ingest"},
                                                        {"POST", "/datasets/cpu/query"},
                                                        {"GET", "/status"},
                                                        {"GET", "/admin/datasets"},
                                                        {"GET", "/admin/tokens"},
                                                        {"POST", "/sql"},
                                                        {"POST", "/api/v1/write"},
                                                        {"POST", "/write?db=x"}}) {
    Answer a = Call(method, path, "{}");
    EXPECT_EQ(a.status, 401) << method << " " << path << ": " << a.body;
    EXPECT_EQ(a.Header("WWW-Authenticate"), "Bearer realm=\"timestore\"") << path;
  }
  EXPECT_EQ(ErrorCode(Call("GET", "/status")), "unauthorized");
  for (std::string path : {"/health", "/ready", "/metrics", "/ping"}) {
    Answer a = Call("GET", path);
    EXPECT_LT(a.status, 300) << path << ": " << a.body;
  }
  // x-iam-scopes means nothing in token mode.
  EXPECT_EQ(Call("GET", "/status", "", {{"x-iam-scopes", "admin"}}).status, 401);
}

TEST_F(AuthRoutesTest, BadAndMalformedCredentialsAre401) {
  EXPECT_EQ(Call("GET", "/status", "", Bearer("tsk_0123")).status, 401);
  Answer a = Call("GET", "/status", "", {{"authorization", "Digest x"}});
  EXPECT_EQ(a.status, 401);
  EXPECT_NE(a.body.find("Bearer"), std::string::npos) << a.body;
  EXPECT_EQ(Call("GET", "/status", "", Bearer(kBootstrap)).status, 200);
}

TEST_F(AuthRoutesTest, TokensAreCreatedListedWithoutSecretsAndRevoked) {
  Answer created =
      Call("POST", "/admin/tokens", R"({"name":"telegraf","scopes":["write"],"expiresIn":"30d"})",
           Bearer(kBootstrap));
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.Header("Cache-Control"), "no-store");
  const std::string token(std::string_view(Parse(created)["token"].get_string().value()));
  EXPECT_EQ(token.rfind("tsk_", 0), 0u);

  Answer list = Call("GET", "/admin/tokens", "", Bearer(kBootstrap));
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_NE(list.body.find("\"telegraf\""), std::string::npos);
  EXPECT_EQ(list.body.find(token), std::string::npos);
  EXPECT_EQ(list.body.find("hash"), std::string::npos);
  // The audit log has the creation, never the secret.
  Answer audit = Call("GET", "/admin/audit", "", Bearer(kBootstrap));
  EXPECT_NE(audit.body.find("token.create"), std::string::npos) << audit.body;
  EXPECT_EQ(audit.body.find(token), std::string::npos);

  // A write token writes and may not read: 403 naming the scope.
  EXPECT_EQ(Ingest("cpu", Bearer(token)).status, 200);
  Answer q = Query("cpu", Bearer(token));
  EXPECT_EQ(q.status, 403) << q.body;
  EXPECT_EQ(ErrorDetail(q, "requiredScope"), "read");
  EXPECT_NE(q.body.find("telegraf"), std::string::npos) << q.body;
  // Nor administer.
  EXPECT_EQ(Call("GET", "/admin/tokens", "", Bearer(token)).status, 403);

  EXPECT_EQ(
      Call("POST", "/admin/tokens", R"({"name":"telegraf","scopes":["read"]})", Bearer(kBootstrap))
          .status,
      409);
  EXPECT_EQ(Call("POST", "/admin/tokens", R"({"name":"x"})", Bearer(kBootstrap)).status, 400);

  Answer revoked = Call("DELETE", "/admin/tokens/telegraf", "", Bearer(kBootstrap));
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  EXPECT_EQ(Ingest("cpu", Bearer(token)).status, 401);
  EXPECT_EQ(Call("DELETE", "/admin/tokens/telegraf", "", Bearer(kBootstrap)).status, 404);
}

TEST_F(AuthRoutesTest, AdminTokensReadWriteAndAdminister) {
  const std::string admin = NewToken(R"({"name":"ops","scopes":["admin"]})");
  EXPECT_EQ(Ingest("cpu", Bearer(admin)).status, 200);
  EXPECT_EQ(Query("cpu", Bearer(admin)).status, 200);
  EXPECT_EQ(Call("GET", "/admin/tokens", "", Bearer(admin)).status, 200);
  // Influx and Prometheus clients' shapes of the same token.
  EXPECT_EQ(Call("GET", "/status", "", {{"authorization", "Token " + admin}}).status, 200);
  EXPECT_EQ(Call("GET", "/status", "",
                 {{"authorization", "Basic " + tiering::Base64Encode("prometheus:" + admin)}})
                .status,
            200);
  EXPECT_EQ(Call("POST", "/write?db=tele&p=" + admin, "m v=1 1000000000").status, 204);
}

TEST_F(AuthRoutesTest, DatasetGrantsRestrictTokensAndListings) {
  EXPECT_EQ(Ingest("cpu-a", Bearer(kBootstrap)).status, 200);
  EXPECT_EQ(Ingest("mem", Bearer(kBootstrap)).status, 200);
  const std::string t =
      NewToken(R"({"name":"team","scopes":["read","write","admin"],)"
               R"("datasets":[{"pattern":"cpu-*","access":["read","write","admin"]}]})");
  EXPECT_EQ(Ingest("cpu-b", Bearer(t)).status, 200);  // a new dataset its pattern covers
  EXPECT_EQ(Query("cpu-a", Bearer(t)).status, 200);
  Answer denied = Ingest("mem", Bearer(t));
  EXPECT_EQ(denied.status, 403) << denied.body;
  EXPECT_EQ(ErrorDetail(denied, "dataset"), "mem");
  EXPECT_EQ(Query("mem", Bearer(t)).status, 403);
  // Outside its grants a dataset does not exist for it: the same 404 as a
  // slug nobody uses, so it cannot probe which slugs are taken.
  EXPECT_EQ(Call("GET", "/admin/datasets/mem", "", Bearer(t)).status, 404);
  EXPECT_EQ(Call("GET", "/admin/datasets/nobody", "", Bearer(t)).status, 404);
  EXPECT_EQ(Call("GET", "/admin/datasets/cpu-a", "", Bearer(t)).status, 200);
  // Listings show only what it may see.
  Answer list = Call("GET", "/admin/datasets", "", Bearer(t));
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_NE(list.body.find("\"cpu-a\""), std::string::npos);
  EXPECT_EQ(list.body.find("\"mem\""), std::string::npos) << list.body;
  Answer status = Call("GET", "/status", "", Bearer(t));
  EXPECT_EQ(status.body.find("\"mem\""), std::string::npos) << status.body;
  EXPECT_NE(status.body.find("\"cpu-a\""), std::string::npos) << status.body;
  // Routes about the whole server are not for restricted tokens.
  EXPECT_EQ(Call("GET", "/admin/tokens", "", Bearer(t)).status, 403);
  EXPECT_EQ(Call("GET", "/admin/storage-targets", "", Bearer(t)).status, 403);
  // SQL: the table decides.
  EXPECT_EQ(Call("POST", "/sql", R"({"query":"SELECT count(*) FROM \"cpu-a\""})", Bearer(t)).status,
            200);
  Answer sql = Call("POST", "/sql", R"({"query":"SELECT count(*) FROM mem"})", Bearer(t));
  EXPECT_EQ(sql.status, 403) << sql.body;
  EXPECT_EQ(ErrorDetail(sql, "sqlstate"), "42501");
}

// Found by review: the SQL catalogs listed every dataset to any token, and an
// InfluxDB write outside a grant showed the dataset's schema in its
// type-conflict error.
TEST_F(AuthRoutesTest, CatalogsAndInfluxErrorsShowNothingOutsideTheGrants) {
  ASSERT_EQ(Call("POST", "/write?db=secret", "m x=1.5 1000000000", Bearer(kBootstrap)).status, 204);
  EXPECT_EQ(Ingest("cpu-a", Bearer(kBootstrap)).status, 200);
  const std::string t = NewToken(R"({"name":"team","scopes":["read","write"],)"
                                 R"("datasets":[{"pattern":"cpu-*","access":["read","write"]}]})");
  Answer tables = Call(
      "POST", "/sql",
      R"({"query":"SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"})",
      Bearer(t));
  ASSERT_EQ(tables.status, 200) << tables.body;
  EXPECT_NE(tables.body.find("cpu-a"), std::string::npos) << tables.body;
  EXPECT_EQ(tables.body.find("secret_m"), std::string::npos) << tables.body;
  // A write-only token may not read the catalogs at all.
  const std::string w = NewToken(R"({"name":"w","scopes":["write"]})");
  Answer denied = Call("POST", "/sql", R"({"query":"SELECT relname FROM pg_class"})", Bearer(w));
  EXPECT_EQ(denied.status, 403) << denied.body;
  // The integer x conflicts with secret_m's double x; the answer must not say so.
  Answer influx = Call("POST", "/write?db=secret", "m x=1i 1000000000", Bearer(t));
  EXPECT_EQ(influx.status, 403) << influx.body;
  EXPECT_EQ(influx.body.find("float"), std::string::npos) << influx.body;
}

// A flood of refusals from one address writes one audit event per 10 s; the
// counter counts them all.
TEST_F(AuthRoutesTest, AuditOfRefusalsIsThrottledPerSource) {
  for (int i = 0; i < 5; ++i) {
    HttpRequest req;
    req.method = "GET";
    req.path = "/status";
    req.remote_address = "198.51.100.9:" + std::to_string(40000 + i);
    std::promise<HttpResponse> p;
    service_->Handle(std::move(req), [&p](HttpResponse r) { p.set_value(std::move(r)); });
    ASSERT_EQ(p.get_future().get().status, 401);
  }
  Answer audit = Call("GET", "/admin/audit", "", Bearer(kBootstrap));
  size_t events = 0;
  for (size_t at = 0; (at = audit.body.find("198.51.100.9", at)) != std::string::npos; ++at) {
    ++events;
  }
  EXPECT_EQ(events, 1u) << audit.body;
  EXPECT_NE(Call("GET", "/metrics")
                .body.find("timestore_auth_failures_total{reason=\"unauthenticated\"} 5"),
            std::string::npos);
}

TEST_F(AuthRoutesTest, DatasetIamScopesReplaceTheServerScopes) {
  EXPECT_EQ(Ingest("secret", Bearer(kBootstrap)).status, 200);
  Answer put = Call("PUT", "/admin/datasets/secret/settings",
                    R"({"iam":{"readScopes":["team-a"],"writeScopes":["team-a-writer"]}})",
                    Bearer(kBootstrap));
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_NE(put.body.find(R"("iam":{"readScopes":["team-a"],"writeScopes":["team-a-writer"]})"),
            std::string::npos)
      << put.body;
  const std::string reader = NewToken(R"({"name":"r","scopes":["read","write"]})");
  const std::string team = NewToken(R"({"name":"a","scopes":["team-a"]})");
  Answer q = Query("secret", Bearer(reader));
  EXPECT_EQ(q.status, 403) << q.body;
  EXPECT_EQ(ErrorDetail(q, "requiredScope"), "team-a");
  EXPECT_EQ(Ingest("secret", Bearer(reader)).status, 403);
  EXPECT_EQ(Query("secret", Bearer(team)).status, 200);
  EXPECT_EQ(Ingest("secret", Bearer(team)).status, 403);
  // Unrestricted admins pass; other datasets keep the server scopes.
  EXPECT_EQ(Query("secret", Bearer(kBootstrap)).status, 200);
  EXPECT_EQ(Query("secret", Bearer(reader)).status, 403);
  EXPECT_EQ(Ingest("open", Bearer(reader)).status, 200);
  EXPECT_EQ(Query("open", Bearer(team)).status, 403);
  // The setting survives a restart (it is in the manifest).
  Restart(auth::Mode::kToken);
  EXPECT_EQ(Query("secret", Bearer(reader)).status, 403);
  EXPECT_EQ(Query("secret", Bearer(team)).status, 200);
  // null clears it.
  ASSERT_EQ(
      Call("PUT", "/admin/datasets/secret/settings", R"({"iam":null})", Bearer(kBootstrap)).status,
      200);
  EXPECT_EQ(Query("secret", Bearer(reader)).status, 200);
}

TEST_F(AuthRoutesTest, RateLimitsAnswer429WithRetryAfter) {
  const std::string t =
      NewToken(R"({"name":"slow","scopes":["read","write"],)"
               R"("rateLimits":{"queriesPerSecond":0.01,"ingestRowsPerSecond":0.01}})");
  EXPECT_EQ(Ingest("cpu", Bearer(t), 5).status, 200);  // admitted, the bucket goes into debt
  Answer limited = Ingest("cpu", Bearer(t));
  EXPECT_EQ(limited.status, 429) << limited.body;
  EXPECT_EQ(ErrorCode(limited), "rate_limited");
  EXPECT_NE(limited.Header("Retry-After"), "<absent>");
  EXPECT_GE(std::stoi(limited.Header("Retry-After")), 1);
  EXPECT_EQ(Query("cpu", Bearer(t)).status, 200);
  EXPECT_EQ(Query("cpu", Bearer(t)).status, 429);
  // Other tokens are not slowed.
  EXPECT_EQ(Query("cpu", Bearer(kBootstrap)).status, 200);
  Answer m = Call("GET", "/metrics");
  EXPECT_NE(m.body.find("timestore_rate_limited_total{kind=\"ingest\"} 1"), std::string::npos);
  EXPECT_NE(m.body.find("timestore_rate_limited_total{kind=\"query\"} 1"), std::string::npos);
}

TEST_F(AuthRoutesTest, RefusalsAreCountedAndAuditedWithTheSource) {
  HttpRequest req;
  req.method = "GET";
  req.path = "/status";
  req.remote_address = "192.0.2.7:5555";
  std::promise<HttpResponse> p;
  service_->Handle(std::move(req), [&p](HttpResponse r) { p.set_value(std::move(r)); });
  EXPECT_EQ(p.get_future().get().status, 401);
  const std::string writer = NewToken(R"({"name":"w","scopes":["write"]})");
  EXPECT_EQ(Query("cpu", Bearer(writer)).status, 403);
  Answer m = Call("GET", "/metrics");
  EXPECT_NE(m.body.find("timestore_auth_failures_total{reason=\"unauthenticated\"} 1"),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("timestore_auth_failures_total{reason=\"forbidden\"} 1"),
            std::string::npos);
  // Not synced: give the audit writer's plain write a moment to land.
  Answer audit = Call("GET", "/admin/audit", "", Bearer(kBootstrap));
  EXPECT_NE(audit.body.find("auth.failure"), std::string::npos) << audit.body;
  EXPECT_NE(audit.body.find("192.0.2.7:5555"), std::string::npos) << audit.body;
  EXPECT_NE(audit.body.find("token:w"), std::string::npos) << audit.body;
}

TEST_F(AuthRoutesTest, ProxyModeBelievesOnlyTrustedAddresses) {
  Restart(auth::Mode::kProxy, "10.0.0.0/8");
  auto call = [&](const std::string& peer, Headers h) {
    HttpRequest req;
    req.method = "GET";
    req.path = "/status";
    req.remote_address = peer;
    req.headers = std::move(h);
    std::promise<HttpResponse> p;
    service_->Handle(std::move(req), [&p](HttpResponse r) { p.set_value(std::move(r)); });
    return p.get_future().get().status;
  };
  EXPECT_EQ(call("10.1.2.3:4000", {{"x-iam-scopes", "admin"}, {"x-iam-user", "alice"}}), 200);
  EXPECT_EQ(call("10.1.2.3:4000", {{"x-iam-scopes", "read"}}), 403);
  EXPECT_EQ(call("127.0.0.1:4000", {{"x-iam-scopes", "admin"}}), 401);
  EXPECT_EQ(call("127.0.0.1:4000", Bearer(kBootstrap)), 200);
}

}  // namespace
}  // namespace timestore::api::testing
