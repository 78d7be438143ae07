// Authentication: SCRAM-SHA-256 against RFC 7677's example exchange, MD5
// against values computed with Python's hashlib, the users syntax, and each
// method's exchange through BackendWriter as a client sees it.
#include "pgwire/auth.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "absl/strings/escaping.h"
#include "pgwire/pg_error.h"
#include "tests/pgwire/wire_client.h"

namespace timestore::pgwire {
namespace {

std::string Unbase64(std::string_view s) {
  std::string out;
  EXPECT_TRUE(absl::Base64Unescape(absl::string_view(s.data(), s.size()), &out));
  return out;
}

// RFC 7677 section 3.
constexpr std::string_view kClientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
constexpr std::string_view kServerNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
constexpr std::string_view kServerFirst =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
constexpr std::string_view kClientFinal =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr std::string_view kServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

ScramSecret Rfc7677Secret() {
  return MakeScramSecret("pencil", Unbase64("W22ZaJ0SNY7soEsUEjb6gQ=="));
}

TEST(ScramTest, Rfc7677Example) {
  ScramServer server(Rfc7677Secret(), "", std::string(kServerNonce));
  auto first = server.HandleClientFirst(kClientFirst);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, kServerFirst);
  auto final_message = server.HandleClientFinal(kClientFinal);
  ASSERT_TRUE(final_message.ok()) << final_message.status();
  EXPECT_EQ(*final_message, kServerFinal);
}

TEST(ScramTest, WrongPasswordIsDenied) {
  ScramServer server(MakeScramSecret("pencil2", Unbase64("W22ZaJ0SNY7soEsUEjb6gQ==")), "",
                     std::string(kServerNonce));
  ASSERT_TRUE(server.HandleClientFirst(kClientFirst).ok());
  auto final_message = server.HandleClientFinal(kClientFinal);
  EXPECT_EQ(final_message.status().code(), absl::StatusCode::kPermissionDenied);
}

TEST(ScramTest, UnknownUserRunsToTheEndWithTheMockSalt) {
  ScramServer server(std::nullopt, "mocksaltmocksalt", std::string(kServerNonce));
  auto first = server.HandleClientFirst(kClientFirst);
  ASSERT_TRUE(first.ok());
  EXPECT_NE(first->find(",s=bW9ja3NhbHRtb2Nrc2FsdA==,i=4096"), std::string::npos) << *first;
  EXPECT_EQ(server.HandleClientFinal(kClientFinal).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(ScramTest, MalformedMessagesAreProtocolViolations) {
  const std::string_view bad_first[] = {
      "",
      "n,",
      "p=tls-server-end-point,,n=user,r=abc",  // channel binding we did not offer
      "x,,n=user,r=abc",
      "n,a=admin,n=user,r=abc",  // authzid
      "n,,m=ext,n=user,r=abc",
      "n,,r=abc",
      "n,,n=user",
      "n,,n=user,r=",
      "n,,n=user,r=a,b",  // "b" is no attribute
      "n,,n=user,r=ab\x01",
  };
  for (auto m : bad_first) {
    ScramServer server(Rfc7677Secret(), "", "snonce");
    auto r = server.HandleClientFirst(m);
    ASSERT_FALSE(r.ok()) << m;
    EXPECT_EQ(PayloadSqlState(r.status()), "08P01") << m;
  }
  const std::string nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
  const std::string proof = "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
  const std::string bad_final[] = {
      "",
      "c=biws,r=" + nonce,                 // no proof
      "c=eSws,r=" + nonce + "," + proof,   // "y,," but the client sent "n,,"
      "c=biws,r=" + nonce + "x," + proof,  // nonce changed
      "r=" + nonce + ",c=biws," + proof,   // order
      "c=biws,r=" + nonce + ",p=AAAA",     // short proof
      "c=biws,r=" + nonce + ",p=!!!!",     // not base64
  };
  for (const auto& m : bad_final) {
    ScramServer server(Rfc7677Secret(), "", std::string(kServerNonce));
    ASSERT_TRUE(server.HandleClientFirst(kClientFirst).ok());
    auto r = server.HandleClientFinal(m);
    ASSERT_FALSE(r.ok()) << m;
    EXPECT_EQ(PayloadSqlState(r.status()), "08P01") << m << ": " << r.status();
  }
  ScramServer early(Rfc7677Secret(), "", "x");
  EXPECT_EQ(PayloadSqlState(early.HandleClientFinal(kClientFinal).status()), "08P01");
}

TEST(ScramTest, NoncesAreRandom) {
  EXPECT_NE(ScramNonce(), ScramNonce());
  EXPECT_EQ(ScramNonce().size(), 24u);
}

TEST(Md5Test, MatchesPostgresFormula) {
  // python3: 'md5' + md5(md5(b'secretpostgres').hexdigest().encode() + b'\1\2\3\4').hexdigest()
  EXPECT_EQ(Md5PasswordResponse("postgres", "secret", "\x01\x02\x03\x04"),
            "md5bb41a296aab6baccb36ff243a562abff");
}

TEST(PgUsersTest, ParsesEntriesScopesAndEscapes) {
  auto users = ParsePgUsers("alice:s3cret:read+admin,bob:pw,,c\\:d:p\\,w\\\\:x\\+y");
  ASSERT_TRUE(users.ok()) << users.status();
  ASSERT_EQ(users->size(), 3u);
  EXPECT_EQ((*users)[0].name, "alice");
  EXPECT_EQ((*users)[0].password, "s3cret");
  EXPECT_EQ((*users)[0].scopes, (std::vector<std::string>{"read", "admin"}));
  EXPECT_EQ((*users)[1].name, "bob");
  EXPECT_TRUE((*users)[1].scopes.empty());
  EXPECT_EQ((*users)[2].name, "c:d");
  EXPECT_EQ((*users)[2].password, "p,w\\");
  EXPECT_EQ((*users)[2].scopes, (std::vector<std::string>{"x+y"}));
  EXPECT_TRUE(ParsePgUsers("")->empty());
}

TEST(PgUsersTest, RefusesBadEntries) {
  for (std::string_view spec :
       {"alice", "alice:", ":pw", "a:b:c:d", "a:b\\n", "a:b\\", "a:x,a:y"}) {
    auto users = ParsePgUsers(spec);
    EXPECT_FALSE(users.ok()) << spec;
  }
  EXPECT_NE(std::string(ParsePgUsers("ok:pw,broken").status().message()).find("entry 2"),
            std::string::npos);
}

TEST(AuthConfigTest, DefaultsAndRefusals) {
  auto trust = AuthConfig::Make("", {});
  ASSERT_TRUE(trust.ok());
  EXPECT_EQ((*trust)->method(), AuthMethod::kTrust);
  auto scram = AuthConfig::Make("", {{"u", "p", {}}});
  ASSERT_TRUE(scram.ok());
  EXPECT_EQ((*scram)->method(), AuthMethod::kScramSha256);
  EXPECT_FALSE(AuthConfig::Make("md5", {}).ok());
  EXPECT_FALSE(AuthConfig::Make("kerberos", {{"u", "p", {}}}).ok());
  ASSERT_TRUE(AuthConfig::Make("trust", {{"u", "p", {"s"}}}).ok());
  // The mock salt of a name is stable, and differs between names.
  EXPECT_EQ((*scram)->MockSalt("ghost"), (*scram)->MockSalt("ghost"));
  EXPECT_NE((*scram)->MockSalt("ghost"), (*scram)->MockSalt("ghost2"));
}

using client::GetInt32;
using client::SplitBackend;

// The authentication request BackendWriter holds: its code and data.
std::pair<int32_t, std::string> TakeRequest(BackendWriter* w) {
  std::string bytes = *w->buffer();
  w->Clear();
  auto messages = SplitBackend(&bytes);
  EXPECT_EQ(messages.size(), 1u);
  if (messages.empty()) return {-1, ""};
  EXPECT_EQ(messages[0].type, 'R');
  return {GetInt32(messages[0].body, 0), messages[0].body.substr(4)};
}

std::shared_ptr<const AuthConfig> Config(std::string_view method) {
  auto c = AuthConfig::Make(method, *ParsePgUsers("alice:pencil:read+write"));
  EXPECT_TRUE(c.ok());
  return *c;
}

std::string Body(const std::string& message) { return message.substr(5); }

TEST(AuthenticatorTest, TrustAcceptsAnyoneWithoutScopes) {
  Authenticator a(Config("trust"), "alice");
  BackendWriter w;
  EXPECT_TRUE(a.Start(&w));
  EXPECT_EQ(w.size(), 0u);
  EXPECT_TRUE(a.scopes().empty());
}

TEST(AuthenticatorTest, CleartextPassword) {
  for (auto [user, password, ok] :
       {std::tuple{"alice", "pencil", true}, std::tuple{"alice", "Pencil", false},
        std::tuple{"alice", "", false}, std::tuple{"mallory", "pencil", false}}) {
    Authenticator a(Config("password"), user);
    BackendWriter w;
    ASSERT_FALSE(a.Start(&w));
    EXPECT_EQ(TakeRequest(&w).first, 3);
    auto done = a.Step(Body(client::PasswordMessage(password)), &w);
    if (ok) {
      ASSERT_TRUE(done.ok() && *done) << done.status();
      EXPECT_EQ(a.scopes(), (std::vector<std::string>{"read", "write"}));
    } else {
      ASSERT_FALSE(done.ok());
      EXPECT_EQ(PayloadSqlState(done.status()), "28P01");
      EXPECT_EQ(done.status().message(),
                std::string("password authentication failed for user \"") + user + "\"");
    }
  }
}

TEST(AuthenticatorTest, Md5Password) {
  for (auto [user, password, ok] :
       {std::tuple{"alice", "pencil", true}, std::tuple{"alice", "pencil2", false},
        std::tuple{"nobody", "pencil", false}}) {
    Authenticator a(Config("md5"), user);
    BackendWriter w;
    ASSERT_FALSE(a.Start(&w));
    auto [code, salt] = TakeRequest(&w);
    EXPECT_EQ(code, 5);
    ASSERT_EQ(salt.size(), 4u);
    auto done =
        a.Step(Body(client::PasswordMessage(Md5PasswordResponse(user, password, salt))), &w);
    EXPECT_EQ(done.ok(), ok) << user << "/" << password;
    if (!ok) {
      EXPECT_EQ(PayloadSqlState(done.status()), "28P01");
    }
  }
}

// The client side of SCRAM-SHA-256, written from the RFC for this test.
std::string ClientFinal(std::string_view password, std::string_view client_first_bare,
                        std::string_view server_first) {
  std::string nonce, salt_b64;
  int iterations = 0;
  for (std::string_view rest = server_first; !rest.empty();) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    if (item[0] == 'r') nonce = std::string(item.substr(2));
    if (item[0] == 's') salt_b64 = std::string(item.substr(2));
    if (item[0] == 'i') iterations = std::stoi(std::string(item.substr(2)));
    rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
  }
  const std::string salt = Unbase64(salt_b64);
  unsigned char salted[32];
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()),
                    static_cast<int>(salt.size()), iterations, EVP_sha256(), 32, salted);
  auto hmac = [](std::string_view key, std::string_view data) {
    unsigned char out[32];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
    return std::string(reinterpret_cast<char*>(out), 32);
  };
  const std::string client_key =
      hmac(std::string_view(reinterpret_cast<char*>(salted), 32), "Client Key");
  unsigned char stored[32];
  SHA256(reinterpret_cast<const unsigned char*>(client_key.data()), 32, stored);
  const std::string without_proof = "c=biws,r=" + nonce;
  const std::string auth_message =
      std::string(client_first_bare) + "," + std::string(server_first) + "," + without_proof;
  const std::string signature =
      hmac(std::string_view(reinterpret_cast<char*>(stored), 32), auth_message);
  std::string proof(32, '\0');
  for (int i = 0; i < 32; ++i) proof[i] = static_cast<char>(client_key[i] ^ signature[i]);
  return without_proof + ",p=" + Base64Encode(proof);
}

