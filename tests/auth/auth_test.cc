// The auth library alone: token files, hashing, modes, header shapes,
// trusted proxy networks, dataset grants and rate limits.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "auth/authenticator.h"
#include "auth/principal.h"
#include "auth/rate_limiter.h"
#include "auth/token_store.h"
#include "common/env.h"
#include "common/status_util.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "tests/e2e/test_server.h"
#include "tiering/http_util.h"

namespace timestore::auth {
namespace {

using timestore::testing::MakeTempDir;

TEST(GlobMatchTest, StarsAndQuestionMarks) {
  EXPECT_TRUE(GlobMatch("cpu", "cpu"));
  EXPECT_FALSE(GlobMatch("cpu", "cpu2"));
  EXPECT_TRUE(GlobMatch("cpu-*", "cpu-"));
  EXPECT_TRUE(GlobMatch("cpu-*", "cpu-eu-1"));
  EXPECT_FALSE(GlobMatch("cpu-*", "mem-eu-1"));
  EXPECT_TRUE(GlobMatch("*", "anything"));
  EXPECT_TRUE(GlobMatch("*-prod", "web-prod"));
  EXPECT_FALSE(GlobMatch("*-prod", "web-prod2"));
  EXPECT_TRUE(GlobMatch("a?c", "abc"));
  EXPECT_FALSE(GlobMatch("a?c", "ac"));
  EXPECT_TRUE(GlobMatch("*a*b*c*", "xxaxxbxxcxx"));
  // Backtracking stays linear: this would take ages with naive recursion.
  EXPECT_FALSE(GlobMatch("*a*a*a*a*a*a*a*a*b", std::string(60, 'a')));
}

TEST(PrincipalTest, GrantsRestrictDatasetsAndAdminCoversReadWrite) {
  Principal p;
  EXPECT_TRUE(p.GrantAllows("cpu", kAdmin));  // no restrictions
  p.datasets = std::vector<DatasetGrant>{{"cpu-*", kRead}, {"ops", kAdmin}};
  EXPECT_TRUE(p.GrantAllows("cpu-1", kRead));
  EXPECT_FALSE(p.GrantAllows("cpu-1", kWrite));
  EXPECT_FALSE(p.GrantAllows("mem", kRead));
  EXPECT_TRUE(p.GrantAllows("ops", kRead));
  EXPECT_TRUE(p.GrantAllows("ops", kWrite));
  EXPECT_TRUE(p.GrantAllows("ops", kAdmin));
}

TEST(CidrTest, ParsesAndMatchesV4AndV6) {
  auto nets = ParseCidrList("10.0.0.0/8, 192.168.1.7 ,::1,fd00::/8");
  ASSERT_TRUE(nets.ok()) << nets.status();
  ASSERT_EQ(nets->size(), 4u);
  auto in = [&](std::string_view peer) {
    auto a = ParsePeerAddress(peer);
    if (!a) return false;
    for (const Cidr& n : *nets) {
      if (CidrContains(n, *a)) return true;
    }
    return false;
  };
  EXPECT_TRUE(in("10.1.2.3:5555"));
  EXPECT_FALSE(in("11.1.2.3:5555"));
  EXPECT_TRUE(in("192.168.1.7:80"));
  EXPECT_FALSE(in("192.168.1.8:80"));
  EXPECT_TRUE(in("[::1]:4100"));
  EXPECT_TRUE(in("[fd12::5]:1"));
  EXPECT_FALSE(in("[fe80::1]:1"));
  EXPECT_FALSE(in("garbage"));
  EXPECT_FALSE(ParseCidrList("10.0.0.0/33").ok());
  EXPECT_FALSE(ParseCidrList("::ffff:10.0.0.0/8").ok());  // would be ::/8
  EXPECT_TRUE(ParseCidrList("::ffff:10.0.0.0/104").ok());
  EXPECT_FALSE(ParseCidrList("example.com").ok());
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.8.0.1"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackHost("::"));
  EXPECT_FALSE(IsLoopbackHost("10.0.0.1"));
}

TEST(TokenStoreTest, CreateFindRevokeAndReload) {
  const std::string dir = JoinPath(MakeTempDir(), "auth");
  auto store = TokenStore::Open(dir);
  ASSERT_TRUE(store.ok()) << store.status();
  TokenInfo spec;
  spec.name = "telegraf";
  spec.scopes = {"write"};
  spec.datasets = std::vector<DatasetGrant>{{"cpu-*", kWrite | kRead}};
  spec.limits.ingest_rows_per_second = 1000;
  const int64_t now = NowNanos();
  auto created = (*store)->Create(spec, now);
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string secret = created->second;
  EXPECT_EQ(TokenIdOf(secret), created->first.id);
  // The file holds the hash, never the token, and only its owner reads it.
  auto text = Env::Default()->ReadFile(JoinPath(dir, "tokens.json"));
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->find(secret), std::string::npos);
  EXPECT_NE(text->find(HashSecret(secret)), std::string::npos);
  struct stat st;
  ASSERT_EQ(::stat(JoinPath(dir, "tokens.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // A second token of the same name is a conflict.
  EXPECT_EQ(ErrorCodeOf((*store)->Create(spec, now).status()), "conflict");

  auto reopened = TokenStore::Open(dir);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  auto found = (*reopened)->Find(secret);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->name, "telegraf");
  ASSERT_TRUE(found->datasets.has_value());
  EXPECT_EQ((*found->datasets)[0].pattern, "cpu-*");
  EXPECT_EQ((*found->datasets)[0].access, kWrite | kRead);
  EXPECT_EQ(found->limits.ingest_rows_per_second, 1000);
  // One changed character of the secret is not the token.
  std::string wrong = secret;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  EXPECT_FALSE((*reopened)->Find(wrong).has_value());
  EXPECT_FALSE((*reopened)->Find("tsk_short").has_value());

  ASSERT_TRUE((*reopened)->Revoke("telegraf").ok());
  EXPECT_FALSE((*reopened)->Find(secret).has_value());
  EXPECT_EQ(ErrorCodeOf((*reopened)->Revoke("telegraf").status()), "not_found");
  auto again = TokenStore::Open(dir);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE((*again)->List().empty());
}

TEST(TokenStoreTest, CorruptFileIsAnErrorNamingIt) {
  const std::string dir = MakeTempDir();
  ASSERT_TRUE(WritePrivateFile(JoinPath(dir, "tokens.json"), "{\"tokens\": [{\"id\": 5}]}").ok());
  auto store = TokenStore::Open(dir);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("tokens.json"), std::string::npos);
}

TEST(TokenRequestTest, ParsesAndNamesBadMembers) {
  const int64_t now = NowNanos();
  auto t = ParseTokenRequest(
      R"({"name":"grafana","scopes":["read"],"datasets":[{"pattern":"cpu","access":"read"}],)"
      R"("expiresIn":"30d","rateLimits":{"queriesPerSecond":5}})",
      now);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->name, "grafana");
  ASSERT_TRUE(t->expires_ns.has_value());
  EXPECT_NEAR(static_cast<double>(*t->expires_ns - now), 30 * 86400e9, 1e9);
  EXPECT_EQ(t->limits.queries_per_second, 5);
  auto round = ParseTokenRequest(TokenRequestJson(*t), now);
  ASSERT_TRUE(round.ok()) << round.status();
  EXPECT_EQ(round->expires_ns, t->expires_ns);

