// The server over real loopback sockets with scripted sessions: startup and
// its refusals, authentication, malformed and hostile input (each answered
// with a FATAL error and a clean close, while the server keeps serving),
// the connection limit, CancelRequest, and stopping with clients connected.
#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "tests/pgwire/server_fixture.h"

namespace timestore::pgwire {
namespace {

using namespace client;  // NOLINT: the client-side builders

TEST_F(PgServerTest, StartupReportsSettingsKeyAndReadiness) {
  StartServer();
  RawConnection c(port());
  c.Send(Startup({{"user", "alice"}, {"database", "db1"}, {"application_name", "app"}}));
  auto got = c.ReadUntil("Z");
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.front().type, 'R');
  EXPECT_EQ(GetInt32(got.front().body, 0), 0);  // AuthenticationOk
  std::map<std::string, std::string> params;
  int keys = 0;
  for (const auto& m : got) {
    if (m.type == 'S') {
      const size_t nul = m.body.find('\0');
      params[m.body.substr(0, nul)] = m.body.substr(nul + 1, m.body.size() - nul - 2);
    }
    if (m.type == 'K') {
      ++keys;
      EXPECT_GT(GetInt32(m.body, 0), 0);
    }
  }
  EXPECT_EQ(keys, 1);
  EXPECT_EQ(params["server_version"], "15.0 (fake)");
  EXPECT_EQ(params["application_name"], "app");
  EXPECT_EQ(params["session_authorization"], "alice");
  EXPECT_EQ(got.back().body, "I");
  EXPECT_EQ(state_.last_options.user, "alice");
  EXPECT_EQ(state_.last_options.database, "db1");
  EXPECT_TRUE(state_.last_options.scopes.empty());
  EXPECT_EQ(server_->sessions(), 1);
}

TEST_F(PgServerTest, DatabaseDefaultsToTheUserName) {
  StartServer();
  RawConnection c(port());
  c.Send(Startup({{"user", "bob"}}));
  EXPECT_EQ(Types(c.ReadUntil("Z")).back(), 'Z');
  EXPECT_EQ(state_.last_options.database, "bob");
}

TEST_F(PgServerTest, SslAndGssRequestsAreDeclined) {
  StartServer();
  RawConnection c(port());
  c.Send(SslRequestPacket());
  EXPECT_EQ(c.ReadByte(), 'N');
  c.Send(GssEncRequestPacket());
  EXPECT_EQ(c.ReadByte(), 'N');
  c.Send(Startup({{"user", "u"}}));
  EXPECT_EQ(Types(c.ReadUntil("Z")).back(), 'Z');
}

TEST_F(PgServerTest, DataPipelinedAfterSslRequestIsRefused) {
  StartServer();
  RawConnection c(port());
  c.Send(SslRequestPacket() + Startup({{"user", "u"}}));
  auto got = c.ReadUntil("E");
  EXPECT_EQ(ErrorField(got), "08P01");
  EXPECT_TRUE(c.WaitClosed());
}

TEST_F(PgServerTest, NewerMinorVersionIsNegotiatedDown) {
  StartServer();
  RawConnection c(port());
  c.Send(Startup({{"user", "u"}, {"_pq_.compression", "on"}}, (3 << 16) | 2));
  auto got = c.ReadUntil("Z");
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.front().type, 'v');
  EXPECT_EQ(GetInt32(got.front().body, 0), 3 << 16);
  EXPECT_EQ(GetInt32(got.front().body, 4), 1);
  EXPECT_EQ(got.front().body.substr(8), std::string("_pq_.compression\0", 17));
  EXPECT_EQ(got.back().type, 'Z');
}

TEST_F(PgServerTest, StartupRefusals) {
  StartServer();
  struct Case {
    std::string bytes;
    std::string sqlstate;
  };
  const Case cases[] = {
      {Startup({{"database", "x"}}), "28000"},                       // no user
      {Startup({{"user", ""}}), "28000"},                            // empty user
      {Startup({{"user", "u"}}, 2 << 16), "0A000"},                  // protocol 2.0
      {Startup({{"user", "u"}, {"replication", "true"}}), "0A000"},  // walsender
      {Startup({{"user", "u"}, {"client_encoding", "LATIN1"}}), "22023"},
      {Startup({{"user", "u"}, {"database", "recovering"}}), "57P03"},  // factory refuses
  };
  for (const auto& c : cases) {
    RawConnection conn(port());
    conn.Send(c.bytes);
    auto got = conn.ReadUntil("EZ");
    EXPECT_EQ(ErrorField(got), c.sqlstate) << Types(got);
    EXPECT_EQ(ErrorField(got, 'S'), "FATAL");
    EXPECT_TRUE(conn.WaitClosed());
  }
  // The server still serves.
  Connect();
  // SQL_ASCII (libpq under the C locale) and UTF-8 spellings are accepted.
  for (const char* enc : {"UTF8", "utf-8", "SQL_ASCII", "unicode"}) {
    RawConnection conn(port());
    conn.Send(Startup({{"user", "u"}, {"client_encoding", enc}}));
    EXPECT_EQ(Types(conn.ReadUntil("EZ")).back(), 'Z') << enc;
  }
}