TEST(AuthenticatorTest, ScramSha256) {
  for (auto [user, password, ok] :
       {std::tuple{"alice", "pencil", true}, std::tuple{"alice", "wrong", false},
        std::tuple{"nobody", "pencil", false}}) {
    Authenticator a(Config(""), user);
    BackendWriter w;
    ASSERT_FALSE(a.Start(&w));
    auto [code, mechanisms] = TakeRequest(&w);
    EXPECT_EQ(code, 10);
    EXPECT_EQ(mechanisms, std::string("SCRAM-SHA-256\0\0", 15));
    const std::string bare = "n=,r=clientnonce123";
    auto step = a.Step(Body(client::SaslInitialResponseMessage("SCRAM-SHA-256", "n,," + bare)), &w);
    ASSERT_TRUE(step.ok() && !*step) << step.status();
    auto [code2, server_first] = TakeRequest(&w);
    EXPECT_EQ(code2, 11);
    EXPECT_EQ(server_first.substr(0, 16), "r=clientnonce123");
    auto done = a.Step(ClientFinal(password, bare, server_first), &w);
    if (ok) {
      ASSERT_TRUE(done.ok() && *done) << done.status();
      EXPECT_EQ(TakeRequest(&w).first, 12);
      EXPECT_EQ(a.scopes(), (std::vector<std::string>{"read", "write"}));
    } else {
      ASSERT_FALSE(done.ok());
      EXPECT_EQ(PayloadSqlState(done.status()), "28P01");
      EXPECT_EQ(done.status().message(),
                std::string("password authentication failed for user \"") + user + "\"");
    }
  }
}

TEST(AuthenticatorTest, ScramRefusesOtherMechanisms) {
  Authenticator a(Config("scram-sha-256"), "alice");
  BackendWriter w;
  a.Start(&w);
  auto step = a.Step(Body(client::SaslInitialResponseMessage("SCRAM-SHA-256-PLUS", "p=x,,")), &w);
  ASSERT_FALSE(step.ok());
  EXPECT_EQ(PayloadSqlState(step.status()), "08P01");
}

}  // namespace
}  // namespace timestore::pgwire
