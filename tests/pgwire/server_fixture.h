// An in-process pgwire::Server on a free loopback port over FakeSessions,
// and helpers to read what came back.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "pgwire/server.h"
#include "tests/pgwire/fake_session.h"
#include "tests/pgwire/wire_client.h"

namespace timestore::pgwire {

class PgServerTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (server_) server_->Stop();
  }
  void StartServer(ServerOptions options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    server_ = std::make_unique<Server>(std::move(options), FakeFactory(&state_));
    ASSERT_TRUE(server_->Start().ok());
  }
  int port() const { return server_->port(); }

  // A logged-in trust connection (the server runs in trust mode).
  std::unique_ptr<client::RawConnection> Connect(const std::string& user = "tester") {
    auto c = std::make_unique<client::RawConnection>(port());
    EXPECT_TRUE(c->connected());
    auto got = c->Login(user);
    EXPECT_FALSE(got.empty());
    if (!got.empty()) {
      EXPECT_EQ(got.back().type, 'Z') << Types(got);
    }
    return c;
  }

  // The message types in order ("TDDCZ").
  static std::string Types(const std::vector<client::BackendMessage>& messages) {
    std::string s;
    for (const auto& m : messages) s.push_back(m.type);
    return s;
  }
  // The field `code` of the first ErrorResponse, or "" when there is none.
  static std::string ErrorField(const std::vector<client::BackendMessage>& messages,
                                char code = 'C') {
    for (const auto& m : messages)
      if (m.type == 'E') return client::ErrorFieldsOf(m.body)[code];
    return "";
  }
  // The values of every DataRow, each row's values joined by '|' (NULL as "∅").
  static std::vector<std::string> Rows(const std::vector<client::BackendMessage>& messages) {
    std::vector<std::string> rows;
    for (const auto& m : messages) {
      if (m.type != 'D') continue;
      std::string row;
      for (const auto& v : client::DataRowValues(m.body)) {
        if (!row.empty()) row += "|";
        row += v ? *v : "∅";
      }
      rows.push_back(row);
    }
    return rows;
  }

  FakeState state_;
  std::unique_ptr<Server> server_;
};

}  // namespace timestore::pgwire
