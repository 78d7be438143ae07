// AdminTest with the server in token mode: read, write and admin scopes, a
// bootstrap admin token (kBootstrap), and the token store under the root.
// The fixture of the auth, tenant, export-route and OTLP-route tests;
// TokenModeOptions serves fixtures that restart in token mode (migrations).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "auth/authenticator.h"
#include "auth/token_store.h"
#include "tests/api/admin_fixture.h"

namespace timestore::api::testing {

inline constexpr char kBootstrap[] = "bootstrap-admin-token-0123456789";

using Headers = std::vector<std::pair<std::string, std::string>>;

// The auth configuration of the token-mode tests: read, write and admin
// scopes and the bootstrap admin token kBootstrap (`proxies`: trusted CIDRs
// for proxy mode).
inline auth::AuthConfig TokenAuthConfig(auth::Mode mode = auth::Mode::kToken,
                                        const std::string& proxies = "") {
  auth::AuthConfig c;
  c.mode = mode;
  c.read_scope = "read";
  c.write_scope = "write";
  c.admin_scope = "admin";
  c.bootstrap_hash = auth::HashSecret(kBootstrap);
  if (!proxies.empty()) c.trusted_proxies = *auth::ParseCidrList(proxies);
  return c;
}

// `o` requiring the read, write and admin scopes, authenticated by `config`
// over `tokens` (which must outlive the service). For a fixture that starts
// in open mode and restarts in token mode (TokenModeTest starts in it).
inline ServiceOptions TokenModeOptions(auth::TokenStore* tokens, ServiceOptions o = {},
                                       const auth::AuthConfig& config = TokenAuthConfig()) {
  o.require_scope = "read";
  o.require_write_scope = "write";
  o.admin_scope = "admin";
  o.authenticator = std::make_shared<auth::Authenticator>(config, tokens);
  return o;
}

class TokenModeTest : public AdminTest {
 protected:
  void SetUp() override {
    AdminTest::SetUp();
    StartTokenService();
  }
  // Restarts the service with `o` in auth `mode` (`proxies`: trusted CIDRs
  // for proxy mode). The token store is opened once and kept across restarts.
  void StartTokenService(ServiceOptions o = {}, auth::Mode mode = auth::Mode::kToken,
                         const std::string& proxies = "") {
    StopService();
    if (tokens_ == nullptr) {
      auto t = auth::TokenStore::Open(root_ + "/auth");
      ASSERT_TRUE(t.ok()) << t.status();
      tokens_ = std::move(*t);
    }
    StartService(TokenModeOptions(tokens_.get(), std::move(o), TokenAuthConfig(mode, proxies)));
  }
  // Creates a token through POST /admin/tokens (as the bootstrap admin) and
  // returns its secret.
  std::string NewToken(const std::string& request) {
    Answer a = Call("POST", "/admin/tokens", request, Bearer(kBootstrap));
    EXPECT_EQ(a.status, 201) << a.body;
    std::string_view token;
    EXPECT_FALSE(Parse(a)["token"].get(token)) << a.body;
    return std::string(token);
  }

  std::unique_ptr<auth::TokenStore> tokens_;
};

}  // namespace timestore::api::testing