  for (const char* bad :
       {R"({"scopes":["read"]})", R"({"name":"x"})", R"({"name":"x","scopes":"read"})",
        R"({"name":"x","scopes":["read"],"datasets":[{"pattern":"c"}]})",
        R"({"name":"x","scopes":["read"],"datasets":[{"pattern":"c","access":"own"}]})",
        R"({"name":"x","scopes":["read"],"expiresAt":"2001-01-01T00:00:00Z"})",
        R"({"name":"x","scopes":["read"],"color":"red"})",
        R"({"name":"ops?old","scopes":["read"]})",
        R"({"name":"0123456789abcdef","scopes":["read"]})", "[1]", "{"}) {
    auto r = ParseTokenRequest(bad, now);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message(), "") << bad;
  }
}

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = TokenStore::Open(MakeTempDir());
    ASSERT_TRUE(s.ok());
    store_ = std::move(*s);
    TokenInfo spec;
    spec.name = "writer";
    spec.scopes = {"write"};
    secret_ = (*store_->Create(spec, NowNanos())).second;
    spec.name = "boss";
    spec.scopes = {"admin"};
    admin_secret_ = (*store_->Create(spec, NowNanos())).second;
    spec.name = "old";
    spec.scopes = {"read"};
    spec.expires_ns = NowNanos() + 1;  // expires at once
    expired_secret_ = (*store_->Create(spec, NowNanos())).second;
  }
  AuthConfig Config(Mode mode) {
    AuthConfig c;
    c.mode = mode;
    c.read_scope = "read";
    c.write_scope = "write";
    c.admin_scope = "admin";
    c.bootstrap_hash = HashSecret("bootstrap-secret-0123456789");
    c.trusted_proxies = *ParseCidrList("10.0.0.0/8");
    return c;
  }
  std::unique_ptr<TokenStore> store_;
  std::string secret_, admin_secret_, expired_secret_;
};