TEST_F(PgServerTest, StartupSettingsGoThroughTheSession) {
  StartServer();
  RawConnection c(port());
  c.Send(Startup({{"user", "u"},
                  {"DateStyle", "ISO"},
                  {"unknown_setting", "1"},
                  {"options", "-c search_path=abc --extra-float-digits=3 -X"}}));
  auto got = c.ReadUntil("Z");
  std::map<std::string, std::string> params;
  std::vector<std::string> warnings;
  for (const auto& m : got) {
    if (m.type == 'S') {
      const size_t nul = m.body.find('\0');
      params[m.body.substr(0, nul)] = m.body.substr(nul + 1, m.body.size() - nul - 2);
    }
    if (m.type == 'N') warnings.push_back(ErrorFieldsOf(m.body)['M']);
  }
  EXPECT_EQ(params["DateStyle"], "ISO");
  EXPECT_EQ(params["search_path"], "abc");
  EXPECT_EQ(params["extra_float_digits"], "3");
  ASSERT_EQ(warnings.size(), 2u) << Types(got);
  EXPECT_NE(warnings[0].find("-X"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[1].find("unknown_setting"), std::string::npos) << warnings[1];
  EXPECT_EQ(got.back().type, 'Z');
}

TEST_F(PgServerTest, PasswordAuthentication) {
  ServerOptions o;
  o.auth = *AuthConfig::Make("password", *ParsePgUsers("alice:pencil:read"));
  StartServer(o);
  {
    RawConnection c(port());
    auto got = c.Login("alice", "pencil");
    ASSERT_FALSE(got.empty());
    EXPECT_EQ(got.back().type, 'Z') << ErrorField(got, 'M');
    EXPECT_EQ(state_.last_options.scopes, std::vector<std::string>{"read"});
  }
  for (auto [user, password] : {std::pair{"alice", "wrong"}, std::pair{"eve", "pencil"}}) {
    RawConnection c(port());
    auto got = c.Login(user, password);
    EXPECT_EQ(ErrorField(got), "28P01");
    EXPECT_EQ(ErrorField(got, 'S'), "FATAL");
    EXPECT_EQ(ErrorField(got, 'M'),
              std::string("password authentication failed for user \"") + user + "\"");
    EXPECT_TRUE(c.WaitClosed());
  }
  // A client that answers the password request with a query.
  RawConnection rude(port());
  rude.Send(Startup({{"user", "alice"}}));
  rude.ReadUntil("R");
  rude.Send(QueryMessage("rows 1"));
  EXPECT_EQ(ErrorField(rude.ReadUntil("E")), "08P01");
  EXPECT_TRUE(rude.WaitClosed());
  EXPECT_EQ(state_.sessions_made.load(), 1);
}

TEST_F(PgServerTest, AuthenticationTimeoutClosesSilentClients) {
  ServerOptions o;
  o.auth_timeout_ms = 100;
  StartServer(o);
  RawConnection c(port());
  c.Send(Startup({{"user", "u"}}).substr(0, 6));  // half a startup packet, then nothing
  EXPECT_TRUE(c.WaitClosed());
  Connect();  // sessions after startup have no timeout, and others still get in
}

// The startup timeout covers the whole startup, not each read: a client that
// trickles its startup packet a byte at a time never gets a session.
TEST_F(PgServerTest, AuthenticationTimeoutIsForTheWholeStartup) {
  ServerOptions o;
  o.auth_timeout_ms = 300;
  StartServer(o);
  RawConnection c(port());
  const std::string packet = Startup({{"user", "u"}, {"application_name", std::string(60, 'a')}});
  for (char b : packet) {
    if (!c.Send(std::string_view(&b, 1))) break;  // closed under us: fine
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
  }
  EXPECT_TRUE(c.WaitClosed());
  EXPECT_EQ(state_.sessions_made.load(), 0);
}

// Each of these ends the connection with FATAL 08P01 (or 0A000) and a clean
// close; the next client is served as if nothing happened.
TEST_F(PgServerTest, MalformedStreamsAreRefusedAndTheServerSurvives) {
  ServerOptions o;
  o.max_message_bytes = 1 << 20;
  StartServer(o);
  auto header = [](char type, int32_t length) {
    std::string s(1, type);
    PutInt32(&s, length);
    return s;
  };
  std::string long_startup;
  PutInt32(&long_startup, 10001);
  PutInt32(&long_startup, 196608);
  struct Case {
    std::string name;
    std::string after_login;   // sent after a successful login
    std::string before_login;  // or instead of a startup packet
    std::string sqlstate;
  };
  const Case cases[] = {
      {"length below four", header('Q', 3), "", "08P01"},
      {"negative length", header('P', -1), "", "08P01"},
      {"unknown type", header('z', 4), "", "08P01"},
      {"backend type sent by a client", Message('T', ""), "", "08P01"},
      {"oversized query", header('Q', (1 << 20) + 5) + std::string(1000, 'x'), "", "08P01"},
      {"oversized sync", header('S', 10005), "", "08P01"},
      {"truncated bind", Message('B', std::string("p\0s\0\0\x01", 6)), "", "08P01"},
      {"query without terminator", Message('Q', "SELECT 1"), "", "08P01"},
      {"describe of kind X", Message('D', std::string("X\0", 2)), "", "08P01"},
      {"password after login", PasswordMessage("x"), "", "08P01"},
      {"startup too long", "", long_startup, "08P01"},
      {"startup length 3", "", std::string("\0\0\0\3", 4), "08P01"},
      {"startup not terminated", "", Startup({{"user", "u"}}).substr(0, 14) + "\0", "08P01"},
      {"protocol 1234.5", "", Startup({{"user", "u"}}, (1234 << 16) | 5), "0A000"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    RawConnection conn(port());
    if (c.before_login.empty()) {
      auto login = conn.Login("u");
      ASSERT_EQ(Types(login).back(), 'Z');
      conn.Send(c.after_login);
    } else {
      std::string bytes = c.before_login;
      if (c.name == "startup not terminated") {
        // Fix the length to match the cut packet.
        bytes[3] = static_cast<char>(bytes.size());
      }
      conn.Send(bytes);
    }
    auto got = conn.ReadUntil("E");
    EXPECT_EQ(ErrorField(got), c.sqlstate) << ErrorField(got, 'M');
    EXPECT_EQ(ErrorField(got, 'S'), "FATAL");
    EXPECT_TRUE(conn.WaitClosed());
  }
  auto next = Connect();
  next->Send(QueryMessage("rows 1"));
  EXPECT_EQ(Types(next->ReadUntil("Z")), "TDCZ");
}

TEST_F(PgServerTest, ClientsThatVanishAnywhereLeaveNoTrace) {
  StartServer();
  const std::string login = Startup({{"user", "u"}});
  const std::string session = ParseMessage("", "rows 3") + BindMessage("", "", {}, {}, {}) +
                              ExecuteMessage("", 0) + SyncMessage();
  const std::string all = login + session;
  // Every prefix of a whole conversation, then the client hangs up.
  for (size_t cut = 0; cut < all.size(); cut += 3) {
    RawConnection c(port());
    c.Send(all.substr(0, cut));
  }
  // Statements whose client left before reading the answer.
  for (int i = 0; i < 5; ++i) {
    RawConnection c(port());
    c.Send(login + QueryMessage("rows 5000") + TerminateMessage());
  }
  auto ok = Connect();
  ok->Send(QueryMessage("rows 2"));
  EXPECT_EQ(Rows(ok->ReadUntil("Z")).size(), 2u);
}

TEST_F(PgServerTest, RandomBytesNeverCrashTheServer) {
  ServerOptions o;
  o.max_message_bytes = 64 << 10;
  o.auth_timeout_ms = 2000;
  StartServer(o);
  std::mt19937 rng(12345);
  const std::string types = "QPBDECSHXpFdcfzT\0";
  for (int i = 0; i < 200; ++i) {
    RawConnection c(port());
    std::string bytes;
    const bool logged_in = i % 2 == 0;
    if (logged_in) bytes = Startup({{"user", "fuzz"}});
    const int n = static_cast<int>(rng() % 6) + 1;
    for (int k = 0; k < n; ++k) {
      // Mostly well-typed messages with random lengths and bodies.
      std::string body(rng() % 40, '\0');
      for (char& ch : body) ch = static_cast<char>(rng() % 4 == 0 ? 0 : rng());
      std::string m(1, types[rng() % types.size()]);
      PutInt32(
          &m, rng() % 8 == 0 ? static_cast<int32_t>(rng()) : static_cast<int32_t>(body.size() + 4));
      bytes += m + body;
    }
    c.Send(bytes);
    // End of input: whatever state the garbage left, the server must close.
    c.CloseWrite();
    EXPECT_TRUE(c.WaitClosed()) << i;
  }
  auto ok = Connect();
  ok->Send(QueryMessage("rows 1"));
  EXPECT_EQ(Types(ok->ReadUntil("Z")), "TDCZ");
}

TEST_F(PgServerTest, ConnectionLimit) {
  ServerOptions o;
  o.max_connections = 2;
  StartServer(o);
  auto a = Connect();
  auto b = Connect();
  {
    RawConnection c(port());
    c.Send(Startup({{"user", "third"}}));
    auto got = c.ReadUntil("EZ");
    EXPECT_EQ(ErrorField(got), "53300");
    EXPECT_EQ(ErrorField(got, 'M'), "sorry, too many clients already");
    EXPECT_TRUE(c.WaitClosed());
  }
  // A CancelRequest still gets through when the server is full.
  {
    RawConnection c(port());
    c.Send(CancelRequestPacket(1, 2));
    EXPECT_TRUE(c.WaitClosed());
  }
  a->Send(TerminateMessage());
  EXPECT_TRUE(a->WaitClosed());
  // The slot is freed when the connection's thread has finished; wait for it.
  for (int i = 0; i < 6000 && server_->sessions() > 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  auto c = Connect();
  c->Send(QueryMessage("rows 1"));
  EXPECT_EQ(Types(c->ReadUntil("Z")), "TDCZ");
}

// The BackendKeyData of a login.
std::pair<int32_t, int32_t> KeyOf(const std::vector<BackendMessage>& login) {
  for (const auto& m : login)
    if (m.type == 'K') return {GetInt32(m.body, 0), GetInt32(m.body, 4)};
  return {0, 0};
}

TEST_F(PgServerTest, CancelRequestStopsTheRunningStatement) {
  StartServer();
  RawConnection c(port());
  auto login = c.Login("u");
  auto [pid, secret] = KeyOf(login);
  ASSERT_NE(pid, 0);
  // Nothing runs: a cancel does nothing.
  {
    RawConnection cancel(port());
    cancel.Send(CancelRequestPacket(pid, secret));
    EXPECT_TRUE(cancel.WaitClosed());
  }
  EXPECT_EQ(state_.cancels.load(), 0);
  c.Send(QueryMessage("sleep"));
  ASSERT_TRUE(state_.WaitSleeping(1));
  // A wrong secret or pid does nothing (the cancel connection is closed
  // only after the registry was consulted, so this is not a race).
  for (auto [p, s] : {std::pair{pid, secret + 1}, std::pair{pid + 1, secret}}) {
    RawConnection cancel(port());
    cancel.Send(CancelRequestPacket(p, s));
    EXPECT_TRUE(cancel.WaitClosed());
  }
  EXPECT_EQ(state_.cancels.load(), 0);
  {
    RawConnection cancel(port());
    cancel.Send(CancelRequestPacket(pid, secret));
    EXPECT_TRUE(cancel.WaitClosed());
  }
  auto got = c.ReadUntil("Z");
  EXPECT_EQ(ErrorField(got), "57014");
  EXPECT_EQ(state_.cancels.load(), 1);
  // The session goes on.
  c.Send(QueryMessage("rows 1"));
  EXPECT_EQ(Types(c.ReadUntil("Z")), "TDCZ");
}

TEST_F(PgServerTest, StopEndsIdleAndBusyConnections) {
  StartServer();
  auto idle = Connect();
  auto busy = Connect();
  busy->Send(QueryMessage("sleep"));
  ASSERT_TRUE(state_.WaitSleeping(1));
  RawConnection starting(port());  // connected, no startup yet
  server_->Stop();
  auto got = idle->ReadUntil("E");
  EXPECT_EQ(ErrorField(got), "57P01");
  EXPECT_TRUE(idle->WaitClosed());
  auto busy_got = busy->ReadUntil("E");
  EXPECT_EQ(ErrorField(busy_got), "57014");  // the statement was cancelled
  EXPECT_TRUE(busy->WaitClosed());
  EXPECT_TRUE(starting.WaitClosed());
  EXPECT_EQ(server_->connections(), 0);
  // No longer listening.
  RawConnection after(port());
  EXPECT_FALSE(after.connected());
}

TEST_F(PgServerTest, StartsAndStopsRepeatedly) {
  for (int i = 0; i < 20; ++i) {
    StartServer();
    auto c = Connect();
    c->Send(QueryMessage("rows 1"));
    EXPECT_EQ(Types(c->ReadUntil("Z")), "TDCZ");
    server_->Stop();
    server_->Stop();  // idempotent
  }
}

TEST_F(PgServerTest, ListenFailureIsReported) {
  StartServer();
  ServerOptions o;
  o.host = "127.0.0.1";
  o.port = static_cast<uint16_t>(port());
  Server second(o, FakeFactory(&state_));
  EXPECT_FALSE(second.Start().ok());
  ServerOptions bad;
  bad.host = "no such host name.invalid";
  bad.port = 0;
  Server third(bad, FakeFactory(&state_));
  EXPECT_FALSE(third.Start().ok());
}

}  // namespace
}  // namespace timestore::pgwire