TEST_F(AuthenticatorTest, TokenModeAcceptsEveryHeaderShape) {
  Authenticator a(Config(Mode::kToken), store_.get());
  for (const std::string& h : {"Bearer " + secret_, "bearer " + secret_, "Token " + secret_,
                               "Basic " + tiering::Base64Encode("prometheus:" + secret_),
                               "Basic " + tiering::Base64Encode(secret_ + ":")}) {
    AuthResult r = a.Authenticate({.authorization = h});
    ASSERT_TRUE(r.ok()) << h << ": " << r.message;
    EXPECT_EQ(r.principal.kind, Principal::Kind::kToken);
    EXPECT_EQ(r.principal.name, "writer");
    EXPECT_TRUE(r.principal.HasScope("write"));
    EXPECT_FALSE(r.principal.HasScope("read"));
  }
  // The InfluxDB 1.x ?p= password.
  EXPECT_TRUE(a.Authenticate({.query_password = secret_}).ok());
  // Nothing presented: anonymous, not a failure (the route decides).
  AuthResult none = a.Authenticate({.iam_scopes = "admin", .peer = "10.0.0.1:1"});
  EXPECT_TRUE(none.ok());
  EXPECT_TRUE(none.principal.anonymous());
  EXPECT_TRUE(none.principal.scopes.empty());
}

TEST_F(AuthenticatorTest, BadExpiredAndMalformedTokensFail) {
  Authenticator a(Config(Mode::kToken), store_.get());
  AuthResult bad = a.Authenticate({.authorization = "Bearer tsk_nope"});
  EXPECT_EQ(bad.failure, AuthResult::Failure::kInvalid);
  AuthResult expired = a.Authenticate({.authorization = "Bearer " + expired_secret_});
  EXPECT_EQ(expired.failure, AuthResult::Failure::kExpired);
  EXPECT_NE(expired.message.find("old"), std::string::npos);
  EXPECT_EQ(expired.message.find(expired_secret_), std::string::npos);
  EXPECT_EQ(a.Authenticate({.authorization = "Digest abc"}).failure,
            AuthResult::Failure::kMalformed);
  EXPECT_EQ(a.Authenticate({.authorization = "Basic !!!"}).failure,
            AuthResult::Failure::kMalformed);
  EXPECT_EQ(a.Authenticate({.authorization = "Bearer "}).failure, AuthResult::Failure::kMalformed);
}

TEST_F(AuthenticatorTest, AdminTokensAndBootstrapHoldEveryScope) {
  Authenticator a(Config(Mode::kToken), store_.get());
  AuthResult admin = a.Authenticate({.authorization = "Bearer " + admin_secret_});
  ASSERT_TRUE(admin.ok());
  EXPECT_TRUE(admin.principal.HasScope("read"));
  EXPECT_TRUE(admin.principal.HasScope("write"));
  AuthResult boot = a.Authenticate({.authorization = "Bearer bootstrap-secret-0123456789"});
  ASSERT_TRUE(boot.ok());
  EXPECT_EQ(boot.principal.kind, Principal::Kind::kBootstrap);
  EXPECT_TRUE(boot.principal.HasScope("admin"));
  EXPECT_FALSE(boot.principal.datasets.has_value());
}

TEST_F(AuthenticatorTest, ProxyHeadersOnlyFromTrustedNetworks) {
  Authenticator a(Config(Mode::kProxy), store_.get());
  AuthResult trusted =
      a.Authenticate({.iam_scopes = "read, admin", .iam_user = "alice", .peer = "10.2.3.4:999"});
  ASSERT_TRUE(trusted.ok());
  EXPECT_EQ(trusted.principal.kind, Principal::Kind::kProxy);
  EXPECT_EQ(trusted.principal.name, "alice");
  EXPECT_TRUE(trusted.principal.HasScope("admin"));
  AuthResult outside =
      a.Authenticate({.iam_scopes = "read, admin", .iam_user = "alice", .peer = "127.0.0.1:999"});
  EXPECT_TRUE(outside.principal.anonymous());
  EXPECT_TRUE(outside.principal.scopes.empty());
  // A token still works from anywhere.
  AuthResult token = a.Authenticate({.authorization = "Bearer " + secret_, .peer = "1.2.3.4:5"});
  EXPECT_EQ(token.principal.kind, Principal::Kind::kToken);
}

TEST_F(AuthenticatorTest, NoneModeBelievesHeadersAndIgnoresTokens) {
  Authenticator a(Config(Mode::kNone), nullptr);
  AuthResult r = a.Authenticate(
      {.authorization = "Bearer whatever", .iam_scopes = "ts:read", .peer = "127.0.0.1:1"});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.principal.HasScope("ts:read"));
}

TEST(RateLimiterTest, AdmitsTheRateOnAverageAndSaysWhenToRetry) {
  RateLimiter limiter;
  const int64_t t0 = 1'000'000'000'000;
  EXPECT_FALSE(limiter.Admit("k", 0, 1e9, t0).has_value());  // 0: unlimited
  // 100 rows/s: a 250-row batch is admitted (no debt yet), then the bucket
  // is 150 rows in debt: 1.5 s to wait.
  EXPECT_FALSE(limiter.Admit("t", 100, 250, t0).has_value());
  auto wait = limiter.Admit("t", 100, 10, t0);
  ASSERT_TRUE(wait.has_value());
  EXPECT_NEAR(*wait, 1.5, 1e-9);
  EXPECT_TRUE(limiter.Admit("t", 100, 10, t0 + 1'000'000'000).has_value());
  EXPECT_FALSE(limiter.Admit("t", 100, 10, t0 + 1'600'000'000).has_value());
  // Keys are independent.
  EXPECT_FALSE(limiter.Admit("other", 100, 10, t0).has_value());
}

TEST(RateLimiterTest, RefilledBucketsAreDroppedAndDebtsKept) {
  RateLimiter limiter;
  const int64_t t0 = 1'000'000'000'000;
  // A key in debt for 30 s, then 5,000 keys (revoked tokens, idle tenants)
  // each used once.
  EXPECT_FALSE(limiter.Admit("debtor", 100, 3100, t0).has_value());
  for (int i = 0; i < 5000; ++i) {
    EXPECT_FALSE(limiter.Admit(StrCat("k", i), 100, 10, t0).has_value());
  }
  EXPECT_GT(limiter.size(), 1024u);
  // A second later every once-used bucket is full again: the next sweep drops
  // them; the debtor's stays and still waits.
  const int64_t t1 = t0 + 1'000'000'000;
  for (int i = 0; i < 6000; ++i) (void)limiter.Admit(StrCat("n", i), 100, 10, t1);
  EXPECT_LT(limiter.size(), 6100u);
  auto wait = limiter.Admit("debtor", 100, 1, t1);
  ASSERT_TRUE(wait.has_value());
  EXPECT_NEAR(*wait, 29.0, 1e-6);
}

}  // namespace
}  // namespace timestore::auth
